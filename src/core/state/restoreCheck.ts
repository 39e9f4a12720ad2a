// What a saved task must satisfy before it may run again. validateSnapshot checks a snapshot's
// shape; this checks its meaning, with the rules new tasks pass, not a second copy of them:
// - each unfinished task's spec passes validateSpec, against the pools configured now;
// - no unfinished task waits, directly or not, for itself (findCycle, the workflow check's search).
// A task that fails either is not run: the orchestrator fails it with the returned error and keeps
// its saved record aside, and everything else starts.
import { findCycle } from '../util/findCycle';
import { ValidationError } from '../model/errors';
import { isFinished, type TaskError, type TaskRecord } from '../model/model';
import { validateSpec } from '../model/specValidation';
import type { OrchestratorWarning } from '../model/warnings';
import type { Clock, Store } from '../ports';
import { SNAPSHOT_VERSION, STATE_KEY, type Snapshot } from './snapshot';
import { keepAside } from './snapshotLoad';

export interface RestoreCheckContext {
  /** Pool capacities as configured now. */
  pools: Readonly<Record<string, number>>;
}

/** The unfinished tasks that must not run, by id, with why: a message naming the field or the cycle. */
export function checkRestoredTasks(tasks: readonly TaskRecord[], ctx: RestoreCheckContext): Map<string, TaskError> {
  const rejected = new Map<string, TaskError>();
  for (const r of tasks) {
    // A function task's code was never saved: it cannot run and fails as not resumable anyway.
    if (isFinished(r.status) || r.kind === 'function') continue;
    try {
      validateSpec(r.spec, {
        // The record's own kind only: a kind whose executor is not registered yet is allowed to wait,
        // but a spec that names another kind than its record is not.
        kinds: new Set([r.kind]),
        pools: ctx.pools,
        // The spec's dependsOn may hold workflow keys; the record's resolved ids are checked below.
        taskExists: () => true,
      });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      rejected.set(r.id, { message: `The saved task \`${r.name}\` (${r.id}) is not valid: ${err.message}`, code: err.code });
    }
  }
  for (const [id, cycle] of dependencyCycles(tasks, rejected)) {
    rejected.set(id, {
      message: `The saved task waits for itself through a dependency cycle: ${cycle.map((c) => `\`${c}\``).join(' -> ')}`,
      code: 'VALIDATION',
    });
  }
  return rejected;
}

/** Each unfinished task that is part of a cycle, with its cycle (first node repeated at the end). */
function dependencyCycles(tasks: readonly TaskRecord[], skip: ReadonlyMap<string, unknown>): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const graph = new Map<string, readonly string[]>();
  for (const r of tasks) {
    if (isFinished(r.status) || skip.has(r.id)) continue;
    // A self-dependency is the commonest cycle: found here without a search.
    if (r.dependsOn.includes(r.id)) found.set(r.id, [r.id, r.id]);
    else graph.set(r.id, r.dependsOn);
  }
  // Finished and rejected tasks are leaves (not keys): a path through them ends there. Each search
  // takes one cycle out, so this ends after at most one search per two tasks.
  for (let cycle = findCycle(graph); cycle !== undefined; cycle = findCycle(graph)) {
    for (const id of cycle.slice(0, -1)) {
      found.set(id, cycle);
      graph.delete(id);
    }
  }
  return found;
}

/** What setting invalid saved tasks aside came to. */
export interface SetAside {
  /** The saved tasks that must not run, by id, with why. */
  rejected: Map<string, TaskError>;
  /** Why writes must be held (their backup failed), if they must. */
  holdWrites?: string;
  warning?: OrchestratorWarning;
}

/**
 * The saved tasks that must not run (checkRestoredTasks), after their saved records are kept under a
 * backup key: failing them changes the records the next write saves, so the originals go aside
 * first. A backup the store refuses or does not answer (bounded wait) holds writes, as an unreadable
 * state does: the originals then stay where they are.
 */
export async function setAsideInvalidTasks(snapshot: Snapshot, pools: Readonly<Record<string, number>>, store: Store, clock: Clock): Promise<SetAside> {
  const rejected = checkRestoredTasks(snapshot.tasks, { pools });
  if (rejected.size === 0) return { rejected };
  const key = `${STATE_KEY}.backup.${clock.now()}`;
  const tasks = snapshot.tasks.filter((t) => rejected.has(t.id));
  const notKept = await keepAside(store, clock, key, { version: SNAPSHOT_VERSION, savedAt: clock.now(), tasks });
  const reasons = [...rejected.values()].slice(0, 10).map((e) => e.message);
  const more = rejected.size > reasons.length ? `; and ${rejected.size - reasons.length} more` : '';
  const where =
    notKept === undefined
      ? `their saved records are kept under \`${key}\``
      : `their saved records could not be backed up (${notKept}), so nothing is saved until a restart`;
  return {
    rejected,
    holdWrites: notKept === undefined ? undefined : `saved tasks that are not valid could not be backed up (${notKept})`,
    warning: { code: 'CORRUPT_STATE', message: `${rejected.size} saved tasks failed instead of running, ${where}: ${reasons.join('; ')}${more}` },
  };
}
