// What a record keeps of the spec it was created from: the spec without `run`, and its dependencies.
import type { PersistedSpec, TaskSpec } from '../model/model';

/**
 * The spec without `run`. A plain own-property copy: object rest (`{ run, ...rest }`) goes through a
 * generic runtime path in V8 that cost ~1.5 us per task, a tenth of a no-op task's whole lifecycle.
 */
export function persistedSpec(spec: TaskSpec): PersistedSpec {
  const out: Record<string, unknown> = {};
  for (const k in spec) {
    if (k !== 'run' && Object.prototype.hasOwnProperty.call(spec, k)) out[k] = (spec as unknown as Record<string, unknown>)[k];
  }
  return out as unknown as PersistedSpec;
}

/**
 * Most tasks depend on nothing: they share one frozen empty list instead of two fresh arrays each
 * (the caller's and the copy), one of them kept for the record's life. Records are read-only to
 * everyone but TaskLifecycleManager, which never changes a record's dependsOn.
 */
const NO_DEPS: string[] = Object.freeze([]) as unknown as string[];

export function copyDeps(deps: readonly string[] | undefined): string[] {
  return deps === undefined || deps.length === 0 ? NO_DEPS : deps.slice();
}
