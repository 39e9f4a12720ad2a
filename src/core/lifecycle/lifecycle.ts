// The task state machine: the one place that knows which transition is legal (DESIGN.md, "Task
// statuses"):
//
//     created ──schedule──> scheduled ──start──> running ──complete──> completed
//        │                     ^   │                │ │ └───fail──────> failed
//        │                     │   │                │ └─────retry─────> scheduled  (backoff, next attempt)
//        └──────cancel─────────┴───┴──> cancelled <─┘ cancel
//        created | scheduled ──abandon──> failed   (can never run: e.g. a function task after a restart)
//
// `transition` is pure (xstate's transition.ts is the model): it reads a record and an event and
// returns a patch, or throws IllegalTransitionError having changed nothing. It returns a patch rather
// than a new record so the hot path never copies a whole record; TaskLifecycleManager applies it.
// Every transition appends `{ status, at, reason? }` to the record's history. The manager's records
// (HeldRecord, taskRecord.ts) keep the usual four-step history as times and write it out when read;
// they live in a RecordTable (recordTable.ts), found by the sequence number in their id.
import { Emitter, type Event } from '../util/events';
import { ExecutionError, IllegalTransitionError, NotFoundError, OrchestratorError, ValidationError } from '../model/errors';
import {
  ALL_STATUSES,
  boundText,
  isFinished,
  MAX_MESSAGE_LENGTH,
  type HistoryEntry,
  type PersistedSpec,
  type TaskError,
  type TaskRecord,
  type TaskResult,
  type TaskSpec,
  type TaskStatus,
} from '../model/model';
import type { Clock } from '../ports';
import { HOME, NOT_HELD, RecordTable } from './recordTable';
import { attemptReason, heldCopy, HeldRecord, type RecordClass } from './taskRecord';

export { HeldRecord, lastTransitionAt, plainRecord, type RecordClass } from './taskRecord';

export type LifecycleEvent =
  | { readonly type: 'schedule'; readonly reason?: string }
  | { readonly type: 'start'; readonly reason?: string }
  | { readonly type: 'complete'; readonly result?: TaskResult; readonly reason?: string }
  | { readonly type: 'fail'; readonly error: TaskError; readonly result?: TaskResult; readonly reason?: string }
  /** A failed attempt with retries left goes back to Scheduled; `reason` says why and when it runs again. */
  | { readonly type: 'retry'; readonly reason: string; readonly error?: TaskError; readonly result?: TaskResult }
  | { readonly type: 'cancel'; readonly reason?: string }
  /**
   * A task that waited and can never run (after a restart a `function` task's code is gone) fails
   * without an attempt. Distinct from `fail`, which ends an attempt that ran.
   */
  | { readonly type: 'abandon'; readonly error: TaskError; readonly reason?: string };

export type LifecycleEventType = LifecycleEvent['type'];

/** Where each event leads. */
export const EVENT_TARGET: Readonly<Record<LifecycleEventType, TaskStatus>> = {
  schedule: 'scheduled',
  start: 'running',
  complete: 'completed',
  fail: 'failed',
  retry: 'scheduled',
  cancel: 'cancelled',
  abandon: 'failed',
};

/** The statuses each event may leave from. Everything not listed is illegal. */
const LEGAL_FROM: Readonly<Record<LifecycleEventType, readonly TaskStatus[]>> = {
  schedule: ['created'],
  start: ['scheduled'],
  complete: ['running'],
  fail: ['running'],
  retry: ['running'],
  cancel: ['created', 'scheduled', 'running'],
  abandon: ['created', 'scheduled'],
};

export function canTransition(from: TaskStatus, event: LifecycleEventType): boolean {
  return LEGAL_FROM[event].includes(from);
}

/** The events legal from a status, for messages and menus. */
export function allowedEvents(from: TaskStatus): LifecycleEventType[] {
  return (Object.keys(LEGAL_FROM) as LifecycleEventType[]).filter((e) => LEGAL_FROM[e].includes(from));
}

/**
 * What a transition changes. Absent fields are left as they are; `error: null` clears the error a
 * previous attempt left (a task that completes after a retry has no error).
 */
export interface TransitionPatch {
  readonly status: TaskStatus;
  readonly entry: HistoryEntry;
  readonly attempts?: number;
  /** The start of the latest attempt. */
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly result?: TaskResult;
  readonly error?: TaskError | null;
}

/** Pure: the patch `event` makes to `record` at time `at`, or IllegalTransitionError. */
export function transition(record: Readonly<TaskRecord>, event: LifecycleEvent, at: number): TransitionPatch {
  const from = record.status;
  const to = EVENT_TARGET[event.type];
  if (!LEGAL_FROM[event.type].includes(from)) {
    const allowed = allowedEvents(from);
    throw new IllegalTransitionError(
      record.id,
      from,
      to,
      allowed.length > 0
        ? `\`${event.type}\` is allowed only from ${LEGAL_FROM[event.type].map((s) => `\`${s}\``).join(', ')}; from \`${from}\` the allowed events are ${allowed.map((e) => `\`${e}\``).join(', ')}`
        : `\`${from}\` is final`,
    );
  }
  switch (event.type) {
    case 'schedule':
      return { status: to, entry: historyEntry(to, at, event.reason) };
    case 'start':
      return { status: to, entry: historyEntry(to, at, event.reason ?? attemptReason(record.attempts + 1)), attempts: record.attempts + 1, startedAt: at };
    case 'complete':
      return { status: to, entry: historyEntry(to, at, event.reason), finishedAt: at, result: event.result, error: null };
    case 'fail':
      return {
        status: to,
        entry: historyEntry(to, at, event.reason ?? event.error.message),
        finishedAt: at,
        result: event.result,
        error: boundedError(event.error),
      };
    case 'retry':
      return { status: to, entry: historyEntry(to, at, event.reason), result: event.result, error: event.error && boundedError(event.error) };
    case 'cancel':
      return { status: to, entry: historyEntry(to, at, event.reason ?? 'Cancelled'), finishedAt: at };
    case 'abandon':
      return { status: to, entry: historyEntry(to, at, event.reason ?? event.error.message), finishedAt: at, error: boundedError(event.error) };
  }
}

// Reasons and error messages come from callers and executors at any size (a 10 MB cancel reason):
// a record keeps at most MAX_MESSAGE_LENGTH characters of each, cut with a marker.
function historyEntry(status: TaskStatus, at: number, reason: string | undefined): HistoryEntry {
  return reason === undefined ? { status, at } : { status, at, reason: boundText(reason) };
}

function boundedError(error: TaskError): TaskError {
  return typeof error.message !== 'string' || error.message.length <= MAX_MESSAGE_LENGTH ? error : { ...error, message: boundText(error.message) };
}

/**
 * Applies a patch from `transition` in place. A cleared error becomes undefined rather than being
 * deleted: records have all their fields from the start (see TaskLifecycleManager.create), and JSON
 * leaves undefined fields out just the same. The history first: a held record writes its history
 * out from its status and times as they were before this transition (see taskRecord.ts).
 */
export function applyPatch(record: TaskRecord, patch: TransitionPatch): void {
  record.history.push(patch.entry);
  record.status = patch.status;
  if (patch.attempts !== undefined) record.attempts = patch.attempts;
  if (patch.startedAt !== undefined) record.startedAt = patch.startedAt;
  if (patch.finishedAt !== undefined) record.finishedAt = patch.finishedAt;
  if (patch.result !== undefined) record.result = patch.result;
  if (patch.error === null) {
    if (record.error !== undefined) record.error = undefined;
  } else if (patch.error !== undefined) record.error = patch.error;
}

/** A TaskError from whatever was thrown: its message, and a code when it has one. */
export function toTaskError(error: unknown): TaskError {
  if (error instanceof ExecutionError)
    return error.errorCode !== undefined ? { message: error.message, code: error.errorCode } : { message: error.message, code: error.code };
  if (error instanceof OrchestratorError) return { message: error.message, code: error.code };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? { message: error.message, code } : { message: error.message };
  }
  if (typeof error === 'object' && error !== null && typeof (error as TaskError).message === 'string') {
    const { message, code } = error as TaskError;
    return typeof code === 'string' ? { message, code } : { message };
  }
  return { message: String(error) };
}

// ---------------------------------------------------------------------------------------------

export interface TransitionEvent {
  /** The record after the change (the live object: read it, do not mutate it). */
  readonly record: Readonly<TaskRecord>;
  /** undefined when the record was just created. */
  readonly from: TaskStatus | undefined;
  readonly to: TaskStatus;
  readonly reason?: string;
}

export interface CreateInit {
  /** Default: a new id from the manager (see RecordTable.nextId). */
  id?: string;
  /**
   * The spec is a fresh copy without `run` (validateSpec's) that nobody else will change: the record
   * keeps it as its spec instead of copying it.
   */
  ownedSpec?: boolean;
  /** Resolved dependency ids (inside a workflow, keys resolved to ids). Default: the spec's dependsOn. */
  dependsOn?: readonly string[];
  workflowId?: string;
}

export interface TaskLifecycleManagerOptions {
  clock?: Pick<Clock, 'now'>;
  /**
   * The class of the records (created and restored): HeldRecord, or a subclass in which an owner
   * keeps its own per-task state, found from the record with no lookup (the orchestrator's TaskRun).
   */
  recordClass?: RecordClass;
  generateId?: () => string;
  /** Checks a spec given to createTask. Default: a plain object with a string name and kind. */
  validate?: (spec: unknown) => TaskSpec;
  onListenerError?: (err: unknown) => void;
  /**
   * Called on every transition (creation included) before the onDidTransition listeners, with the
   * event's fields as arguments: the owner's bookkeeping without an event object and an emitter
   * dispatch per transition (four per task). What it throws goes to onListenerError, as a listener's.
   */
  observer?: TransitionObserver;
}

export type TransitionObserver = (record: Readonly<TaskRecord>, from: TaskStatus | undefined, to: TaskStatus, reason: string | undefined) => void;

/**
 * The spec without `run`. A plain own-property copy: object rest (`{ run, ...rest }`) goes through a
 * generic runtime path in V8 that cost ~1.5 us per task, a tenth of a no-op task's whole lifecycle.
 */
function persistedSpec(spec: TaskSpec): PersistedSpec {
  const out: Record<string, unknown> = {};
  for (const k in spec) {
    if (k !== 'run' && Object.prototype.hasOwnProperty.call(spec, k)) out[k] = (spec as unknown as Record<string, unknown>)[k];
  }
  return out as unknown as PersistedSpec;
}

/**
 * Most tasks depend on nothing: they share one frozen empty list instead of two fresh arrays each
 * (the caller's and the copy), one of them kept for the record's life. Records are read-only to
 * everyone but this manager, which never changes a record's dependsOn.
 */
const NO_DEPS: string[] = Object.freeze([]) as unknown as string[];

function copyDeps(deps: readonly string[] | undefined): string[] {
  return deps === undefined || deps.length === 0 ? NO_DEPS : deps.slice();
}

/**
 * The number of records per status. A switch rather than `counts[status]++`: a keyed access with six
 * different keys goes megamorphic, and it runs twice per transition.
 */
class StatusCounts {
  private created = 0;
  private scheduled = 0;
  private running = 0;
  private completed = 0;
  private failed = 0;
  private cancelled = 0;

  add(status: TaskStatus, d: number): void {
    switch (status) {
      case 'created':
        this.created += d;
        break;
      case 'scheduled':
        this.scheduled += d;
        break;
      case 'running':
        this.running += d;
        break;
      case 'completed':
        this.completed += d;
        break;
      case 'failed':
        this.failed += d;
        break;
      case 'cancelled':
        this.cancelled += d;
        break;
    }
  }

  of(status: TaskStatus): number {
    switch (status) {
      case 'created':
        return this.created;
      case 'scheduled':
        return this.scheduled;
      case 'running':
        return this.running;
      case 'completed':
        return this.completed;
      case 'failed':
        return this.failed;
      case 'cancelled':
        return this.cancelled;
    }
  }

  toRecord(): Record<TaskStatus, number> {
    return {
      created: this.created,
      scheduled: this.scheduled,
      running: this.running,
      completed: this.completed,
      failed: this.failed,
      cancelled: this.cancelled,
    };
  }
}

function minimalSpecCheck(spec: unknown): TaskSpec {
  const s = spec as Partial<TaskSpec> | null;
  if (typeof s !== 'object' || s === null || typeof s.name !== 'string' || typeof s.kind !== 'string') {
    throw new ValidationError('Expected the task spec to be an object with a string `name` and `kind`');
  }
  return s as TaskSpec;
}

/**
 * Holds the task records (by id, in creation order) and moves them through the lifecycle. Nothing
 * else mutates a record. Listeners of onDidTransition run after the record is updated and the counts
 * are right, so they see a consistent state.
 *
 * Invariant: counts[s] is the number of held records whose status is s.
 */
export class TaskLifecycleManager {
  private readonly records = new RecordTable<HeldRecord>();
  private readonly recordClass: RecordClass;
  private readonly countsByStatus = new StatusCounts();
  private readonly transitions: Emitter<TransitionEvent>;
  private readonly deletions: Emitter<Readonly<TaskRecord>>;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly generateId: (() => string) | undefined;
  private readonly validate: (spec: unknown) => TaskSpec;
  private observer: TransitionObserver | undefined;
  private readonly onListenerError: ((err: unknown) => void) | undefined;

  readonly onDidTransition: Event<TransitionEvent>;
  /** A finished record was deleted. */
  readonly onDidDelete: Event<Readonly<TaskRecord>>;

  constructor(options: TaskLifecycleManagerOptions = {}) {
    this.clock = options.clock ?? { now: Date.now };
    this.generateId = options.generateId;
    this.recordClass = options.recordClass ?? HeldRecord;
    this.validate = options.validate ?? minimalSpecCheck;
    this.observer = options.observer;
    this.onListenerError = options.onListenerError;
    this.transitions = new Emitter<TransitionEvent>(options.onListenerError);
    this.deletions = new Emitter<Readonly<TaskRecord>>(options.onListenerError);
    this.onDidTransition = this.transitions.event;
    this.onDidDelete = this.deletions.event;
  }

  // --- the seed's interface --------------------------------------------------------------------

  /** Validates (see options.validate) and creates a record in `created`; resolves with its id. */
  async createTask(spec: unknown): Promise<string> {
    return this.create(this.validate(spec)).id;
  }

  /** Starts an attempt. A task still `created` is scheduled first (both transitions are recorded). */
  async startTask(id: string): Promise<void> {
    if (this.require(id).status === 'created') this.apply(id, { type: 'schedule' });
    this.apply(id, { type: 'start' });
  }

  async completeTask(id: string, result?: TaskResult): Promise<void> {
    this.apply(id, { type: 'complete', result });
  }

  async failTask(id: string, error: Error | TaskError): Promise<void> {
    this.apply(id, { type: 'fail', error: toTaskError(error) });
  }

  async cancelTask(id: string, reason?: string): Promise<void> {
    this.apply(id, { type: 'cancel', reason });
  }

  // --- the synchronous hot path ----------------------------------------------------------------

  /**
   * Creates a record in `created` from an already validated spec. `run` is not kept: it is not data.
   * Every field a record may ever have is present from the start (undefined until set, which JSON
   * leaves out): V8 then keeps them all inside one object of one shape, instead of moving the
   * record through a new hidden class and an out-of-object property store as fields arrive.
   */
  create(spec: TaskSpec, init: CreateInit = {}): Readonly<TaskRecord> {
    // An id of the table's own is new by construction: only another one needs the lookup.
    const ownId = init.id === undefined && this.generateId === undefined;
    const id = ownId ? this.records.nextId() : (init.id ?? (this.generateId as () => string)());
    if (!ownId && !this.records.isFree(id)) throw new ValidationError(`Expected a new task id, got \`${id}\`, which already exists`, 'id');
    const at = this.clock.now();
    const persisted = init.ownedSpec === true ? (spec as PersistedSpec) : persistedSpec(spec);
    const record = new this.recordClass(
      id,
      spec.name,
      spec.kind,
      spec.priority ?? 0,
      at,
      persisted,
      copyDeps(init.dependsOn ?? spec.dependsOn),
      init.workflowId,
    );
    this.records.add(record, ownId);
    this.countsByStatus.add('created', 1);
    if (this.observer !== undefined) this.observe(record, undefined, 'created', undefined);
    if (this.transitions.hasListeners) this.transitions.fire({ record, from: undefined, to: 'created' });
    return record;
  }

  /** Moves a record through the lifecycle; throws NotFoundError or IllegalTransitionError, changing nothing. */
  apply(id: string, event: LifecycleEvent): Readonly<TaskRecord> {
    return this.applyTo(this.require(id), event);
  }

  /**
   * `apply` for a record this manager handed out (create, get), without looking it up again by id:
   * the orchestrator's hot path holds the record already. Throws IllegalTransitionError, changing nothing.
   */
  applyTo(held: Readonly<TaskRecord>, event: LifecycleEvent, at: number = this.clock.now()): Readonly<TaskRecord> {
    const record = held as HeldRecord;
    const from = record.status;
    const type = event.type;
    let to: TaskStatus;
    let reason: string | undefined;
    // Whether the event is legal is LEGAL_FROM's alone (transition() reads the same table). The three
    // transitions every task makes are then applied in place exactly as transition + applyPatch
    // would, without a patch object, and while the history is the regular one without entries (see
    // taskRecord.ts); everything else (and every illegal event) takes that path. History first: it
    // is written out from the status and times before the transition.
    if (!canTransition(from, type) || (type !== 'start' && type !== 'schedule' && type !== 'complete')) {
      const patch = transition(record, event, at);
      applyPatch(record, patch);
      to = patch.status;
      reason = patch.entry.reason;
    } else if (type === 'start') {
      const attempts = record.attempts + 1;
      to = 'running';
      const given = event.reason;
      reason = given ?? attemptReason(attempts);
      if (!record.regularStart(given)) record.appendHistory(to, at, reason);
      record.status = to;
      record.attempts = attempts;
      record.startedAt = at;
    } else if (type === 'schedule') {
      to = 'scheduled';
      reason = event.reason;
      if (!record.regularSchedule(at, reason)) record.appendHistory(to, at, reason);
      record.status = to;
    } else {
      to = 'completed';
      reason = event.reason;
      if (!record.regularComplete(reason)) record.appendHistory(to, at, reason);
      record.status = to;
      record.finishedAt = at;
      if (event.result !== undefined) record.result = event.result;
      if (record.error !== undefined) record.error = undefined;
    }
    this.countsByStatus.add(from, -1);
    this.countsByStatus.add(to, 1);
    if (this.observer !== undefined) this.observe(record, from, to, reason);
    if (this.transitions.hasListeners) this.transitions.fire({ record, from, to, reason });
    return record;
  }

  get(id: string): Readonly<TaskRecord> | undefined {
    return this.records.get(id);
  }

  has(id: string): boolean {
    return this.records.get(id) !== undefined;
  }

  get size(): number {
    return this.records.size;
  }

  /** Records in creation order (restored ones first, in the order given). */
  values(): IterableIterator<Readonly<TaskRecord>> {
    return this.records.values();
  }

  /** The records now, in creation order, as a new array: cheaper than values() for a whole walk. */
  list(): Readonly<TaskRecord>[] {
    return this.records.list();
  }

  /** A copy of the number of records per status. O(1). */
  counts(): Record<TaskStatus, number> {
    return this.countsByStatus.toRecord();
  }

  countOf(status: TaskStatus): number {
    return this.countsByStatus.of(status);
  }

  /** Deletes a finished record; false if there is none. An unfinished record is never deleted. */
  delete(id: string): boolean {
    const record = this.records.get(id);
    if (record === undefined) return false;
    if (!isFinished(record.status)) throw new IllegalTransitionError(id, record.status, 'removed', 'only a completed, failed or cancelled task can be removed');
    this.records.delete(record);
    this.countsByStatus.add(record.status, -1);
    if (this.deletions.hasListeners) this.deletions.fire(record);
    return true;
  }

  /**
   * `delete` for a record this manager handed out: false, changing nothing, when it is no longer
   * held (deleted already) or not finished. One lookup instead of two on the eviction path.
   */
  deleteHeld(held: Readonly<TaskRecord>): boolean {
    const record = held as HeldRecord;
    if (record[HOME] === NOT_HELD || !isFinished(record.status)) return false;
    this.records.delete(record);
    this.countsByStatus.add(record.status, -1);
    if (this.deletions.hasListeners) this.deletions.fire(record);
    return true;
  }

  /**
   * Adds records as they were persisted, without transitions or events: recovery of interrupted tasks
   * is the caller's policy, applied afterwards through `apply`. All or nothing: a record with a bad
   * shape or an id already held throws ValidationError and nothing is added. Records are copied.
   */
  restore(records: readonly TaskRecord[]): void {
    const seen = new Set<string>();
    records.forEach((r, i) => {
      const ok =
        typeof r === 'object' &&
        r !== null &&
        typeof r.id === 'string' &&
        r.id.length > 0 &&
        ALL_STATUSES.includes(r.status) &&
        Array.isArray(r.history) &&
        typeof r.attempts === 'number';
      if (!ok)
        throw new ValidationError(
          `Expected \`records[${i}]\` to be a task record with an id, a known status (${ALL_STATUSES.map((s) => `\`${s}\``).join(', ')}), attempts and a history`,
          `records[${i}]`,
        );
      if (!this.records.isFree(r.id) || seen.has(r.id))
        throw new ValidationError(`Expected \`records[${i}].id\` to be unique, got \`${r.id}\` twice`, `records[${i}].id`);
      seen.add(r.id);
    });
    for (const r of records) {
      this.records.add(heldCopy(r, this.recordClass), false);
      this.countsByStatus.add(r.status, 1);
    }
  }

  dispose(): void {
    this.observer = undefined;
    this.transitions.dispose();
    this.deletions.dispose();
  }

  private observe(record: TaskRecord, from: TaskStatus | undefined, to: TaskStatus, reason: string | undefined): void {
    try {
      (this.observer as TransitionObserver)(record, from, to, reason);
    } catch (err) {
      if (this.onListenerError) this.onListenerError(err);
      else throw err;
    }
  }

  private require(id: string): TaskRecord {
    const record = this.records.get(id);
    if (record === undefined) throw new NotFoundError('task', id);
    return record;
  }
}
