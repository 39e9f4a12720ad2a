// The `orchestrator.*` settings, read as `unknown` (settings.json is hand-edited) and checked; a
// value that does not validate falls back to its default and is named in `problems`. The editor
// reads them from its configuration, the CLI from the folder's settings.json: one check for both.
import * as path from 'node:path';
import { ValidationError } from '../core/model/errors';
import { isObjectLike } from '../core/model/guards';
import { LIMITS } from '../core/model/limits';
import { validateResourceCapacities } from '../core/model/resourceCapacities';
import type { SpecDefaults } from '../core/model/specDefaults';
import { CACHE_DIR, ConfigKeys, type ConfigKey } from './names';

export interface Settings {
  /** As set: 0 means automatic, resolved by the orchestrator (one per CPU, plus a fleet's slots). */
  concurrency: number;
  resources: Record<string, number>;
  maxFinished: number;
  /** Days the run journal keeps a finished task (History view). */
  historyRetentionDays: number;
  /** 0: no default timeout. */
  defaultTimeoutMs: number;
  defaultRetries: number;
  /** Where shell tasks run: this process (`local`) or workers reached through Redis (`redis`). */
  backend: Backend;
  /** The Redis the `redis` backend uses; its password lives apart (the editor's SecretStorage). */
  redisUrl: string;
  /** The PEM file of the CA that signed a `rediss://` Redis's certificate, as written; undefined: none. */
  redisCaFile: string | undefined;
  cache: CacheSettings;
}

/** The task cache (core/cache): on or off, its size cap, and where it lives. */
export interface CacheSettings {
  enabled: boolean;
  maxSizeMB: number;
  /** As written (absolute, or relative to the first workspace folder); undefined: the folder's CACHE_DIR. */
  directory: string | undefined;
}

export const BACKENDS = ['local', 'redis'] as const;
export type Backend = (typeof BACKENDS)[number];

export const DEFAULTS = {
  concurrency: 0,
  maxFinished: 1000,
  historyRetentionDays: 30,
  defaultTimeoutMs: 0,
  defaultRetries: 0,
  backend: 'local',
  redisUrl: 'redis://127.0.0.1:6379',
  cacheEnabled: true,
  cacheMaxSizeMB: 512,
} as const;

/** The cache's size cap, in MB: at least one entry's worth, at most 100 GB. */
export const CACHE_MAX_SIZE_MB = { min: 1, max: 100_000 } as const;

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

/** A file path as written; '' (the editor's way to clear a string setting) means none. */
function caFileOf(get: SettingReader, problems: string[]): string | undefined {
  const value = get(ConfigKeys.redisCaFile);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && value.trim() !== '' && !value.includes('\0')) return value;
  problems.push(
    `Expected \`${ConfigKeys.redisCaFile}\` to be the path of a PEM file (the CA of a \`rediss://\` Redis) or "", got ${JSON.stringify(value)}; using none`,
  );
  return undefined;
}

function booleanOf(get: SettingReader, key: ConfigKey, fallback: boolean, problems: string[]): boolean {
  const value = get(key);
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  problems.push(`Expected \`${key}\` to be a boolean, got ${JSON.stringify(value)}; using ${fallback}`);
  return fallback;
}

/** A path as written; '' (the editor's way to clear a string setting) means the default. */
function directoryOf(get: SettingReader, key: ConfigKey, problems: string[]): string | undefined {
  const value = get(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && value.trim() !== '' && !value.includes('\0')) return value;
  problems.push(`Expected \`${key}\` to be a folder path (absolute, or relative to the workspace folder), got ${JSON.stringify(value)}; using the default`);
  return undefined;
}

function cacheOf(get: SettingReader, problems: string[]): CacheSettings {
  return {
    enabled: booleanOf(get, ConfigKeys.cacheEnabled, DEFAULTS.cacheEnabled, problems),
    maxSizeMB: integer(get, ConfigKeys.cacheMaxSizeMB, DEFAULTS.cacheMaxSizeMB, CACHE_MAX_SIZE_MB.min, CACHE_MAX_SIZE_MB.max, problems),
    directory: directoryOf(get, ConfigKeys.cacheDirectory, problems),
  };
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
    concurrency,
    resources,
    maxFinished: integer(get, ConfigKeys.maxFinished, DEFAULTS.maxFinished, 10, LIMITS.maxFinished, problems),
    historyRetentionDays: integer(get, ConfigKeys.historyRetentionDays, DEFAULTS.historyRetentionDays, 1, 3650, problems),
    defaultTimeoutMs: integer(get, ConfigKeys.defaultTimeoutMs, DEFAULTS.defaultTimeoutMs, 0, LIMITS.maxDelayMs, problems),
    defaultRetries: integer(get, ConfigKeys.defaultRetries, DEFAULTS.defaultRetries, 0, LIMITS.retries, problems),
    backend: backendOf(get, problems),
    redisUrl: redisUrlOf(get, problems),
    redisCaFile: caFileOf(get, problems),
    cache: cacheOf(get, problems),
  };
}

/**
 * The cache's folder: `directory` resolved against the workspace folder, else the folder's CACHE_DIR.
 * Without a workspace folder, `fallbackDir` (the editor's storage) stands in for it and holds the cache itself.
 */
export function cacheDirOf(cache: CacheSettings, folder: string | undefined, fallbackDir: string): string {
  if (folder === undefined) return path.resolve(fallbackDir, cache.directory ?? '.');
  return path.resolve(folder, cache.directory ?? CACHE_DIR);
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
