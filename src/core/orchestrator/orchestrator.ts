// The Orchestrator (the seed's name): a facade over modules with one job each. A task goes
// admission (validate, refuse, fill defaults, create) -> dispatcher (gate on dependencies, ready
// queue, slots and pools, start through the execution port) -> outcomes (complete, retry, fail,
// cancel, cascade) -> eviction (finished records beyond maxFinished leave memory). Recovery decides
// what a restored snapshot's unfinished tasks become. This file holds the public methods, the wiring
// and the events.
//
// Data flows one way: nothing but the lifecycle mutates a record, and every transition comes back
// here (onTransition) to be handed to the StateCoordinator (which coalesces writes), published on
// the queue (`task.<event>`) and fired on onDidChangeTask. Listeners run after the state change is
// complete and may call back (schedule, cancel): the dispatcher's loop is guarded against that.
//
// Per task, nothing scans the other tasks or allocates a closure: the record is found with no lookup
// by id, publishing to a topic nobody follows is a counter, and the monitor's record calls are O(1).
import { IllegalTransitionError, NotFoundError, OrchestratorError, ValidationError, fieldError } from '../model/errors';
import { Emitter, toDisposable, type Disposable, type Event } from '../util/events';
import { TaskEngine } from '../engine/engine';
import { LocalExecution } from '../execution/localExecution';
import { RoutedExecution } from '../execution/routedExecution';
import { holdWhileUnavailable, takeReports } from './remoteAvailability';
import { ConcurrencyLimit } from './concurrencyLimit';
import type { CachingExecution } from '../cache/cachingExecution';
import { innerExecution, withCache } from '../cache/cacheWiring';
import { ProcessLedger, reapOrphans } from '../executors/processLedger';
import { TaskLifecycleManager } from '../lifecycle/lifecycle';
import type { LifecycleEvent } from '../lifecycle/transition';
import { MessageQueue } from '../queue/messageQueue';
import { BUILTIN_KINDS, isFinished, type SystemStatus, type TaskError, type TaskRecord, type TaskSpec, type TaskStatus } from '../model/model';
import type { Orchestrator, OrchestratorOptions, OrchestratorWarning, OutputChunk, RetryOptions, WorkflowRunOptions } from './orchestratorTypes';
import { checkRetryOptions } from './failurePolicies';
import { PerformanceMonitor } from '../metrics/performanceMonitor';
import { MemoryStore, systemClock, type Executor, type Store } from '../ports';
import { runtimeOf, TaskRun } from './taskRun';
import { setAsideInvalidTasks } from '../state/restoreCheck';
import type { Snapshot } from '../state/snapshot';
import { loadSnapshot } from '../state/snapshotLoad';
import { StateCoordinator } from '../state/stateCoordinator';
import { checkConcurrency, checkMaxFinished, validateOrchestratorOptions } from './options';
import { validateResourceCapacities } from '../model/resourceCapacities';
import { Admission } from './admission';
import { Dispatcher } from './dispatcher';
import { DEFAULT_MAX_FINISHED, FinishedRecords } from './eviction';
import { Outcomes } from './outcomes';
import { restoreSnapshot } from './restore';
import { IdleWaiters } from './idle';
import { Warnings } from './warnings';
import { TaskEvents } from './taskEvents';
import { Services } from '../services/services';

export { DEFAULT_MAX_FINISHED };
export type { OutputChunk };
export type { TaskEventPayload } from './taskEvents';

export class OrchestratorImpl implements Orchestrator {
  private readonly alerts = new Warnings();
  /** Warnings from start-up (a corrupt snapshot, recovery) and later, the last 100. */
  readonly warnings: OrchestratorWarning[] = this.alerts.list;
  readonly lifecycle: TaskLifecycleManager;
  /** Runs attempts: the dispatcher reaches the engine only through this port (behind the cache, when configured). */
  readonly execution: LocalExecution | RoutedExecution | CachingExecution;
  /** The local engine behind `execution`, for the seed's Orchestrator interface. */
  readonly engine: TaskEngine;
  readonly queue: MessageQueue;
  readonly monitor: PerformanceMonitor;
  readonly state: StateCoordinator;

  private readonly dispatcher: Dispatcher;
  /** The dispatcher's limit from the concurrency setting, following a remote fleet's slots while automatic. */
  private readonly concurrency: ConcurrencyLimit;
  private readonly admission: Admission;
  private readonly outcomes: Outcomes;
  private readonly finished: FinishedRecords;
  private readonly events: TaskEvents;
  private readonly services: Services;
  /** Subscriptions to what the orchestrator was given (the remote backend's availability). */
  private readonly disposables: Disposable[] = [];
  private readonly idle: IdleWaiters;
  private disposed = false;

  // A listener that throws is reported on onDidWarn (LISTENER_FAILED).
  private readonly changeEmitter = new Emitter<TaskRecord>(this.alerts.listenerFailed);
  private readonly outputEmitter = new Emitter<OutputChunk>(this.alerts.listenerFailed);
  private readonly statusEmitter = new Emitter<void>(this.alerts.listenerFailed);
  readonly onDidChangeTask: Event<TaskRecord> = this.changeEmitter.event;
  readonly onDidWarn: Event<OrchestratorWarning> = this.alerts.event;
  /** Live output of running tasks (shell and executors that report it). */
  readonly onDidOutput: Event<OutputChunk> = this.outputEmitter.event;
  /** Something in getSystemStatus() may have changed (transitions, pause, settings). */
  readonly onDidChangeStatus: Event<void> = this.statusEmitter.event;

  /** Use createOrchestrator: it validates the options and restores the saved state. */
  constructor(options: ReturnType<typeof validateOrchestratorOptions>, store: Store) {
    const clock = options.clock ?? systemClock;
    this.lifecycle = new TaskLifecycleManager({
      clock,
      recordClass: TaskRun,
      onListenerError: this.alerts.listenerFailed,
      observer: (record, from, to, reason) => this.onTransition(record as TaskRecord, from, to, reason),
    });
    this.engine = new TaskEngine({
      executors: options.executors,
      clock,
      killGraceMs: options.killGraceMs,
      processLedger: new ProcessLedger(store),
      lookup: (id) => this.lifecycle.get(id) as TaskRecord | undefined,
      onReady: (task, info) => this.services.ready(task, info),
    });
    const local = new LocalExecution(this.engine);
    // A remote service's port or URL is probed on its worker, which reports Ready through the port; a
    // queued attempt is Running once a worker takes it (RemoteExecution.startsLater).
    if (options.remote)
      takeReports(options.remote, {
        ready: (task, info) => this.services.ready(task, info),
        worker: (task, worker) => this.workerKnown(task, worker),
        started: (task) => this.dispatcher.attemptStarted(task),
      });
    const routed = options.remote ? new RoutedExecution(local, options.remote) : local;
    this.execution = withCache(routed, options.cache, (id) => this.lifecycle.get(id) as TaskRecord | undefined, this.alerts.warn);
    this.queue = new MessageQueue({
      clock,
      onError: this.alerts.listenerFailed,
      // Every acknowledged message feeds the monitor's message rate (publish-to-ack latency).
      onAcknowledged: (id, _topic, latencyMs) => this.monitor.recordMessageProcessing(id, latencyMs),
    });
    const lc = this.lifecycle;
    this.monitor = new PerformanceMonitor({
      clock,
      pools: options.resources,
      // Pulled once per second and on reads, not pushed on each of a task's four transitions.
      queueDepthSource: { waiting: () => lc.countOf('created') + lc.countOf('scheduled'), running: () => lc.countOf('running') },
    });
    // A store of its own (none given, no archive) is never read again: nothing is saved to it.
    const saves = options.store !== undefined || options.archive !== undefined;
    this.state = new StateCoordinator({ store, saves, clock, archive: options.archive, pending: options.pending, onWarn: this.alerts.warn });
    this.concurrency = new ConcurrencyLimit(options.concurrency, options.remote, (limit) => {
      this.dispatcher.concurrency = limit;
      this.statusChanged();
      this.dispatcher.dispatch();
    });
    this.disposables.push(this.concurrency);
    this.dispatcher = new Dispatcher(lc, clock, this.execution, this.monitor, this.outputEmitter, {
      concurrency: this.concurrency.limit,
      resources: options.resources,
      agingMs: options.agingMs,
      paused: options.startPaused === true,
      kinds: [...BUILTIN_KINDS, ...Object.keys(options.executors), ...(options.remote?.kinds ?? [])],
      ...(routed instanceof RoutedExecution ? { startsLater: (t: Readonly<TaskRecord>) => routed.startsLater(t) } : {}),
    });
    this.finished = new FinishedRecords(lc, this.state, options.maxFinished ?? DEFAULT_MAX_FINISHED);
    const remotely = routed instanceof RoutedExecution ? (t: TaskRecord) => routed.runsRemotely(t) : undefined;
    this.services = new Services(lc, clock, this.dispatcher, this.execution, (r) => this.onTransition(r, 'running', 'running', undefined), remotely);
    this.outcomes = new Outcomes(lc, clock, this.monitor, this.dispatcher, this.finished, this.services);
    this.dispatcher.bind(this.outcomes, this.services);
    const defaults = { timeoutMs: options.defaultTimeoutMs, retries: options.defaultRetries ?? 0 };
    this.admission = new Admission(lc, clock, this.dispatcher, defaults, this.outcomes.runs, this.services);
    this.events = new TaskEvents(this.queue, clock, this.alerts.warn, this.alerts.listenerFailed);
    this.idle = new IdleWaiters(lc, clock);
    this.queue.onDidChange(() => this.state.markDirty());
    const availability = options.remote && holdWhileUnavailable(options.remote, this.dispatcher);
    if (availability) this.disposables.push(availability);
  }

  // ------------------------------------------------------------------ scheduling

  // Not `async`: a plain function returning a settled promise skips the async function's machinery;
  // a refusal still rejects, never throws.
  scheduleTask(spec: TaskSpec): Promise<string> {
    try {
      this.assertOpen();
      return Promise.resolve(this.admission.admitTask(spec));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Schedules a graph of specs named by `key`, all or nothing: every spec is validated and the graph
   * checked (unknown keys, cycles) before the first task is created. Returns ids in the given order.
   */
  async scheduleWorkflow(specs: TaskSpec[], options?: WorkflowRunOptions): Promise<string[]> {
    this.assertOpen();
    return this.admission.admitWorkflow(specs, options);
  }

  // ------------------------------------------------------------------ events

  private onTransition(record: TaskRecord, from: TaskStatus | undefined, to: TaskStatus, reason: string | undefined): void {
    // Marks the state dirty: the snapshot then also carries the topic counts the publish changes.
    this.state.taskChanged(record);
    this.services.transitioned(record, from, to);
    this.events.publish(record, from, to, reason);
    if (this.changeEmitter.hasListeners) this.changeEmitter.fire(record);
    if (this.statusEmitter.hasListeners) this.statusEmitter.fire();
    this.idle.check();
  }

  /** The remote backend names the worker running `task`'s attempt: the record says so (no lifecycle event). */
  private workerKnown(task: TaskRecord, worker: string): void {
    const held = this.lifecycle.get(task.id);
    // Another record than the one held (a stale or foreign one) is no attempt of ours.
    if (held !== task || !this.lifecycle.markWorker(held, worker)) return;
    this.state.taskChanged(held);
    if (this.changeEmitter.hasListeners) this.changeEmitter.fire(held as TaskRecord);
  }

  private statusChanged(): void {
    if (this.statusEmitter.hasListeners) this.statusEmitter.fire();
  }

  // ------------------------------------------------------------------ cancel, retry, remove

  async cancelTask(id: string, reason?: string): Promise<void> {
    this.assertOpen();
    checkId(id);
    if (reason !== undefined && typeof reason !== 'string') throw fieldError('reason', 'a string', reason);
    const record = this.lifecycle.get(id);
    if (!record) throw new NotFoundError('task', id);
    const why = reason ?? 'Cancelled';
    // A queued attempt (waiting in a remote queue, the task Scheduled) is stopped as a running one is.
    const status = record.status === 'scheduled' && runtimeOf(record).queued ? 'running' : record.status;
    switch (status) {
      case 'created':
      case 'scheduled':
        this.outcomes.cancelRetry(record);
        this.outcomes.cancelWaiting(id, why);
        this.dispatcher.dispatch();
        return;
      case 'running': {
        const rt = runtimeOf(record);
        rt.cancelReason ??= why;
        // Resolves once the attempt's outcome has been handled.
        if (rt.attemptHandle !== undefined) await this.execution.cancel(rt.attemptHandle, why);
        return;
      }
      default:
        throw new IllegalTransitionError(id, record.status, 'cancelled', 'it has already finished');
    }
  }

  async cancelAll(reason = 'Cancelled (all)'): Promise<number> {
    const ids: string[] = [];
    for (const r of this.lifecycle.values()) if (!isFinished(r.status)) ids.push(r.id);
    this.assertOpen();
    // Waiting tasks first, so none of them starts in a slot a cancelled running task frees. Held,
    // not paused: a task scheduled meanwhile queues and starts after, and a user's pause stays.
    const status = (id: string): TaskStatus => this.lifecycle.get(id)?.status ?? 'completed';
    this.dispatcher.holds++;
    try {
      await Promise.all(ids.map((id) => (status(id) === 'running' || isFinished(status(id)) ? undefined : this.cancelTask(id, reason))));
      await Promise.all(ids.map((id) => (status(id) === 'running' ? this.cancelTask(id, reason) : undefined)));
    } finally {
      this.dispatcher.holds--;
    }
    this.dispatcher.dispatch();
    return ids.length;
  }

  async retryTask(id: string, options?: RetryOptions): Promise<string> {
    this.assertOpen();
    checkId(id);
    const { noCache } = checkRetryOptions(options);
    const record = this.lifecycle.get(id);
    if (!record) throw new NotFoundError('task', id);
    if (record.status !== 'failed' && record.status !== 'cancelled' && !(noCache && record.status === 'completed')) {
      throw new IllegalTransitionError(id, record.status, 'retried', 'only a failed or cancelled task can be retried (or a completed one with `noCache`)');
    }
    return this.admission.admitTask(this.admission.respec(record), noCache);
  }

  async removeTask(id: string): Promise<void> {
    this.assertOpen();
    checkId(id);
    const record = this.lifecycle.get(id);
    if (!record) throw new NotFoundError('task', id);
    if (!isFinished(record.status)) throw new IllegalTransitionError(id, record.status, 'removed', 'cancel it first; only finished tasks can be removed');
    this.lifecycle.delete(id);
    this.state.markDirty();
    this.statusChanged();
  }

  async clearFinished(): Promise<number> {
    this.assertOpen();
    const ids: string[] = [];
    for (const r of this.lifecycle.values()) if (isFinished(r.status)) ids.push(r.id);
    for (const id of ids) this.lifecycle.delete(id);
    this.finished.clear();
    this.state.markDirty();
    this.statusChanged();
    return ids.length;
  }

  // ------------------------------------------------------------------ queries

  /** undefined for an unknown id, and for anything that is not a string: no task has it. */
  getTask(id: string): TaskRecord | undefined {
    if (typeof id !== 'string') return undefined;
    return this.lifecycle.get(id) as TaskRecord | undefined;
  }

  getTasks(): TaskRecord[] {
    return this.lifecycle.list() as TaskRecord[];
  }

  /** Unfinished tasks in dispatch order: running (by start), ready (by priority and age), retrying, waiting. */
  getTaskQueue(): TaskRecord[] {
    return this.dispatcher.queueOrder();
  }

  getSystemStatus(): SystemStatus {
    const d = this.dispatcher;
    return {
      counts: this.lifecycle.counts(),
      pools: d.pools.status(),
      concurrency: { limit: d.concurrency, running: d.running, ...this.concurrency.parts() },
      paused: d.paused,
      total: this.lifecycle.size,
    };
  }

  // ------------------------------------------------------------------ control

  get paused(): boolean {
    return this.dispatcher.paused;
  }

  /** Stops starting tasks; running ones go on. New tasks stay Created until resume. */
  pause(): void {
    this.assertOpen();
    if (this.dispatcher.paused) return;
    this.dispatcher.paused = true;
    this.state.markDirty();
    this.statusChanged();
  }

  resume(): void {
    this.assertOpen();
    if (!this.dispatcher.paused) return;
    this.dispatcher.paused = false;
    this.state.markDirty();
    this.dispatcher.resumeWaiting();
    this.statusChanged();
    this.dispatcher.dispatch();
  }

  /**
   * Resolves once nothing is Created, Scheduled or Running (at once if so now, and on dispose).
   * While it waits the host process is kept alive (Clock.hold): a plain Node program awaiting it
   * must not end because the only pending work waits on a timer or on work outside the process.
   */
  whenIdle(): Promise<void> {
    return this.idle.wait(this.disposed);
  }

  setMaxFinished(limit: number): void {
    this.assertOpen();
    this.finished.setLimit(checkMaxFinished(limit));
  }

  /** Tasks running at once; 0: automatic (one per CPU, plus a remote fleet's live slots: concurrencyLimit.ts). */
  setConcurrency(limit: number): void {
    this.assertOpen();
    this.concurrency.set(checkConcurrency(limit));
  }

  /**
   * Replaces the resource pools. Queued tasks whose demand can no longer ever be met (their pool was
   * removed or shrunk below their demand) are cancelled with a reason that says so.
   */
  setResources(resources: Record<string, number>): void {
    this.assertOpen();
    const next = validateResourceCapacities(resources);
    this.dispatcher.pools.setCapacities(next);
    this.admission.poolsChanged();
    this.dispatcher.cancelUnfit();
    this.statusChanged();
    this.dispatcher.dispatch();
  }

  registerExecutor(kind: string, executor: Executor): Disposable {
    this.assertOpen();
    const reg = this.execution.registerExecutor(kind, executor);
    this.dispatcher.kindAdded(kind);
    return toDisposable(() => {
      reg.dispose();
      if (!this.execution.hasExecutor(kind)) this.dispatcher.kinds.delete(kind);
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.dispatcher.closed = true;
    for (const d of this.disposables.splice(0)) d.dispose();
    for (const r of this.lifecycle.values()) this.outcomes.cancelRetry(r);
    // Running attempts are stopped; their records stay Running in the final snapshot, so the next
    // start applies the recovery policy to them, as after a crash.
    await this.execution.dispose();
    await this.state.close();
    this.queue.dispose();
    this.lifecycle.dispose();
    this.idle.release();
    this.changeEmitter.dispose();
    this.alerts.dispose();
    this.outputEmitter.dispose();
    this.statusEmitter.dispose();
  }

  // ------------------------------------------------------------------ restore

  /** Applies the recovery policy (recovery.ts) to a validated snapshot (restore.ts). Called once, before anything is scheduled. */
  restore(snapshot: Snapshot, rejected?: ReadonlyMap<string, TaskError>): void {
    const { dispatcher, lifecycle, services, outcomes, queue, finished, state } = this;
    const parts = { dispatcher, lifecycle, services, outcomes, queue, finished, state, routed: innerExecution(this.execution) };
    restoreSnapshot({ ...parts, warn: this.alerts.warn }, snapshot, rejected);
  }

  // ------------------------------------------------------------------ internals

  private assertOpen(): void {
    if (this.disposed) throw new OrchestratorError('DISPOSED', 'The orchestrator is disposed');
  }

  /** For the StateCoordinator: the transitions that may be asked for from outside. */
  async requestTransition(id: string, status: TaskStatus, reason: string | undefined): Promise<void> {
    this.assertOpen();
    checkId(id);
    const record = this.lifecycle.get(id);
    if (!record) throw new NotFoundError('task', id);
    if (status !== 'cancelled') {
      throw new ValidationError(`Only \`cancelled\` can be requested for a task; \`${status}\` is reached by running it`, 'status');
    }
    await this.cancelTask(id, reason);
  }
}

/** Refuses an id that is not a string, for the commands that name a task. */
function checkId(id: unknown): asserts id is string {
  if (typeof id !== 'string') throw fieldError('id', 'a task id string', id);
}

/**
 * Creates an orchestrator and restores it from the store before it resolves. Options are validated
 * (a ValidationError names the field); a saved state that does not validate is kept under a backup
 * key, reported on onDidWarn and as a warning in the returned `warnings`, and the orchestrator starts clean.
 */
export async function createOrchestrator(options?: OrchestratorOptions): Promise<OrchestratorImpl> {
  const valid = validateOrchestratorOptions(options);
  const store = valid.store ?? new MemoryStore();
  const clock = valid.clock ?? systemClock;
  const loaded = await loadSnapshot(store, clock, undefined, valid.pending);
  const orchestrator = new OrchestratorImpl(valid, store);
  const warnings = orchestrator.warnings;
  orchestrator.state.attach(
    {
      records: () => orchestrator.lifecycle.list() as TaskRecord[],
      getTask: (id) => orchestrator.getTask(id),
      queueSnapshot: () => orchestrator.queue.snapshot(),
      systemStatus: () => orchestrator.getSystemStatus(),
      paused: () => orchestrator.paused,
      requestTransition: (id, status, reason) => orchestrator.requestTransition(id, status, reason),
    },
    loaded.snapshot?.app,
  );
  if (loaded.warning) warnings.push(loaded.warning);
  if (loaded.holdWrites !== undefined) orchestrator.state.holdWrites(loaded.holdWrites);
  const aside = loaded.snapshot ? await setAsideInvalidTasks(loaded.snapshot, valid.resources, store, clock) : undefined;
  if (aside?.holdWrites !== undefined) orchestrator.state.holdWrites(aside.holdWrites);
  if (aside?.warning) warnings.push(aside.warning);
  // Trees a killed host left running are stopped before their tasks can run again.
  const reaped = await reapOrphans(store, { killGraceMs: valid.killGraceMs });
  if (reaped) warnings.push(reaped);
  if (loaded.snapshot) orchestrator.restore(loaded.snapshot, aside?.rejected);
  return orchestrator;
}

export type { LifecycleEvent };
