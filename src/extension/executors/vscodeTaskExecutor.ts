// The `vscodeTask` executor: runs a VS Code task (tasks.json, or a provider's such as npm scripts)
// through `vscode.tasks.executeTask`, waits for its process to end and takes its exit code. Cancel
// and timeout (the context's signal) terminate the task's execution.
import * as vscode from 'vscode';
import { CancelledError, ExecutionError, fieldError } from '../../core/model/errors';
import type { ProblemCounts, TaskRecord, TaskResult } from '../../core/model/model';
import type { Orchestrator } from '../../core/orchestrator/orchestratorTypes';
import type { ExecutionContext, Executor } from '../../core/ports';
import { isCompound } from './compoundTasks';
import { configuredEntry, resolveTask, vscodeLabel, type TaskCatalog } from './taskResolver';
import { editorVariablesIn } from './taskVariables';
import { countProblems, taskProblemSources, watchProblems } from './taskProblems';
import { TerminalOutputReader } from './taskTerminalOutput';
import type { VscodeTaskRuns } from './vscodeTaskRuns';
import type { VscodeTaskPayload } from '../workflows/workflowFile';
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
    const started = processStarted(toRun);
    let result: TaskResult;
    try {
      result = await runTask(toRun, ctx.signal, {
        id: ctx.task.id,
        runs: this.runs,
        label,
        onOutput: ctx.onOutput,
        problemSources: taskProblemSources(task, entry),
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

/** What runTask keeps beside the result, for the record that runs the task. */
export interface RunTaskOptions {
  /** The record running the task: it claims the task in `runs` (VS Code runs a task once at a time). */
  id?: string;
  runs?: VscodeTaskRuns;
  /** The label VS Code shows; the task's name by default. */
  label?: string;
  /** Receives the output read from the task's terminal, where shell integration allows. */
  onOutput?: (chunk: string) => void;
  /** Diagnostic sources of its problem matchers (taskProblemSources); default: the task's own. */
  problemSources?: readonly string[];
}

/**
 * How long the end of a task waits for its last diagnostics and terminal output. Measured in 1.139:
 * a matcher's last file's problems reach the extension 190-260 ms after onDidEndTaskProcess and
 * onDidEndTask, which come together; no event marks their arrival, so the end waits for a quiet spell.
 */
const DIAGNOSTICS_QUIET_MS = 500;
const SETTLE_MAX_MS = 2000;

/**
 * Runs a task and settles when its process (or, for a custom execution, the task) ends. While it runs,
 * the problems its matchers report are counted into `runs` (a background task never ends by itself);
 * the result carries the last counts, and the output read from its terminal goes to `onOutput`.
 */
export function runTask(task: vscode.Task, signal: AbortSignal, options: RunTaskOptions = {}): Promise<TaskResult> {
  const { id, runs, onOutput } = options;
  const label = options.label ?? taskLabel(task);
  let release = (): void => undefined;
  if (id !== undefined && runs) {
    try {
      release = runs.claim(task, id, label);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  const sources = options.problemSources ?? taskProblemSources(task, undefined);
  let problems: ProblemCounts | undefined;
  const problemWatch = sources.length
    ? watchProblems(sources, (counts) => {
        problems = counts;
        if (id !== undefined) runs?.setProblems(id, counts);
      })
    : undefined;
  const reader = onOutput ? new TerminalOutputReader(onOutput) : undefined;

  return new Promise<TaskResult>((resolve, reject) => {
    let execution: vscode.TaskExecution | undefined;
    let settled = false;
    let ending = false;
    let launched = false;
    // Events can arrive before executeTask resolves: keep them until the execution is known.
    const startedProcesses = new Map<vscode.TaskExecution, number>();
    const endedProcesses = new Map<vscode.TaskExecution, number | undefined>();
    const endedTasks = new Set<vscode.TaskExecution>();
    const subscriptions: vscode.Disposable[] = [];

    const settle = (fn: () => void, keepClaim = false): void => {
      if (settled) return;
      settled = true;
      for (const s of subscriptions) s.dispose();
      signal.removeEventListener('abort', onAbort);
      problemWatch?.dispose();
      reader?.dispose();
      if (!keepClaim) release();
      fn();
    };
    const withProblems = (result: TaskResult): TaskResult => (problems ? { ...result, problems } : result);
    /** The process has ended: its last diagnostics and terminal output come a moment later. */
    const finish = async (result: TaskResult): Promise<void> => {
      ending = true;
      await Promise.all([sources.length ? diagnosticsQuiet() : undefined, reader?.drain(SETTLE_MAX_MS)]);
      if (sources.length) {
        problems = countProblems(sources);
        if (id !== undefined) runs?.setProblems(id, problems);
      }
      if (reader && !reader.matched) {
        onOutput?.(
          `> Nothing could be read from the terminal "${label}": VS Code lets an extension read a task's terminal only through shell integration, which this terminal did not have (\`terminal.integrated.shellIntegration.enabled\` is off, or VS Code cannot integrate its shell). Its output is only in its terminal.\n`,
        );
      }
      settle(() => resolve(withProblems(result)));
    };
    const check = (): void => {
      if (!execution || ending) return;
      if (startedProcesses.has(execution)) {
        const pid = startedProcesses.get(execution) as number;
        if (id !== undefined) runs?.setProcess(id, pid);
        reader?.setProcessId(pid);
      }
      if (endedProcesses.has(execution)) {
        const exitCode = endedProcesses.get(execution);
        void finish(exitCode === undefined ? {} : { exitCode });
      } else if (endedTasks.has(execution)) {
        // A task without a process (CustomExecution) ends without onDidEndTaskProcess; a process task
        // fires onDidEndTaskProcess first, so by now it would have settled.
        void finish({});
      }
    };
    const onAbort = (): void => {
      stopWhenStarted();
      const reason: unknown = signal.reason;
      // The claim lasts until the execution has ended: VS Code would hand its execution to a new run.
      const keepClaim = launched && !(execution && (endedProcesses.has(execution) || endedTasks.has(execution)));
      settle(() => reject(reason instanceof Error ? reason : new CancelledError()), keepClaim);
    };
    // `terminate()` on an execution whose process has not started yet does nothing (measured in
    // code-server 1.139): keep terminating as it starts, until it ends or a minute has passed.
    const stopWhenStarted = (): void => {
      execution?.terminate();
      const killer: vscode.Disposable[] = [];
      const stop = (): void => {
        killer.forEach((d) => d.dispose());
        release();
      };
      const timer = setTimeout(stop, 60_000);
      killer.push(
        { dispose: () => clearTimeout(timer) },
        vscode.tasks.onDidStartTask((e) => {
          if (e.execution === execution) e.execution.terminate();
        }),
        vscode.tasks.onDidStartTaskProcess((e) => {
          if (e.execution === execution) e.execution.terminate();
        }),
        vscode.tasks.onDidEndTask((e) => {
          if (e.execution === execution) stop();
        }),
      );
    };

    subscriptions.push(
      vscode.tasks.onDidStartTaskProcess((e) => {
        startedProcesses.set(e.execution, e.processId);
        check();
      }),
      vscode.tasks.onDidEndTaskProcess((e) => {
        endedProcesses.set(e.execution, e.exitCode);
        check();
      }),
      vscode.tasks.onDidEndTask((e) => {
        endedTasks.add(e.execution);
        check();
      }),
    );
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) return onAbort();

    launched = true;
    vscode.tasks.executeTask(task).then(
      (exec) => {
        execution = exec;
        if (settled) exec.terminate();
        else check();
      },
      (err: unknown) =>
        settle(() =>
          reject(
            new ExecutionError(
              `Could not start VS Code task \`${label}\`: ${err instanceof Error ? err.message : String(err)}`,
              undefined,
              'TASK_START_FAILED',
            ),
          ),
        ),
    );
  });
}

/** Resolves once diagnostics have not changed for DIAGNOSTICS_QUIET_MS, or after SETTLE_MAX_MS. */
function diagnosticsQuiet(): Promise<void> {
  return new Promise<void>((resolve) => {
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const done = (): void => {
      clearTimeout(quiet);
      clearTimeout(cap);
      sub.dispose();
      resolve();
    };
    const cap = setTimeout(done, SETTLE_MAX_MS);
    const sub = vscode.languages.onDidChangeDiagnostics(() => {
      clearTimeout(quiet);
      quiet = setTimeout(done, DIAGNOSTICS_QUIET_MS);
    });
    quiet = setTimeout(done, DIAGNOSTICS_QUIET_MS);
  });
}
