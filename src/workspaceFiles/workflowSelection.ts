// A part of a workflow: the tasks named and everything they depend on, transitively. The CLI's
// `--only` and a task-level trigger (`"on"` on one task) both run such a part. Pure: specs in, specs out.
import { ValidationError } from '../core/model/errors';
import { nearest, quoteList } from '../core/model/fieldChecks';
import type { TaskSpec } from '../core/model/model';

/** One workflow's specs, keyed as in its file (every spec has a `key`). */
export interface WorkflowSpecs {
  workflow: string;
  specs: TaskSpec[];
}

/**
 * The specs named by `only` (keys, in any of the workflows) and every spec they depend on,
 * transitively, in declared order; workflows left with no spec are dropped. An empty `only` keeps
 * everything. Throws a ValidationError (field `only`) naming an unknown key, the nearest one and
 * the known keys; `what` says what the keys were given as (`task key for --only`).
 */
export function selectOnly(workflows: readonly WorkflowSpecs[], only: readonly string[], what = 'task key'): WorkflowSpecs[] {
  if (!only.length) return [...workflows];
  const known = [...new Set(workflows.flatMap((w) => w.specs.map((s) => s.key as string)))];
  for (const key of only) {
    if (known.includes(key)) continue;
    const best = nearest(key, known);
    const hint = best === undefined ? '' : ` (did you mean \`${best}\`?)`;
    throw new ValidationError(`Unknown ${what} \`${key}\`${hint}${known.length ? `; known: ${quoteList(known, 20)}` : ''}`, 'only');
  }
  return workflows
    .map(({ workflow, specs }) => {
      const byKey = new Map(specs.map((s) => [s.key as string, s]));
      const keep = new Set<string>();
      const visit = (key: string): void => {
        if (keep.has(key)) return;
        keep.add(key);
        for (const dep of byKey.get(key)?.dependsOn ?? []) visit(dep);
      };
      for (const key of only) if (byKey.has(key)) visit(key);
      return { workflow, specs: specs.filter((s) => keep.has(s.key as string)) };
    })
    .filter((w) => w.specs.length > 0);
}
