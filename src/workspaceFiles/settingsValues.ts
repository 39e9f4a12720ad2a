// The `orchestrator.*` settings, read as `unknown` (settings.json is hand-edited) and checked; a
// value that does not validate falls back to its default and is named in `problems`. The editor
// reads them from its configuration, the CLI from the folder's settings.json: one check for both.
import { ValidationError } from '../core/model/errors';
import { isObjectLike } from '../core/model/guards';
import { LIMITS } from '../core/model/limits';
import { validateResourceCapacities } from '../core/model/resourceCapacities';
import type { SpecDefaults } from '../core/model/specDefaults';
import { defaultConcurrency } from '../core/orchestrator/options';
import { ConfigKeys, type ConfigKey } from './names';

export interface Settings {
  /** Resolved: 0 in the setting means the number of CPUs. */
  concurrency: number;
  resources: Record<string, number>;
  maxFinished: number;
  /** 0: no default timeout. */
  defaultTimeoutMs: number;
  defaultRetries: number;
  /** Where shell tasks run: this process (`local`) or workers reached through Redis (`redis`). */
  backend: Backend;
  /** The Redis the `redis` backend uses; its password lives apart (the editor's SecretStorage). */
  redisUrl: string;
}

export const BACKENDS = ['local', 'redis'] as const;
export type Backend = (typeof BACKENDS)[number];

export const DEFAULTS = {
  concurrency: 0,
  maxFinished: 1000,
  defaultTimeoutMs: 0,
  defaultRetries: 0,
  backend: 'local',
  redisUrl: 'redis://127.0.0.1:6379',
} as const;

/** The settings' defaults for specs, as the core's applySpecDefaults takes them (0: none). */
export function specDefaultsOf(settings: Settings): SpecDefaults {
  return { timeoutMs: settings.defaultTimeoutMs, retries: settings.defaultRetries };
}

/** A setting's raw value by its full key (`orchestrator.concurrency`); undefined when unset. */
export type SettingReader = (key: ConfigKey) => unknown;

function integer(get: SettingReader, key: ConfigKey, fallback: number, min: number, max: number, problems: string[]): number {
  const value = get(key);
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`Expected \`${key}\` to be an integer from ${min} to ${max}, got ${JSON.stringify(value)}; using ${fallback}`);
    return fallback;
  }
  return value;
}

function backendOf(get: SettingReader, problems: string[]): Backend {
  const value = get(ConfigKeys.backend);
  if (value === undefined || value === null) return DEFAULTS.backend;
  if (typeof value === 'string' && (BACKENDS as readonly string[]).includes(value)) return value as Backend;
  problems.push(
    `Expected \`${ConfigKeys.backend}\` to be one of ${BACKENDS.map((b) => `\`${b}\``).join(', ')}, got ${JSON.stringify(value)}; using ${DEFAULTS.backend}`,
  );
  return DEFAULTS.backend;
}

/**
 * The URL's shape only (a string with the redis: or rediss: scheme and a host); the backend's own
 * parser (backends/redis/connection.ts) reads the rest when it connects.
 */
function redisUrlOf(get: SettingReader, problems: string[]): string {
  const value = get(ConfigKeys.redisUrl);
  if (value === undefined || value === null) return DEFAULTS.redisUrl;
  let ok = false;
  if (typeof value === 'string') {
    try {
      const url = new URL(value);
      ok = (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
    } catch {
      ok = false;
    }
  }
  if (ok) return value as string;
  problems.push(
    `Expected \`${ConfigKeys.redisUrl}\` to be a URL like \`redis://host:6379\` or \`rediss://host:6380\` (TLS), got ${JSON.stringify(value)}; using ${DEFAULTS.redisUrl}`,
  );
  return DEFAULTS.redisUrl;
}

/** Reads every setting through `get`; `problems` lists the values that were refused (and replaced by defaults). */
export function readSettingsFrom(get: SettingReader, problems: string[] = []): Settings {
  const concurrency = integer(get, ConfigKeys.concurrency, DEFAULTS.concurrency, 0, LIMITS.concurrency, problems);
  let resources: Record<string, number> = {};
  const rawResources = get(ConfigKeys.resources);
  if (rawResources !== undefined && rawResources !== null) {
    try {
      resources = validateResourceCapacities(rawResources, ConfigKeys.resources);
    } catch (err) {
      problems.push(`${err instanceof ValidationError ? err.message : String(err)}; using no pools`);
    }
  }
  return {
    concurrency: concurrency === 0 ? defaultConcurrency() : concurrency,
    resources,
    maxFinished: integer(get, ConfigKeys.maxFinished, DEFAULTS.maxFinished, 10, LIMITS.maxFinished, problems),
    defaultTimeoutMs: integer(get, ConfigKeys.defaultTimeoutMs, DEFAULTS.defaultTimeoutMs, 0, LIMITS.maxDelayMs, problems),
    defaultRetries: integer(get, ConfigKeys.defaultRetries, DEFAULTS.defaultRetries, 0, LIMITS.retries, problems),
    backend: backendOf(get, problems),
    redisUrl: redisUrlOf(get, problems),
  };
}

/**
 * A setting as VS Code finds it in settings.json: under its dotted key as written (`"a.b.c": 1`), or
 * under nested objects (`"a": { "b.c": 1 }`, `"a": { "b": { "c": 1 } }`), the longest key first.
 */
export function settingAt(values: unknown, parts: readonly string[]): unknown {
  if (!isObjectLike(values)) return undefined;
  for (let n = parts.length; n >= 1; n--) {
    const key = parts.slice(0, n).join('.');
    if (!Object.hasOwn(values, key)) continue;
    const found = n === parts.length ? values[key] : settingAt(values[key], parts.slice(n));
    if (found !== undefined) return found;
  }
  return undefined;
}
