// How the History view groups and sums up runs: local calendar days, a run's key and its counts.
// Pure (no 'vscode'): the unit tests read it as a specification.
import { formatDuration } from '../../dashboardProtocol/format';
import { ALL_STATUSES, type TaskRecord, type TaskStatus } from '../../core/model/model';
import type { HistoryRun } from './runHistory';

/** A local day as `YYYY-MM-DD`: the key of a day row. */
export function dayKey(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** "Today", "Yesterday", else the date in the user's locale. */
export function dayLabel(key: string, now: number): string {
  if (key === dayKey(now)) return 'Today';
  const n = new Date(now);
  if (key === dayKey(new Date(n.getFullYear(), n.getMonth(), n.getDate() - 1).getTime())) return 'Yesterday';
  const [y, m, d] = key.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d).toLocaleDateString(undefined, { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' });
}

/** A run's stable key: its workflow run id, or its one task's id. */
export function runKey(run: HistoryRun): string {
  return run.workflowId ?? `task:${run.tasks[0]?.id ?? run.startedAt}`;
}

/** A single task not in a workflow run: the view shows it as a task row, not as a run with one child. */
export function isSingleTask(run: HistoryRun): boolean {
  return run.workflowId === undefined && run.tasks.length === 1;
}

/** Runs grouped by the day they started, in the order given (the store's: newest first). */
export function groupByDay(runs: readonly HistoryRun[]): Map<string, HistoryRun[]> {
  const days = new Map<string, HistoryRun[]>();
  for (const run of runs) {
    const key = dayKey(run.startedAt);
    let list = days.get(key);
    if (!list) days.set(key, (list = []));
    list.push(run);
  }
  return days;
}

/** "3 completed · 1 failed", in lifecycle order, statuses with none left out. */
export function statusSummary(tasks: readonly TaskRecord[]): string {
  const counts = new Map<TaskStatus, number>();
  for (const t of tasks) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
  return ALL_STATUSES.filter((s) => counts.has(s))
    .map((s) => `${counts.get(s)} ${s}`)
    .join(' · ');
}

/** From the run's first start to its last finish; undefined while unknown. */
export function runDurationMs(run: HistoryRun): number | undefined {
  let end = run.finishedAt;
  for (const t of run.tasks) if (t.finishedAt !== undefined && (end === undefined || t.finishedAt > end)) end = t.finishedAt;
  return end === undefined ? undefined : Math.max(0, end - run.startedAt);
}

/** The record's cache hit: only a completed task can have been restored. */
export function cachedOf(record: TaskRecord): NonNullable<TaskRecord['result']>['cached'] {
  return record.status === 'completed' ? record.result?.cached : undefined;
}

/** A task row's description: duration, exit code, `cached`. */
export function taskSummary(record: TaskRecord): string {
  const parts: string[] = [];
  if (record.finishedAt !== undefined) parts.push(formatDuration(Math.max(0, record.finishedAt - (record.startedAt ?? record.createdAt))));
  if (record.result?.exitCode !== undefined) parts.push(`exit ${record.result.exitCode}`);
  if (cachedOf(record)) parts.push('cached');
  if (record.result?.flaky) parts.push('flaky');
  return parts.join(' · ');
}

/** A run row's description: start time, counts, duration. */
export function runSummary(run: HistoryRun): string {
  const parts = [new Date(run.startedAt).toLocaleTimeString(), statusSummary(run.tasks)];
  const ms = runDurationMs(run);
  if (ms !== undefined) parts.push(formatDuration(ms));
  return parts.join(' · ');
}
