// The Tasks view: the six lifecycle stages with their counts, and under each its tasks, newest first.
//
// Invariants that keep it fast at 10,000 tasks:
// - the provider keeps its own index (status -> records), updated per event in O(1); it never asks
//   the core for every task on a change;
// - changes are coalesced for `coalesceMs` and fired once, for the stages whose membership changed and
//   the task rows whose content changed, never `undefined` (which makes VS Code rebuild everything);
// - a stage lists at most `pageSize` rows (more on demand through the "N more…" row), so VS Code never
//   gets thousands of items for a refresh; tooltips are built on hover (`resolveTreeItem`).
// Row ids include the status: a task moving between stages is removed from one parent and added to
// another in the same refresh, and VS Code refuses an id registered under two parents at once.
import * as vscode from 'vscode';
import type { Disposable, Event } from '../../core/util/events';
import { ALL_STATUSES, type ProblemCounts, type SystemStatus, type TaskRecord, type TaskStatus } from '../../core/model/model';
import { CommandIds, VSCODE_TASK_KIND, ViewItems } from '../ids';
import { WatchingSection, isWatchingTreeNode, type TriggerNode, type TriggerSource, type WatchingTreeNode } from './watchingNode';
import { STAGE_LABELS, lastChangeAt, recordIcon, statusIcon, taskDescription, taskTooltip } from './taskPresentation';

export interface StageNode {
  readonly type: 'stage';
  readonly status: TaskStatus;
}
export interface TaskNode {
  readonly type: 'task';
  readonly id: string;
  readonly status: TaskStatus;
}
export interface MoreNode {
  readonly type: 'more';
  readonly status: TaskStatus;
}
/** Above the stages, while the workflow files declare triggers: the Watching node and its rows (watchingNode.ts). */
export type TreeNode = StageNode | TaskNode | MoreNode | WatchingTreeNode;

/** What the tree reads from the orchestrator. */
export interface TaskSource {
  getTasks(): TaskRecord[];
  getSystemStatus(): SystemStatus;
  onDidChangeTask: Event<TaskRecord>;
}

export interface TaskTreeOptions {
  pageSize?: number;
  coalesceMs?: number;
  now?: () => number;
  /** Live problem counts of a task still running (a background VS Code task's), by task id. */
  problemsOf?: (id: string) => ProblemCounts | undefined;
  /** The workflow files' triggers, listed under a Watching node. */
  triggers?: TriggerSource;
}

/** A row of this tree, as VS Code passes it to a context-menu command. */
export function isTreeNode(value: unknown): value is TreeNode {
  if (typeof value !== 'object' || value === null) return false;
  if (isWatchingTreeNode(value)) return true;
  const { type, status } = value as { type?: unknown; status?: unknown };
  return (type === 'stage' || type === 'task' || type === 'more') && typeof status === 'string' && (ALL_STATUSES as readonly string[]).includes(status);
}

export function isTaskNode(value: unknown): value is TaskNode {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'task' && typeof (value as { id?: unknown }).id === 'string';
}

export class TaskTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Fired after each coalesced refresh with how many stages and rows it named; tests wait on it. */
  private readonly flushed = new vscode.EventEmitter<{ stages: number; tasks: number }>();
  readonly onDidFlush = this.flushed.event;

  private readonly byStatus = new Map<TaskStatus, Map<string, TaskRecord>>();
  private readonly statusOf = new Map<string, TaskStatus>();
  private readonly stageNodes = new Map<TaskStatus, StageNode>();
  private readonly moreNodes = new Map<TaskStatus, MoreNode>();
  private readonly taskNodes = new Map<string, TaskNode>();
  /** Sorted rows per stage, dropped when the stage's membership changes. */
  private readonly sorted = new Map<TaskStatus, TaskRecord[]>();
  private readonly limits = new Map<TaskStatus, number>();
  /** When each task entered its current stage, in event order: breaks ties within a millisecond. */
  private readonly arrival = new Map<string, number>();
  private seq = 0;
  private readonly pendingStages = new Set<TaskStatus>();
  private readonly pendingTasks = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private visible = false;
  private readonly subscription: Disposable;
  private readonly pageSize: number;
  private readonly coalesceMs: number;
  private readonly now: () => number;
  private readonly problemsOf: ((id: string) => ProblemCounts | undefined) | undefined;
  private readonly watching: WatchingSection | undefined;

  constructor(
    private readonly source: TaskSource,
    options: TaskTreeOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 200;
    this.coalesceMs = options.coalesceMs ?? 100;
    this.now = options.now ?? Date.now;
    this.problemsOf = options.problemsOf;
    // Trigger changes are rare (a burst's start, a run's end): each refreshes its own row at once.
    this.watching = options.triggers && new WatchingSection(options.triggers, (nodes) => this.changed.fire(nodes), this.now);
    for (const status of ALL_STATUSES) {
      this.byStatus.set(status, new Map());
      this.stageNodes.set(status, { type: 'stage', status });
      this.moreNodes.set(status, { type: 'more', status });
    }
    for (const record of source.getTasks()) this.place(record);
    this.subscription = source.onDidChangeTask((record) => this.onTask(record));
  }

  // --- TreeDataProvider ---------------------------------------------------------------------

  getTreeItem(node: TreeNode): vscode.TreeItem {
    if (isWatchingTreeNode(node)) return this.watching?.treeItem(node) ?? new vscode.TreeItem('Watching');
    if (node.type === 'stage') {
      const count = this.byStatus.get(node.status)?.size ?? 0;
      const item = new vscode.TreeItem(STAGE_LABELS[node.status], vscode.TreeItemCollapsibleState.Expanded);
      item.id = `stage:${node.status}`;
      item.description = String(count);
      item.contextValue = ViewItems.stage;
      item.iconPath = statusIcon(node.status);
      item.accessibilityInformation = { label: `${STAGE_LABELS[node.status]}, ${count} task${count === 1 ? '' : 's'}` };
      return item;
    }
    if (node.type === 'more') {
      const hidden = this.rows(node.status).length - this.limit(node.status);
      const item = new vscode.TreeItem(`${hidden} more…`, vscode.TreeItemCollapsibleState.None);
      item.id = `more:${node.status}`;
      item.contextValue = ViewItems.more;
      item.tooltip = `Show ${Math.min(hidden, this.pageSize)} more ${STAGE_LABELS[node.status].toLowerCase()} tasks`;
      item.command = { command: CommandIds.showMore, title: 'Show More', arguments: [node.status] };
      return item;
    }
    const record = this.byStatus.get(node.status)?.get(node.id);
    const item = new vscode.TreeItem(record?.name ?? node.id, vscode.TreeItemCollapsibleState.None);
    item.id = `task:${node.status}:${node.id}`;
    item.contextValue = `${ViewItems.taskPrefix}${node.status}${record?.kind === VSCODE_TASK_KIND ? ViewItems.vscodeTaskSuffix : ''}`;
    item.iconPath = record ? recordIcon(record) : statusIcon(node.status);
    if (record) item.description = taskDescription(record, this.now(), this.problemsOf?.(record.id));
    return item;
  }

  /** Tooltips are Markdown with the whole record: built only when the user hovers a row. */
  resolveTreeItem(item: vscode.TreeItem, node: TreeNode): vscode.TreeItem {
    if (node.type === 'task') {
      const record = this.byStatus.get(node.status)?.get(node.id);
      if (record) item.tooltip = taskTooltip(record, (id) => this.record(id)?.name, this.now(), this.problemsOf?.(record.id));
    }
    return item;
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (!node) return [...(this.watching?.roots() ?? []), ...ALL_STATUSES.map((s) => this.stage(s))];
    if (isWatchingTreeNode(node)) return this.watching?.children(node) ?? [];
    if (node.type !== 'stage') return [];
    const rows = this.rows(node.status);
    const limit = this.limit(node.status);
    const children: TreeNode[] = rows.slice(0, limit).map((r) => this.taskNode(r.id, node.status));
    if (rows.length > limit) children.push(this.moreNode(node.status));
    return children;
  }

  getParent(node: TreeNode): TreeNode | undefined {
    if (isWatchingTreeNode(node)) return this.watching?.parent(node);
    return node.type === 'stage' ? undefined : this.stage(node.status);
  }

  // --- Queries, for commands and tests ---------------------------------------------------------

  stage(status: TaskStatus): StageNode {
    return this.stageNodes.get(status) as StageNode;
  }

  /** The node of a task as the tree shows it now, for `reveal`. */
  nodeOf(id: string): TaskNode | undefined {
    const status = this.statusOf.get(id);
    return status === undefined ? undefined : this.taskNode(id, status);
  }

  record(id: string): TaskRecord | undefined {
    const status = this.statusOf.get(id);
    return status === undefined ? undefined : this.byStatus.get(status)?.get(id);
  }

  /** The Watching row of a trigger (by its key), for reveal and tests. */
  triggerNode(key: string): TriggerNode | undefined {
    return this.watching?.node(key);
  }

  count(status: TaskStatus): number {
    return this.byStatus.get(status)?.size ?? 0;
  }

  /** Shows the next page of a stage (the "N more…" row). */
  showMore(status: TaskStatus): void {
    this.limits.set(status, this.limit(status) + this.pageSize);
    this.markStage(status);
  }

  /** While the view is hidden nothing ticks; rows are fetched again when it shows. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    this.updateTicker();
  }

  /**
   * Reconciles the index with the core after changes that emit no task event (removal, history
   * pruning) and fires only the stages whose membership changed.
   */
  resync(): void {
    const seen = new Set<string>();
    for (const record of this.source.getTasks()) {
      seen.add(record.id);
      const prev = this.statusOf.get(record.id);
      if (prev !== record.status) this.onTask(record);
      else this.byStatus.get(record.status)?.set(record.id, record);
    }
    for (const [id, status] of [...this.statusOf]) {
      if (!seen.has(id)) {
        this.byStatus.get(status)?.delete(id);
        this.statusOf.delete(id);
        this.taskNodes.delete(id);
        this.arrival.delete(id);
        this.markStage(status);
      }
    }
  }

  /** The Refresh command: the user asked to rebuild everything, so this once it is `undefined`. */
  refreshAll(): void {
    this.resync();
    this.pendingStages.clear();
    this.pendingTasks.clear();
    for (const status of ALL_STATUSES) this.sorted.delete(status);
    this.changed.fire(undefined);
  }

  /** Fires what is pending now instead of after the coalescing delay. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.checkCounts();
    if (!this.pendingStages.size && !this.pendingTasks.size) return;
    const nodes: TreeNode[] = [];
    for (const status of this.pendingStages) nodes.push(this.stage(status));
    for (const id of this.pendingTasks) {
      const status = this.statusOf.get(id);
      // A row of a stage that is refreshed anyway, or of a task that is gone, needs no event of its own.
      if (status !== undefined && !this.pendingStages.has(status)) nodes.push(this.taskNode(id, status));
    }
    const counts = { stages: this.pendingStages.size, tasks: nodes.length - this.pendingStages.size };
    this.pendingStages.clear();
    this.pendingTasks.clear();
    this.updateTicker();
    this.changed.fire(nodes);
    this.flushed.fire(counts);
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.subscription.dispose();
    this.watching?.dispose();
    this.changed.dispose();
    this.flushed.dispose();
  }

  // --- Internals ------------------------------------------------------------------------------

  private onTask(record: TaskRecord): void {
    const prev = this.statusOf.get(record.id);
    if (prev === record.status) {
      this.byStatus.get(record.status)?.set(record.id, record);
      if (this.isShown(record)) this.pendingTasks.add(record.id);
    } else {
      if (prev !== undefined) {
        this.byStatus.get(prev)?.delete(record.id);
        this.markStage(prev);
      }
      this.place(record);
      this.markStage(record.status);
    }
    this.schedule();
  }

  private place(record: TaskRecord): void {
    this.byStatus.get(record.status)?.set(record.id, record);
    this.arrival.set(record.id, ++this.seq);
    this.statusOf.set(record.id, record.status);
    this.taskNodes.delete(record.id);
    this.sorted.delete(record.status);
  }

  private markStage(status: TaskStatus): void {
    this.sorted.delete(status);
    // An emptied stage starts again at one page.
    if (this.count(status) === 0) this.limits.delete(status);
    this.pendingStages.add(status);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), this.coalesceMs);
  }

  /** The core prunes old finished records without an event: a count that disagrees means a resync. */
  private checkCounts(): void {
    const counts = this.source.getSystemStatus().counts;
    if (ALL_STATUSES.some((s) => counts[s] !== this.count(s))) this.resync();
  }

  private rows(status: TaskStatus): TaskRecord[] {
    let rows = this.sorted.get(status);
    if (!rows) {
      rows = [...(this.byStatus.get(status)?.values() ?? [])];
      // Newest first; within one millisecond, the latest to arrive in the stage first.
      const arrival = this.arrival;
      rows.sort((a, b) => lastChangeAt(b) - lastChangeAt(a) || (arrival.get(b.id) ?? 0) - (arrival.get(a.id) ?? 0));
      this.sorted.set(status, rows);
    }
    return rows;
  }

  private limit(status: TaskStatus): number {
    return this.limits.get(status) ?? this.pageSize;
  }

  private isShown(record: TaskRecord): boolean {
    const rows = this.sorted.get(record.status);
    // Not sorted yet means VS Code has not asked for this stage's rows since it last changed.
    if (!rows) return false;
    const limit = this.limit(record.status);
    return rows.length <= limit || rows.slice(0, limit).some((r) => r.id === record.id);
  }

  private taskNode(id: string, status: TaskStatus): TaskNode {
    let node = this.taskNodes.get(id);
    if (!node || node.status !== status) {
      node = { type: 'task', id, status };
      this.taskNodes.set(id, node);
    }
    return node;
  }

  private moreNode(status: TaskStatus): MoreNode {
    return this.moreNodes.get(status) as MoreNode;
  }

  /** Running rows show their elapsed time: refresh them once a second while the view is visible. */
  private updateTicker(): void {
    const want = this.visible && this.count('running') > 0;
    if (want && this.ticker === undefined) {
      this.ticker = setInterval(() => {
        for (const id of this.byStatus.get('running')?.keys() ?? []) this.pendingTasks.add(id);
        this.schedule();
      }, 1000);
    } else if (!want && this.ticker !== undefined) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }
}
