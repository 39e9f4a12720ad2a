// Recovery: what becomes of each unfinished task of a restored snapshot. A pure function of the
// saved records and a little context (which records failed the restore check, whether a demand
// still fits the pools); the orchestrator applies the decisions, in order, through the lifecycle.
//
// The policy:
//  1. First each unfinished record in snapshot order, on its own:
//     - rejected by the restore check (a spec new tasks could not have, a dependency cycle): `fail`;
//     - a function task: `fail` NOT_RESUMABLE (its code was never persisted);
//     - Running when the session ended, on a remote backend that can follow it again: `reattach`
//       (it stays Running, its outcome reported when the remote attempt ends);
//     - Running when the session ended: `retry` (Running -> Scheduled) while it has retries left
//       or is a `restart: 'on-failure'` service (it is meant to run until stopped), else `fail`
//       INTERRUPTED;
//     - Created or Scheduled: goes on to step 2.
//  2. Then every record still unfinished, in snapshot order, dependencies seen as step 1 and the
//     earlier decisions of step 2 left them:
//     - Created: `cancel` when a dependency failed (not continueOnError) or was cancelled (not for
//       runAlways), else `wait`
//       (gated on its dependencies, its kind's executor and the pause; with nothing to wait for it
//       is scheduled at once, and cancelled then if its demand no longer fits the pools);
//     - Scheduled: `cancel` when its demand no longer fits the pools, else `queue`.
//  A cancel in step 2 also cancels, when applied, every task already waiting on it (the dependency
//  cascade): the plan follows those statuses so later decisions see them, without listing them.
// A fail leaves dependents alone in step 1 (nothing is waiting yet); step 2 cancels them.
import { isFinished, type TaskError, type TaskRecord, type TaskStatus } from '../model/model';

export type RecoveryAction = 'retry' | 'fail' | 'cancel' | 'queue' | 'wait' | 'reattach';

export interface RecoveryDecision {
  id: string;
  action: RecoveryAction;
  /** Why, for retry, fail and cancel: it becomes the transition's reason. */
  reason?: string;
  /** The record's error, for retry and fail. */
  error?: TaskError;
}

export interface RecoveryContext {
  /** Saved tasks that must not run, with why (checkRestoredTasks). */
  rejected?: ReadonlyMap<string, TaskError>;
  /** Why `demand` can never be met by the pools now; undefined when it fits. */
  checkFits(demand: Readonly<Record<string, number>> | undefined): string | undefined;
  /** Whether an executor for `kind` is registered (a task of another kind waits for one). */
  runs(kind: string): boolean;
  /** A Running record whose attempt still runs elsewhere and can be followed again (a remote backend). */
  reattaches?(record: TaskRecord): boolean;
  /** The restored pause: a Created task then stays Created. */
  paused: boolean;
}

export interface RecoveryPlan {
  /** To apply in order: the step-1 decisions, then the step-2 ones. */
  decisions: RecoveryDecision[];
  /** Unfinished tasks that go on. */
  resumed: number;
  /** Unfinished tasks failed in step 1. */
  failed: number;
}

export function planRecovery(records: readonly TaskRecord[], context: RecoveryContext): RecoveryPlan {
  const decisions: RecoveryDecision[] = [];
  const status = new Map<string, TaskStatus>();
  const byId = new Map<string, TaskRecord>();
  for (const r of records) {
    status.set(r.id, r.status);
    byId.set(r.id, r);
  }
  let resumed = 0;
  let failed = 0;
  for (const r of records) {
    if (isFinished(r.status)) continue;
    const invalid = context.rejected?.get(r.id);
    if (invalid !== undefined) {
      decisions.push(fail(r.id, invalid.message, invalid.code ?? 'VALIDATION'));
    } else if (r.status === 'running' && context.reattaches?.(r) === true) {
      decisions.push({ id: r.id, action: 'reattach', reason: `Following attempt ${r.attempts} again where it runs` });
      resumed++;
      continue;
    } else if (r.kind === 'function') {
      decisions.push(fail(r.id, "Not resumable: a function task's code is not persisted, so it cannot run after a restart", 'NOT_RESUMABLE'));
    } else if (r.status === 'running' && r.attempts > (r.spec.retries ?? 0) && r.spec.restart !== 'on-failure') {
      decisions.push({ id: r.id, action: 'fail', reason: 'interrupted', error: { message: 'interrupted', code: 'INTERRUPTED' } });
    } else {
      if (r.status === 'running') {
        decisions.push({
          id: r.id,
          action: 'retry',
          reason: `Interrupted by a restart during attempt ${r.attempts}; ${r.spec.restart === 'on-failure' ? 'restarting the service (restart: on-failure)' : 'retrying'}`,
          error: { message: 'interrupted', code: 'INTERRUPTED' },
        });
        status.set(r.id, 'scheduled');
      }
      resumed++;
      continue;
    }
    status.set(r.id, 'failed');
    failed++;
  }

  // A failed continueOnError dependency counts as completed (failurePolicies.ts).
  const tolerated = (id: string): boolean => byId.get(id)?.spec.continueOnError === true;
  // Tasks waiting (decided `wait`, not runAlways) on each task, for the cascade of a later cancel.
  const waiters = new Map<string, string[]>();
  const cancel = (id: string): void => {
    status.set(id, 'cancelled');
    const ws = waiters.get(id);
    if (ws) for (const w of ws) if (status.get(w) === 'created') cancel(w);
  };
  for (const r of records) {
    const s = status.get(r.id);
    if (s === 'created') {
      const always = r.spec.runAlways === true;
      const dead = always ? undefined : r.dependsOn.find((d) => (status.get(d) === 'failed' && !tolerated(d)) || status.get(d) === 'cancelled');
      if (dead !== undefined) {
        const dep = byId.get(dead) as TaskRecord;
        decisions.push({
          id: r.id,
          action: 'cancel',
          reason: `Dependency \`${dep.name}\` (${dep.id}) ${status.get(dead) === 'failed' ? 'failed' : 'was cancelled'}`,
        });
        cancel(r.id);
        continue;
      }
      decisions.push({ id: r.id, action: 'wait' });
      let waiting = false;
      for (const d of r.dependsOn) {
        const ds = status.get(d);
        if (ds === undefined || ds === 'completed' || (always && isFinished(ds)) || (ds === 'failed' && tolerated(d))) continue;
        waiting = true;
        if (always) continue;
        const list = waiters.get(d);
        if (list) list.push(r.id);
        else waiters.set(d, [r.id]);
      }
      // Nothing to wait for: gating schedules it at once, and a demand that no longer fits cancels it.
      if (!waiting && !context.paused && context.runs(r.kind)) {
        status.set(r.id, 'scheduled');
        if (context.checkFits(r.spec.resources) !== undefined) cancel(r.id);
      }
    } else if (s === 'scheduled') {
      const problem = context.checkFits(r.spec.resources);
      if (problem !== undefined) {
        decisions.push({ id: r.id, action: 'cancel', reason: `Cannot run any more: ${problem}` });
        cancel(r.id);
      } else {
        decisions.push({ id: r.id, action: 'queue' });
      }
    }
  }
  return { decisions, resumed, failed };
}

function fail(id: string, reason: string, code: string): RecoveryDecision {
  return { id, action: 'fail', reason, error: { message: reason, code } };
}
