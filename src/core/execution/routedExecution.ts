// Two execution ports behind one: the kinds a remote backend runs (workers on other machines) go to
// it, every other kind to the local engine. The dispatcher still decides what runs next for both, so
// priorities, pools and dependencies hold across the fleet exactly as in one process; only where an
// attempt runs changes. Invariant: an attempt is cancelled through the port that started it, which
// its task's kind names (a task's kind never changes). Readiness of a remote service is watched
// where it runs for what only that machine can see (a port, a URL): the remote port reports it
// through `onReady`; an output pattern is still matched here, on the output it streams.
import type { Disposable } from '../util/events';
import type { TaskRecord, TaskSpec } from '../model/model';
import type { Executor, ReadyInfo } from '../ports';
import {
  resumeOrStart,
  type ExecutionHandle,
  type ExecutionPort,
  type ExecutorRegistry,
  type OutcomeCallback,
  type OutputCallback,
  type StartArgs,
} from './executionPort';
import type { LocalExecution } from './localExecution';

/** An execution port that runs its attempts elsewhere, for the kinds it names. */
export interface RemoteExecution extends ExecutionPort {
  /** The kinds sent to this port; fixed for its lifetime. */
  readonly kinds: ReadonlySet<string>;
  /**
   * False while the port cannot reach where its attempts run (its server is down, not yet
   * connected). The orchestrator then starts nothing new: ready tasks wait in Scheduled, in order,
   * and go once it is back. Absent: always available.
   */
  readonly available?: boolean;
  /** Fires with the new `available` on each change. Required with `available`. */
  onDidChangeAvailability?(listener: (available: boolean) => void): Disposable;
  /**
   * Attempts the fleet runs at once now: the sum of its live workers' concurrency (0 with none up).
   * An automatic concurrency (concurrencyLimit.ts) adds them to this machine's CPUs. Absent: unknown.
   */
  readonly slots?: number;
  /** Fires with the new `slots` on each change. Required with `slots`. */
  onDidChangeSlots?(listener: (slots: number) => void): Disposable;
  /**
   * Follows attempt `attempt` of `task`, started before this process (a reload, a crashed CLI), and
   * still running where the port runs it: reported through `done` as a `start` would be. Absent: a
   * restart fails or retries such a task by the recovery policy.
   */
  reattach?(task: TaskRecord, attempt: number, onOutput: OutputCallback | undefined, done: OutcomeCallback): ExecutionHandle | undefined;
  /** Lets every attempt go on without this process, for a later one to reattach; then as dispose. */
  detach?(): Promise<void>;
  /**
   * Set by the orchestrator that uses the port, before its first start: where an attempt's readiness
   * observed where it runs goes (a `readyWhen` port or HTTP probe there, an executor's reportReady),
   * with the record `start` or `reattach` was given. The port calls it only for a live attempt (not
   * yet reported), possibly more than once (an executor's later watch cycles). A port that never
   * calls it leaves such services to their readiness timeout.
   */
  onReady?: (task: TaskRecord, info: ReadyInfo | undefined) => void;
  /**
   * Set by the orchestrator, as onReady: where the name of the worker that runs an attempt goes once
   * the port knows it, with the record `start` or `reattach` was given, before that attempt's `done`.
   */
  onWorker?: (task: TaskRecord, worker: string) => void;
  /**
   * True: `start` puts an attempt in a queue, where it waits until a worker takes it. The port then
   * calls `onStarted`, and the orchestrator keeps the task Scheduled until that moment (or until its
   * outcome, for an attempt that never started: cancelled while queued). Absent: started at once.
   */
  readonly startsLater?: boolean;
  /**
   * Set by the orchestrator, as onReady: with `startsLater`, where the port tells that a worker took
   * the attempt of `task` (its record as `start` was given it): once per attempt, before its output,
   * its worker's name and its `done`.
   */
  onStarted?: (task: TaskRecord) => void;
  /**
   * As `start`, for an attempt an earlier session may have queued already (a task restored
   * Scheduled): a job of it still queued or running is followed, an outcome it had meanwhile is
   * reported, and only with neither is it queued. Absent: `start`.
   */
  resume?(...args: StartArgs): ExecutionHandle | undefined;
}

export class RoutedExecution implements ExecutionPort, ExecutorRegistry {
  constructor(
    readonly local: LocalExecution,
    readonly remote: RemoteExecution,
  ) {}

  /** Whether `task`'s attempts run on the remote port (its kind is one the remote names). */
  runsRemotely(task: Readonly<TaskRecord>): boolean {
    return this.remote.kinds.has(task.kind);
  }

  /** Whether `task`'s attempts wait in the remote's queue until a worker takes them (RemoteExecution.startsLater). */
  startsLater(task: Readonly<TaskRecord>): boolean {
    return this.remote.startsLater === true && this.runsRemotely(task);
  }

  /** A restored Scheduled task's attempt: the remote's `resume` (see RemoteExecution.resume) for its kinds, else `start`. */
  resume(...args: StartArgs): ExecutionHandle | undefined {
    return this.runsRemotely(args[0]) ? resumeOrStart(this.remote, ...args) : this.local.start(...args);
  }

  private portOf(task: TaskRecord): ExecutionPort {
    return this.runsRemotely(task) ? this.remote : this.local;
  }

  start(
    task: TaskRecord,
    attempt: number,
    timeoutMs: number | undefined,
    run: TaskSpec['run'],
    onOutput: OutputCallback | undefined,
    done: OutcomeCallback,
  ): ExecutionHandle | undefined {
    return this.portOf(task).start(task, attempt, timeoutMs, run, onOutput, done);
  }

  cancel(handle: ExecutionHandle, reason?: string): Promise<void> {
    return this.portOf(handle.task).cancel(handle, reason);
  }

  /**
   * Local attempts are stopped; remote ones are let go on their workers when the remote can be
   * re-attached (the records stay Running, and the next start follows them again), else stopped.
   */
  async dispose(): Promise<void> {
    const remote = this.remote;
    await Promise.all([remote.detach && remote.reattach ? remote.detach() : remote.dispose(), this.local.dispose()]);
  }

  /** Whether a Running record restored from a snapshot can be followed again instead of recovered. */
  canReattach(task: TaskRecord): boolean {
    return this.remote.kinds.has(task.kind) && this.remote.reattach !== undefined;
  }

  reattach(task: TaskRecord, attempt: number, onOutput: OutputCallback | undefined, done: OutcomeCallback): ExecutionHandle | undefined {
    return (this.remote.reattach as NonNullable<RemoteExecution['reattach']>).call(this.remote, task, attempt, onOutput, done);
  }

  /** Registered kinds run locally, unless the remote port names them: its kinds always go to it. */
  registerExecutor(kind: string, executor: Executor): Disposable {
    return this.local.registerExecutor(kind, executor);
  }

  hasExecutor(kind: string): boolean {
    return this.remote.kinds.has(kind) || this.local.hasExecutor(kind);
  }
}
