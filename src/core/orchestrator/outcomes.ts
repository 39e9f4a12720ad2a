// Outcomes: what an attempt's result, a cancel or an abandoned task does to the records. The retry
// policy (a failed attempt with retries left goes back to Scheduled after a backoff), the reasons
// written on transitions, and the cascades: a completed task releases its dependents; a failed or
// cancelled one cancels those that needed it (runAlways ones go on once all they wait for is final).
// The failure policies (failurePolicies.ts): a continueOnError failure releases its dependents as a
// completion does; a failure in a failFast workflow run then cancels the run's tasks not yet started.
//
// Hot path: a completion reuses one event object; finishing allocates no closure (a retry's backoff
// timer is the one closure, and only on a retry).
import { CancelledError, ExecutionError, TimeoutError } from '../model/errors';
import { retryDelay } from '../util/backoff';
import type { TaskLifecycleManager } from '../lifecycle/lifecycle';
import { toTaskError } from '../lifecycle/taskErrors';
import { isFinished, type TaskError, type TaskRecord, type TaskResult } from '../model/model';
import type { PerformanceMonitor } from '../metrics/performanceMonitor';
import type { Clock } from '../ports';
import type { Dispatcher, DispatchOutcomes } from './dispatcher';
import type { FinishedRecords } from './eviction';
import type { RecoveryDecision } from './recovery';
import { continueReason, stopReason, WorkflowRuns } from './failurePolicies';
import { runtimeOf, type TaskRun } from './taskRun';
import type { Services, ServiceVerdict } from '../services/services';

const DEFAULT_RETRY_DELAY_MS = 1000;

export class Outcomes implements DispatchOutcomes {
  private readonly completion: { type: 'complete'; result: TaskResult | undefined } = { type: 'complete', result: undefined };

  constructor(
    private readonly lifecycle: TaskLifecycleManager,
    private readonly clock: Clock,
    private readonly monitor: PerformanceMonitor,
    private readonly dispatcher: Dispatcher,
    private readonly finished: FinishedRecords,
    private readonly services?: Services,
  ) {}

  /** The failFast workflow runs with members not yet final: admission and restore add them. */
  readonly runs = new WorkflowRuns((id) => this.lifecycle.get(id));

  settle(rt: TaskRun, result: TaskResult | undefined, err: unknown): void {
    if (rt.service !== undefined) this.services?.attemptEnded(rt);
    const record = rt;
    const id = record.id;
    // Unchanged since the attempt started: the next start sets them again.
    const startedAt = record.startedAt as number;
    const waitMs = startedAt - rt.enqueuedAt;
    const closed = this.dispatcher.closed;
    // Only a finished record can leave the lifecycle, so a record no longer held is not running either.
    // After dispose the attempt was stopped by the shutdown, not by the task: the record stays
    // Running in the final snapshot, and the next start applies the recovery policy to it, exactly
    // as after a crash (a window reload must not turn running work into "cancelled by the user").
    // A cancel asked for before the shutdown stands, though: that attempt was being stopped anyway.
    if (record.status !== 'running' || (closed && rt.cancelReason === undefined)) return;
    const now = this.clock.now();
    const duration = now - startedAt;
    // A service's outcome may be its own (services.ts): stopped by its dependents, a restart, a crash loop, not ready in time.
    const verdict = rt.service === undefined ? undefined : this.services?.verdict(rt, result, err, closed);
    if (verdict !== undefined) {
      if (verdict.type !== 'error') return this.serviceOutcome(rt, verdict, err, duration, waitMs, now);
      err = verdict.error;
    }
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
      this.monitor.recordExecution(duration, 'failed', waitMs, now);
      const error = toTaskError(err);
      const failed = err instanceof ExecutionError ? err.result : undefined;
      const retries = record.spec.retries ?? 0;
      if (record.attempts <= retries && !closed) {
        const delay = retryDelay(record.attempts, record.spec.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS);
        const why = err instanceof TimeoutError ? `timed out after ${err.timeoutMs} ms` : error.message;
        this.lifecycle.apply(id, {
          type: 'retry',
          reason: `Attempt ${record.attempts} of ${retries + 1} failed (${why}); retrying in ${Math.round(delay)} ms`,
          error,
          result: failed,
        });
        // keepAlive: the backoff is all that remains of this task's work until it fires.
        rt.retryTimer = this.clock.setTimeout(() => this.retryDue(rt), delay, true);
      } else {
        const reason = record.spec.continueOnError === true ? continueReason(error.message) : undefined;
        this.lifecycle.apply(id, { type: 'fail', error, result: failed, reason });
        this.afterFinish(record, 'failed');
      }
    }
  }

  private serviceOutcome(rt: TaskRun, verdict: Exclude<ServiceVerdict, { type: 'error' }>, err: unknown, duration: number, waitMs: number, now: number): void {
    const failed = err instanceof ExecutionError ? err.result : undefined;
    if (verdict.type === 'complete') {
      this.monitor.recordExecution(duration, 'completed', waitMs, now);
      this.lifecycle.applyTo(rt, { type: 'complete', result: verdict.result, reason: verdict.reason }, now);
      return this.afterFinish(rt, 'completed');
    }
    this.monitor.recordExecution(duration, 'failed', waitMs, now);
    if (verdict.type === 'fail') {
      this.lifecycle.applyTo(rt, { type: 'fail', error: toTaskError(verdict.error), result: failed }, now);
      return this.afterFinish(rt, 'failed');
    }
    this.lifecycle.applyTo(rt, { type: 'retry', reason: verdict.reason, error: toTaskError(err), result: failed }, now);
    // keepAlive: the backoff is all that remains of this service's work until it fires.
    rt.retryTimer = this.clock.setTimeout(() => this.retryDue(rt), verdict.delayMs, true);
  }

  private retryDue(rt: TaskRun): void {
    rt.retryTimer = undefined;
    const now = this.lifecycle.get(rt.id);
    if (now?.status !== 'scheduled') return;
    this.dispatcher.enqueue(now);
    this.dispatcher.dispatch();
  }

  /** Stops a waiting retry's backoff. */
  cancelRetry(record: Readonly<TaskRecord>): void {
    const rt = runtimeOf(record);
    if (rt.retryTimer !== undefined) this.clock.clearTimeout(rt.retryTimer);
    rt.retryTimer = undefined;
  }

  /** A task reached a final status: release its dependents or cancel them, forget its runtime. */
  private afterFinish(record: Readonly<TaskRecord>, status: 'completed' | 'failed' | 'cancelled'): void {
    const id = record.id;
    this.cancelRetry(record);
    const dispatcher = this.dispatcher;
    // A cancel is never tolerated: only a failure of a continueOnError task releases its dependents.
    if (status === 'completed' || (status === 'failed' && record.spec.continueOnError === true)) {
      const readyIds = dispatcher.deps.onCompleted(id);
      for (let i = 0; i < readyIds.length; i++) {
        const r = this.lifecycle.get(readyIds[i] as string);
        if (r && r.status === 'created') dispatcher.gate(r);
      }
    } else {
      const { cancelled, ready } = dispatcher.deps.onFailedOrCancelled(id);
      if (cancelled.length) {
        const reason = `Dependency \`${record.name}\` (${record.id}) ${status === 'failed' ? 'failed' : 'was cancelled'}`;
        for (const dep of cancelled) this.cancelWaiting(dep, reason);
      }
      // runAlways waiters the failure reached, after the cascade: each of their dependencies is final now.
      for (let i = 0; i < ready.length; i++) {
        const r = this.lifecycle.get(ready[i] as string);
        if (r && r.status === 'created') dispatcher.gate(r);
      }
    }
    // After its own cascade: the failure's dependents keep the reason naming it.
    if (record.failFast === true) {
      const stop = this.runs.finished(record);
      for (let i = 0; i < stop.length; i++) this.cancelWaiting(stop[i] as string, stopReason(record));
    }
    this.finished.note(record as TaskRecord);
  }

  /** See DispatchOutcomes.settleQueued: only a cancel can end an attempt that never started. */
  settleQueued(rt: TaskRun, err: unknown): boolean {
    if (rt.cancelReason === undefined && !(err instanceof CancelledError)) return false;
    // Let go by the shutdown, not by the task: it stays Scheduled in the final snapshot, and the next
    // session resumes its queued attempt (RemoteExecution.resume).
    if (this.dispatcher.closed && rt.cancelReason === undefined) return true;
    const reason = rt.cancelReason ?? (err as Error).message;
    rt.cancelReason = undefined;
    this.cancelWaiting(rt.id, reason);
    return true;
  }

  /** Cancels a task that is not running (Created or Scheduled): nothing to stop, just forget it; a queued attempt is withdrawn first. */
  cancelWaiting(id: string, reason: string): void {
    const record = this.lifecycle.get(id);
    if (!record || (record.status !== 'created' && record.status !== 'scheduled')) return;
    // Its attempt waits in a remote queue: withdrawn there first, then Cancelled (settleQueued).
    const rt = runtimeOf(record);
    if (rt.queued) return this.dispatcher.withdrawQueued(rt, reason);
    this.dispatcher.withdraw(record);
    this.lifecycle.applyTo(record, { type: 'cancel', reason });
    this.afterFinish(record, 'cancelled');
  }

  /** A task that can never run (a restored one) fails with the reason, and its dependents are cancelled. */
  abandon(record: Readonly<TaskRecord>, reason: string, error: TaskError): void {
    if (record.status === 'running') {
      this.lifecycle.apply(record.id, { type: 'fail', error, reason });
    } else {
      this.dispatcher.withdraw(record);
      this.lifecycle.apply(record.id, { type: 'abandon', error, reason });
    }
    this.afterFinish(record, 'failed');
  }

  /** Applies one decision of a recovery plan (recovery.ts) to a restored record. */
  applyRecovery({ id, action, reason, error }: RecoveryDecision): void {
    const record = this.lifecycle.get(id);
    // A failFast run stopped by an earlier decision's failure may have cancelled it already.
    if (!record || isFinished(record.status)) return;
    switch (action) {
      case 'fail':
        return this.abandon(record, reason as string, error as TaskError);
      case 'retry':
        this.lifecycle.applyTo(record, { type: 'retry', reason: reason as string, error });
        return;
      case 'cancel':
        return this.cancelWaiting(id, reason as string);
      case 'wait':
        if (record.status === 'created') this.dispatcher.gate(record);
        return;
      case 'queue':
        if (record.status !== 'scheduled') return;
        // An earlier session may have queued its attempt on a remote backend already.
        runtimeOf(record).resumable = true;
        this.dispatcher.enqueue(record);
        return;
      case 'reattach':
        if (record.status === 'running') this.dispatcher.reattach(record);
        return;
    }
  }
}
