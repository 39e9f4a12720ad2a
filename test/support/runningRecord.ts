// A Running record as the dispatcher hands one to an execution port or an executor: the tests of
// ports and executors build their attempts from it.
import type { PersistedSpec, TaskRecord } from '../../src/core/model/model';

/** Record `id` of `kind` (default `shell`), Running its first attempt, with `spec` fields added. */
export function runningRecord(id: string, spec: Partial<PersistedSpec> = {}, kind = spec.kind ?? 'shell'): TaskRecord {
  return {
    id,
    name: id,
    kind,
    status: 'running',
    priority: 0,
    attempts: 1,
    createdAt: 0,
    history: [],
    spec: { name: id, ...spec, kind },
    dependsOn: [],
  };
}
