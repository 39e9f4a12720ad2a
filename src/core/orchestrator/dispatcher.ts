// The dispatcher decides WHAT runs next and starts it through the execution port: concurrency
// slots, resource pools, the ready queue (priority, then age), dependency gating, and the gates
// that hold dispatch back (the user's pause, short holds, a batch being created, dispose).
//
// A Created task is gated: it waits for its dependencies, for an executor of its kind, or (paused)
// for resume; then it goes Scheduled into the ready queue. `dispatch` starts the best entry whose
// resources are free while a slot is free. When an attempt reports, its slot and units are released,
// the outcome is handed to DispatchOutcomes, and dispatch runs again.
//
// Re-entrance: `dispatch` is guarded; a call made while it runs (a listener reacting to a
// transition) only asks its loop to go on.
//
// Hot path: one `attemptDone` function serves every attempt (the task is its argument) and shared
// frozen events drive the lifecycle, so starting and finishing an attempt allocates no closure.
import { DependencyGraph } from '../scheduler/dependencyGraph';
import type { Emitter } from '../util/events';
import type { TaskLifecycleManager } from '../lifecycle/lifecycle';
import type { LifecycleEvent } from '../lifecycle/transition';
import { isFinished, type TaskRecord, type TaskResult } from '../model/model';
import type { PerformanceMonitor } from '../metrics/performanceMonitor';
import type { Clock } from '../ports';
import { ReadyQueue } from '../scheduler/readyQueue';
import { ResourcePools, type ResourceDemand } from '../scheduler/resourcePools';
import { resumeOrStart, type ExecutionPort } from '../execution/executionPort';
import type { RemoteExecution } from '../execution/routedExecution';
import type { OutputChunk } from './orchestratorTypes';
import { runtimeOf, TaskRun } from './taskRun';
import type { Services } from '../services/services';
import { toleratedFailure } from './failurePolicies';

type RemoteReattach = NonNullable<RemoteExecution['reattach']>;

/** What the dispatcher hands on: the outcomes module implements it. */
export interface DispatchOutcomes {
  /** An attempt reported; its slot and units are released already. */
  settle(rt: TaskRun, result: TaskResult | undefined, err: unknown): void;
  /** A Created or Scheduled task that can never run (its demand no longer fits): cancel it. */
  cancelWaiting(id: string, reason: string): void;
  /**
   * The outcome of a queued attempt that never started (TaskRun.queued): true when it was taken care
   * of here (cancelled while queued, or let go by a shutdown); false when the attempt ran after all.
   */
  settleQueued(rt: TaskRun, err: unknown): boolean;
}

export interface DispatcherOptions {
  concurrency: number;
  resources: Readonly<Record<string, number>>;
  agingMs?: number;
  paused: boolean;
  kinds: Iterable<string>;
  /** Whether a task's attempts wait in a remote queue until a worker takes them (RoutedExecution.startsLater). */
  startsLater?: (task: Readonly<TaskRecord>) => boolean;
}

/** Events without fields are shared: the hot path allocates none. */
const SCHEDULE: LifecycleEvent = Object.freeze({ type: 'schedule' });
const START: LifecycleEvent = Object.freeze({ type: 'start' });
const RESUMED: LifecycleEvent = Object.freeze({ type: 'schedule', reason: 'Resumed' });

export class Dispatcher {
  readonly pools: ResourcePools;
  readonly ready: ReadyQueue<TaskRun>;
  readonly deps = new DependencyGraph();
  /** Kinds an executor is registered for. */
  readonly kinds: Set<string>;
  /** Restored tasks of a kind nobody has registered yet: they wait in Created for its executor. */
  private readonly awaitingKind = new Map<string, string[]>();
  concurrency: number;
  running = 0;
  /** The user's pause (pause/resume, startPaused, a restored pause): persisted and shown. */
  paused: boolean;
  /**
   * Callers holding dispatch back for a moment (cancelAll while it stops running tasks). Unlike a
   * pause it leaves gating alone, so tasks scheduled meanwhile queue as usual and start after.
   */
  holds = 0;
  /** Set on dispose: nothing starts any more. */
  closed = false;
  private readonly startsLater: ((task: Readonly<TaskRecord>) => boolean) | undefined;
  private dispatching = false;
  private dispatchAgain = false;
  private outcomes: DispatchOutcomes | undefined = undefined;
  private services: Services | undefined = undefined;

  constructor(
    private readonly lifecycle: TaskLifecycleManager,
    private readonly clock: Clock,
    private readonly execution: ExecutionPort,
    private readonly monitor: PerformanceMonitor,
    private readonly output: Emitter<OutputChunk>,
    options: DispatcherOptions,
  ) {
    this.concurrency = options.concurrency;
    this.startsLater = options.startsLater;
    this.paused = options.paused;
    this.kinds = new Set(options.kinds);
    this.pools = new ResourcePools(options.resources);
    this.ready = new ReadyQueue<TaskRun>({ agingMs: options.agingMs, baseTime: clock.now() });
  }

  /** Where outcomes go, and who watches services' attempts. Called once, before anything is dispatched. */
  bind(outcomes: DispatchOutcomes, services?: Services): void {
    this.outcomes = outcomes;
    this.services = services;
  }

  /** A Created task: wait for dependencies, for the executor of its kind, or (paused) for resume; else schedule it. */
  /** `now`: the time, when the caller has just read the clock. */
  gate(record: Readonly<TaskRecord>, now?: number): void {
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
    if (this.paused) return;
    const at = now ?? this.clock.now();
    this.lifecycle.applyTo(record, SCHEDULE, at);
    this.enqueue(record, at);
  }

  // What a dependency must be for a waiter to stop waiting for it; one function each, not a closure
  // per gate. A dependency no longer held (removed, evicted) finished long ago: nothing to wait for.
  private readonly dependencyCompleted = (id: string): boolean => {
    const dep = this.lifecycle.get(id);
    // A Ready service (still running) counts as completed for its dependents (services.ts).
    return dep === undefined || dep.status === 'completed' || dep.ready !== undefined || toleratedFailure(dep);
  };
  private readonly dependencyFinal = (id: string): boolean => {
    const dep = this.lifecycle.get(id);
    return dep === undefined || isFinished(dep.status);
  };

  /** `id` is Ready (a service, services.ts): the tasks waiting for it go on as after a completion. */
  dependencyReady(id: string): void {
    const released = this.deps.onReady(id);
    for (let i = 0; i < released.length; i++) {
      const r = this.lifecycle.get(released[i] as string);
      if (r && r.status === 'created') this.gate(r);
    }
    this.dispatch();
  }

  /** A Scheduled task becomes ready: into the ready queue, unless its demand can never be met. */
  enqueue(record: Readonly<TaskRecord>, at = this.clock.now()): void {
    const rt = runtimeOf(record);
    // Pools may have been removed or shrunk (setResources) while the task waited outside the queue
    // (for a dependency, a backoff, a resume, its kind): one that could never run is cancelled as
    // setResources cancels the queued ones, rather than waiting forever.
    if (rt.resources !== undefined) {
      const problem = this.pools.checkFits(rt.resources);
      if (problem !== undefined) return (this.outcomes as DispatchOutcomes).cancelWaiting(rt.id, `Cannot run any more: ${problem.message}`);
    }
    rt.enqueuedAt = at;
    rt.readyNode = this.ready.push(rt);
  }

  /** A waiting task leaves every place it waits in (the ready queue, the dependency graph, its kind's list). */
  withdraw(record: Readonly<TaskRecord>): void {
    this.ready.remove(runtimeOf(record).readyNode);
    this.deps.remove(record.id);
    const list = this.awaitingKind.get(record.kind);
    if (!list) return;
    const i = list.indexOf(record.id);
    if (i >= 0) list.splice(i, 1);
  }

  /** Created tasks that only waited for the pause go on, in creation order, all at one time. */
  resumeWaiting(): void {
    const at = this.clock.now();
    const anyWaiting = this.deps.size > 0;
    for (const r of this.lifecycle.list()) {
      if (r.status === 'created' && !(anyWaiting && this.deps.isWaiting(r.id)) && this.kinds.has(r.kind)) {
        this.lifecycle.applyTo(r, RESUMED, at);
        this.enqueue(r, at);
      }
    }
  }

  /** An executor for `kind` was registered: the tasks waiting for one are gated again. */
  kindAdded(kind: string): void {
    this.kinds.add(kind);
    const waiting = this.awaitingKind.get(kind);
    if (!waiting) return;
    this.awaitingKind.delete(kind);
    for (const id of waiting) {
      const r = this.lifecycle.get(id);
      if (r && r.status === 'created') this.gate(r);
    }
    this.dispatch();
  }

  /** After new pool capacities: queued tasks whose demand can never be met any more are cancelled. */
  cancelUnfit(): void {
    for (const entry of this.ready.orderedEntries()) {
      const problem = this.pools.checkFits(entry.resources);
      if (problem) (this.outcomes as DispatchOutcomes).cancelWaiting(entry.id, `Cannot run any more: ${problem.message}`);
    }
  }

  /** Runs `create` with dispatch held, then dispatches: a fast first task cannot finish before the rest exist. */
  batch<T>(create: () => T): T {
    this.dispatching = true;
    try {
      return create();
    } finally {
      this.dispatching = false;
    }
  }

  /** Unfinished tasks in dispatch order: running or queued remotely (by start), ready (by priority and age), retrying, waiting. */
  queueOrder(): TaskRecord[] {
    const running: TaskRecord[] = [];
    const retrying: TaskRecord[] = [];
    const waiting: TaskRecord[] = [];
    for (const r of this.lifecycle.values()) {
      // A queued attempt (a remote queue's) is in flight like a running one.
      if (r.status === 'running' || runtimeOf(r).queued) running.push(r as TaskRecord);
      else if (r.status === 'scheduled' && !this.ready.has(runtimeOf(r).readyNode)) retrying.push(r as TaskRecord);
      else if (r.status === 'created') waiting.push(r as TaskRecord);
    }
    running.sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
    const ready = this.ready.orderedEntries().map((e) => this.lifecycle.get(e.id) as TaskRecord);
    return [...running, ...ready, ...retrying, ...waiting];
  }

  dispatch(): void {
    // No free slot: nothing could start now, and the slot's release calls dispatch again. (Also
    // right inside a dispatch loop: that loop checks the slots again after each start.)
    if (this.running >= this.concurrency) return;
    if (this.dispatching) {
      this.dispatchAgain = true;
      return;
    }
    if (this.paused || this.holds > 0 || this.closed) return;
    this.dispatching = true;
    try {
      do {
        this.dispatchAgain = false;
        while (this.running < this.concurrency) {
          const entry = this.ready.takeNext(this.pools, true);
          if (entry === undefined) break;
          this.start(entry);
        }
      } while (this.dispatchAgain && !this.paused && this.holds === 0);
    } finally {
      this.dispatching = false;
    }
  }

  /**
   * Starts `rt`'s next attempt: Running now, or, for a remote backend whose attempts wait in a queue
   * (startsLater; services excepted, whose readiness clock starts with the attempt), Scheduled and
   * `queued` until a worker takes it (attemptStarted), its slot and units held meanwhile.
   */
  private start(rt: TaskRun): void {
    const id = rt.id;
    rt.heldUnits = rt.resources;
    this.running++;
    const later = !rt.isService && this.startsLater !== undefined && this.startsLater(rt);
    if (later) rt.queued = true;
    else this.lifecycle.applyTo(rt, START);
    if (rt.resources) this.recordPools(rt.resources);
    const output = this.output;
    let onOutput = output.hasListeners ? (chunk: string) => output.fire({ id, chunk }) : undefined;
    if (rt.isService && this.services !== undefined) onOutput = this.services.attemptStarting(rt, onOutput);
    const attempt = later ? rt.attempts + 1 : rt.attempts;
    const resume = later && rt.resumable;
    rt.resumable = false;
    const handle = resume
      ? resumeOrStart(this.execution, rt, attempt, rt.timeoutMs, rt.run, onOutput, this.attemptDone)
      : this.execution.start(rt, attempt, rt.timeoutMs, rt.run, onOutput, this.attemptDone);
    rt.attemptHandle = handle;
    // A cancel asked for while the task turned Running (by an onDidChangeTask listener) found no
    // attempt to stop yet: it stops this one now, its signal aborted.
    if (rt.cancelReason !== undefined && handle !== undefined) void this.execution.cancel(handle, rt.cancelReason);
  }

  /**
   * A restored Running task whose attempt still runs on the remote backend: it takes its slot and
   * units again (over the limits if they shrank meanwhile: the work is running) and its outcome comes
   * to attemptDone as a started attempt's would. A service is watched as at its start
   * (attemptStarting): not Ready yet, its probe and readiness timer are armed again from now.
   */
  reattach(record: Readonly<TaskRecord>): void {
    const rt = runtimeOf(record);
    const execution = this.execution as ExecutionPort & { reattach?: RemoteReattach };
    if (execution.reattach === undefined) return;
    this.running++;
    if (rt.resources && this.pools.allocate(rt.resources)) {
      rt.heldUnits = rt.resources;
      this.recordPools(rt.resources);
    }
    const id = rt.id;
    const output = this.output;
    let onOutput = output.hasListeners ? (chunk: string) => output.fire({ id, chunk }) : undefined;
    if (rt.isService && this.services !== undefined) onOutput = this.services.attemptStarting(rt, onOutput);
    rt.attemptHandle = execution.reattach(rt, rt.attempts, onOutput, this.attemptDone);
  }

  /** A worker took `task`'s queued attempt (RemoteExecution.onStarted): it is Running from now. */
  attemptStarted(task: TaskRecord): void {
    const rt = this.lifecycle.get(task.id);
    // Another record than the one held (a stale or foreign one), or one not queued, is no attempt waiting here.
    if (rt !== task || !(rt instanceof TaskRun) || !rt.queued || rt.status !== 'scheduled') return;
    rt.queued = false;
    this.lifecycle.applyTo(rt, START);
  }

  /** Withdraws a queued attempt (TaskRun.queued) through its port; the port's CancelledError comes back to attemptDone, which cancels the task. */
  withdrawQueued(rt: TaskRun, reason: string): void {
    rt.cancelReason ??= reason;
    if (rt.attemptHandle !== undefined) void this.execution.cancel(rt.attemptHandle, reason);
  }

  /** Every attempt's outcome comes here: one function for all, the task being an argument. */
  private readonly attemptDone = (result: TaskResult | undefined, err: unknown, task: TaskRecord): void => {
    const rt = task as TaskRun;
    this.running--;
    rt.attemptHandle = undefined;
    if (rt.heldUnits) {
      this.pools.release(rt.heldUnits);
      this.recordPools(rt.heldUnits);
      rt.heldUnits = undefined;
    }
    if (rt.queued) {
      rt.queued = false;
      // It never started: cancelled while queued it is Cancelled from Scheduled; let go by a shutdown it
      // stays Scheduled (the next session resumes it); any other outcome means it ran, its start unseen.
      if (rt.status !== 'scheduled' || (this.outcomes as DispatchOutcomes).settleQueued(rt, err)) return this.dispatch();
      this.lifecycle.applyTo(rt, START);
    }
    (this.outcomes as DispatchOutcomes).settle(rt, result, err);
    this.dispatch();
  };

  private recordPools(demand: ResourceDemand): void {
    const status = this.pools.status();
    for (const name in demand) {
      const p = status[name];
      if (p && p.capacity > 0) this.monitor.recordResourceUsage(name, { inUse: p.inUse, capacity: p.capacity });
    }
  }
}
