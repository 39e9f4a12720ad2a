import * as vscode from 'vscode';
import { CommandIds, ViewIds } from './ids';
import { TaskTreeProvider } from './taskTree';

export interface OrchestratorApi {
  readonly version: 1;
}

export function activate(context: vscode.ExtensionContext): OrchestratorApi {
  const tree = new TaskTreeProvider(() => 0);
  context.subscriptions.push(
    tree,
    vscode.window.createTreeView(ViewIds.tasks, { treeDataProvider: tree, showCollapseAll: true }),
    vscode.commands.registerCommand(CommandIds.refresh, () => tree.refresh()),
  );
  return { version: 1 };
}

export function deactivate(): void {
  // Everything registered is owned by context.subscriptions and disposed by VS Code.
}
