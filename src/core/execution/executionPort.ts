// The execution port: the one seam between the dispatcher, which decides WHAT runs next (priority,
// pools, dependencies, slots), and an engine, which runs ONE attempt somewhere: "run this ready task
// and report its outcome; cancel it when asked". The local engine is one implementation
// (LocalExecution); workers on another machine are another. Every implementation passes the suite
// in test/support/executionConformance.ts.
//
// Contract, for every implementation:
//  - `start` begins one attempt and returns its handle, or undefined when it could not begin
//    (disposed, a kind nobody runs, a bad timeout); `done` then says why.
//  - `done` is called exactly once per `start`, never synchronously inside `start`, with
//      (result, undefined, task)        on success (result a JSON-safe TaskResult, `{}` if none);
//      (undefined, ExecutionError, task) when the work failed (a non-zero exit included);
//      (undefined, TimeoutError, task)   when `timeoutMs` (finite, > 0) passed first;
//      (undefined, CancelledError, task) after `cancel` or `dispose`.
//  - `cancel` stops the attempt and resolves once `done` has been called. An attempt whose work
//    never settles (a hung executor, a lost worker) still settles, CancelledError, within the
//    implementation's abort bound: a slot is never held forever.
//  - `dispose` cancels every running attempt and resolves once all have reported; a later `start`
//    reports an OrchestratorError with code DISPOSED.
//  - The caller starts at most one attempt per task at a time and keeps the handle.
// Nothing is allocated per attempt by the port itself: options are arguments and one `done`
// function serves every attempt (the task is its third argument), so a caller needs no closure.
import type { Disposable } from '../util/events';
import type { TaskRecord, TaskResult, TaskSpec } from '../model/model';
import type { Executor } from '../ports';

/** A running attempt as `start` hands it out: give it back to `cancel`. Opaque beyond its task. */
export interface ExecutionHandle {
  readonly task: TaskRecord;
}

/** How an attempt reports its outcome: exactly once, `error` undefined on success. */
export type OutcomeCallback = (result: TaskResult | undefined, error: unknown, task: TaskRecord) => void;

/** Live output of an attempt, as it comes. */
export type OutputCallback = (chunk: string) => void;

export interface ExecutionPort {
  /**
   * Runs attempt number `attempt` (1 for the first) of `task`, a record the caller owns and the
   * implementation only reads. `timeoutMs` absent, 0 or Infinity: no limit. `run` is a function
   * task's code (never persisted, so it travels beside the record).
   */
  start(
    task: TaskRecord,
    attempt: number,
    timeoutMs: number | undefined,
    run: TaskSpec['run'],
    onOutput: OutputCallback | undefined,
    done: OutcomeCallback,
  ): ExecutionHandle | undefined;
  /** Stops the attempt (its outcome becomes CancelledError) and resolves once it has been reported. */
  cancel(handle: ExecutionHandle, reason?: string): Promise<void>;
  /** Stops every running attempt and resolves once all have been reported; later starts fail. */
  dispose(): Promise<void>;
}

/** Which kinds an implementation runs, and how a kind is added. */
export interface ExecutorRegistry {
  /** Adds a kind; throws ValidationError if it is taken. Disposing removes it again. */
  registerExecutor(kind: string, executor: Executor): Disposable;
  hasExecutor(kind: string): boolean;
}

/** The arguments of ExecutionPort.start, for ports that take the same (RemoteExecution.resume). */
export type StartArgs = Parameters<ExecutionPort['start']>;

/** A port that may have `resume` (RemoteExecution.resume): an attempt an earlier session may have queued. */
export type MaybeResuming = ExecutionPort & { resume?(...args: StartArgs): ExecutionHandle | undefined };

/** The port's `resume` where it has one, else its `start`. */
export function resumeOrStart(port: MaybeResuming, ...args: StartArgs): ExecutionHandle | undefined {
  return port.resume ? port.resume(...args) : port.start(...args);
}
