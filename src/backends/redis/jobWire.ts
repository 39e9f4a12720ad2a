// How a job carries an attempt and what it returns, read defensively: job data and return values
// come from Redis as JSON anyone with access may have written, so they are `unknown` until checked.
import type { TaskRecord } from '../../core/model/model';
import type { JobReturn, WireTask } from './protocol';

/** The task as a job carries it (protocol.ts WireTask): a plain copy of those fields only. */
export function wireTask(t: TaskRecord): WireTask {
  return { id: t.id, name: t.name, kind: t.kind, createdAt: t.createdAt, spec: t.spec };
}

/** The record a worker runs attempt `attempt` of: the job's task, Running, with nothing of the coordinator's bookkeeping. */
export function workerRecord(t: WireTask, attempt: number): TaskRecord {
  const { id, name, kind, createdAt, spec } = t;
  return { id, name, kind, status: 'running', priority: spec.priority ?? 0, attempts: attempt, createdAt, history: [], spec, dependsOn: [] };
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
