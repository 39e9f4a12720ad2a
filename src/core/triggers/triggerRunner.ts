// One trigger of the workflow file (`"on": { "save" | "change" }`): file events in, runs out.
//
// Invariants:
// - Trailing debounce: a run is started `debounceMs` after the last event of a burst, never during
//   it, so a burst of any size within the window makes exactly one run. One timer serves a burst: an
//   event only moves the deadline, and the timer, when it fires early, waits out the rest.
// - At most one run at a time. A new run starts only once the previous one's `done` has settled, for
//   `restart` too (it cancels, then waits), so two runs of one trigger never overlap.
// - At most one run is owed: while a run is in progress every event folds into the same next run
//   (`restart`, `queue`) or is dropped (`skip`).
// - Nothing starts while paused or after dispose: pausing drops the pending burst and the owed run,
//   resuming replays nothing; a run already in progress goes on (it is the user's work, in the
//   orchestrator, cancellable there).
// - `start()` and the run may fail in any way (throw, reject, `done` rejecting): that is the last
//   run's outcome `failed` with the message, never an unhandled rejection.
// Plain Node: time from the Clock port, events from the core's own Emitter.
import { errorMessage } from '../model/errors';
import { checkDelay } from '../model/fieldChecks';
import { isObjectLike } from '../model/guards';
import { systemClock, type Clock } from '../ports';
import { Emitter, type Event } from '../util/events';

/** What an event does to a run still in progress: cancel it and start again, run once more after it, or nothing. */
export type OnRunningPolicy = 'restart' | 'queue' | 'skip';

/** A run the trigger started. */
export interface RunHandle {
  /** Settles when the run is over: resolves (with a RunResult, or anything: completed) or rejects (failed). */
  done: Promise<unknown>;
  /** Asks the run to stop; `done` settles once it has. */
  cancel(reason: string): Promise<void>;
}

/** What `done` may resolve with to say how the run ended; any other value counts as completed. */
export interface RunResult {
  outcome: 'completed' | 'failed' | 'cancelled';
  reason?: string;
}

export type TriggerOutcome = RunResult['outcome'] | 'skipped';

export interface LastRun {
  /** Wall time (clock.now) when the run ended, or the event was skipped. */
  at: number;
  outcome: TriggerOutcome;
  reason?: string;
}

/** What the UI shows of a trigger. */
export interface TriggerState {
  paused: boolean;
  /** A run is starting, running, or being cancelled. */
  running: boolean;
  lastRun?: LastRun;
  /** Wall time of the first event not yet served by a started run: a burst waiting out its window, or an owed run. */
  pendingSince?: number;
}

export interface TriggerRunnerOptions {
  /** Quiet time after the last event before a run starts, in ms (>= 0). */
  debounceMs: number;
  onRunning: OnRunningPolicy;
  start: () => Promise<RunHandle>;
  clock?: Clock;
}

export class TriggerRunner {
  private readonly changed = new Emitter<TriggerState>();
  /** Fired after every change of `state`, with the new state. */
  readonly onDidChange: Event<TriggerState> = this.changed.event;

  private readonly debounceMs: number;
  private readonly onRunning: OnRunningPolicy;
  private readonly startRun: () => Promise<RunHandle>;
  private readonly clock: Clock;

  private paused = false;
  private disposed = false;
  private timer: unknown;
  /** Monotonic time at which the pending burst has been quiet long enough. */
  private dueAt = 0;
  /** The file of the latest event, named in a restart's reason. */
  private lastFile: string | undefined;
  private pendingSince: number | undefined;
  private active = false;
  /** Another run is owed once the active one has ended. */
  private owed = false;
  /** Set once the active run has been asked to stop (restart); the reason it was given. */
  private cancelReason: string | undefined;
  private handle: RunHandle | undefined;
  private lastRun: LastRun | undefined;

  constructor(options: TriggerRunnerOptions) {
    this.debounceMs = checkDelay('debounceMs', options.debounceMs, 'zero');
    this.onRunning = options.onRunning;
    this.startRun = options.start;
    this.clock = options.clock ?? systemClock;
  }

  get state(): TriggerState {
    return {
      paused: this.paused,
      running: this.active,
      ...(this.lastRun ? { lastRun: { ...this.lastRun } } : {}),
      ...(this.pendingSince !== undefined ? { pendingSince: this.pendingSince } : {}),
    };
  }

  /** A matching file event; `file` (workspace-relative) is named in a restart's reason. */
  fire(file?: string): void {
    if (this.paused || this.disposed) return;
    this.lastFile = file;
    this.dueAt = this.monotonic() + this.debounceMs;
    if (this.timer === undefined) {
      this.timer = this.clock.setTimeout(() => this.onQuiet(), this.debounceMs, true);
      if (this.pendingSince === undefined) {
        this.pendingSince = this.clock.now();
        this.emit();
      }
    }
  }

  pause(): void {
    if (this.paused || this.disposed) return;
    this.paused = true;
    this.drop();
    this.emit();
  }

  resume(): void {
    if (!this.paused || this.disposed) return;
    this.paused = false;
    this.emit();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.drop();
    this.changed.dispose();
  }

  private monotonic(): number {
    return this.clock.monotonic?.() ?? this.clock.now();
  }

  /** Forgets the pending burst and the owed run. */
  private drop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.owed = false;
    this.pendingSince = undefined;
  }

  private onQuiet(): void {
    const left = this.dueAt - this.monotonic();
    if (left > 0) {
      this.timer = this.clock.setTimeout(() => this.onQuiet(), left, true);
      return;
    }
    this.timer = undefined;
    if (this.paused || this.disposed) return;
    const file = this.lastFile ?? 'a file';
    if (!this.active) {
      void this.run();
      return;
    }
    if (this.onRunning === 'skip') {
      this.pendingSince = undefined;
      this.lastRun = { at: this.clock.now(), outcome: 'skipped', reason: `Skipped: ${file} changed while a run was in progress` };
    } else {
      // The owed run keeps pendingSince: it is waiting since the first event it serves.
      this.owed = true;
      if (this.onRunning === 'restart' && this.cancelReason === undefined) {
        this.cancelReason = `Restarted: ${file} changed`;
        if (this.handle) this.cancel(this.handle, this.cancelReason);
      }
    }
    this.emit();
  }

  /** Starts a run and, when it has ended, the owed one. Never rejects. */
  private async run(): Promise<void> {
    this.active = true;
    this.owed = false;
    this.cancelReason = undefined;
    this.pendingSince = undefined;
    this.emit();
    let result: RunResult;
    try {
      // A synchronous throw of start() is a failed run too, not an exception out of the timer.
      const handle = await Promise.resolve().then(() => this.startRun());
      this.handle = handle;
      // A restart asked for while start() was under way cancels the run as soon as it exists.
      if (this.cancelReason !== undefined) this.cancel(handle, this.cancelReason);
      result = resultOf(await handle.done, this.cancelReason);
    } catch (err) {
      result = { outcome: 'failed', reason: errorMessage(err) };
    }
    this.handle = undefined;
    this.active = false;
    this.lastRun = { at: this.clock.now(), outcome: result.outcome, ...(result.reason !== undefined ? { reason: result.reason } : {}) };
    if (this.owed && !this.paused && !this.disposed) {
      void this.run();
      return;
    }
    this.owed = false;
    this.emit();
  }

  private cancel(handle: RunHandle, reason: string): void {
    // A cancel that fails leaves the run to end by itself; `done` still says when it has.
    Promise.resolve()
      .then(() => handle.cancel(reason))
      .catch(() => undefined);
  }

  private emit(): void {
    if (!this.disposed) this.changed.fire(this.state);
  }
}

/** How a run ended, from what its `done` resolved with; a run we cancelled names our reason. */
function resultOf(value: unknown, cancelReason: string | undefined): RunResult {
  if (isObjectLike(value) && (value.outcome === 'completed' || value.outcome === 'failed' || value.outcome === 'cancelled')) {
    const reason = typeof value.reason === 'string' ? value.reason : value.outcome === 'cancelled' ? cancelReason : undefined;
    return { outcome: value.outcome, ...(reason !== undefined ? { reason } : {}) };
  }
  return { outcome: 'completed' };
}
