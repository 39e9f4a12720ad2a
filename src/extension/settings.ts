// The extension's settings, from the editor's configuration, checked by workspaceFiles/settingsValues.ts;
// a value that does not validate falls back to its default and the user is told once per change.
import * as vscode from 'vscode';
import { readSettingsFrom, type Settings } from '../workspaceFiles/settingsValues';
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
