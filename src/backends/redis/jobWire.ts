// How a job carries an attempt and what it returns, read defensively: job data and return values
// come from Redis as JSON anyone with access may have written, so they are `unknown` until checked.
import type { TaskRecord } from '../../core/model/model';
import type { JobReturn } from './protocol';

/**
 * The record as a job carries it: its TaskRecord fields only (a record held by the core may carry
 * bookkeeping of its own, not JSON), without its history, which a worker does not read.
 */
export function wireRecord(t: TaskRecord): TaskRecord {
  const out: TaskRecord = {
    id: t.id,
    name: t.name,
    kind: t.kind,
    status: t.status,
    priority: t.priority,
    attempts: t.attempts,
    createdAt: t.createdAt,
    history: [],
    spec: t.spec,
    dependsOn: t.dependsOn,
  };
  if (t.startedAt !== undefined) out.startedAt = t.startedAt;
  if (t.workflowId !== undefined) out.workflowId = t.workflowId;
  return out;
}

export function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isJobReturn(value: unknown): value is JobReturn {
  return typeof value === 'object' && value !== null && typeof (value as JobReturn).result === 'object' && (value as JobReturn).result !== null;
}
