// One attempt the coordinator handed to the fleet, from `start` until its outcome is reported.
// Invariants: `report` calls `done` at most once and clears every timer of the attempt; once a
// cancel or a timeout has been asked for, that is the outcome whatever the worker answers (as a
// local attempt's abort decides its outcome), and it is reported when the worker confirms or after
// the abort bound, whichever comes first, so a lost worker never holds a slot.
import type { OutcomeCallback, OutputCallback, ExecutionHandle } from '../../core/execution/executionPort';
import type { TaskRecord, TaskResult } from '../../core/model/model';

export class RemoteAttempt implements ExecutionHandle {
  /** Set once the job is in Redis (or known to be, for a re-attached one). */
  added: Promise<void> = Promise.resolve();
  /** Its job is known to be in Redis (added here, or found by a re-attach): from then on its outcome can be audited (outcomeAudit.ts). */
  inRedis = false;
  /** Seen active on a worker. */
  active = false;
  /** Its job id is held by another run's job still running: the events of that id are not this attempt's until it ends. */
  foreign = false;
  /** Wall time it was handed to the port, for the watchdog's look at jobs no worker can take. */
  readonly queuedAt = Date.now();
  /** Wall time it was seen active, for the lost-worker watchdog. */
  activeAt = 0;
  /** The worker running it, once known (told to the port's onWorker). */
  worker: string | undefined;
  /** The outcome decided by the coordinator (a cancel or a timeout), reported when the worker confirms or after the bound. */
  decided: Error | undefined;
  reported = false;
  timer: NodeJS.Timeout | undefined;
  settleTimer: NodeJS.Timeout | undefined;
  private resolveSettled: () => void = () => undefined;
  readonly settled: Promise<void>;

  constructor(
    readonly task: TaskRecord,
    readonly attempt: number,
    readonly jobId: string,
    readonly queue: string,
    readonly timeoutMs: number | undefined,
    readonly onOutput: OutputCallback | undefined,
    private readonly done: OutcomeCallback,
    private readonly onReported: (attempt: RemoteAttempt) => void,
  ) {
    this.settled = new Promise((resolve) => (this.resolveSettled = resolve));
  }

  report(result: TaskResult | undefined, error: unknown): void {
    if (this.reported) return;
    this.reported = true;
    clearTimeout(this.timer);
    clearTimeout(this.settleTimer);
    this.onReported(this);
    this.resolveSettled();
    this.done(error === undefined ? (result ?? {}) : undefined, error, this.task);
  }

  /** Decides the outcome (first decision wins) and reports it after `boundMs` unless the worker confirms first. */
  decide(error: Error, boundMs: number): void {
    if (this.reported || this.decided) return;
    this.decided = error;
    clearTimeout(this.timer);
    this.settleTimer = setTimeout(() => this.report(undefined, error), boundMs);
  }
}
