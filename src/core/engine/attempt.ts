// One running attempt, and what its executor receives (the ExecutionContext). It decides the
// attempt's outcome once (see engine.ts for the outcomes) and reports it exactly once to its
// AttemptCallback, then wakes those waiting on it.
import { ExecutionError, type OrchestratorError } from '../model/errors';
import type { TaskRecord, TaskResult, TaskSpec } from '../model/model';
import type { Clock, ExecutionContext, ReadyInfo } from '../ports';
import { toExecutionError } from '../executors/functionExecutor';
import type { AttemptRegistry } from './attemptRegistry';
import { keepsMeaning, toSafeResult, withSafeResult } from './executorContract';
import { parkForReport } from './syncBatch';

/**
 * How an attempt reports its outcome: exactly once, `error` undefined on success. A callback, not a
 * promise: an attempt allocates no promise or closure of its own (bench row 1, the full lifecycle,
 * measures this; the figures are in docs/performance.md).
 */
export type AttemptCallback = (result: TaskResult | undefined, error: unknown, task: TaskRecord) => void;

/**
 * Where an attempt's reportReady goes: one function for every attempt (the task is its argument), so
 * an attempt that never reports ready costs nothing for it.
 */
export type ReadyCallback = (task: TaskRecord, info: ReadyInfo | undefined) => void;

/**
 * One running attempt, and what its executor receives (the ExecutionContext). Plain fields and
 * prototype methods: one object per attempt, no closures. `signal` is a getter and the controller is
 * made on first read: work that never looks at its signal does not pay for an AbortController
 * (on Node 20 it costs more than the rest of a no-op attempt; bench row 1).
 */
export class Attempt implements ExecutionContext {
  private controller: AbortController | undefined = undefined;
  timer: unknown = undefined;
  abortTimer: unknown = undefined;
  abortReason: OrchestratorError | undefined = undefined;
  /** The outcome is decided. */
  settled = false;
  /** The outcome has been reported and the waiters woken. */
  private reported = false;
  private waiters: (() => void)[] | undefined = undefined;
  prev: Attempt | undefined = undefined;
  next: Attempt | undefined = undefined;
  /** A result parked in the synchronous batch (syncBatch.ts) to be reported. */
  private soonResult: TaskResult | undefined = undefined;

  constructor(
    private readonly registry: AttemptRegistry<Attempt>,
    private readonly indexed: boolean,
    private readonly clock: Clock,
    private readonly settleOnAbort: boolean,
    readonly task: TaskRecord,
    readonly attempt: number,
    readonly onOutput: ((chunk: string) => void) | undefined,
    readonly run: TaskSpec['run'],
    private readonly done: AttemptCallback,
    private readonly onReady: ReadyCallback | undefined,
  ) {}

  /** See ExecutionContext.reportReady: dropped once the attempt is being stopped or has settled. */
  reportReady(info?: ReadyInfo): void {
    if (this.settled || this.abortReason !== undefined || this.onReady === undefined) return;
    this.onReady(this.task, info);
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      // Read after an abort: the signal is born aborted, with the reason.
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  onResult(result: TaskResult): void {
    if (this.settled) return;
    if (this.abortReason) return this.settle(undefined, this.abortReason, false);
    // The Executor contract allows reporting failure as a resolved non-zero exit code.
    if (result.exitCode !== undefined && result.exitCode !== 0) {
      return this.settle(undefined, new ExecutionError(`Command failed with exit code ${result.exitCode}`, result), false);
    }
    this.settle(result, undefined, false);
  }

  /**
   * A result from an executor's execute(): anything at all. Held to the contract (see the file
   * comment) only when it still decides the outcome. The built-in function path reports through
   * onResult, its results being JSON-safe already.
   */
  onExecutorResult(value: unknown): void {
    if (this.settled) return;
    if (this.abortReason) return this.settle(undefined, this.abortReason, false);
    let result: TaskResult;
    try {
      result = toSafeResult(value, this.task.kind);
    } catch (err) {
      return this.settle(undefined, err, false);
    }
    this.onResult(result);
  }

  onResultSoon(result: TaskResult): void {
    this.soonResult = result;
    parkForReport(this);
  }

  /** Reports the result onResultSoon parked. */
  reportSoon(): void {
    const result = this.soonResult as TaskResult;
    this.soonResult = undefined;
    this.onResult(result);
  }

  onError(err: unknown, deferred = false): void {
    if (this.settled) return;
    if (this.abortReason) return this.settle(undefined, this.abortReason, deferred);
    // An executor's own timeout or cancellation keeps its meaning; anything else is a failed attempt.
    this.settle(undefined, keepsMeaning(err) ? err : withSafeResult(toExecutionError(err), this.task.kind), deferred);
  }

  abort(reason: OrchestratorError, settleMs: number): void {
    if (this.settled || this.abortReason) return;
    this.abortReason = reason;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    // The work sees its signal abort before anyone sees the attempt settle (a signal nobody has
    // read yet is made aborted when first read).
    if (this.controller !== undefined) this.controller.abort(reason);
    if (this.settleOnAbort) this.settle(undefined, reason, true);
    else if (!this.settled) this.abortTimer = this.clock.setTimeout(() => this.settle(undefined, reason, false), settleMs, true);
  }

  whenSettled(): Promise<void> {
    if (this.reported) return Promise.resolve();
    return new Promise((resolve) => (this.waiters ??= []).push(resolve));
  }

  /**
   * Decides the outcome. `deferred`: decided synchronously inside a caller (cancelTask, dispose, an
   * executor that threw), which must not see the outcome handled under its feet: it is reported in a
   * microtask, as a settled promise would have been.
   */
  private settle(result: TaskResult | undefined, error: unknown, deferred: boolean): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (this.abortTimer !== undefined) this.clock.clearTimeout(this.abortTimer);
    if (deferred) queueMicrotask(() => this.report(result, error));
    else this.report(result, error);
  }

  join(): void {
    this.registry.add(this, this.indexed);
  }

  private report(result: TaskResult | undefined, error: unknown): void {
    this.reported = true;
    this.registry.remove(this, this.indexed);
    this.done(result, error, this.task);
    const ws = this.waiters;
    if (ws) for (let i = 0; i < ws.length; i++) ws[i]!();
  }
}
