// A tasks.json task with `dependsOn` (a compound such as `{ "label": "all", "dependsOn": ["bad",
// "good"], "dependsOrder": "sequence" }`) expanded into tasks of ours. VS Code's tasks API cannot link
// a compound's execution to the executions it starts (its onDidEndTask fires with no exit code, even
// when a step failed: microsoft/vscode#92978), so running it through executeTask would report a
// failed sequence as a success. Expanded, each step is its own row with its own exit code, the order
// is ours to keep, and the compound's row reports the outcome of the steps it stands for.
//
// Shape of the expansion, for a root task R:
// - every task R depends on, directly or not, is one step (a task shared by two branches runs once,
//   as in VS Code); a step waits (core `dependsOn`) for its own dependencies, and in a
//   `"dependsOrder": "sequence"` list for the previous task of that list;
// - R itself is a `runAlways` task that depends (core `dependsOn`) on every step: a failed or
//   cancelled step does not cancel it, and it takes no slot until every step is final. Its executor
//   then reads the steps' records: it fails naming the first step that failed (its exit code in the
//   error and the result), is Cancelled when a step was cancelled other than by a failure, and
//   otherwise runs R's own command if it has one. A workflow step's `dependsOn` (keys outside the
//   compound) is waited for by every step and by R; one that failed or was cancelled cancels R too.
// - Every step, not only R's direct ones: a direct step cancelled by a nested step's failure is final
//   while a sibling nested step may still run, and R must not report before that one ends.
// - Cancelling R (queued, waiting or running) cancels its unfinished steps: followCompounds.
import type * as vscode from 'vscode';
import { ValidationError } from '../../core/model/errors';
import type { Disposable } from '../../core/util/events';
import { isFinished, type TaskSpec } from '../../core/model/model';
import type { Orchestrator } from '../../core/orchestrator/orchestratorTypes';
import { VSCODE_TASK_KIND } from '../ids';
import { configuredEntry, folderOf, resolveInCatalog, vscodeLabel, type TaskCatalog } from './taskResolver';
import type { VscodeTaskPayload } from '../../workspaceFiles/workflowFile';
import { isObjectLike } from '../../core/model/guards';

/** What the workflow step or the palette adds to every task of the expansion. */
export interface CompoundOptions {
  /** Key of the compound's own task; steps get `<key>/<label>`. */
  key: string;
  name?: string;
  priority?: number;
  /** Keys the whole compound waits for (a workflow step's `dependsOn`). */
  dependsOn?: string[];
  /** Copied to every task of the expansion (timeoutMs, retries, resources...). */
  extra?: Partial<TaskSpec>;
}

interface Node {
  task: vscode.Task;
  label: string;
  deps: Node[];
  sequence: boolean;
}

function identity(task: vscode.Task, catalog: TaskCatalog): string {
  return `${folderOf(task)?.uri.toString() ?? ''}\u0000${vscodeLabel(task, catalog)}`;
}

/** A `dependsOn` value as VS Code accepts it: a label, a task identifier object, or a list of those. */
function dependencyRefs(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function resolveRef(catalog: TaskCatalog, owner: vscode.Task, ref: unknown): vscode.Task {
  const folder = folderOf(owner)?.name;
  if (typeof ref === 'string') return resolveInCatalog(catalog, { label: ref, ...(folder ? { folder } : {}) });
  if (isObjectLike(ref) && typeof ref.type === 'string') {
    const wanted = ref as Record<string, unknown>;
    const match = catalog.tasks.find(
      (t) =>
        folderOf(t)?.name === folder &&
        Object.entries(wanted).every(([k, v]) => JSON.stringify((t.definition as Record<string, unknown>)[k]) === JSON.stringify(v)),
    );
    if (match) return match;
  }
  throw new ValidationError(
    `Expected each \`dependsOn\` of VS Code task \`${vscodeLabel(owner, catalog)}\` to name a task, like "build" or { "type": "npm", "script": "build" }, got ${JSON.stringify(ref)}`,
    'dependsOn',
  );
}

/** Whether the task has `dependsOn` in tasks.json, so scheduling it expands it. */
export function isCompound(catalog: TaskCatalog, task: vscode.Task): boolean {
  return dependencyRefs(configuredEntry(catalog, task)?.dependsOn).length > 0;
}

function buildGraph(catalog: TaskCatalog, root: vscode.Task): { root: Node; steps: Node[] } {
  const nodes = new Map<string, Node>();
  const steps: Node[] = [];
  const visit = (task: vscode.Task, path: string[]): Node => {
    const id = identity(task, catalog);
    const label = vscodeLabel(task, catalog);
    if (path.includes(id)) {
      const names = [...path.slice(path.indexOf(id)), id].map((p) => `\`${p.split('\u0000')[1]}\``);
      throw new ValidationError(`Expected the \`dependsOn\` of tasks.json to have no cycle, got ${names.join(' → ')}`, 'dependsOn');
    }
    const known = nodes.get(id);
    if (known) return known;
    const entry = configuredEntry(catalog, task);
    const node: Node = { task, label, deps: [], sequence: entry?.dependsOrder === 'sequence' };
    const inner = [...path, id];
    node.deps = dependencyRefs(entry?.dependsOn).map((ref) => visit(resolveRef(catalog, task, ref), inner));
    nodes.set(id, node);
    if (path.length) steps.push(node);
    return node;
  };
  const rootNode = visit(root, []);
  return { root: rootNode, steps };
}

function payloadOf(node: Node, extra: Partial<VscodeTaskPayload>): VscodeTaskPayload {
  const folder = folderOf(node.task)?.name;
  const payload: VscodeTaskPayload = { label: node.label, ...(folder ? { folder } : {}) };
  if (node.deps.length) payload.ownOnly = true;
  return { ...payload, ...extra };
}

/**
 * The specs for `scheduleWorkflow` that stand for a compound: its steps, then its own task (key
 * `options.key`). Throws a ValidationError for a cycle or a dependency that names no task.
 */
export function expandCompound(catalog: TaskCatalog, root: vscode.Task, options: CompoundOptions): TaskSpec[] {
  const graph = buildGraph(catalog, root);
  const keyOf = new Map<Node, string>(graph.steps.map((n) => [n, `${options.key}/${n.label}`]));
  const waitsFor = new Map<Node, Set<string>>(graph.steps.map((n) => [n, new Set(options.dependsOn ?? [])]));
  for (const node of [graph.root, ...graph.steps]) {
    node.deps.forEach((dep, i) => {
      if (node !== graph.root) waitsFor.get(node)?.add(keyOf.get(dep) as string);
      const previous = node.deps[i - 1];
      if (node.sequence && previous) waitsFor.get(dep)?.add(keyOf.get(previous) as string);
    });
  }
  const specs: TaskSpec[] = graph.steps.map((n) => {
    const deps = [...(waitsFor.get(n) ?? [])];
    return {
      ...options.extra,
      name: n.label,
      kind: VSCODE_TASK_KIND,
      key: keyOf.get(n) as string,
      payload: payloadOf(n, {}),
      ...(options.priority !== undefined ? { priority: options.priority } : {}),
      ...(deps.length ? { dependsOn: deps } : {}),
    };
  });
  // The compound's own task holds no resources and has no timeout or retries of its steps: it reports
  // on them once they are final, then runs its own command if any.
  const stepKeys = graph.steps.map((n) => keyOf.get(n) as string);
  specs.push({
    name: options.name ?? graph.root.label,
    kind: VSCODE_TASK_KIND,
    key: options.key,
    payload: payloadOf(graph.root, { ownOnly: true, steps: stepKeys }),
    ...(options.priority !== undefined ? { priority: options.priority } : {}),
    dependsOn: [...new Set([...(options.dependsOn ?? []), ...stepKeys])],
    runAlways: true,
  });
  return specs;
}

/** The payload of a compound's own task (one with `steps`), or undefined for any other payload. */
export function compoundPayload(payload: unknown): (VscodeTaskPayload & { steps: string[] }) | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const p = payload as Partial<VscodeTaskPayload>;
  return typeof p.label === 'string' && Array.isArray(p.steps) && p.steps.length ? (p as VscodeTaskPayload & { steps: string[] }) : undefined;
}

/**
 * Cancelling a compound's own task, queued or running, cancels the steps it stands for that have
 * not finished: the user stopped the compound, so every task it started stops with it.
 */
export function followCompounds(orchestrator: Pick<Orchestrator, 'getTasks' | 'onDidChangeTask' | 'cancelTask'>): Disposable {
  return orchestrator.onDidChangeTask((record) => {
    if (record.status !== 'cancelled' || record.kind !== VSCODE_TASK_KIND) return;
    const payload = compoundPayload(record.spec.payload);
    if (!payload) return;
    const keys = new Set(payload.steps);
    const reason = `Compound task \`${record.name}\` was cancelled`;
    for (const step of orchestrator.getTasks()) {
      if (step.workflowId === record.workflowId && step.spec.key !== undefined && keys.has(step.spec.key) && !isFinished(step.status)) {
        orchestrator.cancelTask(step.id, reason).catch(() => undefined);
      }
    }
  });
}
