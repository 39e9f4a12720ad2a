// The words and numbers a task is shown with, the same in the live view, the plain lines and the
// JUnit report: how long it ran, which attempt, which pools, why it failed or was cancelled.
import { StatusCounts } from '../../core/lifecycle/statusCounts';
import type { TaskRecord, TaskStatus } from '../../core/model/model';
import { formatDuration } from '../../core/util/formatDuration';

/**
 * When the task first started running: its first attempt's start (the history's first `running`
 * entry), else `startedAt`. A retried task's time so counts every attempt and the backoffs between.
 */
export function firstStartedAt(record: TaskRecord): number | undefined {
  for (const entry of record.history) if (entry.status === 'running') return entry.at;
  return record.startedAt;
}

/** Ms the task has run: to `finishedAt` once finished, else to `now`; undefined if it never started. */
export function taskElapsedMs(record: TaskRecord, now: number): number | undefined {
  const start = firstStartedAt(record);
  if (start === undefined) return undefined;
  const end = record.finishedAt ?? now;
  return Math.max(0, end - start);
}

/** `attempt 2/3` when the task may retry or already has; undefined for a one-shot task. */
export function attemptText(record: TaskRecord): string | undefined {
  const retries = record.spec.retries ?? 0;
  if (retries <= 0 && record.attempts <= 1) return undefined;
  return `attempt ${Math.max(1, record.attempts)}/${retries + 1}`;
}

/** The units of each pool the task holds while running, `cpu×1 gpu×2`; undefined without pools. */
export function poolsText(record: TaskRecord): string | undefined {
  const entries = Object.entries(record.spec.resources ?? {});
  return entries.length === 0 ? undefined : entries.map(([pool, units]) => `${pool}×${units}`).join(' ');
}

/** Why the task failed: the error's message and how the process ended, `Command failed (exit 2)`. */
export function failureText(record: TaskRecord): string {
  const message = record.error?.message ?? lastReason(record) ?? 'failed';
  const end = exitText(record);
  return end === undefined ? message : `${message} (${end})`;
}

/** `exit 2` or `signal SIGTERM`, when the task's process ended so. */
export function exitText(record: TaskRecord): string | undefined {
  if (record.result?.exitCode !== undefined) return `exit ${record.result.exitCode}`;
  if (record.result?.signal !== undefined) return `signal ${record.result.signal}`;
  return undefined;
}

/** The reason of the latest transition (a cancel's reason, a retry's backoff), if it has one. */
export function lastReason(record: TaskRecord): string | undefined {
  return record.history.at(-1)?.reason;
}

/** Why a task was cancelled, for a person. */
export function cancelReason(record: TaskRecord): string {
  return lastReason(record) ?? 'Cancelled';
}

/** How long, for a person: `1.24 s`. */
export function durationText(ms: number): string {
  return formatDuration(ms);
}

/** `cached · saved 1.2 s` for a task completed from the cache; undefined otherwise. */
export function cachedText(record: TaskRecord): string | undefined {
  const cached = record.status === 'completed' ? record.result?.cached : undefined;
  return cached === undefined ? undefined : `cached · saved ${formatDuration(cached.savedMs)}`;
}

/**
 * The counts of the summary line, as the live view's and the plain view's last line write them;
 * with `cache`, the cached tasks among the done ones and the time they saved.
 */
export function summaryText(counts: Readonly<Record<TaskStatus, number>>, elapsedMs: number, cache?: { cached: number; savedMs: number }): string {
  const queued = counts.created + counts.scheduled;
  const cached = cache !== undefined && cache.cached > 0 ? ` (${cache.cached} cached, saved ${formatDuration(cache.savedMs)})` : '';
  return `running ${counts.running} · queued ${queued} · done ${counts.completed}${cached} · failed ${counts.failed} · cancelled ${counts.cancelled} · ${formatDuration(elapsedMs)}`;
}

/** Records counted by status. */
export function countStatuses(records: Iterable<TaskRecord>): Record<TaskStatus, number> {
  const counts = new StatusCounts();
  for (const r of records) counts.add(r.status, 1);
  return counts.toRecord();
}

/** `ready`, with the cycle's problems where known: `ready · 1 error, 0 warnings`. */
export function readyText(record: TaskRecord): string {
  const p = record.ready?.problems;
  if (p === undefined) return 'ready';
  const n = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;
  return `ready · ${n(p.errors, 'error')}, ${n(p.warnings, 'warning')}`;
}
