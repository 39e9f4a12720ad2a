// TaskLifecycleManager: holds the task records and moves them through the lifecycle whose rules are
// transition.ts's. Its records (HeldRecord, taskRecord.ts) keep the usual four-step history as times
// and write it out when read; they live in a RecordTable (recordTable.ts), found by the sequence
// number in their id. applyTo applies the three transitions every task makes in place, exactly as
// transition + applyPatch would (taskRecord.ts's header says why this path stays).
import { Emitter, type Event } from '../util/events';
import { IllegalTransitionError, NotFoundError, ValidationError } from '../model/errors';
import { ALL_STATUSES, isFinished, type PersistedSpec, type TaskError, type TaskRecord, type TaskResult, type TaskSpec, type TaskStatus } from '../model/model';
import type { Clock } from '../ports';
import type { CreateInit, TaskLifecycleManagerOptions, TransitionEvent, TransitionObserver } from './lifecycleOptions';
import { copyDeps, persistedSpec } from './persistedSpec';
import { HOME, NOT_HELD, RecordTable } from './recordTable';
import { StatusCounts } from './statusCounts';
import { toTaskError } from './taskErrors';
import { attemptReason, heldCopy, HeldRecord, type RecordClass } from './taskRecord';
import { applyPatch, canTransition, transition, type LifecycleEvent } from './transition';

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
    if (init.failFast === true) record.failFast = true;
    if (init.noCache === true) record.noCache = true;
    if (init.workflowName !== undefined) record.workflowName = init.workflowName;
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
    // Ready is a sub-state of Running: leaving Running (done, failed, restarting) ends it.
    if (record.ready !== undefined) record.ready = undefined;
    // A new attempt runs wherever the backend puts it: the last one's worker is no longer news.
    if (to === 'running' && record.worker !== undefined) record.worker = undefined;
    this.countsByStatus.add(from, -1);
    this.countsByStatus.add(to, 1);
    if (this.observer !== undefined) this.observe(record, from, to, reason);
    if (this.transitions.hasListeners) this.transitions.fire({ record, from, to, reason });
    return record;
  }

  /**
   * A Running task is Ready (again, on a later watch cycle): `ready` is set, the status stays
   * `running` and no history entry is written. Not a transition: no observer or listener is called;
   * the caller (the orchestrator's services) tells its own listeners. False, changing nothing, for a
   * record that is not Running.
   */
  markReady(held: Readonly<TaskRecord>, ready: NonNullable<TaskRecord['ready']>): boolean {
    const record = held as HeldRecord;
    if (record.status !== 'running') return false;
    record.ready = ready;
    return true;
  }

  /**
   * The backend knows the worker that runs a Running task's attempt: `worker` is set (kept when the
   * attempt ends). Not a transition: no observer or listener is called. False, changing nothing, for
   * a record that is not Running or already names that worker.
   */
  markWorker(held: Readonly<TaskRecord>, worker: string): boolean {
    const record = held as HeldRecord;
    if (record.status !== 'running' || record.worker === worker) return false;
    record.worker = worker;
    return true;
  }

  /** A service is about to start again (`restart: 'on-failure'`): counted before the retry transition that says so. */
  countRestart(held: Readonly<TaskRecord>): number {
    const record = held as HeldRecord;
    record.restarts = (record.restarts ?? 0) + 1;
    return record.restarts;
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
