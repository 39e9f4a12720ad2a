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
import { ALL_STATUSES, type TaskRecord, type TaskStatus } from '../model/model';
import type { OrchestratorWarning } from '../model/warnings';
import type { Clock, HistoryArchive, Store } from '../ports';
import { ArchiveHandoff } from './archiveHandoff';
import { STATE_KEY, type Snapshot } from './snapshot';
import { SnapshotBuilder, type SnapshotSource } from './snapshotBuilder';
import { boundedWait, writeWithTimeout } from './snapshotLoad';

/** What the coordinator reads from and asks of the orchestrator. */
export interface StateSource extends SnapshotSource {
  getTask(id: string): TaskRecord | undefined;
  systemStatus(): unknown;
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

/** How long dispose waits for the store and the archive, in all, by default. */
export const DISPOSE_TIMEOUT_MS = 2000;

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
  private readonly minIntervalMs: number;
  /** Bytes of finished records kept in the snapshot. */
  private readonly byteBudget: number;
  private readonly writeTimeoutMs: number;
  private readonly disposeTimeoutMs: number;
  private readonly onWarn: (w: OrchestratorWarning) => void;

  private readonly app = new Map<string, unknown>();
  private readonly listeners = new Map<string, Set<StateCallback>>();
  private readonly handoff: ArchiveHandoff;
  private readonly builder: SnapshotBuilder;

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

  /** Counters for the benchmark and the dashboard. */
  readonly stats = { writes: 0, failedWrites: 0, lastBytes: 0, archived: 0 };

  private readonly didWrite = new Emitter<Snapshot>();
  /** Fired after each successful write, with what was written. */
  readonly onDidWrite = this.didWrite.event;

  constructor(options: StateCoordinatorOptions) {
    this.store = options.store;
    this.clock = options.clock;
    const perSecond = options.maxWritesPerSecond ?? 4;
    if (!(perSecond > 0 && perSecond <= 1000)) {
      throw fieldError('maxWritesPerSecond', 'a number in (0, 1000]', perSecond);
    }
    this.minIntervalMs = 1000 / perSecond;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 10_000;
    this.disposeTimeoutMs = options.disposeTimeoutMs ?? DISPOSE_TIMEOUT_MS;
    this.onWarn = options.onWarn ?? (() => undefined);
    this.handoff = new ArchiveHandoff(options.archive, this.onWarn, this.stats);
    this.byteBudget = options.byteBudget ?? 256 * 1024;
    this.builder = new SnapshotBuilder(this.byteBudget, this.clock, this.handoff);
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
    await this.handoff.flush();
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
    this.handoff.evicted(records);
    this.markDirty();
  }

  /** `evicted` for one record, without an array: the orchestrator evicts one per finished task. */
  evictedOne(record: TaskRecord): void {
    this.handoff.evictedOne(record);
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
    if ((await boundedWait(this.clock, this.handoff.flush(), left())) === undefined) {
      this.onWarn({ code: 'ARCHIVE_FAILED', message: `Finished tasks may not have been archived: the archive did not answer within ${this.disposeTimeoutMs} ms` });
    }
    this.disposed = true;
    this.listeners.clear();
    this.didWrite.dispose();
  }

  // ------------------------------------------------------------------ snapshot

  /** Builds the snapshot as it would be written now. */
  buildSnapshot(): Snapshot {
    return this.builder.build(this.requireSource(), this.app, this.byteBudget);
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
        if (this.handoff.pending) void this.handoff.flush();
        if (this.dirty) this.markDirty();
        return outcome;
      });
    this.writing = attempt;
    return attempt;
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
