// The orchestrator's per-task record: a lifecycle record, its ready-queue entry and its runtime state
// in one object.
import { HeldRecord } from '../lifecycle/lifecycle';
import type { AttemptHandle } from '../engine/engine';
import type { HistoryEntry, PersistedSpec, TaskRecord, TaskSpec } from '../model/model';
import type { ReadyEntry } from '../scheduler/readyQueue';
import type { ResourceDemand } from '../scheduler/resourcePools';

/**
 * The orchestrator's records: a lifecycle record (see taskRecord.ts) plus what the orchestrator keeps
 * per task, never persisted (toJSON and plainRecord leave it out). The record is also the task's entry
 * in the ready queue, pushed again on each retry: one object per task for all of it, found with no
 * lookup (a runtime object per task beside the record, and the Map that found it, were 15% of the
 * 100k no-op benchmark).
 */
export class TaskRun extends HeldRecord implements ReadyEntry {
  /**
   * When the task last became ready (Scheduled and dispatchable): its queue age and wait-time metric.
   * Starts undefined, not 0, for the reason given at HeldRecord's scheduled time.
   */
  enqueuedAt: number = undefined as unknown as number;
  readonly resources: ResourceDemand | undefined;
  /** The spec's, copied while the spec is at hand: starting an attempt then reads only this object. */
  readonly timeoutMs: number | undefined;
  // The ready queue's bookkeeping (see QueueEntry), declared so every record has one shape.
  queueKey: number | undefined = undefined;
  queueSeq: number | undefined = undefined;
  queueIndex: number | undefined = undefined;
  queueOwner: object | undefined = undefined;
  queueRun: object | undefined = undefined;
  /** Backoff timer of a retry, while the task waits in Scheduled outside the ready queue. */
  retryTimer: unknown = undefined;
  /** Units held while running. */
  heldUnits: ResourceDemand | undefined = undefined;
  /** Set when a cancel of a running attempt was asked for: the attempt's outcome becomes Cancelled. */
  cancelReason: string | undefined = undefined;
  /** The running attempt, to cancel it. */
  attemptHandle: AttemptHandle | undefined = undefined;
  /**
   * `run` of a function task: code, never persisted. Kept while the record is in memory, finished
   * too (for retryTask); restored records have none.
   */
  run: TaskSpec['run'] = undefined;

  // The parameters spelt out: a rest-and-spread constructor allocates an array per record.
  constructor(id: string, name: string, kind: string, priority: number, createdAt: number, spec: PersistedSpec, dependsOn: string[], workflowId: string | undefined, history?: HistoryEntry[]) {
    super(id, name, kind, priority, createdAt, spec, dependsOn, workflowId, history);
    this.resources = this.spec.resources;
    this.timeoutMs = this.spec.timeoutMs;
  }
}

/** The orchestrator's own view of one of its records. */
export function runtimeOf(record: Readonly<TaskRecord>): TaskRun {
  return record as TaskRun;
}
