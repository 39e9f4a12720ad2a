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
// Whatever an executor hands back is held to the contract here, once for every kind: a result that
// is not an object (or cannot be read) fails the attempt, a missing one is `{}`, every field is made
// JSON-safe as the function kind's value is (a snapshot must always be buildable), and an execute()
// that throws or returns something other than a promise fails the attempt instead of the caller.
//
// Per-attempt cost on the no-timeout path: one object (the Attempt, which is also the executor's
// context); its AbortController is made only if someone reads the signal; no timer.
import { CancelledError, ExecutionError, IllegalTransitionError, OrchestratorError, TimeoutError, ValidationError, describeValue, fieldError } from '../model/errors';
import { toDisposable, type Disposable } from '../util/events';
import { BUILTIN_KINDS, type BuiltinKind, type HistoryEntry, type TaskRecord, type TaskResult, type TaskSpec, type TaskStatus } from '../model/model';
import { systemClock, type Clock, type ExecutionContext, type Executor } from '../ports';
import { FunctionExecutor, toExecutionError, toJsonSafe } from '../executors/functionExecutor';
import type { ProcessLedger } from '../executors/processLedger';
import { DEFAULT_KILL_GRACE_MS, ShellExecutor } from '../executors/shellExecutor';

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

/**
 * How an attempt reports its outcome: exactly once, `error` undefined on success. A callback, not a
 * promise: an attempt allocates no promise or closure of its own (bench row 1, the full lifecycle,
 * measures this; the figures are in docs/performance.md).
 */
export type AttemptCallback = (result: TaskResult | undefined, error: unknown, task: TaskRecord) => void;

/**
 * Attempts whose work finished inside the call that started it (a `function` task's synchronous
 * `run`), reported together in the next microtask, in order: the same timing as a microtask each,
 * without a closure each. Attempts parked while a batch is being reported go to the next batch (its
 * own microtask, so other promise callbacks still interleave, and a batch never holds more than
 * what finished before it began). Two arrays take turns, so a batch allocates nothing.
 */
let soon: Attempt[] = [];
let spare: Attempt[] = [];
function flushSoon(): void {
  const batch = soon;
  soon = spare;
  for (let i = 0; i < batch.length; i++) {
    try {
      batch[i].reportSoon();
    } catch (err) {
      // As a throw inside its own microtask would have been: reported, and the others still run.
      queueMicrotask(() => {
        throw err;
      });
    }
  }
  batch.length = 0;
  spare = batch;
}

/** A running attempt as `startAttempt` hands it out: give it back to `cancelAttempt`. */
export interface AttemptHandle {
  readonly task: TaskRecord;
}

/**
 * Where the engine keeps its running attempts: all of them in a doubly linked list in start order
 * (O(1) in and out, no hashing), and those started by id (executeTask, runAttempt) also in a Map by
 * id, which refuses a second attempt of the same task. Attempts the orchestrator starts with
 * `startAttempt` are only in the list: it holds their handles and its lifecycle already allows one
 * attempt per task, so no Map entry is made or deleted per attempt (bench row 1).
 */
interface AttemptRegistry {
  readonly byId: Map<string, Attempt>;
  first: Attempt | undefined;
  last: Attempt | undefined;
  /** How many are in the list only: a lookup by id walks the list only when some are. */
  unindexed: number;
}

/**
 * One running attempt, and what its executor receives (the ExecutionContext). Plain fields and
 * prototype methods: one object per attempt, no closures. `signal` is a getter and the controller is
 * made on first read: work that never looks at its signal does not pay for an AbortController
 * (on Node 20 it costs more than the rest of a no-op attempt; bench row 1).
 */
class Attempt implements ExecutionContext {
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
  /** A result waiting in `soon` to be reported. */
  private soonResult: TaskResult | undefined = undefined;

  constructor(
    private readonly registry: AttemptRegistry,
    private readonly indexed: boolean,
    private readonly clock: Clock,
    private readonly settleOnAbort: boolean,
    readonly task: TaskRecord,
    readonly attempt: number,
    readonly onOutput: ((chunk: string) => void) | undefined,
    readonly run: TaskSpec['run'],
    private readonly done: AttemptCallback,
  ) {}

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
    soon.push(this);
    if (soon.length === 1) queueMicrotask(flushSoon);
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
    const reg = this.registry;
    this.prev = reg.last;
    if (reg.last === undefined) reg.first = this;
    else reg.last.next = this;
    reg.last = this;
    if (this.indexed) reg.byId.set(this.task.id, this);
    else reg.unindexed++;
  }

  private leave(): void {
    const reg = this.registry;
    if (this.prev === undefined) reg.first = this.next;
    else this.prev.next = this.next;
    if (this.next === undefined) reg.last = this.prev;
    else this.next.prev = this.prev;
    this.prev = this.next = undefined;
    if (this.indexed) reg.byId.delete(this.task.id);
    else reg.unindexed--;
  }

  private report(result: TaskResult | undefined, error: unknown): void {
    this.reported = true;
    this.leave();
    this.done(result, error, this.task);
    const ws = this.waiters;
    if (ws) for (let i = 0; i < ws.length; i++) ws[i]();
  }
}

export class TaskEngine {
  private readonly executors = new Map<string, Executor>();
  private readonly attempts: AttemptRegistry = { byId: new Map<string, Attempt>(), first: undefined, last: undefined, unindexed: 0 };
  private readonly clock: Clock;
  private readonly abortSettleMs: number;
  private readonly lookup: ((id: string) => TaskRecord | undefined) | undefined;
  private disposed = false;

  constructor(options: TaskEngineOptions = {}) {
    this.clock = options.clock ?? systemClock;
    const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    if (!(killGraceMs >= 0)) throw fieldError('killGraceMs', 'a non-negative number', killGraceMs);
    this.abortSettleMs = options.abortSettleMs ?? killGraceMs + 3000;
    this.lookup = options.lookup;
    const builtIn: Record<BuiltinKind, Executor> = { shell: new ShellExecutor({ killGraceMs, ledger: options.processLedger }), function: new FunctionExecutor() };
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
    this.launch(task, options?.attempt ?? (task.attempts > 0 ? task.attempts : 1), options?.timeoutMs ?? task.spec?.timeoutMs, options?.run, options?.onOutput, done, true);
  }

  /**
   * runAttempt for a caller that guarantees one attempt per task at a time (the orchestrator, whose
   * lifecycle does) and keeps the handle to cancel it with `cancelAttempt`: options as arguments (no
   * object per attempt), no index by id. `timeoutMs` as in ExecuteOptions. undefined when the attempt
   * could not start (disposed, unknown kind, bad timeout): `done` then reports why.
   */
  startAttempt(task: TaskRecord, attemptNo: number, timeoutMs: number | undefined, run: TaskSpec['run'], onOutput: ((chunk: string) => void) | undefined, done: AttemptCallback): AttemptHandle | undefined {
    return this.launch(task, attemptNo, timeoutMs, run, onOutput, done, false);
  }

  private launch(task: TaskRecord, attemptNo: number, timeoutMs: number | undefined, run: TaskSpec['run'], onOutput: ((chunk: string) => void) | undefined, done: AttemptCallback, indexed: boolean): Attempt | undefined {
    const fail = (error: unknown): undefined => void queueMicrotask(() => done(undefined, error, task));
    if (this.disposed) return fail(new OrchestratorError('DISPOSED', 'The task engine is disposed'));
    const executor = this.executors.get(task.kind);
    if (executor === undefined) {
      return fail(new ExecutionError(`No executor for kind \`${task.kind}\`; known kinds: ${this.kinds().join(', ')}`, undefined, 'UNKNOWN_KIND'));
    }
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
      return fail(fieldError('timeoutMs', 'a positive number', timeoutMs));
    }
    const attempt = new Attempt(this.attempts, indexed, this.clock, settlesOnAbort(executor), task, attemptNo, onOutput, run, done);
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

  /** The running attempt of a task, by id: the index, else a walk of the list (those startAttempt began). */
  private find(taskId: string): Attempt | undefined {
    const indexed = this.attempts.byId.get(taskId);
    if (indexed !== undefined || this.attempts.unindexed === 0) return indexed;
    for (let a = this.attempts.first; a !== undefined; a = a.next) if (a.task.id === taskId) return a;
    return undefined;
  }

  /** Running attempts in start order. */
  private list(): Attempt[] {
    const out: Attempt[] = [];
    for (let a = this.attempts.first; a !== undefined; a = a.next) out.push(a);
    return out;
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

/** The executor's `settleOnAbort`; false when it cannot be read (a revoked Proxy: its execute() then fails the attempt). */
function settlesOnAbort(executor: Executor): boolean {
  try {
    return executor.settleOnAbort === true;
  } catch {
    return false;
  }
}

/** A TimeoutError or CancelledError. False for anything else, a value whose `instanceof` throws included. */
function keepsMeaning(err: unknown): boolean {
  try {
    return err instanceof TimeoutError || err instanceof CancelledError;
  } catch {
    return false;
  }
}

/**
 * The failure with its result (which becomes the record's) held to the contract as a resolved one
 * is: an executor may reject with an ExecutionError carrying anything.
 */
function withSafeResult(err: ExecutionError, kind: string): ExecutionError {
  if (err.result === undefined) return err;
  let result: TaskResult | undefined;
  try {
    result = toSafeResult(err.result, kind);
  } catch {
    result = undefined;
  }
  const safe = new ExecutionError(err.message, result, err.errorCode);
  safe.cause = err.cause ?? err;
  if (err.stack !== undefined) safe.stack = err.stack;
  return safe;
}

/** What execute() returned, when not a native promise: a thenable adopted, anything else refused. */
function adopt(value: unknown, kind: string): Promise<unknown> {
  if (value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function') {
    return Promise.resolve(value);
  }
  throw new ExecutionError(`Expected the executor for kind \`${kind}\` to return a promise from execute(), got ${safeDescribe(value)}`);
}

/** The TaskResult an executor's resolved value stands for (see the file comment); throws ExecutionError when there is none. */
function toSafeResult(value: unknown, kind: string): TaskResult {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object') {
    throw new ExecutionError(`Expected the executor for kind \`${kind}\` to resolve a result object like \`{ exitCode, output, value }\` or nothing, got ${safeDescribe(value)}`);
  }
  try {
    const out: Record<string, unknown> = {};
    // Field by field: one unserialisable field is described, the others (exitCode, output) kept.
    for (const key of Object.keys(value)) {
      const field = toJsonSafe((value as Record<string, unknown>)[key]);
      if (field !== undefined) out[key] = field;
    }
    return out as TaskResult;
  } catch (err) {
    throw new ExecutionError(`The result of the executor for kind \`${kind}\` could not be read: ${toExecutionError(err).message}`);
  }
}

/** describeValue for a value that may throw on every read. */
function safeDescribe(value: unknown): string {
  try {
    return describeValue(value);
  } catch {
    return `a value of type ${typeof value} that cannot be read`;
  }
}

function checkExecutor(kind: string, executor: Executor): Executor {
  if (executor === null || typeof executor !== 'object' || typeof executor.execute !== 'function') {
    throw new ValidationError(`Expected the executor for kind \`${kind}\` to have an \`execute\` function, got ${describeValue(executor)}`, `executors.${kind}`);
  }
  return executor;
}
