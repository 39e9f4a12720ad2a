// The extension's settings, from the editor's configuration, checked by workspaceFiles/settingsValues.ts;
// a value that does not validate falls back to its default and the user is told once per change.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CacheOptions } from '../core/orchestrator/options';
import { cacheDirOf, readSettingsFrom, type Settings } from '../workspaceFiles/settingsValues';
import { ConfigKeys, type ConfigKey } from './ids';

export { DEFAULTS, specDefaultsOf, type Settings } from '../workspaceFiles/settingsValues';

/** Reads every setting from the editor's configuration; `problems` lists the values that were refused. */
export function readSettings(problems: string[] = []): Settings {
  const config = vscode.workspace.getConfiguration('orchestrator');
  return readSettingsFrom((key) => config.get(key.slice('orchestrator.'.length)), problems);
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

const MB = 1024 * 1024;

/** The cache settings that apply when the orchestrator is created (the core takes them only then). */
export const CACHE_KEYS: readonly ConfigKey[] = [ConfigKeys.cacheEnabled, ConfigKeys.cacheMaxSizeMB, ConfigKeys.cacheDirectory];

/**
 * The core's cache options: the store in the setting's folder, else the first workspace folder's
 * `.orchestrator/cache` (which the CLI shares), else the editor's storage for this workspace.
 * In an untrusted workspace VS Code ignores the folder's `orchestrator.cache.directory`
 * (restrictedConfigurations), so a workspace cannot point the cache outside itself before it is trusted.
 */
export function cacheOptionsOf(settings: Settings, storageDir: string): CacheOptions {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return {
    dir: cacheDirOf(settings.cache, folder, path.join(storageDir, 'cache')),
    maxBytes: settings.cache.maxSizeMB * MB,
    enabled: settings.cache.enabled,
    ...(folder !== undefined ? { root: folder } : {}),
  };
}
