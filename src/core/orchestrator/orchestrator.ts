// The Orchestrator (the seed's name): validate -> create -> gate on dependencies -> schedule ->
// allocate -> run -> finish, with retries, cancellation cascades, pause, persistence and metrics.
//
// Data flows one way. A spec is validated (a refused spec changes nothing), becomes a record in
// Created through the lifecycle, and waits there for its dependencies (or while paused). Ready, it
// goes Scheduled into the ReadyQueue; `dispatch` starts the best task whose resources are free while
// a concurrency slot is free; the engine runs the attempt; the outcome is a lifecycle transition.
// Every transition is published on the queue (`task.<event>`), handed to the StateCoordinator (which
// coalesces writes) and fired on onDidChangeTask. Nothing else mutates a record.
//
// Re-entrance: listeners of onDidChangeTask run after the state change is complete and may call back
// (schedule, cancel). `dispatch` is guarded: a call made while it runs only asks its loop to go on.
//
// Hot path (100,000 tasks): validation copies the spec once, the lifecycle patches records in place,
// a task is one object (TaskRun: record, queue entry and runtime state) found with no lookup by id,
// publishing to a topic nobody follows is a counter, the monitor's record calls are O(1), and nothing
// per task scans the other tasks or allocates a closure.
import { BackpressureError, CancelledError, describeValue, ExecutionError, IllegalTransitionError, NotFoundError, OrchestratorError, TimeoutError, ValidationError } from '../model/errors';
import { Emitter, toDisposable, type Disposable, type Event } from '../util/events';
import { retryDelay } from '../util/backoff';
import { DependencyGraph } from '../scheduler/dependencyGraph';
import { TaskEngine } from '../engine/engine';
import { LocalExecution } from '../execution/localExecution';
import { ProcessLedger, reapOrphans } from '../executors/processLedger';
import { lastTransitionAt, TaskLifecycleManager, toTaskError, type LifecycleEvent } from '../lifecycle/lifecycle';
import { MessageQueue } from '../queue/messageQueue';
import { applySpecDefaults } from '../model/specDefaults';
import { BUILTIN_KINDS, isFinished, type SystemStatus, type TaskError, type TaskRecord, type TaskResult, type TaskSpec, type TaskStatus } from '../model/model';
import type { Orchestrator, OrchestratorOptions, OrchestratorWarning } from './orchestratorTypes';
import { PerformanceMonitor } from '../metrics/performanceMonitor';
import { MemoryStore, systemClock, type Clock, type Executor, type Store } from '../ports';
import { ReadyQueue } from '../scheduler/readyQueue';
import { runtimeOf, TaskRun } from './taskRun';
import { ResourcePools, type ResourceDemand } from '../scheduler/resourcePools';
import { checkRestoredTasks } from '../state/restoreCheck';
import { keepAside, loadSnapshot, SNAPSHOT_VERSION, STATE_KEY, StateCoordinator, type Snapshot } from '../state/stateCoordinator';
import { checkConcurrency, checkMaxFinished, validateOrchestratorOptions, validateResourceCapacities, validateSpec, validateWorkflow, type SpecContext, type ValidSpec } from '../model/validation';

/** Default number of finished records kept in memory; older ones go to the archive. */
export const DEFAULT_MAX_FINISHED = 10_000;
const DEFAULT_RETRY_DELAY_MS = 1000;

/** Topic of each lifecycle event: the status reached, or `task.retrying` for running -> scheduled. */
const TASK_TOPICS = ['task.created', 'task.scheduled', 'task.started', 'task.completed', 'task.failed', 'task.cancelled', 'task.retrying'] as const;
const TOPIC_INDEX: Readonly<Record<TaskStatus, number>> = { created: 0, scheduled: 1, running: 2, completed: 3, failed: 4, cancelled: 5 };
const RETRYING = 6;
/** A subscription too full to take lifecycle events is reported at most this often. */
const QUEUE_FULL_WARNING_INTERVAL_MS = 60_000;

/** The payload published on the `task.*` topics. Small and self-contained. */
export interface TaskEventPayload {
  taskId: string;
  name: string;
  kind: string;
  status: TaskStatus;
  from?: TaskStatus;
  attempts: number;
  at: number;
  reason?: string;
  error?: { message: string; code?: string };
  exitCode?: number;
}

/** For a spec without dependsOn: the lifecycle copies a non-empty list, so nothing writes to this. */
const NO_DEPS: readonly string[] = Object.freeze([]);

/** Events without fields are shared: the hot path allocates none. */
const SCHEDULE: LifecycleEvent = Object.freeze({ type: 'schedule' });
const START: LifecycleEvent = Object.freeze({ type: 'start' });
const RESUMED: LifecycleEvent = Object.freeze({ type: 'schedule', reason: 'Resumed' });

export interface OutputChunk {
  id: string;
  chunk: string;
}

export class OrchestratorImpl implements Orchestrator {
  /** Warnings from start-up (a corrupt snapshot, recovery) and later, the last 100. */
  readonly warnings: OrchestratorWarning[] = [];
  readonly lifecycle: TaskLifecycleManager;
  /** Runs attempts: the dispatcher reaches the engine only through this port. */
  readonly execution: LocalExecution;
  /** The local engine behind `execution`, for the seed's Orchestrator interface. */
  readonly engine: TaskEngine;
  readonly queue: MessageQueue;
  readonly monitor: PerformanceMonitor;
  readonly state: StateCoordinator;

  private readonly clock: Clock;
  private readonly pools: ResourcePools;
  private readonly ready: ReadyQueue<TaskRun>;
  private readonly deps = new DependencyGraph();
  /**
   * Finished records in the order they finished, for evicting the oldest beyond maxFinished. The
   * records themselves, not their ids: eviction then needs no lookup to find them.
   */
  private finishedOrder: TaskRecord[] = [];
  private finishedHead = 0;
  /** Restored tasks of a kind nobody has registered yet: they wait in Created for its executor. */
  private readonly awaitingKind = new Map<string, string[]>();
  private readonly kinds: Set<string>;
  private readonly specContext: SpecContext;
  private readonly idleWaiters: (() => void)[] = [];
  /** Per full subscription (topic and name): when it was last reported, and events dropped since. */
  private readonly fullSubscriptions = new Map<string, { at: number; dropped: number }>();
  private readonly completion: { type: 'complete'; result: TaskResult | undefined } = { type: 'complete', result: undefined };
  /** Per TASK_TOPICS entry: counts a publish there when nobody subscribes (see MessageQueue.quietCounter). */
  private readonly topicCounters: (() => boolean)[];

  private concurrency: number;
  private running = 0;
  /** The user's pause (pause/resume, startPaused, a restored pause): persisted and shown. */
  private isPaused = false;
  /**
   * Callers holding dispatch back for a moment (cancelAll while it stops running tasks). Unlike a
   * pause it leaves gating alone, so tasks scheduled meanwhile queue as usual and start after.
   */
  private dispatchHolds = 0;
  /** Releases the process hold taken while whenIdle waiters exist (see Clock.hold). */
  private releaseHold: (() => void) | undefined = undefined;
  private dispatching = false;
  private dispatchAgain = false;
  private disposed = false;
  private maxFinished: number;
  private readonly defaultTimeoutMs: number | undefined;
  private readonly defaultRetries: number;

  // A listener that throws is reported on onDidWarn (LISTENER_FAILED); one of onDidWarn itself only
  // in `warnings`, so a throwing warning listener cannot feed itself.
  private readonly changeEmitter = new Emitter<TaskRecord>((err) => this.warnListener(err));
  private readonly warnEmitter = new Emitter<OrchestratorWarning>((err) => this.keepWarning(listenerWarning(err)));
  private readonly outputEmitter = new Emitter<OutputChunk>((err) => this.warnListener(err));
  private readonly statusEmitter = new Emitter<void>((err) => this.warnListener(err));
  readonly onDidChangeTask: Event<TaskRecord> = this.changeEmitter.event;
  readonly onDidWarn: Event<OrchestratorWarning> = this.warnEmitter.event;
  /** Live output of running tasks (shell and executors that report it). */
  readonly onDidOutput: Event<OutputChunk> = this.outputEmitter.event;
  /** Something in getSystemStatus() may have changed (transitions, pause, settings). */
  readonly onDidChangeStatus: Event<void> = this.statusEmitter.event;

  /** Use createOrchestrator: it validates the options and restores the saved state. */
  constructor(options: ReturnType<typeof validateOrchestratorOptions>, store: Store) {
    this.clock = options.clock ?? systemClock;
    this.concurrency = options.concurrency;
    this.maxFinished = options.maxFinished ?? DEFAULT_MAX_FINISHED;
    this.isPaused = options.startPaused === true;
    this.defaultTimeoutMs = options.defaultTimeoutMs;
    this.defaultRetries = options.defaultRetries ?? 0;
    this.pools = new ResourcePools(options.resources);
    this.ready = new ReadyQueue<TaskRun>({ agingMs: options.agingMs, baseTime: this.clock.now() });
    this.lifecycle = new TaskLifecycleManager({
      clock: this.clock,
      recordClass: TaskRun,
      onListenerError: (err) => this.warnListener(err),
      observer: (record, from, to, reason) => this.onTransition(record as TaskRecord, from, to, reason),
    });
    this.engine = new TaskEngine({
      executors: options.executors,
      clock: this.clock,
      killGraceMs: options.killGraceMs,
      processLedger: new ProcessLedger(store),
      lookup: (id) => this.lifecycle.get(id) as TaskRecord | undefined,
    });
    this.execution = new LocalExecution(this.engine);
    this.kinds = new Set([...BUILTIN_KINDS, ...Object.keys(options.executors)]);
    this.queue = new MessageQueue({
      clock: this.clock,
      onError: (err) => this.warnListener(err),
      // Every acknowledged message feeds the monitor's message rate (publish-to-ack latency).
      onAcknowledged: (id, _topic, latencyMs) => this.monitor.recordMessageProcessing(id, latencyMs),
    });
    const lc = this.lifecycle;
    this.monitor = new PerformanceMonitor({
      clock: this.clock,
      pools: options.resources,
      // Pulled once per second and on reads, not pushed on each of a task's four transitions.
      queueDepthSource: { waiting: () => lc.countOf('created') + lc.countOf('scheduled'), running: () => lc.countOf('running') },
    });
    this.state = new StateCoordinator({
      store,
      clock: this.clock,
      archive: options.archive,
      onWarn: (w) => this.warn(w),
    });
    this.specContext = {
      kinds: this.kinds,
      pools: this.pools.capacities(),
      taskExists: (id) => this.lifecycle.has(id),
    };
    this.queue.onDidChange(() => this.state.markDirty());
    this.topicCounters = TASK_TOPICS.map((t) => this.queue.quietCounter(t));
  }

  // ------------------------------------------------------------------ scheduling

  // Not `async`: a plain function returning a settled promise skips the async function's machinery,
  // which was measurable at 100k calls; a refusal still rejects, never throws.
  scheduleTask(spec: TaskSpec): Promise<string> {
    try {
      this.assertOpen();
      const valid = validateSpec(spec, this.specContext);
      const refusal = valid.runAlways === true ? undefined : this.dependencyRefusal(valid.dependsOn, 'dependsOn');
      if (refusal) throw refusal;
      return Promise.resolve(this.admit(valid, spec.run, valid.dependsOn ?? NO_DEPS, undefined).id);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Schedules a graph of specs named by `key`, all or nothing: every spec is validated and the graph
   * checked (unknown keys, cycles) before the first task is created. Returns ids in the given order.
   */
  async scheduleWorkflow(specs: TaskSpec[]): Promise<string[]> {
    this.assertOpen();
    const workflow = validateWorkflow(specs, this.specContext);
    for (const entry of workflow.entries) {
      const refusal = entry.spec.runAlways === true ? undefined : this.dependencyRefusal(entry.dependsOnIds, `[${entry.index}].dependsOn`);
      if (refusal) throw refusal;
    }
    const workflowId = `wf-${this.clock.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const ids: string[] = new Array(workflow.entries.length);
    const byIndex: string[] = [];
    // Create in topological order, so a dependency exists (and is tracked) before its dependents.
    // Dispatch waits until all are created: a fast first task must not finish before its dependents
    // are registered as waiting for it.
    this.dispatching = true;
    try {
      for (let i = 0; i < workflow.entries.length; i++) {
        const entry = workflow.entries[i];
        const dependsOn = [...entry.dependsOnIndexes.map((j) => byIndex[j]), ...entry.dependsOnIds];
        const record = this.admit(entry.spec, specs[entry.index].run, dependsOn, workflowId);
        byIndex[i] = record.id;
        ids[entry.index] = record.id;
      }
    } finally {
      this.dispatching = false;
    }
    this.dispatch();
    return ids;
  }

  /** An existing dependency that already failed or was cancelled: the task (not runAlways) could never run. */
  private dependencyRefusal(deps: readonly string[] | undefined, field: string): ValidationError | undefined {
    if (!deps) return undefined;
    for (let i = 0; i < deps.length; i++) {
      const dep = this.lifecycle.get(deps[i]);
      if (dep && (dep.status === 'failed' || dep.status === 'cancelled')) {
        return new ValidationError(`Expected \`${field}[${i}]\` to name a task that can still complete, but \`${dep.name}\` (${dep.id}) is ${dep.status}`, `${field}[${i}]`);
      }
    }
    return undefined;
  }

  /** Creates the record and gates it. The spec is valid (`run` checked with it) and its dependencies exist. */
  private admit(spec: ValidSpec, run: TaskSpec['run'], dependsOn: readonly string[], workflowId: string | undefined): Readonly<TaskRecord> {
    const withDefaults = applySpecDefaults(spec, { timeoutMs: this.defaultTimeoutMs, retries: this.defaultRetries });
    const record = this.lifecycle.create(withDefaults, { dependsOn, workflowId, ownedSpec: true });
    runtimeOf(record).run = run;
    // Scheduled at its creation time: one clock read less per task.
    this.gate(record, record.createdAt);
    this.dispatch();
    return record;
  }

  /** A Created task: wait for dependencies, for the executor of its kind, or (paused) for resume; else schedule it. */
  /** `now`: the time, when the caller has just read the clock. */
  private gate(record: Readonly<TaskRecord>, now?: number): void {
    const deps = record.dependsOn;
    if (deps.length > 0) {
      const always = record.spec.runAlways === true;
      if (!this.deps.add(record.id, deps, always ? this.dependencyFinal : this.dependencyCompleted, always)) return;
    }
    if (!this.kinds.has(record.kind)) {
      const list = this.awaitingKind.get(record.kind);
      if (list) list.push(record.id);
      else this.awaitingKind.set(record.kind, [record.id]);
      return;
    }
    if (this.isPaused) return;
    const at = now ?? this.clock.now();
    this.lifecycle.applyTo(record, SCHEDULE, at);
    this.enqueue(record, at);
  }

  // What a dependency must be for a waiter to stop waiting for it; one function each, not a closure
  // per gate. A dependency no longer held (removed, evicted) finished long ago: nothing to wait for.
  private readonly dependencyCompleted = (id: string): boolean => {
    const dep = this.lifecycle.get(id);
    return dep === undefined || dep.status === 'completed';
  };
  private readonly dependencyFinal = (id: string): boolean => {
    const dep = this.lifecycle.get(id);
    return dep === undefined || isFinished(dep.status);
  };

  private enqueue(record: Readonly<TaskRecord>, at = this.clock.now()): void {
    const rt = runtimeOf(record);
    // Pools may have been removed or shrunk (setResources) while the task waited outside the queue
    // (for a dependency, a backoff, a resume, its kind): one that could never run is cancelled as
    // setResources cancels the queued ones, rather than waiting forever.
    if (rt.resources !== undefined) {
      const problem = this.pools.checkFits(rt.resources);
      if (problem !== undefined) return this.cancelWaiting(rt.id, `Cannot run any more: ${problem.message}`);
    }
    rt.enqueuedAt = at;
    this.ready.push(rt);
  }

  // ------------------------------------------------------------------ dispatch and outcomes

  private dispatch(): void {
    // No free slot: nothing could start now, and the slot's release calls dispatch again. (Also
    // right inside a dispatch loop: that loop checks the slots again after each start.)
    if (this.running >= this.concurrency) return;
    if (this.dispatching) {
      this.dispatchAgain = true;
      return;
    }
    if (this.isPaused || this.dispatchHolds > 0 || this.disposed) return;
    this.dispatching = true;
    try {
      do {
        this.dispatchAgain = false;
        while (this.running < this.concurrency) {
          const entry = this.ready.takeNext(this.pools, true);
          if (entry === undefined) break;
          this.start(entry);
        }
      } while (this.dispatchAgain && !this.isPaused && this.dispatchHolds === 0);
    } finally {
      this.dispatching = false;
    }
  }

  private start(rt: TaskRun): void {
    const id = rt.id;
    rt.heldUnits = rt.resources;
    this.running++;
    this.lifecycle.applyTo(rt, START);
    if (rt.resources) this.recordPools(rt.resources);
    const onOutput = this.outputEmitter.hasListeners ? (chunk: string) => this.outputEmitter.fire({ id, chunk }) : undefined;
    const handle = this.execution.start(rt, rt.attempts, rt.timeoutMs, rt.run, onOutput, this.attemptDone);
    rt.attemptHandle = handle;
    // A cancel asked for while the task turned Running (by an onDidChangeTask listener) found no
    // attempt to stop yet: it stops this one now, its signal aborted.
    if (rt.cancelReason !== undefined && handle !== undefined) void this.execution.cancel(handle, rt.cancelReason);
  }

  /** Every attempt's outcome comes here: one function for all, the task being an argument (no closure per attempt). */
  private readonly attemptDone = (result: TaskResult | undefined, err: unknown, task: TaskRecord): void => this.finishAttempt(task as TaskRun, result, err);

  private finishAttempt(rt: TaskRun, result: TaskResult | undefined, err: unknown): void {
    const record = rt;
    const id = record.id;
    // Unchanged since the attempt started: the next start sets them again.
    const startedAt = record.startedAt as number;
    const waitMs = startedAt - rt.enqueuedAt;
    this.running--;
    rt.attemptHandle = undefined;
    if (rt.heldUnits) {
      this.pools.release(rt.heldUnits);
      this.recordPools(rt.heldUnits);
      rt.heldUnits = undefined;
    }
    // Only a finished record can leave the lifecycle, so a record no longer held is not running either.
    // After dispose the attempt was stopped by the shutdown, not by the task: the record stays
    // Running in the final snapshot, and the next start applies the recovery policy to it, exactly
    // as after a crash (a window reload must not turn running work into "cancelled by the user").
    // A cancel asked for before the shutdown stands, though: that attempt was being stopped anyway.
    if (record.status !== 'running' || (this.disposed && rt.cancelReason === undefined)) {
      this.dispatch();
      return;
    }
    const now = this.clock.now();
    const duration = now - startedAt;
    if (err === undefined) {
      this.monitor.recordExecution(duration, 'completed', waitMs, now);
      // One event object for every completion: applyTo reads it before anything can re-enter here.
      const completion = this.completion;
      completion.result = result;
      this.lifecycle.applyTo(record, completion, now);
      completion.result = undefined;
      this.afterFinish(record, 'completed');
    } else if (rt.cancelReason !== undefined || err instanceof CancelledError) {
      this.monitor.recordExecution(duration, 'cancelled', waitMs, now);
      this.lifecycle.apply(id, { type: 'cancel', reason: rt.cancelReason ?? (err as Error).message });
      this.afterFinish(record, 'cancelled');
    } else {
      const error = toTaskError(err);
      const failed = err instanceof ExecutionError ? err.result : undefined;
      const retries = record.spec.retries ?? 0;
      if (record.attempts <= retries && !this.disposed) {
        this.monitor.recordExecution(duration, 'failed', waitMs, now);
        const delay = retryDelay(record.attempts, record.spec.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS);
        const why = err instanceof TimeoutError ? `timed out after ${err.timeoutMs} ms` : error.message;
        this.lifecycle.apply(id, {
          type: 'retry',
          reason: `Attempt ${record.attempts} of ${retries + 1} failed (${why}); retrying in ${Math.round(delay)} ms`,
          error,
          result: failed,
        });
        // keepAlive: the backoff is all that remains of this task's work until it fires.
        rt.retryTimer = this.clock.setTimeout(
          () => {
            rt.retryTimer = undefined;
            const now = this.lifecycle.get(id);
            if (now?.status !== 'scheduled') return;
            this.enqueue(now);
            this.dispatch();
          },
          delay,
          true,
        );
      } else {
        this.monitor.recordExecution(duration, 'failed', waitMs, now);
        this.lifecycle.apply(id, { type: 'fail', error, result: failed });
        this.afterFinish(record, 'failed');
      }
    }
    this.dispatch();
  }

  /** A task reached a final status: release its dependents or cancel them, forget its runtime. */
  private afterFinish(record: Readonly<TaskRecord>, status: 'completed' | 'failed' | 'cancelled'): void {
    const id = record.id;
    const rt = runtimeOf(record);
    if (rt.retryTimer !== undefined) this.clock.clearTimeout(rt.retryTimer);
    rt.retryTimer = undefined;
    if (status === 'completed') {
      const readyIds = this.deps.onCompleted(id);
      for (let i = 0; i < readyIds.length; i++) {
        const r = this.lifecycle.get(readyIds[i]);
        if (r && r.status === 'created') this.gate(r);
      }
    } else {
      const { cancelled, ready } = this.deps.onFailedOrCancelled(id);
      if (cancelled.length) {
        const cause = record;
        const reason = `Dependency \`${cause.name}\` (${cause.id}) ${status === 'failed' ? 'failed' : 'was cancelled'}`;
        for (const dep of cancelled) this.cancelWaiting(dep, reason);
      }
      // runAlways waiters the failure reached, after the cascade: each of their dependencies is final now.
      for (let i = 0; i < ready.length; i++) {
        const r = this.lifecycle.get(ready[i]);
        if (r && r.status === 'created') this.gate(r);
      }
    }
    this.noteFinished(record as TaskRecord);
  }

  /** Cancels a task that is not running (Created or Scheduled): nothing to stop, just forget it. */
  private cancelWaiting(id: string, reason: string): void {
    const record = this.lifecycle.get(id);
    if (!record || (record.status !== 'created' && record.status !== 'scheduled')) return;
    this.ready.remove(runtimeOf(record));
    this.deps.remove(id);
    this.dropAwaitingKind(record);
    this.lifecycle.applyTo(record, { type: 'cancel', reason });
    this.afterFinish(record, 'cancelled');
  }

  private noteFinished(record: TaskRecord): void {
    this.finishedOrder.push(record);
    if (this.finishedOrder.length - this.finishedHead > this.maxFinished) this.evictFinished();
  }

  /**
   * Keeps at most maxFinished finished records in memory; the oldest go to the archive. In steady
   * state this runs once per finished task and evicts one record: no array, one lookup, one delete.
   */
  private evictFinished(): void {
    while (this.finishedOrder.length - this.finishedHead > this.maxFinished) {
      const r = this.finishedOrder[this.finishedHead++];
      // Skips a record removed meanwhile (removeTask, clearFinished). A function task's runtime
      // (its `run`) leaves with the record.
      if (this.lifecycle.deleteHeld(r)) this.state.evictedOne(r);
    }
    // Compact the order list once its dead head is large: amortised O(1) per finished task.
    if (this.finishedHead > 4096 && this.finishedHead * 2 > this.finishedOrder.length) {
      this.finishedOrder = this.finishedOrder.slice(this.finishedHead);
      this.finishedHead = 0;
    }
  }

  // ------------------------------------------------------------------ events

  private onTransition(record: TaskRecord, from: TaskStatus | undefined, to: TaskStatus, reason: string | undefined): void {
    // Marks the state dirty: the snapshot then also carries the topic counts changed below.
    this.state.taskChanged(record);
    const index = from === 'running' && to === 'scheduled' ? RETRYING : TOPIC_INDEX[to];
    // A topic nobody follows (or a disposed queue) is only counted; the payload is built for subscribers.
    if (!this.topicCounters[index]()) {
      const topic = TASK_TOPICS[index];
      if (this.queue.hasSubscribers(topic)) {
        void this.queue.publish({ topic, payload: this.eventPayload(record, from, to, reason) }).catch(this.publishFailed);
      }
    }
    if (this.changeEmitter.hasListeners) this.changeEmitter.fire(record);
    if (this.statusEmitter.hasListeners) this.statusEmitter.fire();
    if (this.idleWaiters.length && this.isIdle()) this.releaseIdle();
  }

  private eventPayload(record: TaskRecord, from: TaskStatus | undefined, to: TaskStatus, reason: string | undefined): TaskEventPayload {
    const p: TaskEventPayload = { taskId: record.id, name: record.name, kind: record.kind, status: record.status, attempts: record.attempts, at: lastTransitionAt(record) };
    if (from) p.from = from;
    if (reason) p.reason = reason;
    if (record.error && (record.status === 'failed' || to === 'scheduled')) p.error = { ...record.error };
    if (record.result?.exitCode !== undefined) p.exitCode = record.result.exitCode;
    return p;
  }

  private recordPools(demand: ResourceDemand): void {
    const status = this.pools.status();
    for (const name in demand) {
      const p = status[name];
      if (p && p.capacity > 0) this.monitor.recordResourceUsage(name, { inUse: p.inUse, capacity: p.capacity });
    }
  }

  // ------------------------------------------------------------------ cancel, retry, remove

  async cancelTask(id: string, reason?: string): Promise<void> {
    this.assertOpen();
    checkId(id);
    if (reason !== undefined && typeof reason !== 'string') throw new ValidationError(`Expected \`reason\` to be a string, got ${describeValue(reason)}`, 'reason');
    const record = this.lifecycle.get(id);
    if (!record) throw new NotFoundError('task', id);
    const why = reason ?? 'Cancelled';
    switch (record.status) {
      case 'created':
      case 'scheduled': {
        const rt = runtimeOf(record);
        if (rt.retryTimer !== undefined) {
          this.clock.clearTimeout(rt.retryTimer);
          rt.retryTimer = undefined;
        }
        this.cancelWaiting(id, why);
        this.dispatch();
        return;
      }
      case 'running': {
        const rt = runtimeOf(record);
        rt.cancelReason ??= why;
        // Resolves once the attempt's outcome has been handled (finishAttempt has run).
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
    this.dispatchHolds++;
    try {
      await Promise.all(ids.map((id) => (this.lifecycle.get(id)?.status === 'running' || isFinished(this.lifecycle.get(id)?.status ?? 'completed') ? undefined : this.cancelTask(id, reason))));
      await Promise.all(ids.map((id) => (this.lifecycle.get(id)?.status === 'running' ? this.cancelTask(id, reason) : undefined)));
    } finally {
      this.dispatchHolds--;
    }
    this.dispatch();
    return ids.length;
  }

  async retryTask(id: string): Promise<string> {
    this.assertOpen();
    checkId(id);
    const record = this.lifecycle.get(id);
    if (!record) throw new NotFoundError('task', id);
    if (record.status !== 'failed' && record.status !== 'cancelled') {
      throw new IllegalTransitionError(id, record.status, 'retried', 'only a failed or cancelled task can be retried');
    }
    const spec: TaskSpec = { ...record.spec };
    // Dependencies that completed or are gone need no waiting; the rest are waited for again.
    const deps = record.dependsOn.filter((d) => {
      const dep = this.lifecycle.get(d);
      return dep !== undefined && dep.status !== 'completed';
    });
    if (deps.length) spec.dependsOn = deps;
    else delete spec.dependsOn;
    delete spec.key;
    const run = runtimeOf(record).run;
    if (record.kind === 'function' && !run) {
      throw new ValidationError(`Task \`${record.name}\` (${id}) is a function task from before a restart: its code was not persisted, so it cannot be retried; schedule it again`, 'id');
    }
    if (run) spec.run = run;
    return this.scheduleTask(spec);
  }

  async removeTask(id: string): Promise<void> {
    this.assertOpen();
    checkId(id);
    const record = this.lifecycle.get(id);
    if (!record) throw new NotFoundError('task', id);
    if (!isFinished(record.status)) throw new IllegalTransitionError(id, record.status, 'removed', 'cancel it first; only finished tasks can be removed');
    this.lifecycle.delete(id);
    this.state.markDirty();
    if (this.statusEmitter.hasListeners) this.statusEmitter.fire();
  }

  async clearFinished(): Promise<number> {
    this.assertOpen();
    const ids: string[] = [];
    for (const r of this.lifecycle.values()) if (isFinished(r.status)) ids.push(r.id);
    for (const id of ids) this.lifecycle.delete(id);
    this.finishedOrder = [];
    this.finishedHead = 0;
    this.state.markDirty();
    if (this.statusEmitter.hasListeners) this.statusEmitter.fire();
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
    const running: TaskRecord[] = [];
    const retrying: TaskRecord[] = [];
    const waiting: TaskRecord[] = [];
    for (const r of this.lifecycle.values()) {
      if (r.status === 'running') running.push(r as TaskRecord);
      else if (r.status === 'scheduled' && !this.ready.has(runtimeOf(r))) retrying.push(r as TaskRecord);
      else if (r.status === 'created') waiting.push(r as TaskRecord);
    }
    running.sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
    const ready = this.ready.orderedEntries().map((e) => this.lifecycle.get(e.id) as TaskRecord);
    return [...running, ...ready, ...retrying, ...waiting];
  }

  getSystemStatus(): SystemStatus {
    const counts = this.lifecycle.counts();
    return {
      counts,
      pools: this.pools.status(),
      concurrency: { limit: this.concurrency, running: this.running },
      paused: this.isPaused,
      total: this.lifecycle.size,
    };
  }

  // ------------------------------------------------------------------ control

  get paused(): boolean {
    return this.isPaused;
  }

  /** Stops starting tasks; running ones go on. New tasks stay Created until resume. */
  pause(): void {
    this.assertOpen();
    if (this.isPaused) return;
    this.isPaused = true;
    this.state.markDirty();
    if (this.statusEmitter.hasListeners) this.statusEmitter.fire();
  }

  resume(): void {
    this.assertOpen();
    if (!this.isPaused) return;
    this.isPaused = false;
    this.state.markDirty();
    // Created tasks that only waited for the pause go on, in creation order, all at one time.
    const at = this.clock.now();
    const anyWaiting = this.deps.size > 0;
    for (const r of this.lifecycle.list()) {
      if (r.status === 'created' && !(anyWaiting && this.deps.isWaiting(r.id)) && this.kinds.has(r.kind)) {
        this.lifecycle.applyTo(r, RESUMED, at);
        this.enqueue(r, at);
      }
    }
    if (this.statusEmitter.hasListeners) this.statusEmitter.fire();
    this.dispatch();
  }

  /**
   * Resolves once nothing is Created, Scheduled or Running (at once if so now, and on dispose).
   * While it waits the host process is kept alive (Clock.hold): a plain Node program awaiting it
   * must not end because the only pending work waits on a timer or on work outside the process.
   */
  whenIdle(): Promise<void> {
    if (this.isIdle() || this.disposed) return Promise.resolve();
    if (this.releaseHold === undefined && this.clock.hold !== undefined) this.releaseHold = this.clock.hold();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.lifecycle.countOf('created') + this.lifecycle.countOf('scheduled') + this.lifecycle.countOf('running') === 0;
  }

  private releaseIdle(): void {
    const release = this.releaseHold;
    this.releaseHold = undefined;
    if (release !== undefined) release();
    const ws = this.idleWaiters.splice(0);
    for (const w of ws) w();
  }

  setMaxFinished(limit: number): void {
    this.assertOpen();
    this.maxFinished = checkMaxFinished(limit);
    if (this.finishedOrder.length - this.finishedHead > limit) this.evictFinished();
  }

  setConcurrency(limit: number): void {
    this.assertOpen();
    this.concurrency = checkConcurrency(limit);
    if (this.statusEmitter.hasListeners) this.statusEmitter.fire();
    this.dispatch();
  }

  /**
   * Replaces the resource pools. Queued tasks whose demand can no longer ever be met (their pool was
   * removed or shrunk below their demand) are cancelled with a reason that says so.
   */
  setResources(resources: Record<string, number>): void {
    this.assertOpen();
    const next = validateResourceCapacities(resources);
    this.pools.setCapacities(next);
    (this.specContext as { pools: Readonly<Record<string, number>> }).pools = this.pools.capacities();
    for (const entry of this.ready.orderedEntries()) {
      const problem = this.pools.checkFits(entry.resources);
      if (problem) this.cancelWaiting(entry.id, `Cannot run any more: ${problem.message}`);
    }
    if (this.statusEmitter.hasListeners) this.statusEmitter.fire();
    this.dispatch();
  }

  registerExecutor(kind: string, executor: Executor): Disposable {
    this.assertOpen();
    const reg = this.execution.registerExecutor(kind, executor);
    this.kinds.add(kind);
    const waiting = this.awaitingKind.get(kind);
    if (waiting) {
      this.awaitingKind.delete(kind);
      for (const id of waiting) {
        const r = this.lifecycle.get(id);
        if (r && r.status === 'created') this.gate(r);
      }
      this.dispatch();
    }
    return toDisposable(() => {
      reg.dispose();
      if (!this.execution.hasExecutor(kind)) this.kinds.delete(kind);
    });
  }

  private dropAwaitingKind(record: Readonly<TaskRecord>): void {
    const list = this.awaitingKind.get(record.kind);
    if (!list) return;
    const i = list.indexOf(record.id);
    if (i >= 0) list.splice(i, 1);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const r of this.lifecycle.values()) {
      const rt = runtimeOf(r);
      if (rt.retryTimer !== undefined) this.clock.clearTimeout(rt.retryTimer);
    }
    // Running attempts are stopped; their records stay Running in the final snapshot, so the next
    // start applies the recovery policy to them, as after a crash.
    await this.execution.dispose();
    await this.state.dispose();
    this.queue.dispose();
    this.lifecycle.dispose();
    this.releaseIdle();
    this.changeEmitter.dispose();
    this.warnEmitter.dispose();
    this.outputEmitter.dispose();
    this.statusEmitter.dispose();
  }

  // ------------------------------------------------------------------ restore

  /** Applies the recovery policy to a validated snapshot. Called once, before anything is scheduled. */
  restore(snapshot: Snapshot, rejected?: ReadonlyMap<string, TaskError>): void {
    if (snapshot.paused) this.isPaused = true;
    this.lifecycle.restore(snapshot.tasks);
    if (snapshot.queue !== undefined) {
      try {
        this.queue.restore(snapshot.queue);
      } catch (err) {
        this.warn({ code: 'CORRUPT_STATE', message: `The saved message queue could not be restored (${(err as Error).message}); its undelivered messages were dropped` });
      }
    }
    let resumed = 0;
    let failed = 0;
    const finished: TaskRecord[] = [];
    for (const r of snapshot.tasks) if (isFinished(r.status)) finished.push(r);
    finished.sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
    for (const r of finished) this.finishedOrder.push(this.lifecycle.get(r.id) as TaskRecord);
    for (const r of snapshot.tasks) {
      const rec = this.lifecycle.get(r.id) as TaskRecord;
      if (isFinished(rec.status)) continue;
      // Not valid now (a spec new tasks could not have, a dependency cycle): failed, never run.
      const invalid = rejected?.get(rec.id);
      if (invalid !== undefined) {
        this.abandon(rec, invalid.message, invalid.code ?? 'VALIDATION');
        failed++;
        continue;
      }
      if (rec.kind === 'function') {
        // Its code was never persisted: it cannot run again.
        this.abandon(rec, 'Not resumable: a function task\'s code is not persisted, so it cannot run after a restart', 'NOT_RESUMABLE');
        failed++;
        continue;
      }
      if (rec.status === 'running') {
        if (rec.attempts <= (rec.spec.retries ?? 0)) {
          this.lifecycle.apply(rec.id, { type: 'retry', reason: `Interrupted by a restart during attempt ${rec.attempts}; retrying`, error: { message: 'interrupted', code: 'INTERRUPTED' } });
          resumed++;
        } else {
          this.lifecycle.apply(rec.id, { type: 'fail', error: { message: 'interrupted', code: 'INTERRUPTED' }, reason: 'interrupted' });
          this.afterFinish(rec, 'failed');
          failed++;
          continue;
        }
      } else {
        resumed++;
      }
    }
    // Now gate what is left, dependencies first known: Created wait, Scheduled queue again.
    for (const r of snapshot.tasks) {
      const rec = this.lifecycle.get(r.id);
      if (!rec) continue;
      if (rec.status === 'created') {
        // A runAlways task waits for its dependencies in any status: gate counts the final ones as done.
        const failedDep = rec.spec.runAlways === true ? undefined : rec.dependsOn.map((d) => this.lifecycle.get(d)).find((d) => d && (d.status === 'failed' || d.status === 'cancelled'));
        if (failedDep) this.cancelWaiting(rec.id, `Dependency \`${failedDep.name}\` (${failedDep.id}) ${failedDep.status === 'failed' ? 'failed' : 'was cancelled'}`);
        else this.gate(rec);
      } else if (rec.status === 'scheduled') {
        const problem = this.pools.checkFits(rec.spec.resources);
        if (problem) this.cancelWaiting(rec.id, `Cannot run any more: ${problem.message}`);
        else this.enqueue(rec);
      }
    }
    if (resumed || failed) {
      this.warn({ code: 'RECOVERED', message: `Restored ${snapshot.tasks.length} tasks: ${resumed} unfinished go on, ${failed} could not resume` });
    }
    this.state.markDirty();
    this.dispatch();
  }

  /** A restored task that can never run fails with the reason, and its dependents are cancelled. */
  private abandon(record: TaskRecord, reason: string, code: string): void {
    const error = { message: reason, code };
    if (record.status === 'running') {
      this.lifecycle.apply(record.id, { type: 'fail', error, reason });
    } else {
      this.ready.remove(runtimeOf(record));
      this.deps.remove(record.id);
      this.lifecycle.apply(record.id, { type: 'abandon', error, reason });
    }
    this.afterFinish(record, 'failed');
  }

  // ------------------------------------------------------------------ internals

  private assertOpen(): void {
    if (this.disposed) throw new OrchestratorError('DISPOSED', 'The orchestrator is disposed');
  }

  private warn(w: OrchestratorWarning): void {
    this.keepWarning(w);
    if (this.warnEmitter.hasListeners) this.warnEmitter.fire(w);
  }

  private keepWarning(w: OrchestratorWarning): void {
    if (this.warnings.length >= 100) this.warnings.shift();
    this.warnings.push(w);
  }

  /**
   * A lifecycle event the queue refused. The transition stands (the record and the snapshot hold it);
   * only that event is lost to the subscriber that is full. A full subscription is reported once a
   * minute with the count dropped, never once per event.
   */
  private readonly publishFailed = (err: unknown): void => {
    if (!(err instanceof BackpressureError)) return this.warnListener(err);
    const key = `${err.topic}\u0000${err.subscription}`;
    const now = this.clock.monotonic?.() ?? this.clock.now();
    const last = this.fullSubscriptions.get(key);
    if (last && now - last.at < QUEUE_FULL_WARNING_INTERVAL_MS) {
      last.dropped++;
      return;
    }
    const dropped = (last?.dropped ?? 0) + 1;
    this.fullSubscriptions.set(key, { at: now, dropped: 0 });
    this.warn({
      code: 'QUEUE_FULL',
      message: `Subscription \`${err.subscription}\` of \`${err.topic}\` holds its \`maxPending\` of ${err.maxPending} unacknowledged messages: lifecycle events for it are dropped until it acknowledges some (${dropped} since the last warning); the tasks themselves are unaffected`,
    });
  };

  private warnListener(err: unknown): void {
    this.warn(listenerWarning(err));
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
  if (typeof id !== 'string') throw new ValidationError(`Expected \`id\` to be a task id string, got ${describeValue(id)}`, 'id');
}

/** What a listener threw, as a warning. Never throws itself (the value may be a hostile Proxy). */
function listenerWarning(err: unknown): OrchestratorWarning {
  let detail: string;
  try {
    detail = err instanceof Error ? err.message : String(err);
  } catch {
    detail = `a ${typeof err} that cannot be read`;
  }
  return { code: 'LISTENER_FAILED', message: `A listener threw: ${detail}` };
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
  const loaded = await loadSnapshot(store, clock);
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
  const rejected = loaded.snapshot ? await setAsideInvalidTasks(loaded.snapshot, valid.resources, store, clock, orchestrator) : undefined;
  // Trees a killed host left running are stopped before their tasks can run again.
  const reaped = await reapOrphans(store, { killGraceMs: valid.killGraceMs });
  if (reaped) warnings.push(reaped);
  if (loaded.snapshot) orchestrator.restore(loaded.snapshot, rejected);
  return orchestrator;
}

/**
 * The saved tasks that must not run (checkRestoredTasks), after their saved records are kept under a
 * backup key: failing them changes the records the next write saves, so the originals go aside
 * first. A backup the store refuses or does not answer (bounded wait) holds writes, as an unreadable
 * state does: the originals then stay where they are.
 */
async function setAsideInvalidTasks(snapshot: Snapshot, pools: Readonly<Record<string, number>>, store: Store, clock: Clock, orchestrator: OrchestratorImpl): Promise<Map<string, TaskError>> {
  const rejected = checkRestoredTasks(snapshot.tasks, { pools });
  if (rejected.size === 0) return rejected;
  const key = `${STATE_KEY}.backup.${clock.now()}`;
  const tasks = snapshot.tasks.filter((t) => rejected.has(t.id));
  const notKept = await keepAside(store, clock, key, { version: SNAPSHOT_VERSION, savedAt: clock.now(), tasks });
  if (notKept !== undefined) orchestrator.state.holdWrites(`saved tasks that are not valid could not be backed up (${notKept})`);
  const reasons = [...rejected.values()].slice(0, 10).map((e) => e.message);
  const more = rejected.size > reasons.length ? `; and ${rejected.size - reasons.length} more` : '';
  const where = notKept === undefined ? `their saved records are kept under \`${key}\`` : `their saved records could not be backed up (${notKept}), so nothing is saved until a restart`;
  orchestrator.warnings.push({ code: 'CORRUPT_STATE', message: `${rejected.size} saved tasks failed instead of running, ${where}: ${reasons.join('; ')}${more}` });
  return rejected;
}

export type { LifecycleEvent };
