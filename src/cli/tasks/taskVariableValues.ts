// tasks.json's `${…}` variables resolved as VS Code's configurationResolver resolves them, without an
// editor: the folder, the environment, the home directory, the path separator and the folder's own
// settings. Those only VS Code can answer (an input's prompt, a command, the active editor's file) are
// refused, naming the variable, before anything runs. A `${NAME}` VS Code does not know is left as
// written, as VS Code leaves it, so a shell's own `${HOME}` still reaches the shell.
import { homedir } from 'node:os';
import * as path from 'node:path';
import { ValidationError } from '../../core/model/errors';
import { ConfigKeys, SETTINGS_FILE } from '../../workspaceFiles/names';
import { DEFAULTS } from '../../workspaceFiles/settingsValues';
import { needsEditor } from '../../workspaceFiles/taskVariables';
import { isObjectLike } from '../../core/model/guards';
import { readJsonc } from '../jsoncFile';
import { settingAt } from '../../workspaceFiles/settingsValues';

/** What the variables of one folder's tasks resolve against; the settings are read on first use. */
export class VariableScope {
  private settings: Record<string, unknown> | undefined;

  constructor(
    readonly folder: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly cwd: string = process.cwd(),
  ) {}

  /** `text` with its variables resolved; `where` names the field for errors (`task \`build\`'s \`command\``). */
  resolve(text: string, where: string): string {
    return text.replace(/\$\{([^}]+)\}/g, (match, name: string) => this.value(match, name, where));
  }

  private value(match: string, name: string, where: string): string {
    const colon = name.indexOf(':');
    const head = colon < 0 ? name : name.slice(0, colon);
    const arg = colon < 0 ? undefined : name.slice(colon + 1);
    if (needsEditor(name)) {
      throw new ValidationError(
        `Variable \`${match}\` in ${where} needs the editor: VS Code resolves it (a prompt, a command or the active editor); the CLI resolves \`\${workspaceFolder}\`, \`\${env:…}\`, \`\${config:…}\`, \`\${userHome}\`, \`\${cwd}\` and \`\${pathSeparator}\``,
        'tasks.json',
      );
    }
    switch (head) {
      case 'workspaceFolder':
      case 'workspaceRoot':
        return arg === undefined ? this.folder : this.namedFolder(match, arg, where, this.folder);
      case 'workspaceFolderBasename':
        return arg === undefined ? path.basename(this.folder) : this.namedFolder(match, arg, where, path.basename(this.folder));
      case 'cwd':
        return arg === undefined ? this.cwd : match;
      case 'env':
        return arg === undefined ? match : (this.env[arg] ?? '');
      case 'pathSeparator':
      case '/':
        return arg === undefined ? path.sep : match;
      case 'userHome':
        return arg === undefined ? homedir() : match;
      case 'config':
        return arg === undefined ? match : this.config(match, arg, where);
      default:
        return match;
    }
  }

  private namedFolder(match: string, name: string, where: string, value: string): string {
    if (name === path.basename(this.folder)) return value;
    throw new ValidationError(
      `Variable \`${match}\` in ${where} names workspace folder \`${name}\`; the CLI runs one folder, \`${path.basename(this.folder)}\``,
      'tasks.json',
    );
  }

  private config(match: string, key: string, where: string): string {
    const file = path.join(this.folder, SETTINGS_FILE);
    this.settings ??= readSettings(file);
    const value = settingAt(this.settings, key.split('.')) ?? ORCHESTRATOR_DEFAULTS.get(key);
    if (value === undefined || value === null) {
      throw new ValidationError(
        `Variable \`${match}\` in ${where} names setting \`${key}\`, which ${file} does not set (the CLI reads no user or default settings but the orchestrator's own)`,
        'tasks.json',
      );
    }
    if (typeof value === 'object') {
      throw new ValidationError(`Variable \`${match}\` in ${where} names setting \`${key}\`, whose value is not a string, number or boolean`, 'tasks.json');
    }
    return String(value as string | number | boolean);
  }
}

/** The orchestrator's own settings' defaults: what VS Code resolves `${config:orchestrator.…}` to when unset. */
const ORCHESTRATOR_DEFAULTS = new Map<string, unknown>([
  [ConfigKeys.concurrency, DEFAULTS.concurrency],
  [ConfigKeys.maxFinished, DEFAULTS.maxFinished],
  [ConfigKeys.defaultTimeoutMs, DEFAULTS.defaultTimeoutMs],
  [ConfigKeys.defaultRetries, DEFAULTS.defaultRetries],
]);

function readSettings(file: string): Record<string, unknown> {
  const data = readJsonc(file);
  return isObjectLike(data) ? data : {};
}
