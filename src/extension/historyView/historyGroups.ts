// How the History view groups and sums up runs: local calendar days, a run's key and its counts.
// Pure (no 'vscode'): the unit tests read it as a specification.
import { formatDuration } from '../../dashboardProtocol/format';
import { cacheDescriptionParts, cachedOf } from '../tasksView/cacheText';
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

/**
 * A run's name: its workflow's, when the history knows it; else the `<workflow>: ` prefix its tasks'
 * names share (the workflow file's default names, `ci: lint`); else its first task's name and how
 * many more there are (`Install dependencies +4`).
 */
export function runName(run: HistoryRun): string {
  if (run.workflowName) return run.workflowName;
  const prefixes = new Set(run.tasks.map((t) => /^([^:]+):\s/.exec(t.name)?.[1]));
  const [only] = prefixes;
  if (prefixes.size === 1 && only !== undefined) return only;
  const first = [...run.tasks].sort((a, b) => a.createdAt - b.createdAt)[0];
  if (!first) return 'Workflow run';
  return run.tasks.length > 1 ? `${first.name} +${run.tasks.length - 1}` : first.name;
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

/** A task row's description: duration, exit code, `cached · saved …` for a cache hit, `flaky`. */
export function taskSummary(record: TaskRecord): string {
  const parts: string[] = [];
  if (record.finishedAt !== undefined) parts.push(formatDuration(Math.max(0, record.finishedAt - (record.startedAt ?? record.createdAt))));
  if (record.result?.exitCode !== undefined) parts.push(`exit ${record.result.exitCode}`);
  // As the Tasks view says it: `cached · saved 41.0 s`, `flaky`.
  parts.push(...cacheDescriptionParts(record));
  return parts.join(' · ');
}

/** A run row's description: start time, counts, how many were restored from the cache, duration. */
export function runSummary(run: HistoryRun): string {
  const parts = [new Date(run.startedAt).toLocaleTimeString(), statusSummary(run.tasks)];
  const cached = run.tasks.filter((t) => cachedOf(t)).length;
  if (cached) parts.push(`${cached} cached`);
  const ms = runDurationMs(run);
  if (ms !== undefined) parts.push(formatDuration(ms));
  return parts.join(' · ');
}
