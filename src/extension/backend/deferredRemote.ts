// The remote execution port the orchestrator is built with when the backend is `redis`, before the
// backend has connected (and after, as a pass-through). The orchestrator takes its remote port once,
// at creation, while reaching Redis may take a while or fail: this port exists from the start and
// forwards to the real one once it is attached. Invariants:
//  - an attempt started before `attach` is held, not lost, and forwarded in start order on attach;
//    cancelled while held, it reports CancelledError without ever reaching the backend;
//  - every `start` gets exactly one `done`, never synchronously inside `start` (the port contract);
//  - `kinds` is fixed at construction and the attached port must run the same kinds;
//  - it is unavailable until attached and then while the backend says so, so the orchestrator holds
//    dispatch meanwhile and ready tasks wait in Scheduled;
//  - its `slots` are 0 until attached, then the backend's; on attach the slots are told before the
//    availability, so held tasks start under the fleet's whole limit (an automatic concurrency);
//  - the backend's readiness reports (`onReady`), workers' names (`onWorker`) and starts
//    (`onStarted`) reach whatever callback this port has when they come;
//  - `startsLater` is fixed at construction: the backend it stands for queues its attempts;
//  - a held `resume` is forwarded as a resume (the backend's, or a start where it has none).
import { CancelledError, ExecutionError, OrchestratorError } from '../../core/model/errors';
import type { TaskRecord, TaskSpec } from '../../core/model/model';
import { resumeOrStart, type ExecutionHandle, type OutcomeCallback, type OutputCallback, type StartArgs } from '../../core/execution/executionPort';
import type { RemoteExecution } from '../../core/execution/routedExecution';
import { Emitter, type Disposable } from '../../core/util/events';

interface HeldAttempt extends ExecutionHandle {
  readonly attempt: number;
  readonly timeoutMs: number | undefined;
  readonly run: TaskSpec['run'];
  readonly onOutput: OutputCallback | undefined;
  readonly done: OutcomeCallback;
  /** The backend's handle once forwarded; undefined while held (or when the backend refused it). */
  forwarded?: ExecutionHandle;
  /** An attempt of an earlier session to follow again (reattach), not to start. */
  readonly reattach?: true;
  /** An attempt an earlier session may have queued already (RemoteExecution.resume). */
  readonly resume?: true;
}

export class DeferredRemote implements RemoteExecution {
  readonly kinds: ReadonlySet<string>;
  private target: RemoteExecution | undefined;
  /** Attempts started before attach, in start order. */
  private held: HeldAttempt[] = [];
  /** Every handle this port made itself (held, then perhaps forwarded), as opposed to the backend's own. */
  private readonly ours = new WeakSet<ExecutionHandle>();
  private disposed = false;
  private readonly availability = new Emitter<boolean>();
  private readonly slotChanges = new Emitter<number>();
  /** Subscriptions to the attached backend's availability and slots. */
  private followed: Disposable[] = [];
  /** See RemoteExecution.onReady: set by the orchestrator; the attached backend reports through it. */
  onReady: RemoteExecution['onReady'];
  /** See RemoteExecution.onWorker: as onReady. */
  onWorker: RemoteExecution['onWorker'];
  /** See RemoteExecution.onStarted: as onReady. */
  onStarted: RemoteExecution['onStarted'];
  /** See RemoteExecution.startsLater: what the backend this port stands for does. */
  readonly startsLater: boolean;

  constructor(kinds: Iterable<string>, options: { startsLater?: boolean } = {}) {
    this.kinds = new Set(kinds);
    this.startsLater = options.startsLater === true;
  }

  /** Whether the real port is attached. */
  get attached(): boolean {
    return this.target !== undefined;
  }

  /** Available once a backend is attached and while it says so: until then ready tasks wait in Scheduled. */
  get available(): boolean {
    return this.target !== undefined && this.target.available !== false;
  }

  onDidChangeAvailability(listener: (available: boolean) => void): Disposable {
    return this.availability.event(listener);
  }

  /** The attached backend's slots (RemoteExecution.slots); 0 before. */
  get slots(): number {
    return this.target?.slots ?? 0;
  }

  onDidChangeSlots(listener: (slots: number) => void): Disposable {
    return this.slotChanges.event(listener);
  }

  /** Attempts waiting for the backend. */
  get waiting(): number {
    return this.held.length;
  }

  /**
   * Hands every held attempt (and every later one) to `target`. Throws if it runs other kinds. A
   * backend that arrives after dispose has nothing to serve: it is disposed in turn.
   */
  attach(target: RemoteExecution): void {
    if (this.disposed) {
      void target.dispose();
      return;
    }
    if (this.target) throw new OrchestratorError('VALIDATION', 'A backend is attached already');
    const missing = [...this.kinds].filter((k) => !target.kinds.has(k));
    if (missing.length)
      throw new OrchestratorError('VALIDATION', `Expected the backend to run the kinds ${[...this.kinds].join(', ')}; it lacks ${missing.join(', ')}`);
    this.target = target;
    target.onReady = (task, info) => this.onReady?.(task, info);
    target.onWorker = (task, worker) => this.onWorker?.(task, worker);
    target.onStarted = (task) => this.onStarted?.(task);
    const slots = target.onDidChangeSlots?.((n) => this.slotChanges.fire(n));
    const availability = target.onDidChangeAvailability?.((available) => this.availability.fire(available));
    this.followed = [slots, availability].filter((d): d is Disposable => d !== undefined);
    if (this.slots > 0) this.slotChanges.fire(this.slots);
    this.availability.fire(this.available);
    const held = this.held;
    this.held = [];
    for (const h of held) {
      const args = [h.task, h.attempt, h.timeoutMs, h.run, h.onOutput, h.done] as const;
      h.forwarded = h.reattach
        ? this.forwardReattach(target, h.task, h.attempt, h.onOutput, h.done)
        : h.resume
          ? resumeOrStart(target, ...args)
          : target.start(...args);
    }
  }

  private forwardReattach(
    target: RemoteExecution,
    task: TaskRecord,
    attempt: number,
    onOutput: OutputCallback | undefined,
    done: OutcomeCallback,
  ): ExecutionHandle | undefined {
    if (target.reattach) return target.reattach(task, attempt, onOutput, done);
    queueMicrotask(() => done(undefined, new ExecutionError('interrupted: the backend cannot follow an earlier attempt', undefined, 'INTERRUPTED'), task));
    return undefined;
  }

  /** Follows an attempt of an earlier session: held like a start until the backend is attached. */
  reattach(task: TaskRecord, attempt: number, onOutput: OutputCallback | undefined, done: OutcomeCallback): ExecutionHandle | undefined {
    if (this.disposed) {
      queueMicrotask(() => done(undefined, new OrchestratorError('DISPOSED', 'The execution port was disposed'), task));
      return undefined;
    }
    if (this.target) return this.forwardReattach(this.target, task, attempt, onOutput, done);
    const held: HeldAttempt = { task, attempt, timeoutMs: undefined, run: undefined, onOutput, done, reattach: true };
    this.held.push(held);
    this.ours.add(held);
    return held;
  }

  /**
   * Lets the backend's attempts go on for a later session to reattach (a window reload). Attempts
   * held for a start are cancelled (they never began); held re-attachments are simply let go.
   */
  async detach(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.followed.splice(0)) d.dispose();
    const held = this.held;
    this.held = [];
    await Promise.resolve();
    for (const h of held) if (!h.reattach) h.done(undefined, new CancelledError('The orchestrator is shutting down'), h.task);
    const target = this.target;
    if (target) await (target.detach ? target.detach() : target.dispose());
  }

  start(
    task: TaskRecord,
    attempt: number,
    timeoutMs: number | undefined,
    run: TaskSpec['run'],
    onOutput: OutputCallback | undefined,
    done: OutcomeCallback,
  ): ExecutionHandle | undefined {
    return this.startOrResume(false, task, attempt, timeoutMs, run, onOutput, done);
  }

  /** See RemoteExecution.resume: held like a start until the backend is attached, then the backend's resume. */
  resume(...args: StartArgs): ExecutionHandle | undefined {
    return this.startOrResume(true, ...args);
  }

  private startOrResume(resume: boolean, ...args: StartArgs): ExecutionHandle | undefined {
    const [task, attempt, timeoutMs, run, onOutput, done] = args;
    if (this.disposed) {
      queueMicrotask(() => done(undefined, new OrchestratorError('DISPOSED', 'The execution port was disposed'), task));
      return undefined;
    }
    const target = this.target;
    if (target) return resume ? resumeOrStart(target, ...args) : target.start(...args);
    if (!this.kinds.has(task.kind)) {
      queueMicrotask(() => done(undefined, new ExecutionError(`No worker runs tasks of kind \`${task.kind}\``), task));
      return undefined;
    }
    const held: HeldAttempt = { task, attempt, timeoutMs, run, onOutput, done, ...(resume ? { resume: true as const } : {}) };
    this.held.push(held);
    this.ours.add(held);
    return held;
  }

  async cancel(handle: ExecutionHandle, reason?: string): Promise<void> {
    const index = this.held.indexOf(handle as HeldAttempt);
    if (index >= 0) {
      const [held] = this.held.splice(index, 1);
      await Promise.resolve();
      held!.done(undefined, new CancelledError(reason), held!.task);
      return;
    }
    if (this.ours.has(handle)) {
      // Forwarded: the backend's handle. Not forwarded: the backend refused it and has reported already.
      const forwarded = (handle as HeldAttempt).forwarded;
      if (forwarded) await this.target?.cancel(forwarded, reason);
      return;
    }
    await this.target?.cancel(handle, reason);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.followed.splice(0)) d.dispose();
    const held = this.held;
    this.held = [];
    await Promise.resolve();
    for (const h of held) h.done(undefined, new CancelledError('The orchestrator is shutting down'), h.task);
    await this.target?.dispose();
  }
}
