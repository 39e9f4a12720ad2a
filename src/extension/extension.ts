import * as vscode from 'vscode';
import { CommandIds, ViewIds } from './ids';
import { TaskTreeProvider } from './taskTree';

export interface OrchestratorApi {
  readonly version: 1;
  /** Only when VS Code runs extension tests (ExtensionMode.Test): what test/host reads to check the UI's data. */
  readonly testing?: { readonly tree: vscode.TreeDataProvider<unknown> };
}

export function activate(context: vscode.ExtensionContext): OrchestratorApi {
  const tree = new TaskTreeProvider(() => 0);
  context.subscriptions.push(
    tree,
    vscode.window.createTreeView(ViewIds.tasks, { treeDataProvider: tree, showCollapseAll: true }),
    vscode.commands.registerCommand(CommandIds.refresh, () => tree.refresh()),
  );
  const testing = context.extensionMode === vscode.ExtensionMode.Test ? { tree: tree as vscode.TreeDataProvider<unknown> } : undefined;
  return { version: 1, testing };
}

export function deactivate(): void {
  // Everything registered is owned by context.subscriptions and disposed by VS Code.
}
