import * as vscode from 'vscode';
import { ALL_STATUSES, type TaskStatus } from '../core/model';

const STAGE_LABELS: Record<TaskStatus, string> = {
  created: 'Created',
  scheduled: 'Scheduled',
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export interface StageNode {
  type: 'stage';
  status: TaskStatus;
}

/** The Tasks view: one node per lifecycle stage with its count. */
export class TaskTreeProvider implements vscode.TreeDataProvider<StageNode> {
  private readonly changed = new vscode.EventEmitter<StageNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly countOf: (status: TaskStatus) => number) {}

  getTreeItem(node: StageNode): vscode.TreeItem {
    const item = new vscode.TreeItem(STAGE_LABELS[node.status], vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `stage:${node.status}`;
    item.description = String(this.countOf(node.status));
    item.contextValue = `stage.${node.status}`;
    return item;
  }

  getChildren(node?: StageNode): StageNode[] {
    if (node) return [];
    return ALL_STATUSES.map((status) => ({ type: 'stage', status }));
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
