// A workflow checked as a whole before any of its tasks is created: every spec (specValidation.ts),
// unique keys, dependencies that resolve, and no cycle. A refused workflow changes nothing.
import { findCycle } from '../util/findCycle';
import { describeValue, ValidationError } from './errors';
import { isPlainObject } from './guards';
import { LIMITS } from './limits';
import { fail } from './fieldChecks';
import { validateSpecAt, type SpecContext, type ValidSpec } from './specValidation';

export interface WorkflowEntry {
  /** Position of the spec in the array given to validateWorkflow. */
  readonly index: number;
  readonly key: string;
  readonly spec: ValidSpec;
  /** Keys of the workflow's tasks this one waits for. */
  readonly dependsOnKeys: readonly string[];
  /** Positions in `ValidWorkflow.entries` of those tasks; each is lower than this entry's own. */
  readonly dependsOnIndexes: readonly number[];
  /** Ids of existing tasks (outside the workflow) this one waits for. */
  readonly dependsOnIds: readonly string[];
}

export interface ValidWorkflow {
  /** Topological order: every entry comes after all the workflow entries it depends on. */
  readonly entries: readonly WorkflowEntry[];
}

/**
 * Validates a workflow as a whole: every spec, unique keys, dependencies that resolve to a key of
 * the workflow or an existing task id (a key wins when both match), and no cycle. Returns the
 * entries in topological order. Field paths are prefixed with the spec's index: `[2].dependsOn[0]`.
 */
export function validateWorkflow(specs: unknown, ctx: SpecContext): ValidWorkflow {
  if (!Array.isArray(specs) || specs.length === 0 || specs.length > LIMITS.workflowSpecs) {
    const got = Array.isArray(specs) ? `an array of ${specs.length} specs` : describeValue(specs);
    throw new ValidationError(`Expected the workflow to be a non-empty array of at most ${LIMITS.workflowSpecs} task specs, got ${got}`);
  }
  const n = specs.length;
  const keyIndex = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const s: unknown = specs[i];
    if (!isPlainObject(s)) fail(`[${i}]`, 'a plain object like `{ key, name, kind, command }`', s);
    const key = s.key;
    if (typeof key !== 'string' || key.length === 0 || key.length > LIMITS.keyLength) {
      fail(
        `[${i}].key`,
        `a non-empty string of at most ${LIMITS.keyLength} characters (every workflow task needs a unique key that others name in \`dependsOn\`)`,
        key,
      );
    }
    const prev = keyIndex.get(key);
    if (prev !== undefined) fail(`[${i}].key`, `unique in the workflow (\`[${prev}]\` already has it)`, key);
    keyIndex.set(key, i);
  }

  const inner: SpecContext = { kinds: ctx.kinds, pools: ctx.pools, taskExists: (id) => keyIndex.has(id) || ctx.taskExists(id) };
  const valid: ValidSpec[] = new Array<ValidSpec>(n);
  for (let i = 0; i < n; i++) valid[i] = validateSpecAt(specs[i], inner, `[${i}]`);

  // Kahn's algorithm over in-workflow edges, seeded in input order so independent tasks keep it.
  // Every index below is a task position (0 <= i < n) and each array holds n entries: reads use `!`.
  const indegree = new Int32Array(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  const innerDeps: number[][] = new Array<number[]>(n);
  for (let i = 0; i < n; i++) {
    const list: number[] = [];
    for (const d of valid[i]!.dependsOn ?? []) {
      const j = keyIndex.get(d);
      if (j !== undefined) {
        list.push(j);
        dependents[j]!.push(i);
        indegree[i]!++;
      }
    }
    innerDeps[i] = list;
  }
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (indegree[i] === 0) order.push(i);
  for (let head = 0; head < order.length; head++) {
    for (const k of dependents[order[head]!]!) if (--indegree[k]! === 0) order.push(k);
  }
  if (order.length < n) {
    const adjacency = new Map<string, string[]>();
    for (let i = 0; i < n; i++) {
      if (indegree[i]! > 0)
        adjacency.set(
          valid[i]!.key as string,
          innerDeps[i]!.filter((j) => indegree[j]! > 0).map((j) => valid[j]!.key as string),
        );
    }
    const cycle = findCycle(adjacency) ?? [...adjacency.keys()];
    // Not every task was ordered, so some indegree is > 0: adjacency, and so the cycle, is non-empty.
    const first = keyIndex.get(cycle[0]!) ?? 0;
    // A long cycle is shown by its ends, so the message stays readable in a notification.
    const shown = cycle.length <= 21 ? cycle : [...cycle.slice(0, 10), `(${cycle.length - 20} more)`, ...cycle.slice(-10)];
    throw new ValidationError(
      `Workflow has a cycle: ${shown.join(' -> ')}; \`dependsOn\` must form a DAG (no task may wait, directly or through others, for itself)`,
      `[${first}].dependsOn`,
    );
  }

  const position = new Int32Array(n);
  order.forEach((i, p) => (position[i] = p));
  const entries: WorkflowEntry[] = order.map((i) => {
    const spec = valid[i]!;
    const dependsOnKeys: string[] = [];
    const dependsOnIds: string[] = [];
    for (const d of spec.dependsOn ?? []) (keyIndex.has(d) ? dependsOnKeys : dependsOnIds).push(d);
    return { index: i, key: spec.key as string, spec, dependsOnKeys, dependsOnIndexes: innerDeps[i]!.map((j) => position[j]!), dependsOnIds };
  });
  return { entries };
}
