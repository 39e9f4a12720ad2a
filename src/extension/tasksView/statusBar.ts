// The status-bar item: running and queued counts; a click opens the Tasks view.
// Updated from coalesced task events (never more often than `coalesceMs`).
import * as vscode from 'vscode';
import type { Disposable } from '../../core/util/events';
import type { SystemStatus } from '../../core/model/model';
import { CommandIds } from '../ids';
import type { TaskSource } from './taskTree';

export class TaskStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: Disposable[];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly source: TaskSource & { readonly paused: boolean; readonly onDidChangeStatus?: (listener: () => void) => Disposable },
    private readonly coalesceMs = 150,
  ) {
    this.item = vscode.window.createStatusBarItem('orchestrator.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'Orchestrator';
    this.item.command = CommandIds.showTasks;
    // Status changes too: the limit moves with pause, the setting and (automatic) the fleet's slots.
    this.subscriptions = [
      source.onDidChangeTask(() => this.schedule()),
      ...(source.onDidChangeStatus ? [source.onDidChangeStatus(() => this.schedule())] : []),
    ];
    this.update();
    this.item.show();
  }

  /** The text as shown, for tests. */
  get text(): string {
    return this.item.text;
  }

  /** The tooltip's text, for tests. */
  get tooltip(): string {
    const tip = this.item.tooltip;
    return typeof tip === 'string' ? tip : (tip?.value ?? '');
  }

  schedule(): void {
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.update();
      }, this.coalesceMs);
    }
  }

  update(): void {
    const status: SystemStatus = this.source.getSystemStatus();
    const running = status.counts.running;
    const queued = status.counts.created + status.counts.scheduled;
    const icon = status.paused ? '$(debug-pause)' : running > 0 ? '$(sync~spin)' : '$(checklist)';
    this.item.text = `${icon} ${running} running · ${queued} queued`;
    const tip = new vscode.MarkdownString(
      `**Orchestrator**${status.paused ? ' (paused)' : ''}\n\n` +
        `${running} running of ${status.concurrency.limit} slots${slotsOf(status.concurrency.automatic)}, ${status.counts.scheduled} ready, ${status.counts.created} waiting  \n` +
        `${status.counts.completed} completed, ${status.counts.failed} failed, ${status.counts.cancelled} cancelled\n\n` +
        'Click to show the Tasks view.',
    );
    this.item.tooltip = tip;
    this.item.backgroundColor = status.paused ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }
}

/** What an automatic limit is made of: ` (automatic: 2 for this machine's CPUs + 16 on the workers)`; '' for a limit the user gave. */
function slotsOf(automatic: SystemStatus['concurrency']['automatic']): string {
  if (automatic === undefined) return '';
  return ` (automatic: ${automatic.cpus} for this machine's CPUs${automatic.fleet > 0 ? ` + ${automatic.fleet} on the workers` : ''})`;
}
