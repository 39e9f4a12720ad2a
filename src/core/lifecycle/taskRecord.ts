// The record a TaskLifecycleManager holds for each task: a TaskRecord whose history is compact.
//
// Invariants. `record.history` is always the task's whole history, the same array once read, and
// JSON (snapshots, the archive, toJSON) always has it in full. While the history is the regular one
// every task makes (created, scheduled, running with "attempt 1", completed, no other reasons) the
// record keeps only what its other fields do not already say (when it was scheduled, and why), and
// `history`, a getter, writes the entries out the first time anyone reads it. Anything irregular (a
// retry, a cancel, a failure, a reason on a start or a completion) writes them out at once and
// appends from then on. regularSchedule/Start/Complete are called in that order, by
// TaskLifecycleManager.applyTo only, and produce what transition() + applyPatch would (a test in
// taskRecord.test.ts holds the two paths equal).
//
// Why it stays: bench row 1 (the full lifecycle, `node --expose-gc test/bench/run.mjs --only full`).
// A plain array of four entries per task cost it 10-20% of its throughput and took it below the
// 0.9x p-queue floor (docs/performance.md, issue 13); the entries are promoted to the old generation
// while a backlog waits.
//
// Symbol-keyed properties are invisible to JSON.stringify and structuredClone, so the table's
// bookkeeping never leaves the process; nor do the fields an owner's subclass adds (the orchestrator
// keeps its per-task state in its records: see TaskRun), because JSON goes through toJSON and
// `plainRecord` gives the plain copy structuredClone needs (it would drop the `history` getter).
import {
  boundText,
  MAX_MESSAGE_LENGTH,
  type HistoryEntry,
  type PersistedSpec,
  type TaskError,
  type TaskRecord,
  type TaskResult,
  type TaskStatus,
} from '../model/model';
import { HOME, NOT_HELD, type Homed } from './recordTable';

/** The history once written out; undefined while it is the regular one (see the file comment). */
const HISTORY: unique symbol = Symbol('orchestrator.history');
/** When a task with a regular history was scheduled, and why (`Resumed` after a pause, say). */
const SCHEDULED_AT: unique symbol = Symbol('orchestrator.scheduledAt');
const SCHEDULED_REASON: unique symbol = Symbol('orchestrator.scheduledReason');

/** The reason of the start of attempt n; shared strings for the usual few attempts. */
const ATTEMPT_REASONS: readonly string[] = Array.from({ length: 16 }, (_, i) => `attempt ${i}`);
export function attemptReason(n: number): string {
  return n < ATTEMPT_REASONS.length ? ATTEMPT_REASONS[n]! : `attempt ${n}`;
}

export class HeldRecord implements TaskRecord, Homed {
  id: string;
  name: string;
  kind: string;
  status: TaskStatus;
  priority: number;
  attempts: number;
  createdAt: number;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  result: TaskResult | undefined;
  error: TaskError | undefined;
  spec: PersistedSpec;
  dependsOn: string[];
  workflowId: string | undefined;
  failFast: true | undefined;
  ready: TaskRecord['ready'];
  restarts: number | undefined;
  noCache: true | undefined;
  workflowName: string | undefined;
  worker: string | undefined;
  [HOME]: number;
  [HISTORY]: HistoryEntry[] | undefined;
  [SCHEDULED_AT]: number | undefined;
  [SCHEDULED_REASON]: string | undefined;

  /** A record in `created`, or (with `history`) a restored one in any status. */
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
    this.id = id;
    this.name = name;
    this.kind = kind;
    this.status = 'created';
    this.priority = priority;
    this.attempts = 0;
    this.createdAt = createdAt;
    this.startedAt = undefined;
    this.finishedAt = undefined;
    this.result = undefined;
    this.error = undefined;
    this.spec = spec;
    this.dependsOn = dependsOn;
    this.workflowId = workflowId;
    this.failFast = undefined;
    this.ready = undefined;
    this.restarts = undefined;
    this.noCache = undefined;
    this.workflowName = undefined;
    this.worker = undefined;
    this[HOME] = NOT_HELD;
    this[HISTORY] = history;
    // undefined, not 0: a field that starts as a number is stored as a separate boxed double per
    // record; one that starts undefined holds a reference, here to the clock reading the record's
    // other times of that moment share (one object fewer per task for the garbage collector).
    this[SCHEDULED_AT] = undefined;
    this[SCHEDULED_REASON] = undefined;
  }

  /** Every transition, oldest first: the same array on every read, appended to as the task goes on. */
  get history(): HistoryEntry[] {
    return (this[HISTORY] ??= regularHistory(this));
  }

  /** Appends a transition (a record's history only ever grows). */
  appendHistory(status: TaskStatus, at: number, reason: string | undefined): void {
    this.history.push(reason === undefined ? { status, at } : { status, at, reason: boundText(reason) });
  }

  /**
   * The regular transitions, recorded without history entries: true when the record took the
   * transition that way, false when the caller must append the entry (the history is written out
   * already, or the transition is not the regular one). The status and times are the caller's.
   */
  regularSchedule(at: number, reason: string | undefined): boolean {
    if (this[HISTORY] !== undefined) return false;
    this[SCHEDULED_AT] = at;
    this[SCHEDULED_REASON] = reason === undefined ? undefined : boundText(reason);
    return true;
  }

  /** See regularSchedule: the start of the first attempt, with its usual reason. */
  regularStart(reason: string | undefined): boolean {
    return this[HISTORY] === undefined && reason === undefined && this.attempts === 0;
  }

  /** See regularSchedule: completion without a reason. */
  regularComplete(reason: string | undefined): boolean {
    return this[HISTORY] === undefined && reason === undefined;
  }

  /** The time of the latest transition, without writing the history out. */
  get lastTransitionAt(): number {
    const h = this[HISTORY];
    // Read for the event of a transition just applied (taskEvents), which appended to a written-out
    // history: it holds that entry at least.
    if (h !== undefined) return h[h.length - 1]!.at;
    return lastRegularAt(this);
  }

  /** What JSON.stringify writes: the plain TaskRecord, history in full (not kept written out). */
  toJSON(): TaskRecord {
    return {
      id: this.id,
      name: this.name,
      kind: this.kind,
      status: this.status,
      priority: this.priority,
      attempts: this.attempts,
      createdAt: this.createdAt,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      history: this[HISTORY] ?? regularHistory(this),
      result: this.result,
      error: this.error,
      spec: this.spec,
      dependsOn: this.dependsOn,
      workflowId: this.workflowId,
      failFast: this.failFast,
      ready: this.ready,
      restarts: this.restarts,
      noCache: this.noCache,
      workflowName: this.workflowName,
      worker: this.worker,
    };
  }
}

/** The regular history of a record in `status` (see the file comment). */
function regularHistory(r: HeldRecord): HistoryEntry[] {
  const h: HistoryEntry[] = [{ status: 'created', at: r.createdAt }];
  if (r.status === 'created') return h;
  const reason = r[SCHEDULED_REASON];
  h.push(reason === undefined ? { status: 'scheduled', at: r[SCHEDULED_AT] as number } : { status: 'scheduled', at: r[SCHEDULED_AT] as number, reason });
  if (r.status === 'scheduled') return h;
  h.push({ status: 'running', at: r.startedAt as number, reason: attemptReason(1) });
  if (r.status === 'running') return h;
  h.push({ status: r.status, at: r.finishedAt as number });
  return h;
}

function lastRegularAt(r: HeldRecord): number {
  switch (r.status) {
    case 'created':
      return r.createdAt;
    case 'scheduled':
      return r[SCHEDULED_AT] as number;
    case 'running':
      return r.startedAt as number;
    default:
      return r.finishedAt as number;
  }
}

/** HeldRecord or a subclass with the same constructor (an owner's records with its own fields). */
export type RecordClass<R extends HeldRecord = HeldRecord> = new (...args: ConstructorParameters<typeof HeldRecord>) => R;

/** A copy of a restored record, of the class `create` uses. */
export function heldCopy<R extends HeldRecord>(r: TaskRecord, cls: RecordClass<R>): R {
  // A record saved before reasons and messages were bounded may hold any size of either: it is
  // bounded here as every transition bounds what it adds (see lifecycle.ts's historyEntry).
  const history = r.history.map((h) => (typeof h.reason === 'string' && h.reason.length > MAX_MESSAGE_LENGTH ? { ...h, reason: boundText(h.reason) } : h));
  const out = new cls(r.id, r.name, r.kind, r.priority, r.createdAt, r.spec, Array.isArray(r.dependsOn) ? r.dependsOn.slice() : [], r.workflowId, history);
  out.status = r.status;
  out.attempts = r.attempts;
  out.startedAt = r.startedAt;
  out.finishedAt = r.finishedAt;
  if (r.failFast === true) out.failFast = true;
  if (r.noCache === true) out.noCache = true;
  if (typeof r.workflowName === 'string') out.workflowName = r.workflowName;
  out.result = r.result;
  out.error =
    r.error && typeof r.error.message === 'string' && r.error.message.length > MAX_MESSAGE_LENGTH
      ? { ...r.error, message: boundText(r.error.message) }
      : r.error;
  // Ready is a sub-state of Running: a record in any other status is never Ready.
  if (r.status === 'running' && r.ready !== undefined) out.ready = r.ready;
  if (r.restarts !== undefined) out.restarts = r.restarts;
  if (typeof r.worker === 'string') out.worker = r.worker;
  return out;
}

/**
 * A plain-object copy of a record (history included) that structuredClone and postMessage can copy
 * whole: they copy own data properties only, and a held record's history is a getter.
 */
export function plainRecord(record: Readonly<TaskRecord>): TaskRecord {
  return record instanceof HeldRecord ? record.toJSON() : (record as TaskRecord);
}

/** The fleet worker that runs or ran the record's latest attempt (its `worker`, or its result's), if a remote backend told. */
export function workerOf(record: Readonly<TaskRecord>): string | undefined {
  return record.worker ?? record.result?.worker;
}

/** The time of the record's latest transition. */
export function lastTransitionAt(record: Readonly<TaskRecord>): number {
  if (record instanceof HeldRecord) return record.lastTransitionAt;
  const h = record.history;
  return h.length ? h[h.length - 1]!.at : record.createdAt;
}
