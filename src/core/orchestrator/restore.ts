// Bringing an orchestrator back from a validated snapshot, in this order: the records, the services'
// state, the failFast runs still open, the message queue (dropped with a warning when it cannot be
// read), the finished records kept, then the recovery plan (recovery.ts) applied decision by decision,
// and one dispatch. Invariant: called once, before anything is scheduled.
import type { InnerExecution } from '../cache/cachingExecution';
import { RoutedExecution } from '../execution/routedExecution';
import type { TaskLifecycleManager } from '../lifecycle/lifecycle';
import type { TaskError, TaskRecord } from '../model/model';
import type { MessageQueue } from '../queue/messageQueue';
import type { Services } from '../services/services';
import type { Snapshot } from '../state/snapshot';
import type { StateCoordinator } from '../state/stateCoordinator';
import type { Dispatcher } from './dispatcher';
import type { FinishedRecords } from './eviction';
import type { OrchestratorWarning } from './orchestratorTypes';
import type { Outcomes } from './outcomes';
import { planRecovery } from './recovery';

/** The parts of an orchestrator a restore writes to. */
export interface RestoreParts {
  dispatcher: Dispatcher;
  lifecycle: TaskLifecycleManager;
  services: Services;
  outcomes: Outcomes;
  queue: MessageQueue;
  finished: FinishedRecords;
  state: StateCoordinator;
  /** The execution port without the cache: a RoutedExecution can re-attach remote attempts. */
  routed: InnerExecution;
  warn(warning: OrchestratorWarning): void;
}

export function restoreSnapshot(p: RestoreParts, snapshot: Snapshot, rejected?: ReadonlyMap<string, TaskError>): void {
  const d = p.dispatcher;
  const routed = p.routed;
  if (snapshot.paused) d.paused = true;
  p.lifecycle.restore(snapshot.tasks);
  p.services.restored(snapshot.tasks);
  for (const r of snapshot.tasks) if (r.failFast === true) p.outcomes.runs.add(r);
  if (snapshot.queue !== undefined) {
    try {
      p.queue.restore(snapshot.queue);
    } catch (err) {
      p.warn({
        code: 'CORRUPT_STATE',
        message: `The saved message queue could not be restored (${(err as Error).message}); its undelivered messages were dropped`,
      });
    }
  }
  p.finished.restore(snapshot.tasks);
  const plan = planRecovery(snapshot.tasks, {
    rejected,
    checkFits: (demand) => d.pools.checkFits(demand)?.message,
    runs: (kind) => d.kinds.has(kind),
    ...(routed instanceof RoutedExecution ? { reattaches: (r: TaskRecord) => routed.canReattach(r) } : {}),
    paused: d.paused,
  });
  for (const decision of plan.decisions) p.outcomes.applyRecovery(decision);
  if (plan.resumed || plan.failed) {
    p.warn({
      code: 'RECOVERED',
      message: `Restored ${snapshot.tasks.length} tasks: ${plan.resumed} unfinished go on, ${plan.failed} could not resume`,
    });
  }
  p.state.markDirty();
  d.dispatch();
}
