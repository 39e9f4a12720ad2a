// The backend in the editor: the Redis password in SecretStorage (never in settings.json), the
// RedisBackend when `orchestrator.backend` is `redis`, its warnings as notifications, and the offer
// to reload when a setting that applies only at activation changes.
import * as vscode from 'vscode';
import { CommandIds, ConfigKeys } from '../ids';
import type { Settings } from '../settings';
import { REDIS_PASSWORD_SECRET, RedisBackend, connectRedis } from './redisBackend';

const RELOAD = 'Reload Window';

function warn(message: string): void {
  void vscode.window.showWarningMessage(`Orchestrator: ${message}`);
}

/** The backend the settings ask for: undefined for `local`. */
export function createBackend(context: vscode.ExtensionContext, settings: Settings): RedisBackend | undefined {
  if (settings.backend !== 'redis') return undefined;
  return new RedisBackend({
    url: settings.redisUrl,
    caFile: settings.redisCaFile,
    password: () => context.secrets.get(REDIS_PASSWORD_SECRET),
    connect: connectRedis,
    warn,
  });
}

/** An information message with a Reload Window button. */
export async function offerReload(message: string): Promise<void> {
  const choice = await vscode.window.showInformationMessage(`Orchestrator: ${message}`, RELOAD);
  if (choice === RELOAD) await vscode.commands.executeCommand('workbench.action.reloadWindow');
}

/** Called with the keys of our settings that changed: the backend's apply after a reload, which is offered. */
export function backendSettingsChanged(changed: readonly string[]): void {
  if ([ConfigKeys.backend, ConfigKeys.redisUrl, ConfigKeys.redisCaFile].some((key) => changed.includes(key))) {
    void offerReload('the backend settings apply after a window reload.');
  }
}

/**
 * Set Redis Password… stores the password in SecretStorage; an empty input is refused (Clear Redis
 * Password removes it), Escape changes nothing. A string argument sets it without asking (for
 * scripts and tests). Clear Redis Password deletes it. Either applies after a window reload, when
 * the backend connects again.
 */
export function registerBackendCommands(context: vscode.ExtensionContext, settings: () => Settings): vscode.Disposable[] {
  const applies = (): string => (settings().backend === 'redis' ? ' It is used from the next window reload.' : '');
  return [
    vscode.commands.registerCommand(CommandIds.setRedisPassword, async (arg?: unknown) => {
      const password =
        typeof arg === 'string'
          ? arg
          : await vscode.window.showInputBox({
              title: 'Orchestrator: Redis Password',
              prompt: `The password (or ACL token) of the Redis at ${settings().redisUrl}. Kept in the editor's secret storage, never in settings.json.`,
              password: true,
              ignoreFocusOut: true,
              validateInput: (v) => (v === '' ? 'Enter a password, or run "Orchestrator: Clear Redis Password" to remove the stored one.' : undefined),
            });
      if (password === undefined || password === '') return;
      await context.secrets.store(REDIS_PASSWORD_SECRET, password);
      const message = `the Redis password is stored in the editor's secret storage.${applies()}`;
      if (applies()) void offerReload(message);
      else void vscode.window.showInformationMessage(`Orchestrator: ${message}`);
    }),
    vscode.commands.registerCommand(CommandIds.clearRedisPassword, async () => {
      await context.secrets.delete(REDIS_PASSWORD_SECRET);
      const message = `the stored Redis password is removed.${applies()}`;
      if (applies()) void offerReload(message);
      else void vscode.window.showInformationMessage(`Orchestrator: ${message}`);
    }),
  ];
}
