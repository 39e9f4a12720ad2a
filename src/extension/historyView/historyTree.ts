// The History view: finished runs from the run history, grouped by the day they started, newest
// first; under a workflow run its tasks. A task scheduled on its own is a row of its own.
//
// Invariants:
// - the store is read a page at a time: the first page when VS Code first asks for the roots, the
//   next one only through the "Load more…" row; nothing here holds more than the pages loaded;
// - a reload (the filter changed, the history grew or shrank) fetches as many pages as were loaded,
//   so the rows the user paged to stay, and swaps them in at once: VS Code never sees half a reload;
// - appends are coalesced: one reload per `throttleMs`, however many records arrive, and none while
//   the view is hidden (it reloads when it shows again);
// - row ids are the run's key and the task's id, stable across reloads, so expansion and selection
//   survive a refresh.
import * as vscode from 'vscode';
import { isFinished, type TaskRecord } from '../../core/model/model';
import { ViewItems } from '../ids';
import { recordIcon, statusIcon, taskTooltip } from '../tasksView/taskPresentation';
import { dayKey, dayLabel, groupByDay, isSingleTask, runKey, runName, runSummary, statusSummary, taskSummary } from './historyGroups';
import { isEmptyQuery } from './historyFilter';
import type { HistoryQuery, HistoryReader, HistoryRun } from './runHistory';

export interface DayNode {
  readonly type: 'history.day';
  readonly key: string;
}
export interface RunNode {
  readonly type: 'history.run';
  readonly key: string;
}
export interface HistoryTaskNode {
  readonly type: 'history.task';
  readonly id: string;
  /** The key of the run the task belongs to. */
  readonly run: string;
}
export interface LoadMoreNode {
  readonly type: 'history.more';
}
export type HistoryNode = DayNode | RunNode | HistoryTaskNode | LoadMoreNode;

const NODE_TYPES: readonly string[] = ['history.day', 'history.run', 'history.task', 'history.more'];

/** A row of this view, as VS Code passes it to a context-menu command. */
export function isHistoryNode(value: unknown): value is HistoryNode {
  return typeof value === 'object' && value !== null && NODE_TYPES.includes((value as { type?: unknown }).type as string);
}

export interface HistoryTreeOptions {
  pageSize?: number;
  throttleMs?: number;
  now?: () => number;
  /** The command the "Load more…" row runs. */
  loadMoreCommand?: string;
}

export class HistoryTreeProvider implements vscode.TreeDataProvider<HistoryNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<HistoryNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** After each load (first page, next page, reload) is in place; the view updates its message, tests wait. */
  private readonly loadedEmitter = new vscode.EventEmitter<void>();
  readonly onDidLoad = this.loadedEmitter.event;

  private query: HistoryQuery = {};
  private filterText = '';
  private runs: HistoryRun[] = [];
  private next: string | undefined;
  private pages = 0;
  private readonly byKey = new Map<string, HistoryRun>();
  private readonly taskRun = new Map<string, HistoryRun>();
  private days = new Map<string, HistoryRun[]>();
  /** The load in flight: a second request waits for it rather than racing it. */
  private loading: Promise<void> | undefined;
  private stale = false;
  private visible = true;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly subscription: { dispose(): void };
  private readonly pageSize: number;
  private readonly throttleMs: number;
  private readonly now: () => number;
  private readonly loadMoreCommand: string | undefined;
  private readonly moreNode: LoadMoreNode = { type: 'history.more' };
  /** The last load's failure, shown as the view's message until a load succeeds. */
  private error: string | undefined;

  constructor(
    private readonly history: HistoryReader,
    options: HistoryTreeOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 50;
    this.throttleMs = options.throttleMs ?? 500;
    this.now = options.now ?? Date.now;
    this.loadMoreCommand = options.loadMoreCommand;
    this.subscription = history.onDidAppend(() => this.onAppend());
  }

  // --- TreeDataProvider ---------------------------------------------------------------------

  getTreeItem(node: HistoryNode): vscode.TreeItem {
    switch (node.type) {
      case 'history.day': {
        const runs = this.days.get(node.key) ?? [];
        const item = new vscode.TreeItem(dayLabel(node.key, this.now()), vscode.TreeItemCollapsibleState.Expanded);
        item.id = `history.day:${node.key}`;
        item.description = `${runs.length} run${runs.length === 1 ? '' : 's'}`;
        item.contextValue = ViewItems.historyDay;
        item.iconPath = new vscode.ThemeIcon('calendar');
        return item;
      }
      case 'history.run': {
        const run = this.byKey.get(node.key);
        if (!run) return new vscode.TreeItem(node.key);
        if (isSingleTask(run)) return this.taskItem(run.tasks[0] as TaskRecord, node.key, true);
        const item = new vscode.TreeItem(runName(run), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `history.run:${node.key}`;
        item.description = runSummary(run);
        item.tooltip = `${runName(run)} — ${statusSummary(run.tasks)}\nStarted ${new Date(run.startedAt).toLocaleString()}${run.workflowId ? `\nRun ${run.workflowId}` : ''}`;
        item.contextValue = run.tasks.some((t) => t.status === 'failed' || t.status === 'cancelled') ? ViewItems.historyRunFailed : ViewItems.historyRun;
        item.iconPath = statusIcon(runStatus(run.tasks));
        return item;
      }
      case 'history.task': {
        const record = this.taskRun.get(node.id)?.tasks.find((t) => t.id === node.id);
        return record ? this.taskItem(record, node.run, false) : new vscode.TreeItem(node.id);
      }
      case 'history.more': {
        const item = new vscode.TreeItem('Load more…', vscode.TreeItemCollapsibleState.None);
        item.id = 'history.more';
        item.contextValue = ViewItems.historyMore;
        item.tooltip = `Load the next ${this.pageSize} runs`;
        if (this.loadMoreCommand) item.command = { command: this.loadMoreCommand, title: 'Load More' };
        return item;
      }
    }
  }

  /** The whole record as a tooltip, built on hover. */
  resolveTreeItem(item: vscode.TreeItem, node: HistoryNode): vscode.TreeItem {
    const id = node.type === 'history.task' ? node.id : node.type === 'history.run' ? this.singleTaskId(node.key) : undefined;
    const record = id === undefined ? undefined : this.record(id);
    if (record) item.tooltip = taskTooltip(record, (d) => this.record(d)?.name, this.now());
    return item;
  }

  async getChildren(node?: HistoryNode): Promise<HistoryNode[]> {
    if (!node) {
      if (this.pages === 0 || this.stale) await this.reload();
      const days: HistoryNode[] = [...this.days.keys()].map((key) => ({ type: 'history.day', key }));
      return this.next !== undefined ? [...days, this.moreNode] : days;
    }
    if (node.type === 'history.day') return (this.days.get(node.key) ?? []).map((run) => ({ type: 'history.run', key: runKey(run) }));
    if (node.type === 'history.run') {
      const run = this.byKey.get(node.key);
      if (!run || isSingleTask(run)) return [];
      return [...run.tasks].sort((a, b) => a.createdAt - b.createdAt).map((t) => ({ type: 'history.task', id: t.id, run: node.key }));
    }
    return [];
  }

  getParent(node: HistoryNode): HistoryNode | undefined {
    if (node.type === 'history.task') return { type: 'history.run', key: node.run };
    if (node.type === 'history.run') {
      const run = this.byKey.get(node.key);
      return run ? { type: 'history.day', key: dayKey(run.startedAt) } : undefined;
    }
    return undefined;
  }

  // --- Queries and actions, for commands and tests ---------------------------------------------

  get filter(): string {
    return this.filterText;
  }

  /** Why the view is empty, or the last load's failure; undefined when there are rows. */
  get message(): string | undefined {
    if (this.error !== undefined) return this.error;
    if (this.pages === 0 || this.runs.length) return undefined;
    return isEmptyQuery(this.query) ? 'No finished runs yet. Runs appear here as their tasks finish.' : `No runs match \`${this.filterText}\`.`;
  }

  /** The loaded run a key names. */
  run(key: string): HistoryRun | undefined {
    return this.byKey.get(key);
  }

  /** A loaded task's record. */
  record(id: string): TaskRecord | undefined {
    return this.taskRun.get(id)?.tasks.find((t) => t.id === id);
  }

  /** The run a loaded task belongs to. */
  runOf(id: string): HistoryRun | undefined {
    return this.taskRun.get(id);
  }

  /** Every loaded run, newest first. */
  loadedRuns(): readonly HistoryRun[] {
    return this.runs;
  }

  get hasMore(): boolean {
    return this.next !== undefined;
  }

  /** Applies a filter (already parsed) and reloads from the first page. */
  async setFilter(text: string, query: HistoryQuery): Promise<void> {
    this.filterText = isEmptyQuery(query) ? '' : text.trim();
    this.query = query;
    this.pages = 0;
    await this.reload();
  }

  /** The next page (the "Load more…" row). */
  async loadMore(): Promise<void> {
    await this.loading;
    if (this.next === undefined) return;
    const cursor = this.next;
    await this.track(async () => {
      const page = await this.history.search(this.query, cursor, this.pageSize);
      this.install([...this.runs, ...page.runs], page.next, this.pages + 1);
    });
  }

  /** Fetches again as many pages as are loaded (at least one) and shows them. */
  async reload(): Promise<void> {
    if (this.loading) {
      // A change during a load: load once more after it, with what is current then.
      this.stale = true;
      return this.loading;
    }
    this.stale = false;
    const pages = Math.max(1, this.pages);
    await this.track(async () => {
      let runs: HistoryRun[] = [];
      let cursor: string | undefined;
      let loaded = 0;
      do {
        const page = await this.history.search(this.query, cursor, this.pageSize);
        runs = [...runs, ...page.runs];
        cursor = page.next;
        loaded++;
      } while (cursor !== undefined && loaded < pages);
      this.install(runs, cursor, loaded);
    });
    if (this.stale) return this.reload();
  }

  /** Resolves once no reload is scheduled or running: what is shown then is what the history held. */
  async whenIdle(): Promise<void> {
    while (this.timer !== undefined || this.loading) {
      if (this.loading) await this.loading.catch(() => undefined);
      else await new Promise<void>((resolve) => setTimeout(resolve, this.throttleMs));
    }
  }

  /** While hidden, appends only mark the view stale; it reloads when it shows. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible && this.stale && this.pages > 0) void this.reload().catch(() => undefined);
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.subscription.dispose();
    this.changed.dispose();
    this.loadedEmitter.dispose();
  }

  // --- Internals ------------------------------------------------------------------------------

  private onAppend(): void {
    // Nothing shown yet: the first getChildren loads what is current then.
    if (this.pages === 0) return;
    if (!this.visible) {
      this.stale = true;
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reload().catch(() => undefined);
    }, this.throttleMs);
  }

  private async track(load: () => Promise<void>): Promise<void> {
    const p = load().then(
      () => {
        this.error = undefined;
      },
      (err: unknown) => {
        this.error = `The run history could not be read: ${err instanceof Error ? err.message : String(err)}`;
      },
    );
    this.loading = p;
    try {
      await p;
    } finally {
      this.loading = undefined;
      this.changed.fire(undefined);
      this.loadedEmitter.fire();
    }
  }

  private install(runs: readonly HistoryRun[], next: string | undefined, pages: number): void {
    // One run per key: a store may return a run again on a later page (tasks appended meanwhile).
    const byKey = new Map<string, HistoryRun>();
    const merged: HistoryRun[] = [];
    for (const run of runs) {
      const key = runKey(run);
      const seen = byKey.get(key);
      if (!seen) {
        const copy = { ...run, tasks: [...run.tasks] };
        byKey.set(key, copy);
        merged.push(copy);
        continue;
      }
      const ids = new Set(seen.tasks.map((t) => t.id));
      for (const t of run.tasks) if (!ids.has(t.id)) seen.tasks.push(t);
      seen.startedAt = Math.min(seen.startedAt, run.startedAt);
    }
    this.runs = merged;
    this.next = next;
    this.pages = pages;
    this.byKey.clear();
    this.taskRun.clear();
    for (const [key, run] of byKey) {
      this.byKey.set(key, run);
      for (const t of run.tasks) this.taskRun.set(t.id, run);
    }
    this.days = groupByDay(merged);
  }

  private singleTaskId(key: string): string | undefined {
    const run = this.byKey.get(key);
    return run && isSingleTask(run) ? run.tasks[0]?.id : undefined;
  }

  private taskItem(record: TaskRecord, run: string, single: boolean): vscode.TreeItem {
    const item = new vscode.TreeItem(record.name, vscode.TreeItemCollapsibleState.None);
    item.id = single ? `history.run:${run}` : `history.task:${record.id}`;
    item.description = taskSummary(record);
    // As in the Tasks view: a task restored from the cache has its own icon.
    item.iconPath = recordIcon(record);
    item.contextValue = `${ViewItems.historyTaskPrefix}${record.status}`;
    return item;
  }
}

/** A run's icon: failed if any failed, else cancelled if any was, else completed (or still running). */
function runStatus(tasks: readonly TaskRecord[]): TaskRecord['status'] {
  if (tasks.some((t) => t.status === 'failed')) return 'failed';
  if (tasks.some((t) => t.status === 'cancelled')) return 'cancelled';
  return tasks.every((t) => isFinished(t.status)) ? 'completed' : 'running';
}
