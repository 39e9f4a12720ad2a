// The `vscodeTask` executor: finds the VS Code task a payload names (tasks.json, or a provider's such
// as npm scripts, by the label Run Task shows), refuses what cannot run as one task of ours (Restricted
// Mode, a compound not expanded, an editor variable without an editor), and runs it with runTask.ts.
import * as vscode from 'vscode';
import { CancelledError, ExecutionError, fieldError } from '../../core/model/errors';
import type { ProblemCounts, TaskRecord, TaskResult } from '../../core/model/model';
import type { Orchestrator } from '../../core/orchestrator/orchestratorTypes';
import type { ExecutionContext, Executor } from '../../core/ports';
import { isCompound } from './compoundTasks';
import { runTask } from './runTask';
import { configuredEntry, resolveTask, vscodeLabel, type ConfiguredTask, type TaskCatalog } from './taskResolver';
import { editorVariablesIn } from '../../workspaceFiles/taskVariables';
import { contributedMatcher, formatProblems, taskProblemSources } from './taskProblems';
import { backgroundPatterns, type BackgroundPattern } from './backgroundCycles';
import type { VscodeTaskRuns } from './vscodeTaskRuns';
import type { VscodeTaskPayload } from '../../workspaceFiles/workflowFile';
import { isObjectLike } from '../../core/model/guards';

/** Checks a payload that came from a persisted record, a workflow file or another extension. */
export function parseVscodeTaskPayload(value: unknown): VscodeTaskPayload {
  if (!isObjectLike(value)) {
    throw fieldError('payload', 'an object like { "label": "build" }', value);
  }
  const { label, type, folder, ownOnly, steps } = value as Record<string, unknown>;
  if (typeof label !== 'string' || !label) throw fieldError('payload.label', 'a non-empty string', label);
  if (type !== undefined && typeof type !== 'string') throw fieldError('payload.type', 'a string', type);
  if (folder !== undefined && typeof folder !== 'string') throw fieldError('payload.folder', 'a string', folder);
  if (ownOnly !== undefined && typeof ownOnly !== 'boolean') throw fieldError('payload.ownOnly', 'a boolean', ownOnly);
  if (steps !== undefined && !(Array.isArray(steps) && steps.every((k) => typeof k === 'string'))) {
    throw fieldError('payload.steps', 'an array of task keys', steps);
  }
  const payload: VscodeTaskPayload = { label };
  if (type !== undefined) payload.type = type;
  if (folder !== undefined) payload.folder = folder;
  if (ownOnly !== undefined) payload.ownOnly = ownOnly;
  if (steps !== undefined) payload.steps = [...(steps as string[])];
  return payload;
}

/** The label VS Code's Run Task shows for a task; see taskResolver.ts for tasks.json's part in it. */
export function taskLabel(task: vscode.Task, catalog?: TaskCatalog): string {
  return vscodeLabel(task, catalog);
}

/** Finds the task a payload names, by the label VS Code shows or its bare name; refuses an ambiguous one. */
export async function findTask(payload: VscodeTaskPayload): Promise<vscode.Task> {
  return (await resolveTask(payload)).task;
}

/** Where a compound's own task reads how its dependencies ended: the orchestrator's records. */
export type StepSource = Pick<Orchestrator, 'getTask'>;

export class VscodeTaskExecutor implements Executor {
  /** `isTrusted` is read per run: granting trust enables the executor without a reload. */
  constructor(
    private readonly isTrusted: () => boolean,
    private readonly steps?: () => StepSource | undefined,
    /** Where runs keep their problems and terminals for the tree and Show Output / Show Problems. */
    private readonly runs?: VscodeTaskRuns,
  ) {}

  async execute(ctx: ExecutionContext): Promise<TaskResult> {
    if (!this.isTrusted()) {
      throw new ExecutionError('VS Code tasks from the workspace do not run in Restricted Mode: trust the workspace to run them', undefined, 'UNTRUSTED');
    }
    const payload = parseVscodeTaskPayload(ctx.task.spec.payload);
    ctx.signal.throwIfAborted();
    if (payload.steps?.length) this.checkSteps(ctx, payload.steps);
    const { task, catalog } = await resolveTask(payload);
    ctx.signal.throwIfAborted();
    const label = vscodeLabel(task, catalog);
    if (!payload.ownOnly && isCompound(catalog, task)) {
      // executeTask would run the dependencies too and report a failed one as a success.
      throw new ExecutionError(
        `VS Code task \`${label}\` has \`dependsOn\`: schedule it with Schedule Task…, the scheduleTask command's { task } or a workflow step, which run each of its tasks as a task of ours`,
        undefined,
        'TASK_COMPOUND',
      );
    }
    if (payload.ownOnly && task.definition.type === '$composite') {
      ctx.onOutput?.(`> VS Code task "${label}": every task it depends on completed\n`);
      return {};
    }
    ctx.onOutput?.(`> VS Code task "${label}" (${task.source}) runs in its terminal "${task.name}"; what is read from it through shell integration follows\n`);
    const entry = configuredEntry(catalog, task);
    const needsEditor = editorVariablesIn(entry?.raw);
    if (needsEditor.length && !vscode.window.activeTextEditor) {
      throw new ExecutionError(
        `VS Code task \`${label}\` uses ${needsEditor.map((v) => `\`${v}\``).join(', ')}, which need an open editor: open a file, then run it again`,
        undefined,
        'TASK_NEEDS_EDITOR',
      );
    }
    const toRun = payload.ownOnly ? withoutDependencies(task) : task;
    const background = backgroundOf(task, entry);
    // A `readyWhen` of the spec decides when the task is ready; the core probes it.
    const reportReady = ctx.task.spec.readyWhen === undefined ? ctx.reportReady?.bind(ctx) : undefined;
    const started = processStarted(toRun);
    let result: TaskResult;
    try {
      result = await runTask(toRun, ctx.signal, {
        id: ctx.task.id,
        runs: this.runs,
        label,
        onOutput: ctx.onOutput,
        problemSources: taskProblemSources(task, entry),
        ...(background && reportReady
          ? {
              background,
              onReady: (problems: ProblemCounts | undefined) => {
                ctx.onOutput?.(`> VS Code task "${label}" is ready${problems ? `: ${formatProblems(problems)}` : ''}\n`);
                reportReady(problems ? { problems } : {});
              },
            }
          : {}),
      });
    } finally {
      started.dispose();
    }
    // VS Code resolves `${input:…}` and the other variables itself when the task starts (as Run Task
    // does). A dismissed prompt ends the task without starting its process: it did not run.
    if (
      result.exitCode === undefined &&
      !started.value &&
      (toRun.execution instanceof vscode.ShellExecution || toRun.execution instanceof vscode.ProcessExecution)
    ) {
      throw new ExecutionError(
        `VS Code task \`${label}\` ended before its process started: an input prompt was dismissed, or VS Code could not start it`,
        undefined,
        'TASK_NOT_STARTED',
      );
    }
    return result;
  }

  /**
   * A compound's own task is `runAlways` on every step (see compoundTasks.ts): it starts once they
   * are all final, and here reads how they ended. Throws naming the first step that failed (its exit
   * code in the error's result); a CancelledError when a step was cancelled other than by a failure,
   * or a dependency outside the compound failed or was cancelled; returns when every step completed.
   */
  private checkSteps(ctx: ExecutionContext, keys: readonly string[]): void {
    const source = this.steps?.();
    if (!source) throw new ExecutionError('The steps of a compound task cannot be followed here', undefined, 'STEPS_UNAVAILABLE');
    const workflowId = ctx.task.workflowId;
    if (workflowId === undefined) {
      // Steps are found in the compound's own workflow run; a copy outside it (the core's retry) has none.
      throw new ExecutionError(
        `This task stands for the tasks of a compound it was scheduled with; schedule the compound again to run them`,
        undefined,
        'STEPS_UNAVAILABLE',
      );
    }
    const wanted = new Set(keys);
    const steps: TaskRecord[] = [];
    let outer: TaskRecord | undefined;
    for (const id of ctx.task.dependsOn) {
      const dep = source.getTask(id);
      if (dep === undefined) continue;
      if (dep.workflowId === workflowId && dep.spec.key !== undefined && wanted.has(dep.spec.key)) steps.push(dep);
      else if (dep.status === 'failed' || dep.status === 'cancelled') outer ??= dep;
    }
    if (steps.length < wanted.size) {
      throw new ExecutionError(`${wanted.size - steps.length} of the ${wanted.size} tasks this compound runs were removed`, undefined, 'STEP_MISSING');
    }
    if (outer !== undefined) throw new CancelledError(`Dependency \`${outer.name}\` (${outer.id}) ${outer.status === 'failed' ? 'failed' : 'was cancelled'}`);
    let failed: TaskRecord | undefined;
    let cancelled: TaskRecord | undefined;
    for (const r of steps) {
      if (r.status === 'failed' && (failed === undefined || (r.finishedAt ?? 0) < (failed.finishedAt ?? 0))) failed = r;
      else if (r.status === 'cancelled') cancelled ??= r;
    }
    if (failed) {
      const code = failed.result?.exitCode;
      throw new ExecutionError(
        `Task \`${failed.name}\` failed${code !== undefined ? ` with exit code ${code}` : ''}: ${failed.error?.message ?? 'failed'}`,
        code !== undefined ? { exitCode: code } : undefined,
        'STEP_FAILED',
      );
    }
    if (cancelled) throw new CancelledError(`Task \`${cancelled.name}\` was cancelled: ${cancelled.history.at(-1)?.reason ?? 'cancelled'}`);
  }
}

/**
 * A background task's (`isBackground` in its tasks.json entry, or set by its provider) background
 * patterns: empty when its matchers have none; undefined for a task that is not a background task.
 */
function backgroundOf(task: vscode.Task, entry: ConfiguredTask | undefined): BackgroundPattern[] | undefined {
  const isBackground = entry ? entry.raw.isBackground === true : task.isBackground;
  if (!isBackground) return undefined;
  // A task from fetchTasks() lists no matchers for a tasks.json entry: its entry says which.
  return backgroundPatterns(entry ? entry.raw.problemMatcher : task.problemMatchers, contributedMatcher);
}

/** Whether a process of this task has started since the call (VS Code runs one execution of a task at a time). */
function processStarted(task: vscode.Task): { readonly value: boolean; dispose(): void } {
  const state = { value: false, dispose: () => sub.dispose() };
  const sub = vscode.tasks.onDidStartTaskProcess((e) => {
    const t = e.execution.task;
    if (t.name === task.name && t.source === task.source && t.definition.type === task.definition.type) state.value = true;
  });
  return state;
}

/** The same task without its tasks.json `dependsOn`, which ran as tasks of ours. */
function withoutDependencies(task: vscode.Task): vscode.Task {
  const copy = new vscode.Task(task.definition, task.scope ?? vscode.TaskScope.Workspace, task.name, task.source, task.execution, task.problemMatchers);
  copy.isBackground = task.isBackground;
  copy.presentationOptions = task.presentationOptions;
  if (task.group) copy.group = task.group;
  return copy;
}
