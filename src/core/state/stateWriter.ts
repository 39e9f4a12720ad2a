// Write scheduling: when the state goes to the store, and what a write that fails or hangs leads to.
//
// - writes are coalesced: at most one in flight, and at most one per `minIntervalMs` however many
//   tasks change; a failed write is reported and retried with backoff (doubling, up to 64 times
//   the interval). Spacing is measured on the monotonic clock: a wall clock stepping back must not
//   stop writes. The engine never waits for the store;
// - writing takes at most WRITE_SHARE of the thread: the spacing is also at least the time the last
//   write took on this thread (building the snapshot, handing it to the store) times
//   (1 - WRITE_SHARE) / WRITE_SHARE, so a large backlog is saved less often instead of starving the
//   work it describes;
// - `writeCurrent()` resolves only once the store has the state, else rejects with StoreWriteError;
// - `close()` writes what changed and flushes the archive within `disposeTimeoutMs` in all, and
//   reports what it could not write; after it nothing more is written;
// - writes can be held (`hold`): when the saved state could not be read or kept aside, no write
//   may replace it, and every write asked for is refused and reported instead;
// - what a write drops from the store is elsewhere first: finished records that left the snapshot
//   are handed to the archive before the store is written, waiting ARCHIVE_WAIT_MS at most; those
//   the archive has not taken by then (it refused, or has not answered) stay in the snapshot, over
//   its budget, until it does (a refusal is reported and retried); and the unfinished tasks beyond the budget are written to the pending store, durably, before the
//   snapshot that points at their set; older sets are pruned only once that snapshot is stored. A
//   pending set that cannot be written fails the write: the store keeps the previous snapshot and set.
import { errorMessage, StoreWriteError } from '../model/errors';
import type { OrchestratorWarning } from '../model/warnings';
import type { TaskRecord } from '../model/model';
import type { Clock, PendingStore, Store } from '../ports';
import type { ArchiveHandoff } from './archiveHandoff';
import { SNAPSHOT_OUTPUT_CHARS, STATE_KEY, withTrimmedOutput, type Snapshot } from './snapshot';
import { boundedWait, writeWithTimeout } from './snapshotLoad';

/** What one write came to: written, or the reason it was not. */
type WriteOutcome = { written: true } | { written: false; error: unknown };
const WRITTEN: WriteOutcome = Object.freeze({ written: true });

export interface StateWriterOptions {
  store: Store;
  /**
   * False when nothing can ever read the store (an orchestrator given none made its own in memory):
   * then no snapshot is built or written. Default true.
   */
  saves?: boolean;
  clock: Clock;
  /** The shortest spacing of two writes before backoff (the coordinator's setting), read when a write is scheduled. */
  minIntervalMs: () => number;
  /** A write not settled after this long counts as failed. */
  writeTimeoutMs: number;
  /** The longest close() waits for the store and the archive, in all. */
  disposeTimeoutMs: number;
  onWarn: (w: OrchestratorWarning) => void;
  /** Flushed after each write, and by writeCurrent and close. */
  handoff: ArchiveHandoff;
  /** Where unfinished tasks beyond the budget go; without it every unfinished task is in the snapshot. */
  pending?: PendingStore;
  /** The snapshot as it would be written now; given `overflow`, the unfinished beyond the budget go there. */
  build: (overflow?: TaskRecord[]) => Snapshot;
  /** Called after each successful write, with what was written. */
  written: (snapshot: Snapshot) => void;
  /** Counts writes done and failed. */
  stats: { writes: number; failedWrites: number };
}

/** How long a write waits for the archive to take the finished records it drops (see the file comment). */
export const ARCHIVE_WAIT_MS = 1000;

/** The largest share of the thread's time that writing the state may take (see the file comment). */
export const WRITE_SHARE = 0.1;

export class StateWriter {
  private dirty = false;
  private timer: unknown = undefined;
  private writing: Promise<WriteOutcome> | undefined;
  /** On the monotonic clock. */
  private lastWriteAt = -Infinity;
  private failures = 0;
  /** Time the last write took on this thread, on the monotonic clock. */
  private lastCostMs = 0;
  /** Why writes are held (see hold); undefined while they are not. */
  private heldReason: string | undefined;
  /** close() was called: nothing more may be written but close's own last write. */
  private closingFlag = false;
  private closed = false;
  /** The pending set the stored snapshot points at, and the JSON it was written from (unchanged: not written again). */
  private pendingSet: { generation: number; json: string } | undefined;
  private prunedOnce = false;

  constructor(private readonly o: StateWriterOptions) {}

  /**
   * From now on nothing is written to the store: the state there could not be read (or kept aside)
   * and must not be replaced by one that never saw it. writeCurrent() rejects with `reason`.
   */
  hold(reason: string): void {
    this.heldReason = reason;
    this.clearTimer();
  }

  /** Why writes are held, or undefined. */
  get held(): string | undefined {
    return this.heldReason;
  }

  /** close() was called. */
  get closing(): boolean {
    return this.closingFlag;
  }

  /** Something changed: a write is scheduled unless one is already. O(1), no allocation but the timer. */
  markDirty(): void {
    if (this.o.saves === false) return;
    this.dirty = true;
    if (this.closingFlag || this.heldReason !== undefined || this.timer !== undefined || this.writing) return;
    const spacing = Math.max(this.o.minIntervalMs(), (this.lastCostMs * (1 - WRITE_SHARE)) / WRITE_SHARE);
    const interval = spacing * 2 ** Math.min(this.failures, 6);
    // Never longer than the interval itself: a clock without `monotonic` (whose now() stands in)
    // may still step back, and a step back must delay a write by one interval at most.
    const wait = Math.min(interval, Math.max(0, this.lastWriteAt + interval - this.monotonic()));
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      void this.writeNow();
    }, wait);
  }

  /**
   * Writes the current state now and resolves when the store has it; rejects with StoreWriteError
   * when the store refused, did not answer, or writes are held (then retried in the background).
   */
  async writeCurrent(): Promise<void> {
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
    await this.o.handoff.flush();
  }

  /**
   * Writes what changed and flushes archive appends, waiting `disposeTimeoutMs` at most in all (a
   * host shutting down has little time, and a store that does not answer must not hold it). Resolves
   * either way; what could not be written is reported on onWarn.
   */
  async close(): Promise<void> {
    if (this.closingFlag) return;
    this.closingFlag = true;
    this.clearTimer();
    const { clock, disposeTimeoutMs, onWarn } = this.o;
    const deadline = this.monotonic() + disposeTimeoutMs;
    const left = () => Math.max(0, deadline - this.monotonic());
    let lost: string | undefined;
    // A write in flight holds an older state: it must settle before the last one starts, or the
    // older could land last. Waiting for it is bounded by the same deadline.
    if (this.writing && (await boundedWait(clock, this.writing, left())) === undefined) {
      lost = `the store did not answer a write within ${disposeTimeoutMs} ms`;
    } else if (this.dirty && this.heldReason !== undefined) {
      lost = this.heldReason;
    } else if (this.dirty) {
      // writeNow reports a refusal itself (STORE_WRITE_FAILED, "final state was not saved").
      await this.writeNow(Math.max(1, left()));
    }
    if (lost !== undefined) onWarn({ code: 'STORE_WRITE_FAILED', message: `The orchestrator's final state was not saved: ${lost}` });
    if ((await boundedWait(clock, this.o.handoff.flush(), left())) === undefined) {
      onWarn({ code: 'ARCHIVE_FAILED', message: `Finished tasks may not have been archived: the archive did not answer within ${disposeTimeoutMs} ms` });
    }
    this.closed = true;
  }

  /**
   * Starts a write of the current state unless one is in flight (then that one's outcome: a caller
   * that needs a write of its own waits for it first). Never rejects.
   */
  private writeNow(timeoutMs = this.o.writeTimeoutMs): Promise<WriteOutcome> {
    if (this.writing) return this.writing;
    if (!this.dirty || this.o.saves === false) return Promise.resolve(WRITTEN);
    // Closed with changes unwritten: close's last write failed or never answered, and nothing may
    // be written after it. A writeCurrent() still waiting must hear that, not "written".
    if (this.closed) return Promise.resolve({ written: false, error: new Error('the orchestrator was disposed before its state could be written') });
    if (this.heldReason !== undefined) return Promise.resolve({ written: false, error: new Error(this.heldReason) });
    this.dirty = false;
    const startedAt = this.monotonic();
    this.lastWriteAt = startedAt;
    const overflow = this.o.pending ? ([] as TaskRecord[]) : undefined;
    const snapshot = this.o.build(overflow);
    const { stats, handoff } = this.o;
    // Without finished records waiting for the archive and without a pending store, the store is
    // handed the snapshot now, synchronously, as it always was.
    const written =
      handoff.allAccepted && overflow === undefined
        ? writeWithTimeout(this.o.clock, this.o.store, STATE_KEY, snapshot, timeoutMs)
        : this.writeBeside(snapshot, overflow, timeoutMs);
    this.lastCostMs = this.monotonic() - startedAt;
    const attempt = written
      .then(
        (): WriteOutcome => {
          this.failures = 0;
          stats.writes++;
          this.o.written(snapshot);
          return WRITTEN;
        },
        (err: unknown): WriteOutcome => {
          this.failures++;
          stats.failedWrites++;
          this.dirty = true;
          const message = this.closingFlag
            ? `The orchestrator's final state was not saved: ${errorMessage(err)}`
            : `Saving the orchestrator state failed (attempt ${this.failures}), retrying: ${errorMessage(err)}`;
          this.o.onWarn({ code: 'STORE_WRITE_FAILED', message });
          return { written: false, error: err };
        },
      )
      .then((outcome) => {
        this.writing = undefined;
        if (handoff.pending) void handoff.flush();
        if (this.dirty) this.markDirty();
        return outcome;
      });
    this.writing = attempt;
    return attempt;
  }

  /**
   * Hands what leaves the store to the archive and the pending store first (see the file comment),
   * then writes the snapshot, then prunes pending sets it no longer points at.
   */
  private async writeBeside(snapshot: Snapshot, overflow: TaskRecord[] | undefined, timeoutMs: number): Promise<void> {
    const { clock, handoff, pending } = this.o;
    if (!handoff.allAccepted) {
      await boundedWait(clock, handoff.flush(), Math.min(timeoutMs, ARCHIVE_WAIT_MS));
      const unaccepted = handoff.unaccepted();
      if (unaccepted.length > 0) {
        const inSnapshot = new Set(snapshot.tasks.map((t) => t.id));
        for (const r of unaccepted) {
          if (inSnapshot.has(r.id)) continue;
          const output = r.result?.output;
          snapshot.tasks.push(typeof output === 'string' && output.length > SNAPSHOT_OUTPUT_CHARS ? withTrimmedOutput(r) : r);
        }
      }
    }
    let set = this.pendingSet;
    if (pending && overflow && overflow.length > 0) {
      const json = JSON.stringify(overflow);
      if (set?.json !== json) {
        const wrote = await boundedWait(clock, Promise.resolve(pending.writePending(overflow)), timeoutMs);
        if (wrote === undefined) throw new Error(`the pending store did not answer within ${timeoutMs} ms`);
        if ('error' in wrote)
          throw new Error(`the ${overflow.length} unfinished tasks beyond the state's budget could not be written: ${errorMessage(wrote.error)}`);
        set = { generation: wrote.value, json };
      }
      snapshot.pending = { generation: set.generation, count: overflow.length };
    } else {
      set = undefined;
    }
    await writeWithTimeout(clock, this.o.store, STATE_KEY, snapshot, timeoutMs);
    const before = this.pendingSet;
    this.pendingSet = set;
    if (pending && (!this.prunedOnce || before?.generation !== set?.generation)) {
      // Tidiness only: a set left behind (by a crash, or a failed prune) is pruned by the next write
      // that changes the set, and by the first write after a start.
      this.prunedOnce = true;
      await Promise.resolve(pending.prunePending(set?.generation)).then(undefined, (err: unknown) =>
        this.o.onWarn({ code: 'STORE_WRITE_FAILED', message: `Removing older sets of pending tasks failed: ${errorMessage(err)}` }),
      );
    }
  }

  private monotonic(): number {
    return this.o.clock.monotonic ? this.o.clock.monotonic() : this.o.clock.now();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      this.o.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
