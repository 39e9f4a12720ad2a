// The "Watching" node of the Tasks view: one row per trigger of the workflow files, with what it
// watches, whether it is paused, and its last run. Shown only while there is at least one trigger.
// A trigger's change refreshes its row alone, and the Watching node too when the paused count it
// shows changed; a change of the list refreshes the root. Rows that say "last run … ago" are
// refreshed every AGO_REFRESH_MS so the figure does not go stale.
import * as vscode from 'vscode';
import type { TriggerState } from '../../core/triggers/triggerRunner';
import type { Disposable, Event } from '../../core/util/events';
import { formatDuration } from '../../core/util/formatDuration';
import type { TriggerDef } from '../../workspaceFiles/triggers';
import { ViewItems } from '../ids';

export interface WatchingNode {
  readonly type: 'watching';
}
export interface TriggerNode {
  readonly type: 'trigger';
  /** The trigger's key in the TriggerService. */
  readonly key: string;
}
export type WatchingTreeNode = WatchingNode | TriggerNode;

const AGO_REFRESH_MS = 30_000;

/** A trigger as the view shows it. */
export interface WatchedTrigger {
  readonly key: string;
  readonly def: TriggerDef;
  readonly folder: { readonly name: string };
  readonly state: TriggerState;
}

/** What the section reads: the TriggerService. */
export interface TriggerSource {
  list(): WatchedTrigger[];
  get(key: string): WatchedTrigger | undefined;
  /** A trigger changed (its key), or the list did (undefined). */
  onDidChange: Event<string | undefined>;
}

export function isWatchingTreeNode(value: unknown): value is WatchingTreeNode {
  if (typeof value !== 'object' || value === null) return false;
  const { type, key } = value as { type?: unknown; key?: unknown };
  return type === 'watching' || (type === 'trigger' && typeof key === 'string');
}

export function isTriggerNode(value: unknown): value is TriggerNode {
  return isWatchingTreeNode(value) && value.type === 'trigger';
}

export class WatchingSection implements Disposable {
  private readonly root: WatchingNode = { type: 'watching' };
  private readonly nodes = new Map<string, TriggerNode>();
  private readonly subscription: Disposable;
  private readonly ticker: ReturnType<typeof setInterval>;
  /** How many triggers the Watching node's description last counted paused. */
  private paused = 0;

  /** `refresh(undefined)`: the root's children changed; otherwise the nodes to refresh. */
  constructor(
    private readonly source: TriggerSource,
    refresh: (nodes: WatchingTreeNode[] | undefined) => void,
    private readonly now: () => number = Date.now,
    private readonly multiRoot: () => boolean = () => (vscode.workspace.workspaceFolders?.length ?? 0) > 1,
  ) {
    this.paused = this.pausedCount();
    this.subscription = source.onDidChange((key) => {
      const paused = this.pausedCount();
      const countChanged = paused !== this.paused;
      this.paused = paused;
      if (key === undefined) {
        for (const k of [...this.nodes.keys()]) if (!source.get(k)) this.nodes.delete(k);
        refresh(undefined);
      } else if (source.get(key)) refresh(countChanged ? [this.root, this.node(key)] : [this.node(key)]);
    });
    this.ticker = setInterval(() => {
      const stale = source.list().filter((t) => t.state.lastRun && !t.state.running);
      if (stale.length) refresh(stale.map((t) => this.node(t.key)));
    }, AGO_REFRESH_MS);
    // Never what keeps the extension host alive.
    this.ticker.unref?.();
  }

  private pausedCount(): number {
    return this.source.list().filter((t) => t.state.paused).length;
  }

  /** The Watching node, while there is a trigger to list. */
  roots(): WatchingNode[] {
    return this.source.list().length ? [this.root] : [];
  }

  children(node: WatchingTreeNode): TriggerNode[] {
    return node.type === 'watching' ? this.source.list().map((t) => this.node(t.key)) : [];
  }

  parent(node: WatchingTreeNode): WatchingTreeNode | undefined {
    return node.type === 'trigger' ? this.root : undefined;
  }

  /** The row of the trigger `key`, for reveal and tests. */
  node(key: string): TriggerNode {
    let node = this.nodes.get(key);
    if (!node) {
      node = { type: 'trigger', key };
      this.nodes.set(key, node);
    }
    return node;
  }

  treeItem(node: WatchingTreeNode): vscode.TreeItem {
    if (node.type === 'watching') {
      const all = this.source.list();
      const paused = all.filter((t) => t.state.paused).length;
      const item = new vscode.TreeItem('Watching', vscode.TreeItemCollapsibleState.Expanded);
      item.id = 'watching';
      item.contextValue = ViewItems.watching;
      item.iconPath = new vscode.ThemeIcon('eye');
      item.description = paused ? `${all.length} · ${paused} paused` : String(all.length);
      item.tooltip = 'Triggers of the workflow files: a save or change of a matching file runs the workflow';
      return item;
    }
    const trigger = this.source.get(node.key);
    const item = new vscode.TreeItem(trigger?.def.id ?? node.key, vscode.TreeItemCollapsibleState.None);
    item.id = `trigger:${node.key}`;
    if (!trigger) return item;
    const { def, state } = trigger;
    item.contextValue = state.paused ? ViewItems.triggerPaused : ViewItems.triggerActive;
    item.iconPath = new vscode.ThemeIcon(state.paused ? 'eye-closed' : 'eye');
    item.description = triggerDescription(trigger, this.now(), this.multiRoot());
    item.tooltip = triggerTooltip(trigger);
    item.accessibilityInformation = { label: `Trigger ${def.id}, ${state.paused ? 'paused' : 'active'}` };
    return item;
  }

  dispose(): void {
    clearInterval(this.ticker);
    this.subscription.dispose();
  }
}

/** What a trigger watches: "on save src/**\/*.ts · on change assets/**". */
export function watchedText(def: TriggerDef): string {
  const parts: string[] = [];
  if (def.save.length) parts.push(`on save ${def.save.join(', ')}`);
  if (def.change.length) parts.push(`on change ${def.change.join(', ')}`);
  return parts.join(' · ');
}

/** "2 min ago", "just now": how long ago `at` was. */
export function ago(at: number, now: number): string {
  const ms = now - at;
  if (!Number.isFinite(ms) || ms < 5_000) return 'just now';
  if (ms < 60_000) return `${Math.floor(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  return `${formatDuration(ms)} ago`;
}

/** The row's description: "on save src/**\/*.ts · last run completed 2 min ago", or "paused · …". */
export function triggerDescription(trigger: WatchedTrigger, now: number, showFolder = false): string {
  const { def, state } = trigger;
  const parts: string[] = [];
  if (state.paused) parts.push('paused');
  parts.push(watchedText(def));
  if (state.running) parts.push('running');
  else if (state.pendingSince !== undefined) parts.push('waiting for quiet');
  else if (state.lastRun) parts.push(`last run ${state.lastRun.outcome} ${ago(state.lastRun.at, now)}`);
  if (showFolder) parts.push(trigger.folder.name);
  return parts.join(' · ');
}

function triggerTooltip(trigger: WatchedTrigger): vscode.MarkdownString {
  const { def, state } = trigger;
  const md = new vscode.MarkdownString('', true);
  md.appendMarkdown(`$(${state.paused ? 'eye-closed' : 'eye'}) **`)
    .appendText(def.id)
    .appendMarkdown(`** — ${state.paused ? 'paused' : 'watching'}\n\n`);
  const rows: [string, string][] = [['Runs', def.task ? `task ${def.task} of workflow ${def.workflow}, and what it depends on` : `workflow ${def.workflow}`]];
  if (def.save.length) rows.push(['On save', def.save.join(', ')]);
  if (def.change.length) rows.push(['On change', def.change.join(', ')]);
  rows.push(['Debounce', `${def.debounceMs} ms`]);
  rows.push(['While a run is in progress', ON_RUNNING_TEXT[def.onRunning]]);
  rows.push(['Folder', trigger.folder.name]);
  if (state.lastRun)
    rows.push([
      'Last run',
      `${state.lastRun.outcome} at ${new Date(state.lastRun.at).toLocaleTimeString()}${state.lastRun.reason ? `: ${state.lastRun.reason}` : ''}`,
    ]);
  for (const [k, v] of rows) md.appendMarkdown(`**${k}:** `).appendText(v).appendMarkdown('  \n');
  return md;
}

const ON_RUNNING_TEXT: Record<TriggerDef['onRunning'], string> = {
  restart: 'restart (cancel it and run again)',
  queue: 'queue (run once more after it)',
  skip: 'skip (ignore the change)',
};
