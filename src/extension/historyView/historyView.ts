// The History view assembled: its tree over the run history, its commands, the read-only output
// documents, and what the view shows around the rows (the active filter, why it is empty).
import * as vscode from 'vscode';
import { CommandIds, ContextKeys, ViewIds } from '../ids';
import { registerHistoryCommands, type HistoryCommandDeps } from './historyCommands';
import { HISTORY_OUTPUT_SCHEME, HistoryOutputProvider } from './historyOutput';
import { HistoryTreeProvider, type HistoryNode, type HistoryTreeOptions } from './historyTree';

export interface HistoryView {
  readonly tree: HistoryTreeProvider;
  readonly view: vscode.TreeView<HistoryNode>;
  readonly disposables: vscode.Disposable[];
}

export function createHistoryView(deps: Omit<HistoryCommandDeps, 'tree' | 'view'>, options: HistoryTreeOptions = {}): HistoryView {
  const tree = new HistoryTreeProvider(deps.history, { loadMoreCommand: CommandIds.loadMoreHistory, ...options });
  const view = vscode.window.createTreeView<HistoryNode>(ViewIds.history, { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  tree.setVisible(view.visible);
  void vscode.commands.executeCommand('setContext', ContextKeys.historyFiltered, false);
  return {
    tree,
    view,
    disposables: [
      tree,
      view,
      view.onDidChangeVisibility((e) => tree.setVisible(e.visible)),
      tree.onDidLoad(() => (view.message = tree.message)),
      vscode.workspace.registerTextDocumentContentProvider(HISTORY_OUTPUT_SCHEME, new HistoryOutputProvider(deps.history)),
      ...registerHistoryCommands({ ...deps, tree, view }),
    ],
  };
}
