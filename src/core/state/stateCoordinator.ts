// StateCoordinator (the seed's name): one keyed view of the system's state, and its persistence.
//
// State ids:
//   `task:<id>`   a task's record. Reading gives the record; updating asks for a transition, which
//                 goes through the lifecycle's check (an illegal one throws and changes nothing).
//   `system`      the system status (counts, pools, paused). Read-only: it is derived.
//   anything else application state (e.g. `ui.filter`): any JSON value, persisted with the tasks.
//
// Persistence: the whole state lives in the `Store` (a vscode.Memento subset) under one key as a
// versioned snapshot. VS Code copies an extension's whole state on every write and warns above
// 512 KiB, so:
// - writes are coalesced: at most one in flight, and at most `maxWritesPerSecond` of them however
//   many tasks change; `synchronizeState()` and `dispose()` write at once;
// - the snapshot holds every unfinished task, and finished ones newest first within `byteBudget`;
//   finished records that leave it (or that the orchestrator evicts from memory) go to the
//   `HistoryArchive` once, never silently dropped;
// - every unfinished task is in the snapshot, but a failed attempt's output tail (64 KiB, up to
//   384 KiB of JSON when it is control characters) is cut to `SNAPSHOT_OUTPUT_CHARS` there; a
//   finished record larger than an eighth of the budget is archived whole and kept trimmed, so one
//   oversized record cannot push the others out;
// - a write that rejects, or does not settle within `writeTimeoutMs`, is reported and retried with
//   backoff; the engine never waits for the store. Spacing is measured on the monotonic clock: a
//   wall clock stepping back must not stop writes;
// - `synchronizeState()` resolves only once the store has the state, else rejects with
//   StoreWriteError; `dispose()` waits at most `disposeTimeoutMs` in all and reports what it could
//   not write;
// - writes can be held (`holdWrites`): when the saved state could not be read or kept aside, no
//   write may replace it, and every write asked for is refused and reported instead.
import { describeValue, errorMessage, fieldError, OrchestratorError, StoreWriteError, ValidationError } from '../model/errors';
import { LIMITS } from '../model/limits';
import { Emitter, toDisposable, type Disposable } from '../util/events';
import { ALL_STATUSES, isFinished, type TaskRecord, type TaskStatus } from '../model/model';
import { plainRecord } from '../lifecycle/taskRecord';
import type { OrchestratorWarning } from '../model/warnings';
import type { Clock, HistoryArchive, Store } from '../ports';
import { arrayAt, finiteNumberAt, itemPath, nonEmptyStringAt, objectAt, oneOfAt, optionalBooleanAt, optionalFiniteNumberAt, optionalObjectAt, stringArrayAt, uniqueAt, versionAt } from '../model/snapshotChecks';

export const STATE_KEY = 'orchestrator.state';
export const SNAPSHOT_VERSION = 1;

export interface Snapshot {
  version: typeof SNAPSHOT_VERSION;
  savedAt: number;
  /** Unfinished tasks first (creation order), then finished ones newest first. */
  tasks: TaskRecord[];
  /** The message queue's own snapshot (unacknowledged messages of durable subscriptions). */
  queue?: unknown;
  /** Application state set through updateState. */
  app?: Record<string, unknown>;
  /** The orchestrator was paused: it restarts paused, as the user left it. */
  paused?: boolean;
}

/** What the coordinator reads from and asks of the orchestrator. */
export interface StateSource {
  /** Every record in memory: unfinished and retained finished ones. */
  records(): Iterable<TaskRecord>;
  getTask(id: string): TaskRecord | undefined;
  queueSnapshot(): unknown;
  systemStatus(): unknown;
  paused(): boolean;
  /** Performs a requested task transition (checked by the lifecycle first). */
  requestTransition(id: string, status: TaskStatus, reason: string | undefined): Promise<void>;
}

export interface StateCoordinatorOptions {
  store: Store;
  clock: Clock;
  archive?: HistoryArchive;
  /** Upper bound on store writes per second. Default 4. */
  maxWritesPerSecond?: number;
  /** Bytes of finished records kept in the snapshot. Default 256 KiB. */
  byteBudget?: number;
  /** A write not settled after this long counts as failed. Default 10 s. */
  writeTimeoutMs?: number;
  /** The longest dispose() waits for the store and the archive, in all. Default 2 s. */
  disposeTimeoutMs?: number;
  onWarn?: (warning: OrchestratorWarning) => void;
}

export type StateCallback = (state: unknown, stateId: string) => void;

/** The result of reading the store at start: a valid snapshot, nothing, or a warning about a bad one. */
export interface LoadResult {
  snapshot?: Snapshot;
  warning?: OrchestratorWarning;
  /**
   * Set when the saved state could be neither read nor kept aside: why no write may replace it.
   * The caller passes it to holdWrites.
   */
  holdWrites?: string;
}

/** How long start waits for the store (a backup write), and dispose for its last write, by default. */
export const START_TIMEOUT_MS = 2000;
export const DISPOSE_TIMEOUT_MS = 2000;
/** Characters of a record's output tail the snapshot keeps when it trims one. */
export const SNAPSHOT_OUTPUT_CHARS = 2048;

/** What one write came to: written, or the reason it was not. */
type WriteOutcome = { written: true } | { written: false; error: unknown };
const WRITTEN: WriteOutcome = Object.freeze({ written: true });

const TASK_PREFIX = 'task:';
const APP_KEY = /^[A-Za-z][\w.:-]{0,199}$/;
const MAX_APP_BYTES = LIMITS.appStateBytes;

export class StateCoordinator implements Disposable {
  private source: StateSource | undefined;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly archive: HistoryArchive | undefined;
  private readonly minIntervalMs: number;
  private readonly byteBudget: number;
  private readonly writeTimeoutMs: number;
  private readonly disposeTimeoutMs: number;
  /** Finished records larger than this (JSON characters) are archived whole and kept trimmed. */
  private readonly maxRecordBytes: number;
  private readonly onWarn: (w: OrchestratorWarning) => void;

  private readonly app = new Map<string, unknown>();
  private readonly listeners = new Map<string, Set<StateCallback>>();
  /** Serialized sizes of finished records: they no longer change, so each is measured once. */
  private readonly sizes = new WeakMap<TaskRecord, number>();
  /** What the snapshot holds for an oversized finished record: a trimmed copy, or null for nothing. */
  private readonly trimmed = new WeakMap<TaskRecord, TaskRecord | null>();
  /** Finished records already handed to the archive. */
  private readonly archived = new WeakSet<TaskRecord>();
  private archiveQueue: TaskRecord[] = [];
  private archiving: Promise<void> | undefined;

  private dirty = false;
  private timer: unknown = undefined;
  private writing: Promise<WriteOutcome> | undefined;
  /** On the monotonic clock. */
  private lastWriteAt = -Infinity;
  private failures = 0;
  /** Why writes are held (see holdWrites); undefined while they are not. */
  private heldReason: string | undefined;
  /** dispose() was called: nothing more may change or be written but dispose's own last write. */
  private closing = false;
  private disposed = false;
  private warnedNoArchive = false;

  /** Counters for the benchmark and the dashboard. */
  readonly stats = { writes: 0, failedWrites: 0, lastBytes: 0, archived: 0 };

  private readonly didWrite = new Emitter<Snapshot>();
  /** Fired after each successful write, with what was written. */
  readonly onDidWrite = this.didWrite.event;

  constructor(options: StateCoordinatorOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.archive = options.archive;
    const perSecond = options.maxWritesPerSecond ?? 4;
    if (!(perSecond > 0 && perSecond <= 1000)) {
      throw fieldError('maxWritesPerSecond', 'a number in (0, 1000]', perSecond);
    }
    this.minIntervalMs = 1000 / perSecond;
    this.byteBudget = options.byteBudget ?? 256 * 1024;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 10_000;
    this.disposeTimeoutMs = options.disposeTimeoutMs ?? DISPOSE_TIMEOUT_MS;
    this.maxRecordBytes = Math.floor(this.byteBudget / 8);
    this.onWarn = options.onWarn ?? (() => undefined);
  }

  /** Connects the coordinator to what it persists. Called once by the orchestrator. */
  attach(source: StateSource, app?: Record<string, unknown>): void {
    this.source = source;
    if (app) for (const [k, v] of Object.entries(app)) this.app.set(k, v);
  }

  /**
   * From now on nothing is written to the store: the state there could not be read (or kept aside)
   * and must not be replaced by one that never saw it. synchronizeState() rejects with `reason`.
   */
  holdWrites(reason: string): void {
    this.heldReason = reason;
    this.clearTimer();
  }

  /** Why writes are held, or undefined. */
  get writesHeld(): string | undefined {
    return this.heldReason;
  }

  // ------------------------------------------------------------------ the seed's interface

  /**
   * Changes a piece of state. `task:<id>` takes `{ status, reason? }` and performs that transition if
   * the lifecycle allows it (only `cancelled` can be asked for from outside: the engine alone starts,
   * completes and fails tasks); `system` is derived and read-only; other ids hold any JSON value.
   */
  async updateState(stateId: string, state: unknown): Promise<void> {
    this.assertOpen();
    const source = this.requireSource();
    if (typeof stateId !== 'string' || stateId === '') {
      throw fieldError('stateId', 'a non-empty string', stateId);
    }
    if (stateId.startsWith(TASK_PREFIX)) {
      const id = stateId.slice(TASK_PREFIX.length);
      if (typeof state !== 'object' || state === null || typeof (state as { status?: unknown }).status !== 'string') {
        throw new ValidationError(`Expected the state of \`${stateId}\` to be an object like \`{ status: 'cancelled', reason?: string }\`, got ${describeValue(state)}`, 'state');
      }
      const { status, reason } = state as { status: string; reason?: unknown };
      if (!(ALL_STATUSES as readonly string[]).includes(status)) {
        throw new ValidationError(`Expected \`status\` to be one of ${ALL_STATUSES.map((s) => `\`${s}\``).join(', ')}, got ${describeValue(status)}`, 'status');
      }
      if (reason !== undefined && typeof reason !== 'string') {
        throw fieldError('reason', 'a string', reason);
      }
      await source.requestTransition(id, status as TaskStatus, reason);
      return;
    }
    if (stateId === 'system') {
      throw new ValidationError('The `system` state is derived from the tasks and pools and cannot be set; change tasks or settings instead', 'stateId');
    }
    if (!APP_KEY.test(stateId)) {
      throw fieldError('stateId', '`task:<id>`, `system`, or a name of a letter then up to 199 letters, digits, `_`, `.`, `:` or `-`', stateId);
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(state);
    } catch (err) {
      throw new ValidationError(`Expected the state of \`${stateId}\` to be JSON: ${(err as Error).message}`, 'state');
    }
    if (json !== undefined && json.length > MAX_APP_BYTES) {
      throw new ValidationError(`Expected the state of \`${stateId}\` to be at most ${MAX_APP_BYTES} bytes of JSON, got ${json.length}`, 'state');
    }
    if (state === undefined) this.app.delete(stateId);
    else this.app.set(stateId, JSON.parse(json as string));
    this.markDirty();
    this.notify(stateId, state);
  }

  /** The current value of a piece of state (see updateState for the ids); undefined when unknown. */
  async getState(stateId: string): Promise<unknown> {
    return this.peek(stateId);
  }

  /** Synchronous getState, for hot paths and the UI. */
  peek(stateId: string): unknown {
    const source = this.requireSource();
    if (stateId.startsWith(TASK_PREFIX)) return source.getTask(stateId.slice(TASK_PREFIX.length));
    if (stateId === 'system') return source.systemStatus();
    return this.app.get(stateId);
  }

  /**
   * Calls `callback` with the new value whenever the state changes. `task:*` follows every task;
   * `*` follows everything. Returns a Disposable (the seed's returned nothing; a subscription that
   * cannot be ended leaks).
   */
  subscribeToState(stateId: string, callback: StateCallback): Disposable {
    if (typeof callback !== 'function') {
      throw fieldError('callback', 'a function', callback);
    }
    let set = this.listeners.get(stateId);
    if (!set) this.listeners.set(stateId, (set = new Set()));
    set.add(callback);
    return toDisposable(() => {
      set.delete(callback);
      if (set.size === 0 && this.listeners.get(stateId) === set) this.listeners.delete(stateId);
    });
  }

  /**
   * Writes the current state to the store now and resolves when it is there: the point from which
   * everything accepted so far survives a restart. Rejects with StoreWriteError (its `storeError`
   * the store's own) when the store refused, did not answer within `writeTimeoutMs`, or writes are
   * held; the write is then retried in the background as any failed write is.
   */
  async synchronizeState(): Promise<void> {
    this.assertOpen();
    if (this.heldReason !== undefined) throw new StoreWriteError(`The orchestrator state was not saved: ${this.heldReason}`);
    // A write in flight may hold an older state: wait for it (and any its end scheduled), then
    // write what is current. No other code runs between the loop's end and writeNow's start.
    while (this.writing) await this.writing;
    this.clearTimer();
    this.dirty = true;
    const outcome = await this.writeNow();
    if (!outcome.written) {
      throw new StoreWriteError(`The orchestrator state was not saved: ${errorMessage(outcome.error)}`, outcome.error);
    }
    await this.flushArchive();
  }

  // ------------------------------------------------------------------ called by the orchestrator

  /** A task changed. O(1) when nobody listens; the write is scheduled, not done. */
  taskChanged(record: TaskRecord): void {
    this.markDirty();
    if (this.listeners.size === 0) return;
    this.notify(TASK_PREFIX + record.id, record);
    this.notifyAll(this.listeners.get('task:*'), record, TASK_PREFIX + record.id);
  }

  /** Finished records the orchestrator no longer keeps in memory: archive those not archived yet. */
  evicted(records: readonly TaskRecord[]): void {
    // An evicted record has left memory for good, so no later snapshot can offer it again: it needs
    // no mark in `archived`, and a finished task costs no WeakSet insert.
    for (const r of records) if (!this.archived.has(r)) this.queueArchive(r);
    this.markDirty();
  }

  /** `evicted` for one record, without an array: the orchestrator evicts one per finished task. */
  evictedOne(record: TaskRecord): void {
    // Without an archive there is nothing to queue: skip the WeakSet lookup.
    if (this.archive === undefined) this.queueArchive(record);
    else if (!this.archived.has(record)) this.queueArchive(record);
    this.markDirty();
  }

  markDirty(): void {
    this.dirty = true;
    if (this.closing || this.heldReason !== undefined || this.timer !== undefined || this.writing) return;
    const interval = this.minIntervalMs * 2 ** Math.min(this.failures, 6);
    // Never longer than the interval itself: a clock without `monotonic` (whose now() stands in)
    // may still step back, and a step back must delay a write by one interval at most.
    const wait = Math.min(interval, Math.max(0, this.lastWriteAt + interval - this.monotonic()));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.writeNow();
    }, wait);
  }

  /**
   * Writes what changed and flushes archive appends, waiting `disposeTimeoutMs` at most in all (a
   * host shutting down has little time, and a store that does not answer must not hold it). Resolves
   * either way; what could not be written is reported on onWarn. Later changes are refused.
   */
  async dispose(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.clearTimer();
    const deadline = this.monotonic() + this.disposeTimeoutMs;
    const left = () => Math.max(0, deadline - this.monotonic());
    let lost: string | undefined;
    // A write in flight holds an older state: it must settle before the last one starts, or the
    // older could land last. Waiting for it is bounded by the same deadline.
    if (this.writing && (await boundedWait(this.clock, this.writing, left())) === undefined) {
      lost = `the store did not answer a write within ${this.disposeTimeoutMs} ms`;
    } else if (this.dirty && this.heldReason !== undefined) {
      lost = this.heldReason;
    } else if (this.dirty) {
      // writeNow reports a refusal itself (STORE_WRITE_FAILED, "final state was not saved").
      await this.writeNow(Math.max(1, left()));
    }
    if (lost !== undefined) this.onWarn({ code: 'STORE_WRITE_FAILED', message: `The orchestrator's final state was not saved: ${lost}` });
    if ((await boundedWait(this.clock, this.flushArchive(), left())) === undefined) {
      this.onWarn({ code: 'ARCHIVE_FAILED', message: `Finished tasks may not have been archived: the archive did not answer within ${this.disposeTimeoutMs} ms` });
    }
    this.disposed = true;
    this.listeners.clear();
    this.didWrite.dispose();
  }

  // ------------------------------------------------------------------ snapshot

  /** Builds the snapshot as it would be written now. */
  buildSnapshot(): Snapshot {
    const source = this.requireSource();
    const unfinished: TaskRecord[] = [];
    const finished: TaskRecord[] = [];
    for (const r of source.records()) (isFinished(r.status) ? finished : unfinished).push(r);
    // Newest finished first: by finish time, descending; ties (same ms) latest-created first.
    finished.reverse();
    finished.sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0));
    const tasks = unfinished;
    // An unfinished task's output tail is a failed attempt's (waiting to retry): bounded here, not
    // in memory, where the next attempt replaces it. Most have none, and cost one check.
    for (let i = 0; i < tasks.length; i++) {
      const output = tasks[i].result?.output;
      if (typeof output === 'string' && output.length > SNAPSHOT_OUTPUT_CHARS) tasks[i] = withTrimmedOutput(tasks[i]);
    }
    let budget = this.byteBudget;
    for (const r of finished) {
      // Once the budget is spent the rest are only archived: their size is never needed, so it is
      // never measured (a JSON.stringify each).
      let size = budget > 0 ? this.sizes.get(r) : undefined;
      if (budget > 0 && size === undefined) {
        size = JSON.stringify(r).length;
        this.sizes.set(r, size);
      }
      if (size !== undefined && size > this.maxRecordBytes) {
        // Oversized (a long output tail, say): archived whole, and the snapshot keeps a trimmed copy
        // if that is small enough, without spending the budget of every older record on it.
        this.toArchive(r);
        const copy = this.trimmedCopy(r);
        if (copy !== null && (this.sizes.get(copy) as number) <= budget) {
          budget -= this.sizes.get(copy) as number;
          tasks.push(copy);
        }
      } else if (size !== undefined && size <= budget) {
        budget -= size;
        tasks.push(r);
      } else {
        // Once outside the budget a record stays outside: newer records only push it further out.
        budget = 0;
        this.toArchive(r);
      }
    }
    const snap: Snapshot = { version: SNAPSHOT_VERSION, savedAt: this.clock.now(), tasks };
    const queue = source.queueSnapshot();
    if (queue !== undefined) snap.queue = queue;
    if (this.app.size) snap.app = Object.fromEntries(this.app);
    if (source.paused()) snap.paused = true;
    return snap;
  }

  /**
   * Starts a write of the current state unless one is in flight (then that one's outcome: a caller
   * that needs a write of its own waits for it first). Never rejects.
   */
  private writeNow(timeoutMs = this.writeTimeoutMs): Promise<WriteOutcome> {
    if (this.writing) return this.writing;
    if (!this.dirty) return Promise.resolve(WRITTEN);
    // Disposed with changes unwritten: dispose's last write failed or never answered, and nothing may
    // be written after it. A synchronizeState() still waiting must hear that, not "written".
    if (this.disposed) return Promise.resolve({ written: false, error: new Error('the orchestrator was disposed before its state could be written') });
    if (this.heldReason !== undefined) return Promise.resolve({ written: false, error: new Error(this.heldReason) });
    this.dirty = false;
    this.lastWriteAt = this.monotonic();
    const snapshot = this.buildSnapshot();
    const attempt = writeWithTimeout(this.clock, this.store, STATE_KEY, snapshot, timeoutMs)
      .then(
        (): WriteOutcome => {
          this.failures = 0;
          this.stats.writes++;
          this.didWrite.fire(snapshot);
          return WRITTEN;
        },
        (err: unknown): WriteOutcome => {
          this.failures++;
          this.stats.failedWrites++;
          this.dirty = true;
          const message = this.closing
            ? `The orchestrator's final state was not saved: ${errorMessage(err)}`
            : `Saving the orchestrator state failed (attempt ${this.failures}), retrying: ${errorMessage(err)}`;
          this.onWarn({ code: 'STORE_WRITE_FAILED', message });
          return { written: false, error: err };
        },
      )
      .then((outcome) => {
        this.writing = undefined;
        if (this.archiveQueue.length) void this.flushArchive();
        if (this.dirty) this.markDirty();
        return outcome;
      });
    this.writing = attempt;
    return attempt;
  }

  /** The copy of an oversized finished record the snapshot may hold, measured; null when none fits. */
  private trimmedCopy(record: TaskRecord): TaskRecord | null {
    let copy = this.trimmed.get(record);
    if (copy !== undefined) return copy;
    const output = record.result?.output;
    copy = typeof output === 'string' && output.length > SNAPSHOT_OUTPUT_CHARS ? withTrimmedOutput(record) : null;
    if (copy !== null) {
      const size = JSON.stringify(copy).length;
      if (size > this.maxRecordBytes) copy = null;
      else this.sizes.set(copy, size);
    }
    this.trimmed.set(record, copy);
    return copy;
  }

  private monotonic(): number {
    return this.clock.monotonic ? this.clock.monotonic() : this.clock.now();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new OrchestratorError('DISPOSED', 'The state coordinator is disposed: nothing more is kept or written');
  }

  private toArchive(record: TaskRecord): void {
    if (this.archived.has(record)) return;
    this.archived.add(record);
    this.queueArchive(record);
  }

  private queueArchive(record: TaskRecord): void {
    if (!this.archive) {
      if (!this.warnedNoArchive) {
        this.warnedNoArchive = true;
        this.onWarn({ code: 'ARCHIVE_FAILED', message: 'Finished tasks beyond the history budget are not kept after a restart: no history archive is configured' });
      }
      return;
    }
    this.archiveQueue.push(record);
  }

  private flushArchive(): Promise<void> {
    if (this.archiving) return this.archiving.then(() => (this.archiveQueue.length ? this.flushArchive() : undefined));
    if (!this.archive || this.archiveQueue.length === 0) return Promise.resolve();
    const batch = this.archiveQueue;
    this.archiveQueue = [];
    const archive = this.archive;
    this.archiving = Promise.resolve()
      .then(() => archive.append(batch))
      .then(
        () => {
          this.stats.archived += batch.length;
        },
        (err: unknown) => {
          // Put them back in front: they are retried with the next flush, in order.
          this.archiveQueue = batch.concat(this.archiveQueue);
          this.onWarn({ code: 'ARCHIVE_FAILED', message: `Archiving ${batch.length} finished tasks failed, will retry: ${errorMessage(err)}` });
        },
      )
      .finally(() => {
        this.archiving = undefined;
      });
    return this.archiving;
  }

  private notify(stateId: string, value: unknown): void {
    this.notifyAll(this.listeners.get(stateId), value, stateId);
    this.notifyAll(this.listeners.get('*'), value, stateId);
  }

  private notifyAll(set: Set<StateCallback> | undefined, value: unknown, stateId: string): void {
    if (!set) return;
    for (const cb of set) {
      try {
        cb(value, stateId);
      } catch (err) {
        this.onWarn({ code: 'LISTENER_FAILED', message: `A state subscriber of \`${stateId}\` threw: ${errorMessage(err)}` });
      }
    }
  }

  private requireSource(): StateSource {
    if (!this.source) throw new Error('StateCoordinator used before the orchestrator attached it');
    return this.source;
  }
}

// ------------------------------------------------------------------ loading and validation

/**
 * Reads the snapshot from the store. A snapshot that does not validate (garbage, a version this code
 * does not know, truncated, missing fields) is kept under a backup key and reported, and the caller
 * starts clean: a bad snapshot must never stop the extension from starting.
 */
export async function loadSnapshot(store: Store, clock: Clock, timeoutMs = START_TIMEOUT_MS): Promise<LoadResult> {
  let raw: unknown;
  // A read that throws may be passing (a busy file, a host still starting): it is tried again.
  // If it still fails the saved state is unknown, not absent. Starting clean and writing would
  // replace it; refusing to start would take the whole extension down for what may clear on the
  // next reload. So the orchestrator starts, usable, with writes held: the saved state is left as it
  // is, the warning says nothing new will be saved, and synchronizeState() rejects, so no caller
  // takes a task for durable.
  for (let attempt = 1; ; attempt++) {
    try {
      raw = store.get<unknown>(STATE_KEY);
      break;
    } catch (err) {
      if (attempt < READ_ATTEMPTS) {
        await sleep(clock, READ_RETRY_MS * attempt);
        continue;
      }
      const why = `the saved orchestrator state could not be read (${READ_ATTEMPTS} attempts; ${errorMessage(err)})`;
      return {
        holdWrites: why,
        warning: { code: 'CORRUPT_STATE', message: `The saved orchestrator state could not be read (${errorMessage(err)}, ${READ_ATTEMPTS} attempts); it was left as it is, the orchestrator started empty, and changes are not saved until a restart reads it` },
      };
    }
  }
  if (raw === undefined || raw === null) return {};
  try {
    return { snapshot: validateSnapshot(migrate(raw)) };
  } catch (err) {
    const backupKey = `${STATE_KEY}.backup.${clock.now()}`;
    const kept = await keepAside(store, clock, backupKey, raw, timeoutMs);
    if (kept !== undefined) {
      // Not kept aside: the next write would replace the only copy, so writes are held (as above).
      return {
        holdWrites: `the saved orchestrator state is not valid and could not be backed up (${kept})`,
        warning: {
          code: 'CORRUPT_STATE',
          message: `The saved orchestrator state is not valid (${errorMessage(err)}) and could not be backed up (${kept}); it was left as it is, the orchestrator started clean, and changes are not saved until a restart`,
        },
      };
    }
    // The backup holds it: removing the original is tidiness, and the first write replaces it anyway.
    await writeWithTimeout(clock, store, STATE_KEY, undefined, timeoutMs).catch(() => undefined);
    return {
      warning: { code: 'CORRUPT_STATE', message: `The saved orchestrator state is not valid (${errorMessage(err)}); it was kept under \`${backupKey}\` and the orchestrator started clean` },
    };
  }
}

const READ_ATTEMPTS = 3;
const READ_RETRY_MS = 50;

/** Writes `value` under `key`, waiting `timeoutMs` at most: undefined when written, else why not. */
export async function keepAside(store: Store, clock: Clock, key: string, value: unknown, timeoutMs = START_TIMEOUT_MS): Promise<string | undefined> {
  try {
    await writeWithTimeout(clock, store, key, value, timeoutMs);
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/**
 * Brings an older snapshot to the current version. Version 1 is the first; each later version adds
 * one step here (`if (v === 1) raw = from1to2(raw)`), so any saved state can still be read.
 */
export function migrate(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const version = (raw as { version?: unknown }).version;
  if (version === SNAPSHOT_VERSION) return raw;
  throw new ValidationError(`Expected snapshot \`version\` to be ${SNAPSHOT_VERSION} (or an older version this code migrates), got ${describeValue(version)}`, 'version');
}

/**
 * Checks an untrusted saved state completely and returns it typed; throws a ValidationError naming
 * the field by its path (`tasks[3].status`). The records' own checks (specs, demands) come later,
 * at restore, one record at a time.
 */
export function validateSnapshot(raw: unknown): Snapshot {
  const s = objectAt(raw, 'snapshot');
  versionAt(s.version, 'version', SNAPSHOT_VERSION);
  finiteNumberAt(s.savedAt, 'savedAt');
  const ids = new Set<string>();
  arrayAt(s.tasks, 'tasks').forEach((t, i) => checkTaskRecord(t, itemPath('tasks', i), ids));
  optionalBooleanAt(s.paused, 'paused');
  optionalObjectAt(s.app, 'app');
  return s as unknown as Snapshot;
}

/** The fields of a saved record that restoring relies on; `ids` refuses a second record with one id. */
function checkTaskRecord(t: unknown, at: string, ids: Set<string>): void {
  if (typeof t !== 'object' || t === null) throw fieldError(at, 'a task record', t);
  const r = t as Record<string, unknown>;
  for (const f of ['id', 'name', 'kind'] as const) nonEmptyStringAt(r[f], `${at}.${f}`);
  uniqueAt(ids, r.id as string, `${at}.id`);
  oneOfAt(r.status, `${at}.status`, ALL_STATUSES);
  for (const f of ['priority', 'attempts', 'createdAt'] as const) finiteNumberAt(r[f], `${at}.${f}`);
  for (const f of ['startedAt', 'finishedAt'] as const) optionalFiniteNumberAt(r[f], `${at}.${f}`);
  arrayAt(r.history, `${at}.history`).forEach((h, j) => {
    const e = h as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || !(ALL_STATUSES as readonly unknown[]).includes(e.status) || typeof e.at !== 'number') {
      throw fieldError(itemPath(`${at}.history`, j), 'an entry `{ status, at, reason? }`', h);
    }
  });
  objectAt(r.spec, `${at}.spec`);
  stringArrayAt(r.dependsOn, `${at}.dependsOn`, 'an array of task ids');
}

/**
 * A plain copy of `record` whose output keeps its last characters, at most SNAPSHOT_OUTPUT_CHARS of
 * JSON (control characters escape to 6 each), after a line saying how much was cut.
 */
function withTrimmedOutput(record: TaskRecord): TaskRecord {
  // A fresh object either way: plainRecord returns a record that is plain already as it is.
  const copy = { ...plainRecord(record) };
  const output = copy.result?.output as string;
  let keep = Math.min(output.length, SNAPSHOT_OUTPUT_CHARS);
  while (keep > 0 && JSON.stringify(output.slice(output.length - keep)).length > SNAPSHOT_OUTPUT_CHARS) keep >>= 1;
  copy.result = { ...copy.result, output: `[output trimmed in the saved state: ${output.length - keep} earlier characters not kept]\n${output.slice(output.length - keep)}` };
  return copy;
}

/** Stores `value` under `key`; rejects when the store does, or has not answered after `timeoutMs`. */
export function writeWithTimeout(clock: Clock, store: Store, key: string, value: unknown, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new Error(`the store did not answer within ${timeoutMs} ms`)), timeoutMs);
    let pending: PromiseLike<void>;
    try {
      pending = store.update(key, value);
    } catch (err) {
      clock.clearTimeout(timer);
      reject(err);
      return;
    }
    Promise.resolve(pending).then(
      () => {
        clock.clearTimeout(timer);
        resolve();
      },
      (err: unknown) => {
        clock.clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** `promise`'s value in a box, or undefined when it has not settled after `ms` (a rejection counts as settled). */
function boundedWait<T>(clock: Clock, promise: Promise<T>, ms: number): Promise<{ value: T } | { error: unknown } | undefined> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(undefined), ms);
    promise.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve({ value });
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        resolve({ error });
      },
    );
  });
}
