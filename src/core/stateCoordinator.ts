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
// - a write that rejects, or does not settle within `writeTimeoutMs`, is reported and retried with
//   backoff; the engine never waits for the store.
import { describeValue, ValidationError } from './errors';
import { Emitter, toDisposable, type Disposable } from './events';
import { ALL_STATUSES, isFinished, type TaskRecord, type TaskStatus } from './model';
import type { OrchestratorWarning } from './orchestratorTypes';
import type { Clock, HistoryArchive, Store } from './ports';

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
  onWarn?: (warning: OrchestratorWarning) => void;
}

export type StateCallback = (state: unknown, stateId: string) => void;

/** The result of reading the store at start: a valid snapshot, nothing, or a warning about a bad one. */
export interface LoadResult {
  snapshot?: Snapshot;
  warning?: OrchestratorWarning;
}

const TASK_PREFIX = 'task:';
const APP_KEY = /^[A-Za-z][\w.:-]{0,199}$/;
const MAX_APP_BYTES = 64 * 1024;

export class StateCoordinator implements Disposable {
  private source: StateSource | undefined;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly archive: HistoryArchive | undefined;
  private readonly minIntervalMs: number;
  private readonly byteBudget: number;
  private readonly writeTimeoutMs: number;
  private readonly onWarn: (w: OrchestratorWarning) => void;

  private readonly app = new Map<string, unknown>();
  private readonly listeners = new Map<string, Set<StateCallback>>();
  /** Serialized sizes of finished records: they no longer change, so each is measured once. */
  private readonly sizes = new WeakMap<TaskRecord, number>();
  /** Finished records already handed to the archive. */
  private readonly archived = new WeakSet<TaskRecord>();
  private archiveQueue: TaskRecord[] = [];
  private archiving: Promise<void> | undefined;

  private dirty = false;
  private timer: unknown = undefined;
  private writing: Promise<void> | undefined;
  private lastWriteAt = -Infinity;
  private failures = 0;
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
      throw new ValidationError(`Expected \`maxWritesPerSecond\` to be a number in (0, 1000], got ${describeValue(perSecond)}`, 'maxWritesPerSecond');
    }
    this.minIntervalMs = 1000 / perSecond;
    this.byteBudget = options.byteBudget ?? 256 * 1024;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 10_000;
    this.onWarn = options.onWarn ?? (() => undefined);
  }

  /** Connects the coordinator to what it persists. Called once by the orchestrator. */
  attach(source: StateSource, app?: Record<string, unknown>): void {
    this.source = source;
    if (app) for (const [k, v] of Object.entries(app)) this.app.set(k, v);
  }

  // ------------------------------------------------------------------ the seed's interface

  /**
   * Changes a piece of state. `task:<id>` takes `{ status, reason? }` and performs that transition if
   * the lifecycle allows it (only `cancelled` can be asked for from outside: the engine alone starts,
   * completes and fails tasks); `system` is derived and read-only; other ids hold any JSON value.
   */
  async updateState(stateId: string, state: unknown): Promise<void> {
    const source = this.requireSource();
    if (typeof stateId !== 'string' || stateId === '') {
      throw new ValidationError(`Expected \`stateId\` to be a non-empty string, got ${describeValue(stateId)}`, 'stateId');
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
        throw new ValidationError(`Expected \`reason\` to be a string, got ${describeValue(reason)}`, 'reason');
      }
      await source.requestTransition(id, status as TaskStatus, reason);
      return;
    }
    if (stateId === 'system') {
      throw new ValidationError('The `system` state is derived from the tasks and pools and cannot be set; change tasks or settings instead', 'stateId');
    }
    if (!APP_KEY.test(stateId)) {
      throw new ValidationError(`Expected \`stateId\` to be \`task:<id>\`, \`system\`, or a name of a letter then up to 199 letters, digits, \`_\`, \`.\`, \`:\` or \`-\`, got ${describeValue(stateId)}`, 'stateId');
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
      throw new ValidationError(`Expected \`callback\` to be a function, got ${describeValue(callback)}`, 'callback');
    }
    let set = this.listeners.get(stateId);
    if (!set) this.listeners.set(stateId, (set = new Set()));
    set.add(callback);
    return toDisposable(() => {
      set.delete(callback);
      if (set.size === 0 && this.listeners.get(stateId) === set) this.listeners.delete(stateId);
    });
  }

  /** Writes the current state to the store now and resolves when it is there. */
  async synchronizeState(): Promise<void> {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    // A write in flight may hold an older state: wait for it, then write what is current.
    if (this.writing) await this.writing;
    this.dirty = true;
    await this.writeNow();
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
    // no mark in `archived` (a WeakSet insert per finished task was 5% of the 100k benchmark).
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
    if (this.disposed || this.timer !== undefined || this.writing) return;
    const wait = Math.max(0, this.lastWriteAt + this.minIntervalMs * 2 ** Math.min(this.failures, 6) - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.writeNow();
    }, wait);
  }

  /** Flushes pending writes and archive appends; later changes are not written. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.writing) await this.writing;
    if (this.dirty) await this.writeNow();
    await this.flushArchive();
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
    let budget = this.byteBudget;
    for (const r of finished) {
      // Once the budget is spent the rest are only archived: their size is never needed, and
      // measuring it (a JSON.stringify each) was 6% of the 100k no-op benchmark.
      let size = budget > 0 ? this.sizes.get(r) : undefined;
      if (budget > 0 && size === undefined) {
        size = JSON.stringify(r).length;
        this.sizes.set(r, size);
      }
      if (size !== undefined && size <= budget) {
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

  private async writeNow(): Promise<void> {
    if (this.writing || this.disposed || !this.dirty) return this.writing;
    this.dirty = false;
    this.lastWriteAt = this.clock.now();
    const snapshot = this.buildSnapshot();
    const attempt = this.writeWithTimeout(snapshot).then(
      () => {
        this.failures = 0;
        this.stats.writes++;
        this.didWrite.fire(snapshot);
      },
      (err: unknown) => {
        this.failures++;
        this.stats.failedWrites++;
        this.dirty = true;
        this.onWarn({ code: 'STORE_WRITE_FAILED', message: `Saving the orchestrator state failed (attempt ${this.failures}), retrying: ${errorMessage(err)}` });
      },
    );
    this.writing = attempt;
    await attempt;
    this.writing = undefined;
    if (this.archiveQueue.length) void this.flushArchive();
    if (this.dirty) this.markDirty();
  }

  private writeWithTimeout(snapshot: Snapshot): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => reject(new Error(`the store did not answer within ${this.writeTimeoutMs} ms`)), this.writeTimeoutMs);
      let pending: PromiseLike<void>;
      try {
        pending = this.store.update(STATE_KEY, snapshot);
      } catch (err) {
        this.clock.clearTimeout(timer);
        reject(err);
        return;
      }
      Promise.resolve(pending).then(
        () => {
          this.clock.clearTimeout(timer);
          resolve();
        },
        (err: unknown) => {
          this.clock.clearTimeout(timer);
          reject(err);
        },
      );
    });
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
export async function loadSnapshot(store: Store, clock: Clock): Promise<LoadResult> {
  let raw: unknown;
  try {
    raw = store.get<unknown>(STATE_KEY);
  } catch (err) {
    return { warning: { code: 'CORRUPT_STATE', message: `The saved orchestrator state could not be read (${errorMessage(err)}); starting clean` } };
  }
  if (raw === undefined || raw === null) return {};
  try {
    return { snapshot: validateSnapshot(migrate(raw)) };
  } catch (err) {
    const backupKey = `${STATE_KEY}.backup.${clock.now()}`;
    let kept = `kept under \`${backupKey}\``;
    try {
      await store.update(backupKey, raw);
      await store.update(STATE_KEY, undefined);
    } catch (backupErr) {
      kept = `and could not be backed up (${errorMessage(backupErr)})`;
    }
    return {
      warning: { code: 'CORRUPT_STATE', message: `The saved orchestrator state is not valid (${errorMessage(err)}); it was ${kept} and the orchestrator started clean` },
    };
  }
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

export function validateSnapshot(raw: unknown): Snapshot {
  const bad = (field: string, expected: string, got: unknown): never => {
    throw new ValidationError(`Expected \`${field}\` to be ${expected}, got ${describeValue(got)}`, field);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('snapshot', 'an object', raw);
  const s = raw as Record<string, unknown>;
  if (s.version !== SNAPSHOT_VERSION) bad('version', String(SNAPSHOT_VERSION), s.version);
  if (typeof s.savedAt !== 'number' || !Number.isFinite(s.savedAt)) bad('savedAt', 'a finite number', s.savedAt);
  if (!Array.isArray(s.tasks)) bad('tasks', 'an array', s.tasks);
  const ids = new Set<string>();
  (s.tasks as unknown[]).forEach((t, i) => {
    const at = `tasks[${i}]`;
    if (typeof t !== 'object' || t === null) bad(at, 'a task record', t);
    const r = t as Record<string, unknown>;
    for (const f of ['id', 'name', 'kind'] as const) if (typeof r[f] !== 'string' || r[f] === '') bad(`${at}.${f}`, 'a non-empty string', r[f]);
    if (ids.has(r.id as string)) bad(`${at}.id`, 'unique', r.id);
    ids.add(r.id as string);
    if (!(ALL_STATUSES as readonly unknown[]).includes(r.status)) bad(`${at}.status`, `one of ${ALL_STATUSES.join(', ')}`, r.status);
    for (const f of ['priority', 'attempts', 'createdAt'] as const) if (typeof r[f] !== 'number' || !Number.isFinite(r[f])) bad(`${at}.${f}`, 'a finite number', r[f]);
    for (const f of ['startedAt', 'finishedAt'] as const) if (r[f] !== undefined && (typeof r[f] !== 'number' || !Number.isFinite(r[f]))) bad(`${at}.${f}`, 'a finite number', r[f]);
    if (!Array.isArray(r.history)) bad(`${at}.history`, 'an array', r.history);
    (r.history as unknown[]).forEach((h, j) => {
      const e = h as Record<string, unknown> | null;
      if (typeof e !== 'object' || e === null || !(ALL_STATUSES as readonly unknown[]).includes(e.status) || typeof e.at !== 'number') {
        bad(`${at}.history[${j}]`, 'an entry `{ status, at, reason? }`', h);
      }
    });
    if (typeof r.spec !== 'object' || r.spec === null || Array.isArray(r.spec)) bad(`${at}.spec`, 'an object', r.spec);
    if (!Array.isArray(r.dependsOn) || !(r.dependsOn as unknown[]).every((d) => typeof d === 'string')) bad(`${at}.dependsOn`, 'an array of task ids', r.dependsOn);
  });
  if (s.paused !== undefined && typeof s.paused !== 'boolean') bad('paused', 'a boolean', s.paused);
  if (s.app !== undefined && (typeof s.app !== 'object' || s.app === null || Array.isArray(s.app))) bad('app', 'an object', s.app);
  return s as unknown as Snapshot;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
