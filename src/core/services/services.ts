// Services: tasks that run until stopped and that others wait for until they are Ready, not until
// they exit. This module holds the orchestrator's service lifecycle around the attempts the
// dispatcher starts: the readiness probe and its timeout, Ready (from a probe or an executor's
// reportReady) releasing the dependents, `stopWhen: 'dependentsDone'`, `restart: 'on-failure'`
// with its breaker (restartPolicy.ts), and the index of shared instances.
//
// Invariants:
// - Ready is a sub-state of Running: `record.ready` is set only while the record is Running (the
//   lifecycle clears it on any transition out of Running) and only by `ready` here.
// - The first Ready of an attempt releases the dependents waiting for it (DependencyGraph.onReady);
//   a dependent added later counts a Ready dependency done (the dispatcher's gate reads `ready`).
//   Each Ready, later watch cycles included, is told to the orchestrator (`changed`), which
//   publishes `task.ready` and fires onDidChangeTask.
// - A probe and a readiness timer live exactly as long as their attempt: both are disposed on
//   Ready, when the attempt settles (attemptEnded) and when the orchestrator stops it. An attempt
//   re-attached after a restore is armed as a started one, its timer counting from the restore,
//   unless it was Ready already (then it gets its tail only).
// - A port or HTTP probe runs where the attempt runs: here for a local one, on the worker for one
//   that `runsRemotely` (its Ready comes through the remote port's onReady). An output probe and
//   the readiness timer are always here.
// - The orchestrator stops a service's attempt itself for two reasons only, kept in
//   `ServiceRun.stopping`: the readiness timeout (the task fails, TIMEOUT) and every dependent
//   final (it completes, "Stopped: every dependent finished"). A user's cancel wins over both.
// - A restart never consumes `retries`: it goes Running -> Scheduled (`task.retrying`) with
//   `restarts` counted, until the breaker fails it (CRASH_LOOP) with the last output tail.
// - Ready reaches the orchestrator's onTransition as Running -> Running (no lifecycle transition,
//   no history entry): the state is saved, `task.ready` published, onDidChangeTask fired.
// - `stopWatch` holds exactly the unfinished stopWhen services, each with how many tasks depend on
//   it (`total`) and how many of those are not final (`pending`); `sharedIds` exactly the
//   unfinished shared tasks. Both are kept from transitions (and rebuilt by `restored`).
// - Tasks that are not services pay one property read per attempt start and settle, two spec
//   reads on creation and two map-size checks per transition; only `restored` walks all records.
import { CancelledError, ExecutionError, ServiceError, TimeoutError } from '../model/errors';
import { isFinished, type ProblemCounts, type TaskRecord, type TaskResult, type TaskStatus } from '../model/model';
import { describeReadyWhen } from '../model/serviceFields';
import type { TaskLifecycleManager } from '../lifecycle/lifecycle';
import type { ExecutionHandle, ExecutionPort, OutputCallback } from '../execution/executionPort';
import { OutputTail } from '../executors/outputTail';
import type { Clock, ReadyInfo } from '../ports';
import { startReadinessProbe, type ReadinessProbe } from './readinessProbe';
import { RESTART_WINDOW_MS, RestartHistory } from './restartPolicy';

/** How long a `readyWhen` service may take to become Ready when the spec sets no readyTimeoutMs. */
export const DEFAULT_READY_TIMEOUT_MS = 60_000;
/** Characters of a service attempt's output kept for the messages that quote it. */
export const SERVICE_TAIL_CHARS = 2048;
/** The reason a service stopped by `stopWhen: 'dependentsDone'` completes with. */
export const STOPPED_REASON = 'Stopped: every dependent finished';

/** A service's state across its attempts, on its TaskRun (`service`). Never persisted. */
export class ServiceRun {
  probe: ReadinessProbe | undefined = undefined;
  readyTimer: unknown = undefined;
  /** The running attempt's output tail. */
  tail: OutputTail | undefined = undefined;
  /** Why the orchestrator itself is stopping the running attempt, if it is. */
  stopping: 'timeout' | 'dependentsDone' | undefined = undefined;
  restarts: RestartHistory | undefined = undefined;
}

/** What a service attempt's outcome becomes, when services decide it (see Outcomes.settle). */
export type ServiceVerdict =
  /** Stopped because every dependent finished. */
  | { readonly type: 'complete'; readonly reason: string; readonly result: TaskResult | undefined }
  /** A crash loop: failed for good, retries or not. */
  | { readonly type: 'fail'; readonly error: ServiceError }
  /** Fails as the attempt's own error would (retries apply): the readiness timeout. */
  | { readonly type: 'error'; readonly error: ServiceError }
  /** Starts again after `delayMs`; `restarts` is counted already. */
  | { readonly type: 'restart'; readonly reason: string; readonly delayMs: number };

/**
 * What services read and keep of the orchestrator's per-task state (its TaskRun): every record the
 * lifecycle holds is one. Services write `service` only.
 */
export interface ServiceTask extends TaskRecord {
  service: ServiceRun | undefined;
  /** The running attempt, to stop it. */
  readonly attemptHandle: ExecutionHandle | undefined;
  /** Set when a user's cancel of the running attempt was asked for. */
  readonly cancelReason: string | undefined;
}

/** What services ask of the scheduler. */
export interface ServiceScheduler {
  /** `id` is Ready: the tasks waiting for it go on as after a completion (DependencyGraph.onReady). */
  dependencyReady(id: string): void;
}

/** For `stopWhen` services: their dependents, counted as they are created and as they finish. */
interface Dependents {
  total: number;
  pending: number;
}

export class Services {
  /** Unfinished services with `stopWhen`, by id. */
  private readonly stopWatch = new Map<string, Dependents>();
  /** Unfinished shared tasks by `key \0 cwd`. */
  private readonly sharedIds = new Map<string, string>();

  constructor(
    private readonly lifecycle: TaskLifecycleManager,
    private readonly clock: Clock,
    private readonly scheduler: ServiceScheduler,
    private readonly execution: ExecutionPort,
    /** A Running record became Ready (again): the orchestrator tells its listeners and the queue. */
    private readonly changed: (record: TaskRecord) => void,
    /** Whether the task's attempts run on another machine, which then watches its port or URL itself. */
    private readonly runsRemotely: (task: Readonly<TaskRecord>) => boolean = () => false,
    private readonly random: () => number = Math.random,
  ) {}

  // ------------------------------------------------------------------ attempts

  /**
   * A service's attempt is about to start, or is followed again after a restore (the dispatcher's
   * reattach): its probe and readiness timer are armed, the timer counting from now, and the output
   * callback it gets feeds them and the tail before `onOutput` (the host's listeners, if any). A
   * restored attempt that is Ready already gets the tail only: nothing is left to wait for.
   */
  attemptStarting(rt: ServiceTask, onOutput: OutputCallback | undefined): OutputCallback {
    const service = (rt.service ??= new ServiceRun());
    service.stopping = undefined;
    const tail = (service.tail = new OutputTail(SERVICE_TAIL_CHARS));
    const readyWhen = rt.spec.readyWhen;
    // A started attempt is never Ready yet (the lifecycle clears `ready` outside Running).
    if (readyWhen !== undefined && rt.ready === undefined) {
      try {
        // A port or URL is probed where the service listens: a remote attempt's worker does it.
        const here = typeof readyWhen !== 'object' || readyWhen === null || 'output' in readyWhen || !this.runsRemotely(rt);
        service.probe = here ? startReadinessProbe(readyWhen, () => this.ready(rt, undefined), this.clock) : undefined;
      } catch {
        // validateSpec refused what a probe cannot watch; a probe that still cannot start leaves
        // the readiness timeout to fail the task with its readyWhen in the message.
        service.probe = undefined;
      }
      const ms = rt.spec.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
      // keepAlive: the timeout is what ends a service that never gets ready.
      service.readyTimer = this.clock.setTimeout(() => this.readyTimedOut(rt), ms, true);
    }
    return (chunk: string): void => {
      tail.push(chunk);
      // An earlier attempt's late output feeds nothing of this one.
      if (service.tail === tail) service.probe?.output(chunk);
      onOutput?.(chunk);
    };
  }

  /** The engine's ReadyCallback (an executor's reportReady) and a probe's onReady. */
  ready(task: TaskRecord, info: ReadyInfo | undefined): void {
    const rt = this.held(task.id);
    // Another record than the one held (a stale or foreign one) is no attempt of ours.
    if (rt !== task || rt.status !== 'running') return;
    const service = (rt.service ??= new ServiceRun());
    if (service.stopping !== undefined || rt.cancelReason !== undefined) return;
    this.disarm(service);
    const first = rt.ready === undefined;
    const problems = problemCounts(info);
    const at = this.clock.now();
    this.lifecycle.markReady(rt, problems === undefined ? { at } : { at, problems });
    this.changed(rt);
    if (!first) return;
    this.scheduler.dependencyReady(rt.id);
    // Dependents that all ended before it was Ready (cancelled, say): nothing will ever need it.
    if (this.stopWatch.get(rt.id)?.pending === 0) this.stopSoon(rt.id);
  }

  /** The attempt settled: its probe and timer go, whatever the outcome. */
  attemptEnded(rt: ServiceTask): void {
    const service = rt.service;
    if (service !== undefined) this.disarm(service);
  }

  /**
   * What the settled attempt of a service becomes, or undefined for the usual handling (success,
   * a user's cancel, a failure without restart). `closed`: the orchestrator is shutting down.
   */
  verdict(rt: ServiceTask, result: TaskResult | undefined, err: unknown, closed: boolean): ServiceVerdict | undefined {
    const service = rt.service as ServiceRun;
    const stopping = service.stopping;
    service.stopping = undefined;
    if (rt.cancelReason !== undefined) return undefined;
    if (stopping === 'dependentsDone') {
      const output = service.tail?.toString();
      return { type: 'complete', reason: STOPPED_REASON, result: result ?? (output ? { output } : undefined) };
    }
    if (stopping === 'timeout') return { type: 'error', error: this.readinessError(rt, service) };
    if (err === undefined || err instanceof CancelledError || err instanceof TimeoutError || closed || rt.spec.restart !== 'on-failure') return undefined;
    const now = this.clock.monotonic?.() ?? this.clock.now();
    const decision = (service.restarts ??= new RestartHistory()).onFailure(now, rt.spec.retryDelayMs, this.random);
    if (!decision.restart) {
      return {
        type: 'fail',
        error: new ServiceError(
          'CRASH_LOOP',
          `Service \`${rt.name}\` ${exitText(err)} after ${decision.restartsInWindow} restarts within ${RESTART_WINDOW_MS} ms: a crash loop, not restarted again${tailText(service, err)}`,
        ),
      };
    }
    const k = this.lifecycle.countRestart(rt);
    return { type: 'restart', delayMs: decision.delayMs, reason: `Service ${exitText(err)}; restart ${k} in ${decision.delayMs} ms` };
  }

  // ------------------------------------------------------------------ bookkeeping

  /** Every transition of every task (the orchestrator's observer): dependents and shared instances. */
  transitioned(record: Readonly<TaskRecord>, from: TaskStatus | undefined, to: TaskStatus): void {
    if (from === undefined) {
      const spec = record.spec;
      if (spec.stopWhen !== undefined) this.stopWatch.set(record.id, { total: 0, pending: 0 });
      if (spec.shared === true && spec.key !== undefined) this.sharedIds.set(sharedKey(spec.key, spec.cwd), record.id);
      if (this.stopWatch.size === 0) return;
      const deps = record.dependsOn;
      for (let i = 0; i < deps.length; i++) {
        const w = this.stopWatch.get(deps[i] as string);
        if (w !== undefined) {
          w.total++;
          w.pending++;
        }
      }
      return;
    }
    if (!isFinished(to)) return;
    if (this.sharedIds.size > 0 && record.spec.shared === true && record.spec.key !== undefined) {
      const key = sharedKey(record.spec.key, record.spec.cwd);
      if (this.sharedIds.get(key) === record.id) this.sharedIds.delete(key);
    }
    if (this.stopWatch.size === 0) return;
    this.stopWatch.delete(record.id);
    const deps = record.dependsOn;
    for (let i = 0; i < deps.length; i++) {
      const id = deps[i] as string;
      const w = this.stopWatch.get(id);
      if (w !== undefined && --w.pending === 0) this.stopSoon(id);
    }
  }

  /**
   * Restored records (no transition announces them): the unfinished stopWhen services and shared
   * instances, and the dependents of those services, are counted as their creation would have.
   */
  restored(records: readonly TaskRecord[]): void {
    for (const r of records) if (!isFinished(r.status)) this.transitioned(r, undefined, 'created');
    if (this.stopWatch.size === 0) return;
    for (const r of records) {
      if (!isFinished(r.status)) continue;
      // A dependent that finished before the restart still counts as one the service had.
      for (const dep of r.dependsOn) {
        const w = this.stopWatch.get(dep);
        if (w !== undefined) w.total++;
      }
    }
  }

  /** The unfinished shared task a new workflow run's shared spec with this key and cwd maps to. */
  sharedInstance(key: string | undefined, cwd: string | undefined): string | undefined {
    if (key === undefined || this.sharedIds.size === 0) return undefined;
    return this.sharedIds.get(sharedKey(key, cwd));
  }

  // ------------------------------------------------------------------ internals

  private held(id: string): ServiceTask | undefined {
    return this.lifecycle.get(id) as ServiceTask | undefined;
  }

  private disarm(service: ServiceRun): void {
    service.probe?.dispose();
    service.probe = undefined;
    if (service.readyTimer !== undefined) this.clock.clearTimeout(service.readyTimer);
    service.readyTimer = undefined;
  }

  private readyTimedOut(rt: ServiceTask): void {
    const service = rt.service as ServiceRun;
    service.readyTimer = undefined;
    if (rt.status !== 'running' || rt.ready !== undefined || rt.attemptHandle === undefined || service.stopping !== undefined) return;
    if (rt.cancelReason !== undefined) return;
    this.disarm(service);
    service.stopping = 'timeout';
    void this.execution.cancel(rt.attemptHandle, 'Not ready in time');
  }

  /**
   * Stops a stopWhen service whose dependents are all final: after the transition being delivered
   * (listeners never re-enter the scheduler while it dispatches), and only if that still holds.
   */
  private stopSoon(id: string): void {
    queueMicrotask(() => {
      const w = this.stopWatch.get(id);
      const rt = this.held(id);
      if (w === undefined || w.total === 0 || w.pending > 0 || rt === undefined) return;
      if (rt.status !== 'running' || rt.attemptHandle === undefined || rt.cancelReason !== undefined) return;
      const service = (rt.service ??= new ServiceRun());
      if (service.stopping !== undefined) return;
      this.disarm(service);
      service.stopping = 'dependentsDone';
      void this.execution.cancel(rt.attemptHandle, STOPPED_REASON);
    });
  }

  private readinessError(rt: ServiceTask, service: ServiceRun): ServiceError {
    const ms = rt.spec.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    const readyWhen = rt.spec.readyWhen;
    const what = readyWhen === undefined ? '' : ` (readyWhen: ${describeReadyWhen(readyWhen)})`;
    return new ServiceError('TIMEOUT', `Service \`${rt.name}\` was not ready within ${ms} ms${what}${tailText(service, undefined)}`);
  }
}

function sharedKey(key: string, cwd: string | undefined): string {
  return `${key}\u0000${cwd ?? ''}`;
}

/** Counts an executor reported, if they are counts: the one place they cross into a record. */
function problemCounts(info: ReadyInfo | undefined): ProblemCounts | undefined {
  const p = info?.problems;
  if (typeof p !== 'object' || p === null) return undefined;
  const { errors, warnings } = p;
  if (!Number.isInteger(errors) || errors < 0 || !Number.isInteger(warnings) || warnings < 0) return undefined;
  return { errors, warnings };
}

/** "exited (code 1)", "exited (signal SIGKILL)", or "failed (message)". */
function exitText(err: unknown): string {
  const result = err instanceof ExecutionError ? err.result : undefined;
  if (result?.signal !== undefined) return `exited (signal ${result.signal})`;
  if (result?.exitCode !== undefined) return `exited (code ${result.exitCode})`;
  return `failed (${err instanceof Error ? err.message : String(err)})`;
}

/** The attempt's output tail for a message: what the service printed last, or that it printed nothing. */
function tailText(service: ServiceRun, err: unknown): string {
  let tail = service.tail?.toString() ?? '';
  if (tail === '' && err instanceof ExecutionError) tail = err.result?.output ?? '';
  if (tail.length > SERVICE_TAIL_CHARS) tail = tail.slice(tail.length - SERVICE_TAIL_CHARS);
  return tail === '' ? '; it printed nothing' : `; last output:\n${tail}`;
}
