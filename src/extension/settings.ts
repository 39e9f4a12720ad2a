// The extension's settings, read as `unknown` (settings.json is hand-edited) and checked; a value
// that does not validate falls back to its default and the user is told once per change.
import * as vscode from 'vscode';
import { ValidationError } from '../core/model/errors';
import { defaultConcurrency } from '../core/orchestrator/options';
import { validateResourceCapacities } from '../core/model/resourceCapacities';
import { LIMITS } from '../core/model/limits';
import type { SpecDefaults } from '../core/model/specDefaults';
import { ConfigKeys, type ConfigKey } from './ids';

export interface Settings {
  /** Resolved: 0 in the setting means the number of CPUs. */
  concurrency: number;
  resources: Record<string, number>;
  maxFinished: number;
  /** 0: no default timeout. */
  defaultTimeoutMs: number;
  defaultRetries: number;
}

export const DEFAULTS = { concurrency: 0, maxFinished: 1000, defaultTimeoutMs: 0, defaultRetries: 0 } as const;

/** The settings' defaults for specs, as the core's applySpecDefaults takes them (0: none). */
export function specDefaultsOf(settings: Settings): SpecDefaults {
  return { timeoutMs: settings.defaultTimeoutMs, retries: settings.defaultRetries };
}

function integer(config: vscode.WorkspaceConfiguration, key: ConfigKey, fallback: number, min: number, max: number, problems: string[]): number {
  const value: unknown = config.get(key.slice('orchestrator.'.length));
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`Expected \`${key}\` to be an integer from ${min} to ${max}, got ${JSON.stringify(value)}; using ${fallback}`);
    return fallback;
  }
  return value;
}

/** Reads every setting; `problems` lists the values that were refused (and replaced by defaults). */
export function readSettings(problems: string[] = []): Settings {
  const config = vscode.workspace.getConfiguration('orchestrator');
  const concurrency = integer(config, ConfigKeys.concurrency, DEFAULTS.concurrency, 0, LIMITS.concurrency, problems);
  let resources: Record<string, number> = {};
  const rawResources: unknown = config.get('resources');
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
    maxFinished: integer(config, ConfigKeys.maxFinished, DEFAULTS.maxFinished, 10, LIMITS.maxFinished, problems),
    defaultTimeoutMs: integer(config, ConfigKeys.defaultTimeoutMs, DEFAULTS.defaultTimeoutMs, 0, LIMITS.maxDelayMs, problems),
    defaultRetries: integer(config, ConfigKeys.defaultRetries, DEFAULTS.defaultRetries, 0, LIMITS.retries, problems),
  };
}

/** Calls `onChange` with the new settings and the keys that changed, for changes to ours only. */
export function onDidChangeSettings(onChange: (settings: Settings, changed: ConfigKey[], problems: string[]) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    const changed = Object.values(ConfigKeys).filter((k) => e.affectsConfiguration(k));
    if (!changed.length) return;
    const problems: string[] = [];
    onChange(readSettings(problems), changed, problems);
  });
}
