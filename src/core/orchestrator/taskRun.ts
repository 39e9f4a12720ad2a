// The orchestrator's per-task record: a lifecycle record plus the runtime state the orchestrator keeps
// per task. The ready queue keeps its own bookkeeping (see priorityQueue.ts) and the engine its own
// attempt (see engine.ts); this object holds only a handle to the attempt.
import { HeldRecord } from '../lifecycle/taskRecord';
import { NotFoundError } from '../model/errors';
import type { AttemptHandle } from '../engine/engine';
import type { HistoryEntry, PersistedSpec, TaskRecord, TaskSpec } from '../model/model';
import type { QueueNode } from '../scheduler/priorityQueue';
import type { ResourceDemand } from '../scheduler/resourcePools';
import type { ServiceRun } from '../services/services';

/**
 * The orchestrator's records: a lifecycle record (see taskRecord.ts) plus what the orchestrator keeps
 * per task, never persisted (toJSON and plainRecord leave it out). Found from the record with no
 * lookup by id: the lifecycle creates and restores its records of this class (recordClass).
 * A task waiting in the ready queue is queued as this object, which the queue reads and never writes.
 */
export class TaskRun extends HeldRecord {
  /**
   * When the task last became ready (Scheduled and dispatchable): its queue age and wait-time metric.
   * Its creation time until then.
   */
  enqueuedAt: number;
  readonly resources: ResourceDemand | undefined;
  /** The spec's, copied while the spec is at hand: starting an attempt then reads only this object. */
  readonly timeoutMs: number | undefined;
  /** The handle of the task's latest push into the ready queue, which says whether it is still queued. */
  readyNode: QueueNode<TaskRun> | undefined = undefined;
  /** Backoff timer of a retry, while the task waits in Scheduled outside the ready queue. */
  retryTimer: unknown = undefined;
  /** Units held while running. */
  heldUnits: ResourceDemand | undefined = undefined;
  /** Set when a cancel of a running attempt was asked for: the attempt's outcome becomes Cancelled. */
  cancelReason: string | undefined = undefined;
  /** The running attempt, to cancel it; also a queued one (`queued`). */
  attemptHandle: AttemptHandle | undefined = undefined;
  /**
   * Its attempt waits in a remote backend's queue (RemoteExecution.startsLater): dispatched, its slot
   * and units held, the task still Scheduled until a worker takes it (Dispatcher.attemptStarted).
   */
  queued = false;
  /** Restored Scheduled: an earlier session may have queued its next attempt, so it is resumed, not started (RemoteExecution.resume). */
  resumable = false;
  /**
   * `run` of a function task: code, never persisted. Kept while the record is in memory, finished
   * too (for retryTask); restored records have none.
   */
  run: TaskSpec['run'] = undefined;
  /** A service's probe, timers, tail and restarts (services.ts); made on its first start or Ready. */
  service: ServiceRun | undefined = undefined;
  /** The spec makes it a service whose attempts services.ts watches (readyWhen, restart, stopWhen). */
  readonly isService: boolean;

  // The parameters spelt out: a rest-and-spread constructor allocates an array per record.
  constructor(
    id: string,
    name: string,
    kind: string,
    priority: number,
    createdAt: number,
    spec: PersistedSpec,
    dependsOn: string[],
    workflowId: string | undefined,
    history?: HistoryEntry[],
  ) {
    super(id, name, kind, priority, createdAt, spec, dependsOn, workflowId, history);
    this.enqueuedAt = createdAt;
    this.resources = this.spec.resources;
    this.timeoutMs = this.spec.timeoutMs;
    this.isService = spec.readyWhen !== undefined || spec.restart !== undefined || spec.stopWhen !== undefined;
  }
}

/** The orchestrator's own view of one of its records; NotFoundError for a record that is not one. */
export function runtimeOf(record: Readonly<TaskRecord>): TaskRun {
  if (record instanceof TaskRun) return record;
  throw new NotFoundError('task', record.id);
}
