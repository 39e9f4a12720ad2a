// What Rerun and Rerun Failed schedule, from the records a run history keeps. Pure (no 'vscode').
//
// Invariants:
// - a spec is the record's persisted spec, unchanged but for `key` and `dependsOn`: the same command,
//   cwd, env, resources, timeouts and retries (their defaults were applied when it was first scheduled);
// - dependencies are rebuilt from the records' `dependsOn` ids, kept only between tasks that are
//   scheduled again: a dependency outside the set is an old task (done, or gone from the records);
// - every spec of a workflow gets a key (its own, else its old id), so keys stay unique in the run.
import { isFinished, type TaskRecord, type TaskSpec } from '../../core/model/model';

export interface RerunPlan {
  specs: TaskSpec[];
  options: { failFast?: boolean; name?: string };
}

/** One task again, alone: its spec without key or dependencies. */
export function taskRerunSpec(record: TaskRecord): TaskSpec {
  const spec: TaskSpec = { ...record.spec };
  delete spec.key;
  delete spec.dependsOn;
  return spec;
}

/** The whole workflow run again, in the order its tasks were created. */
export function runRerunPlan(tasks: readonly TaskRecord[]): RerunPlan {
  return plan(tasks, tasks);
}

/**
 * The run's failed and cancelled tasks, and every task of the run that depends on one of them
 * (transitively); what completed stays done and is not waited for. Empty when nothing failed.
 */
export function failedRerunPlan(tasks: readonly TaskRecord[]): RerunPlan {
  const chosen = new Set(tasks.filter((t) => t.status === 'failed' || t.status === 'cancelled').map((t) => t.id));
  // Dependents of a chosen task, to a fixed point: a run is small, and the records may come in any order.
  for (let grew = chosen.size > 0; grew;) {
    grew = false;
    for (const t of tasks) {
      if (!chosen.has(t.id) && t.dependsOn.some((d) => chosen.has(d))) {
        chosen.add(t.id);
        grew = true;
      }
    }
  }
  return plan(
    tasks.filter((t) => chosen.has(t.id)),
    tasks,
  );
}

/** True when a run has something for Rerun Failed. */
export function hasFailed(tasks: readonly TaskRecord[]): boolean {
  return tasks.some((t) => t.status === 'failed' || t.status === 'cancelled');
}

/** True when every task of the run is final (only such runs reach the history, but a store may differ). */
export function allFinished(tasks: readonly TaskRecord[]): boolean {
  return tasks.every((t) => isFinished(t.status));
}

function plan(chosen: readonly TaskRecord[], run: readonly TaskRecord[]): RerunPlan {
  const ordered = [...chosen].sort((a, b) => a.createdAt - b.createdAt);
  const keyOf = new Map<string, string>();
  const used = new Set<string>();
  for (const t of ordered) {
    let key = t.spec.key ?? t.id;
    // Two records with one key (a store merging runs): the later one takes its id, keys stay unique.
    if (used.has(key)) key = t.id;
    used.add(key);
    keyOf.set(t.id, key);
  }
  const specs = ordered.map((t) => {
    const spec: TaskSpec = { ...t.spec, key: keyOf.get(t.id) as string };
    const deps = t.dependsOn.filter((d) => keyOf.has(d)).map((d) => keyOf.get(d) as string);
    if (deps.length) spec.dependsOn = deps;
    else delete spec.dependsOn;
    return spec;
  });
  const failFast = run.some((t) => t.failFast === true);
  const name = run.find((t) => t.workflowName !== undefined)?.workflowName;
  return { specs, options: { ...(failFast ? { failFast: true } : {}), ...(name === undefined ? {} : { name }) } };
}
