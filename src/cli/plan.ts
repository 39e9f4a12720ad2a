// What a run will do, before it does it: the workflows' specs narrowed by `--only`, and the plan
// `--dry-run` prints (the dependency graph in layers, each task's pools). Pure: specs in, text out.
import { ValidationError } from '../core/model/errors';
import type { TaskSpec } from '../core/model/model';
import { describeReadyWhen } from '../core/model/serviceFields';
import { selectOnly as selectTasks, type WorkflowSpecs } from '../workspaceFiles/workflowSelection';
import { UsageError } from './exitCodes';

/**
 * The specs named by `--only` and every spec they depend on (workspaceFiles/workflowSelection.ts);
 * an unknown key is a UsageError naming the nearest one.
 */
export function selectOnly(workflows: readonly WorkflowSpecs[], only: readonly string[]): WorkflowSpecs[] {
  try {
    return selectTasks(workflows, only, 'task key for --only');
  } catch (err) {
    if (err instanceof ValidationError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * The specs in layers: layer 0 depends on nothing, layer n on tasks of earlier layers only (its
 * longest chain of dependencies has n links). Within a layer, declared order. The workflow file
 * has been validated, so every dependency names a key of the same workflow; a cycle (which the
 * orchestrator refuses when scheduling) leaves its tasks out and is reported by the caller's run.
 */
export function layers(specs: readonly TaskSpec[]): TaskSpec[][] {
  const byKey = new Map(specs.map((s) => [s.key as string, s]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (key: string): number => {
    const known = depth.get(key);
    if (known !== undefined) return known;
    if (visiting.has(key)) return -1;
    visiting.add(key);
    let d = 0;
    for (const dep of byKey.get(key)?.dependsOn ?? []) {
      const depDepth = depthOf(dep);
      if (depDepth < 0) return -1;
      d = Math.max(d, depDepth + 1);
    }
    visiting.delete(key);
    depth.set(key, d);
    return d;
  };
  const out: TaskSpec[][] = [];
  for (const spec of specs) {
    const d = depthOf(spec.key as string);
    if (d < 0) continue;
    (out[d] ??= []).push(spec);
  }
  return out;
}

/** What a tasks.json step resolved to: its command line, or the steps of a compound, by label. */
export type StepText = (spec: TaskSpec) => string | undefined;

function describeSpec(spec: TaskSpec, stepText: StepText | undefined): string {
  const parts: string[] = [];
  if (spec.command !== undefined) parts.push(`$ ${spec.command}`);
  else if (spec.kind === 'vscodeTask') {
    const resolved = stepText?.(spec);
    parts.push(`tasks.json: ${(spec.payload as { label?: string } | undefined)?.label ?? '?'}${resolved === undefined ? '' : ` → ${resolved}`}`);
  } else parts.push(`kind ${spec.kind}`);
  const pools = Object.entries(spec.resources ?? {}).map(([pool, n]) => `${pool}×${n}`);
  if (pools.length) parts.push(`pools ${pools.join(', ')}`);
  if (spec.dependsOn?.length) parts.push(`after ${spec.dependsOn.join(', ')}`);
  if (spec.priority) parts.push(`priority ${spec.priority}`);
  if (spec.timeoutMs) parts.push(`timeout ${spec.timeoutMs} ms`);
  if (spec.retries) parts.push(`retries ${spec.retries}`);
  if (spec.readyWhen) {
    const how = [`ready: ${describeReadyWhen(spec.readyWhen)}`];
    if (spec.stopWhen === 'dependentsDone') how.push('stops when its dependents are done');
    if (spec.restart === 'on-failure') how.push('restarts on failure');
    if (spec.shared) how.push('shared');
    parts.push(`service (${how.join('; ')})`);
  }
  if (spec.continueOnError) parts.push('continues on error');
  if (spec.runAlways) parts.push('runs always');
  return parts.join(' · ');
}

/** The text `--dry-run` prints: per workflow its layers, then the limits the run would have. */
export function formatPlan(
  workflows: readonly WorkflowSpecs[],
  limits: { concurrency: number | string; pools: Readonly<Record<string, number>> },
  stepText?: StepText,
): string {
  const lines: string[] = [];
  for (const { workflow, specs } of workflows) {
    lines.push(`workflow ${workflow}: ${specs.length} task${specs.length === 1 ? '' : 's'}`);
    layers(specs).forEach((layer, i) => {
      lines.push(`  layer ${i + 1}${layer.length > 1 ? ` (${layer.length} may run at once)` : ''}`);
      for (const spec of layer) lines.push(`    ${spec.key as string}  ${describeSpec(spec, stepText)}`);
    });
  }
  const pools = Object.entries(limits.pools).map(([pool, n]) => `${pool}=${n}`);
  lines.push(`concurrency ${limits.concurrency}; pools ${pools.length ? pools.join(', ') : 'none'}`);
  lines.push('dry run: nothing ran');
  return lines.join('\n');
}
