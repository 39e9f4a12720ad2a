// TaskEngine: runs ONE attempt of a task through the executor of its kind, with a per-attempt timeout
// and cancellation, and reports the outcome. What runs and when, retries and lifecycle transitions
// belong to the orchestrator; the engine never touches a record.
//
// Outcome of an attempt, decided once:
//  - the executor resolves (exitCode absent or 0)    -> resolves with its TaskResult, made JSON-safe
//                                                       (nothing resolved: `{}`);
//  - the executor fails (rejects, or a non-zero exit) -> rejects with ExecutionError;
//  - the timeout expires                              -> rejects with TimeoutError;
//  - cancelTask / dispose                             -> rejects with CancelledError.
// On timeout and cancel the signal is aborted first. An executor with `settleOnAbort` (the built-in
// function kind) settles at once, whatever `run` does; any other settles when its execute() does (the
// shell executor: once the process tree is gone) or after `abortSettleMs`, whichever comes first, so
// an executor that ignores its signal cannot hold a slot forever.
//
// Whatever an executor hands back is held to the contract once for every kind (executorContract.ts).
// One running attempt is an Attempt (attempt.ts); the running ones are in an AttemptRegistry.
//
// Per-attempt cost on the no-timeout path: one object (the Attempt, which is also the executor's
// context); its AbortController is made only if someone reads the signal; no timer.
import { CancelledError, ExecutionError, IllegalTransitionError, OrchestratorError, TimeoutError, ValidationError, fieldError } from '../model/errors';
import { toDisposable, type Disposable } from '../util/events';
import { BUILTIN_KINDS, type BuiltinKind, type HistoryEntry, type TaskRecord, type TaskResult, type TaskSpec, type TaskStatus } from '../model/model';
import { systemClock, type Clock, type Executor } from '../ports';
import { FunctionExecutor } from '../executors/functionExecutor';
import type { ProcessLedger } from '../executors/processLedger';
import { DEFAULT_KILL_GRACE_MS, ShellExecutor } from '../executors/shellExecutor';
import { Attempt, type AttemptCallback, type ReadyCallback } from './attempt';
import { AttemptRegistry } from './attemptRegistry';
import { adopt, checkExecutor, settlesOnAbort } from './executorContract';

export interface TaskEngineOptions {
  /** Extra kinds by name; an entry named `shell` or `function` replaces the built-in one. */
  executors?: Record<string, Executor>;
  /** Timers for timeouts and the abort bound. Default: the system clock. */
  clock?: Clock;
  /** SIGTERM-to-SIGKILL grace for the shell executor. Default 2000 ms. */
  killGraceMs?: number;
  /**
   * After aborting an attempt, how long to wait for its executor to settle before settling anyway.
   * Default: killGraceMs + 3000 ms, enough for the shell executor to finish its SIGKILL round.
   */
  abortSettleMs?: number;
  /** Where the shell executor records its running process trees, for the next session to stop after a crash. */
  processLedger?: ProcessLedger;
  /** The orchestrator's records, for getTaskStatus and getTaskHistory. */
  lookup?: (id: string) => TaskRecord | undefined;
  /** Where every attempt's ExecutionContext.reportReady goes (the orchestrator's services). Absent: dropped. */
  onReady?: ReadyCallback;
}

export interface ExecuteOptions {
  /** 1 for the first attempt. Default: task.attempts, or 1. */
  attempt?: number;
  /** Per-attempt limit. Default: task.spec.timeoutMs. Absent, 0 or Infinity: no limit and no timer. */
  timeoutMs?: number;
  /** The spec's `run` for function tasks (it is never stored in the record). */
  run?: TaskSpec['run'];
  /** Live output of the attempt. */
  onOutput?: (chunk: string) => void;
}
/** A running attempt as `startAttempt` hands it out: give it back to `cancelAttempt`. */
export interface AttemptHandle {
  readonly task: TaskRecord;
}

export class TaskEngine {
  private readonly executors = new Map<string, Executor>();
  private readonly attempts = new AttemptRegistry<Attempt>();
  private readonly clock: Clock;
  private readonly abortSettleMs: number;
  private readonly lookup: ((id: string) => TaskRecord | undefined) | undefined;
  private readonly onReady: ReadyCallback | undefined;
  private disposed = false;

  constructor(options: TaskEngineOptions = {}) {
    this.clock = options.clock ?? systemClock;
    const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    if (!(killGraceMs >= 0)) throw fieldError('killGraceMs', 'a non-negative number', killGraceMs);
    this.abortSettleMs = options.abortSettleMs ?? killGraceMs + 3000;
    this.lookup = options.lookup;
    this.onReady = options.onReady;
    const builtIn: Record<BuiltinKind, Executor> = {
      shell: new ShellExecutor({ killGraceMs, ledger: options.processLedger }),
      function: new FunctionExecutor(),
    };
    for (const kind of BUILTIN_KINDS) this.executors.set(kind, builtIn[kind]);
    for (const [kind, executor] of Object.entries(options.executors ?? {})) this.executors.set(kind, checkExecutor(kind, executor));
  }

  /**
   * Runs one attempt of `task` through the executor of `task.kind`. See the file comment for the outcomes.
   * Rejects with IllegalTransitionError if an attempt of the same task is already running here.
   */
  executeTask(task: TaskRecord, options?: ExecuteOptions): Promise<TaskResult> {
    return new Promise<TaskResult>((resolve, reject) => {
      this.runAttempt(task, options, (result, error) => (error === undefined ? resolve(result as TaskResult) : reject(error)));
    });
  }

  /**
   * executeTask without the promise: `done` is called once with the outcome (see AttemptCallback),
   * never synchronously inside this call. For the orchestrator's hot path.
   */
  runAttempt(task: TaskRecord, options: ExecuteOptions | undefined, done: AttemptCallback): void {
    const id = task.id;
    if (this.find(id) !== undefined) {
      queueMicrotask(() => done(undefined, new IllegalTransitionError(id, 'running', 'running', 'an attempt is already running'), task));
      return;
    }
    this.launch(
      task,
      options?.attempt ?? (task.attempts > 0 ? task.attempts : 1),
      options?.timeoutMs ?? task.spec?.timeoutMs,
      options?.run,
      options?.onOutput,
      done,
      true,
    );
  }

  /**
   * runAttempt for a caller that guarantees one attempt per task at a time (the orchestrator, whose
   * lifecycle does) and keeps the handle to cancel it with `cancelAttempt`: options as arguments (no
   * object per attempt), no index by id. `timeoutMs` as in ExecuteOptions. undefined when the attempt
   * could not start (disposed, unknown kind, bad timeout): `done` then reports why.
   */
  startAttempt(
    task: TaskRecord,
    attemptNo: number,
    timeoutMs: number | undefined,
    run: TaskSpec['run'],
    onOutput: ((chunk: string) => void) | undefined,
    done: AttemptCallback,
  ): AttemptHandle | undefined {
    return this.launch(task, attemptNo, timeoutMs, run, onOutput, done, false);
  }

  private launch(
    task: TaskRecord,
    attemptNo: number,
    timeoutMs: number | undefined,
    run: TaskSpec['run'],
    onOutput: ((chunk: string) => void) | undefined,
    done: AttemptCallback,
    indexed: boolean,
  ): Attempt | undefined {
    const fail = (error: unknown): undefined => void queueMicrotask(() => done(undefined, error, task));
    if (this.disposed) return fail(new OrchestratorError('DISPOSED', 'The task engine is disposed'));
    const executor = this.executors.get(task.kind);
    if (executor === undefined) {
      return fail(new ExecutionError(`No executor for kind \`${task.kind}\`; known kinds: ${this.kinds().join(', ')}`, undefined, 'UNKNOWN_KIND'));
    }
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
      return fail(fieldError('timeoutMs', 'a positive number', timeoutMs));
    }
    const attempt = new Attempt(this.attempts, indexed, this.clock, settlesOnAbort(executor), task, attemptNo, onOutput, run, done, this.onReady);
    attempt.join();
    // No timer at all without a finite limit: an attempt without a timeout arms nothing.
    if (timeoutMs !== undefined && timeoutMs > 0 && timeoutMs !== Infinity) {
      // keepAlive: the timeout is what ends an attempt whose work holds nothing else alive.
      attempt.timer = this.clock.setTimeout(() => attempt.abort(new TimeoutError(timeoutMs), this.abortSettleMs), timeoutMs, true);
    }
    let pending: PromiseLike<unknown>;
    try {
      if (executor instanceof FunctionExecutor) {
        // The built-in function kind reports straight to the attempt (see executeInto). A subclass
        // that overrides execute() keeps the generic path.
        if (executor.execute === FunctionExecutor.prototype.execute) {
          // It throws only before reporting (a `run` result whose `then` cannot be read, say).
          executor.executeInto(attempt, attempt, attempt);
          return attempt;
        }
      }
      pending = executor.execute(attempt);
      // A foreign thenable is adopted: one that calls back synchronously or twice cannot report
      // inside this call or more than once. Reading its `then` may throw: caught below.
      if (!(pending instanceof Promise)) pending = adopt(pending, task.kind);
    } catch (err) {
      // An executor that throws instead of rejecting still yields a settled attempt.
      attempt.onError(err, true);
      return attempt;
    }
    pending.then(
      (r) => attempt.onExecutorResult(r),
      (e: unknown) => attempt.onError(e),
    );
    return attempt;
  }

  /** Aborts an attempt `startAttempt` handed out and resolves once it has settled. */
  cancelAttempt(handle: AttemptHandle, reason?: string): Promise<void> {
    const attempt = handle as Attempt;
    attempt.abort(new CancelledError(reason ?? 'Cancelled'), this.abortSettleMs);
    return attempt.whenSettled();
  }

  private find(taskId: string): Attempt | undefined {
    return this.attempts.find(taskId);
  }

  private list(): Attempt[] {
    return this.attempts.list();
  }

  /** Aborts the running attempt of `taskId` and resolves once it has settled. A no-op for a task not running. */
  cancelTask(taskId: string, reason?: string): Promise<void> {
    const attempt = this.find(taskId);
    if (attempt === undefined) return Promise.resolve();
    attempt.abort(new CancelledError(reason ?? 'Cancelled'), this.abortSettleMs);
    return attempt.whenSettled();
  }

  /** The task's status from the orchestrator's records; `running` for an attempt running here that no record knows. */
  getTaskStatus(taskId: string): TaskStatus | undefined {
    const record = this.lookup?.(taskId);
    if (record) return record.status;
    return this.find(taskId) !== undefined ? 'running' : undefined;
  }

  /** The task's transitions, oldest first (a copy). Empty for an unknown task. */
  getTaskHistory(taskId: string): HistoryEntry[] {
    const record = this.lookup?.(taskId);
    return record ? record.history.slice() : [];
  }

  /** Adds a kind. Throws ValidationError if the kind is taken; disposing removes it (if still the same executor). */
  registerExecutor(kind: string, executor: Executor): Disposable {
    if (typeof kind !== 'string' || kind === '') throw fieldError('kind', 'a non-empty string', kind);
    if (this.executors.has(kind)) throw new ValidationError(`An executor for kind \`${kind}\` is already registered`, 'kind');
    this.executors.set(kind, checkExecutor(kind, executor));
    return toDisposable(() => {
      if (this.executors.get(kind) === executor) this.executors.delete(kind);
    });
  }

  hasExecutor(kind: string): boolean {
    return this.executors.has(kind);
  }

  /** The executor of `kind`, for an executor that runs its work through another kind (the CLI's tasks.json steps through `shell`). */
  executorOf(kind: string): Executor | undefined {
    return this.executors.get(kind);
  }

  kinds(): string[] {
    return [...this.executors.keys()];
  }

  /** Ids of the tasks with an attempt running, in start order. */
  running(): string[] {
    return this.list().map((a) => a.task.id);
  }

  isRunning(taskId: string): boolean {
    return this.find(taskId) !== undefined;
  }

  /** Aborts every running attempt (CancelledError) and resolves once all have settled. Later executeTask calls reject with DISPOSED. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const attempts = this.list();
    for (const a of attempts) a.abort(new CancelledError('The task engine was disposed'), this.abortSettleMs);
    await Promise.all(attempts.map((a) => a.whenSettled()));
  }
}
