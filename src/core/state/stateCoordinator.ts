// StateCoordinator (the seed's name): one keyed view of the system's state, and its persistence.
//
// State ids:
//   `task:<id>`   a task's record. Reading gives the record; updating asks for a transition, which
//                 goes through the lifecycle's check (an illegal one throws and changes nothing).
//   `system`      the system status (counts, pools, paused). Read-only: it is derived.
//   anything else application state (e.g. `ui.filter`): any JSON value, persisted with the tasks.
//
// Persistence: the whole state lives in the `Store` (a vscode.Memento subset) under one key as a
// versioned snapshot (snapshot.ts), read at start by snapshotLoad.ts. VS Code copies an extension's
// whole state on every write and warns above 512 KiB, so the snapshot keeps finished records within
// `byteBudget` (snapshotBuilder.ts), those left out go to the archive once (archiveHandoff.ts), and
// writes are coalesced, retried with backoff, bounded in time and can be held (stateWriter.ts).
// Given a `pending` store, unfinished tasks beyond the budget go there too (a set the snapshot
// points at), so the snapshot stays within `byteBudget` whatever the backlog.
// `synchronizeState()` resolves only once the store has the state; `close()` writes what changed
// within `disposeTimeoutMs` and reports what it could not write.
import { describeValue, errorMessage, fieldError, OrchestratorError, ValidationError } from '../model/errors';
import { LIMITS } from '../model/limits';
import { Emitter, toDisposable, type Disposable } from '../util/events';
import { ALL_STATUSES, type TaskRecord, type TaskStatus } from '../model/model';
import type { OrchestratorWarning } from '../model/warnings';
import type { Clock, HistoryArchive, PendingStore, Store } from '../ports';
import { ArchiveHandoff } from './archiveHandoff';
import type { Snapshot } from './snapshot';
import { SnapshotBuilder, type SnapshotSource } from './snapshotBuilder';
import { StateWriter } from './stateWriter';

/** What the coordinator reads from and asks of the orchestrator. */
export interface StateSource extends SnapshotSource {
  getTask(id: string): TaskRecord | undefined;
  systemStatus(): unknown;
  /** Performs a requested task transition (checked by the lifecycle first). */
  requestTransition(id: string, status: TaskStatus, reason: string | undefined): Promise<void>;
}

export interface StateCoordinatorOptions {
  store: Store;
  /** False: nothing can ever read `store` (see StateWriterOptions.saves). Default true. */
  saves?: boolean;
  clock: Clock;
  archive?: HistoryArchive;
  /** Where unfinished tasks beyond the byte budget go; without it every unfinished task is in the snapshot. */
  pending?: PendingStore;
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

const TASK_PREFIX = 'task:';
const APP_KEY = /^[A-Za-z][\w.:-]{0,199}$/;
const MAX_APP_BYTES = LIMITS.appStateBytes;

export class StateCoordinator implements Disposable {
  private source: StateSource | undefined;
  /** The shortest spacing of two writes, before backoff. */
  private readonly minIntervalMs: number;
  /** Bytes of finished records kept in the snapshot. */
  private readonly byteBudget: number;
  private readonly onWarn: (w: OrchestratorWarning) => void;

  private readonly app = new Map<string, unknown>();
  private readonly listeners = new Map<string, Set<StateCallback>>();
  private readonly handoff: ArchiveHandoff;
  private readonly builder: SnapshotBuilder;
  private readonly writer: StateWriter;

  /** Counters for the benchmark and the dashboard. */
  readonly stats = { writes: 0, failedWrites: 0, lastBytes: 0, archived: 0 };

  private readonly didWrite = new Emitter<Snapshot>();
  /** Fired after each successful write, with what was written. */
  readonly onDidWrite = this.didWrite.event;

  constructor(options: StateCoordinatorOptions) {
    const perSecond = options.maxWritesPerSecond ?? 4;
    if (!(perSecond > 0 && perSecond <= 1000)) {
      throw fieldError('maxWritesPerSecond', 'a number in (0, 1000]', perSecond);
    }
    this.minIntervalMs = 1000 / perSecond;
    this.byteBudget = options.byteBudget ?? 256 * 1024;
    this.onWarn = options.onWarn ?? (() => undefined);
    this.handoff = new ArchiveHandoff(options.archive, this.onWarn, this.stats);
    this.builder = new SnapshotBuilder(this.byteBudget, options.clock, this.handoff);
    this.writer = new StateWriter({
      store: options.store,
      saves: options.saves,
      clock: options.clock,
      minIntervalMs: () => this.minIntervalMs,
      writeTimeoutMs: options.writeTimeoutMs ?? 10_000,
      disposeTimeoutMs: options.disposeTimeoutMs ?? DISPOSE_TIMEOUT_MS,
      onWarn: this.onWarn,
      handoff: this.handoff,
      pending: options.pending,
      build: (overflow) => this.buildSnapshot(overflow),
      written: (snapshot) => this.didWrite.fire(snapshot),
      stats: this.stats,
    });
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
    this.writer.hold(reason);
  }

  /** Why writes are held, or undefined. */
  get writesHeld(): string | undefined {
    return this.writer.held;
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
        throw new ValidationError(
          `Expected the state of \`${stateId}\` to be an object like \`{ status: 'cancelled', reason?: string }\`, got ${describeValue(state)}`,
          'state',
        );
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
    await this.writer.writeCurrent();
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

  /** Something changed: a write is scheduled, not done. O(1), no allocation. */
  markDirty(): void {
    this.writer.markDirty();
  }

  /**
   * Writes what changed and flushes archive appends, waiting `disposeTimeoutMs` at most in all (a
   * host shutting down has little time, and a store that does not answer must not hold it). Resolves
   * either way, never rejects; what could not be written is reported on onWarn. Later changes are
   * refused. The orchestrator awaits this.
   */
  async close(): Promise<void> {
    if (this.writer.closing) return;
    await this.writer.close();
    this.listeners.clear();
    this.didWrite.dispose();
  }

  /** Starts close() without waiting for it: for a holder that only knows Disposable. */
  dispose(): void {
    void this.close();
  }

  // ------------------------------------------------------------------ snapshot

  /** Builds the snapshot as it would be written now; given `overflow`, the unfinished beyond the budget go there. */
  buildSnapshot(overflow?: TaskRecord[]): Snapshot {
    return this.builder.build(this.requireSource(), this.app, this.byteBudget, overflow);
  }

  private assertOpen(): void {
    if (this.writer.closing) throw new OrchestratorError('DISPOSED', 'The state coordinator is disposed: nothing more is kept or written');
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
