// Workspace Trust. In Restricted Mode nothing from the workspace's files runs: workflows from
// .vscode/orchestrator.json and tasks from tasks.json (or task providers reading the workspace).
// Commands typed by the user and work handed over by other extensions are not from those files and
// still run. Trust is read at each use, so granting it enables everything without a reload.
import * as vscode from 'vscode';
import { ContextKeys } from './ids';

/** A named error with a stable code, like the core's (CONVENTIONS 6); the core's codes are its own. */
export class UntrustedWorkspaceError extends Error {
  readonly code = 'UNTRUSTED';
  constructor(what: string) {
    super(`${what} do not run in Restricted Mode: this workspace is not trusted. Trust it to run them.`);
    this.name = 'UntrustedWorkspaceError';
  }
}

export class TrustGate implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;

  constructor(private readonly isTrustedNow: () => boolean = () => vscode.workspace.isTrusted) {
    void vscode.commands.executeCommand('setContext', ContextKeys.trusted, this.trusted);
    this.subscription = vscode.workspace.onDidGrantWorkspaceTrust(() => {
      void vscode.commands.executeCommand('setContext', ContextKeys.trusted, true);
    });
  }

  get trusted(): boolean {
    return this.isTrustedNow();
  }

  /**
   * Throws UntrustedWorkspaceError when untrusted, after telling the user why and offering to manage
   * trust. `what` completes "… do not run in Restricted Mode", e.g. "Workflows from .vscode/orchestrator.json".
   */
  require(what: string): void {
    if (this.trusted) return;
    const err = new UntrustedWorkspaceError(what);
    void vscode.window.showWarningMessage(err.message, 'Manage Workspace Trust').then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    throw err;
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
