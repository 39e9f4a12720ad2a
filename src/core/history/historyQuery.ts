// The History search's pure half: checking a query, matching one task against it, and the cursor.
// A cursor names the last task a page emitted by its place in the journal's order (finish time, then
// append sequence), so the next page starts strictly after it whatever was appended meanwhile.
import { describeValue, fieldError, ValidationError } from '../model/errors';
import { ALL_STATUSES, type TaskRecord, type TaskStatus } from '../model/model';
import type { HistoryQuery } from './historyTypes';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/** What the index keeps of a task: enough to filter and order it without reading the record. */
export interface TaskSummary {
  id: string;
  /** Append order, unique while the journal is open. */
  seq: number;
  finishedAt: number;
  startedAt: number;
  status: TaskStatus;
  exitCode: number | undefined;
  workflowId: string | undefined;
  /** The name of its workflow run (`ci`), where the record has one. */
  workflowName: string | undefined;
  /** Lower-cased name, command, workflow id and name, and error message, NUL-separated. */
  hay: string;
}

export function summarize(record: TaskRecord, seq: number): TaskSummary {
  // Every field always set, in one order: one object shape for all, so a scan over 100,000 stays monomorphic.
  return {
    id: record.id,
    seq,
    finishedAt: record.finishedAt ?? record.createdAt,
    startedAt: record.startedAt ?? record.createdAt,
    status: record.status,
    exitCode: typeof record.result?.exitCode === 'number' ? record.result.exitCode : undefined,
    workflowId: record.workflowId,
    workflowName: record.workflowName,
    hay: [record.name, record.spec?.command ?? '', record.workflowId ?? '', record.workflowName ?? '', record.error?.message ?? ''].join('\0').toLowerCase(),
  };
}

/** A checked query, prepared for matching. */
export interface Matcher {
  (s: TaskSummary): boolean;
}

/** Checks `query` (a ValidationError names the field) and returns its matcher. */
export function compileQuery(query: HistoryQuery): Matcher {
  if (typeof query !== 'object' || query === null) throw fieldError('query', 'an object like `{ text?, status?, exitCode?, workflow?, from?, to? }`', query);
  const { text, status, exitCode, workflow, from, to } = query;
  if (text !== undefined && typeof text !== 'string') throw fieldError('text', 'a string', text);
  if (status !== undefined && (!Array.isArray(status) || status.some((s) => !(ALL_STATUSES as readonly unknown[]).includes(s)))) {
    throw new ValidationError(
      `Expected \`status\` to be an array of ${ALL_STATUSES.map((s) => `\`${s}\``).join(', ')}, got ${describeValue(status)}`,
      'status',
    );
  }
  if (exitCode !== undefined && !Number.isInteger(exitCode)) throw fieldError('exitCode', 'an integer', exitCode);
  if (workflow !== undefined && typeof workflow !== 'string') throw fieldError('workflow', 'a string', workflow);
  for (const [field, v] of [['from', from] as const, ['to', to] as const]) {
    if (v !== undefined && !Number.isFinite(v)) throw fieldError(field, 'a finite number (ms since the epoch)', v);
  }
  const needle = text?.trim().toLowerCase() || undefined;
  const statuses = status && status.length ? new Set<TaskStatus>(status) : undefined;
  return (s) =>
    (statuses === undefined || statuses.has(s.status)) &&
    (exitCode === undefined || s.exitCode === exitCode) &&
    (workflow === undefined || s.workflowId === workflow || s.workflowName === workflow) &&
    (from === undefined || s.finishedAt >= from) &&
    (to === undefined || s.finishedAt <= to) &&
    (needle === undefined || s.hay.includes(needle));
}

export function checkPageSize(pageSize: unknown): number {
  if (pageSize === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || (pageSize as number) < 1 || (pageSize as number) > MAX_PAGE_SIZE) {
    throw fieldError('pageSize', `an integer from 1 to ${MAX_PAGE_SIZE}`, pageSize);
  }
  return pageSize as number;
}

/** Order of the index: older first; ties by append order. */
export function compareSummaries(a: { finishedAt: number; seq: number }, b: { finishedAt: number; seq: number }): number {
  return a.finishedAt - b.finishedAt || a.seq - b.seq;
}

export function encodeCursor(s: TaskSummary): string {
  return `${s.finishedAt.toString(36)}.${s.seq.toString(36)}`;
}

export function decodeCursor(cursor: unknown): { finishedAt: number; seq: number } {
  const m = typeof cursor === 'string' ? /^(-?[0-9a-z]+)\.([0-9a-z]+)$/.exec(cursor) : null;
  if (!m) throw fieldError('cursor', "a previous page's `next`", cursor);
  return { finishedAt: parseInt(m[1] as string, 36), seq: parseInt(m[2] as string, 36) };
}
