// What the extension knows of the VS Code tasks our records run, beyond the record itself: which
// record runs which VS Code task now (VS Code runs a task once at a time), the live problem counts of
// a running task, and the process that identifies its terminal.
import * as vscode from 'vscode';
import { ExecutionError } from '../../core/model/errors';
import type { ProblemCounts } from '../../core/model/model';

export interface VscodeTaskRun {
  /** The label VS Code shows: its terminal's name. */
  readonly label: string;
  /** The task's process (for a shell task, its terminal's shell). */
  processId?: number;
  problems?: ProblemCounts;
}

/** Runs remembered after they end (for Show Output and the tooltip of a cancelled task): the newest. */
const KEEP_RUNS = 200;

/** A task's identity as VS Code refuses to run it twice: its folder, source and name. */
export function taskKey(task: vscode.Task): string {
  const scope = typeof task.scope === 'object' && task.scope !== null && 'uri' in task.scope ? task.scope.uri.toString() : String(task.scope);
  return `${scope}|${task.source}|${task.name}`;
}

export class VscodeTaskRuns {
  private readonly runs = new Map<string, VscodeTaskRun>();
  /** Task key -> the record id running it. */
  private readonly active = new Map<string, string>();

  /**
   * Claims `task` for record `id`, or refuses: VS Code runs a task once at a time, and `executeTask`
   * on a running task hands back the running execution, which a second record must not adopt.
   * Returns the release, to call when the run ends.
   */
  claim(task: vscode.Task, id: string, label: string): () => void {
    const key = taskKey(task);
    const holder = this.active.get(key);
    if (holder !== undefined && holder !== id) {
      throw new ExecutionError(
        `VS Code task \`${label}\` is already running (Orchestrator task \`${holder}\`); VS Code runs a task once at a time: cancel that one, or wait for it to end`,
        undefined,
        'TASK_ALREADY_RUNNING',
      );
    }
    if (vscode.tasks.taskExecutions.some((e) => taskKey(e.task) === key)) {
      throw new ExecutionError(
        `VS Code task \`${label}\` is already running (started outside the Orchestrator); VS Code runs a task once at a time: terminate it, or wait for it to end`,
        undefined,
        'TASK_ALREADY_RUNNING',
      );
    }
    this.active.set(key, id);
    this.runs.delete(id);
    this.runs.set(id, { label });
    while (this.runs.size > KEEP_RUNS) this.runs.delete(this.runs.keys().next().value as string);
    return () => {
      if (this.active.get(key) === id) this.active.delete(key);
    };
  }

  get(id: string): VscodeTaskRun | undefined {
    return this.runs.get(id);
  }

  setProcess(id: string, processId: number): void {
    const run = this.runs.get(id);
    if (run) run.processId = processId;
  }

  setProblems(id: string, problems: ProblemCounts): void {
    const run = this.runs.get(id);
    if (run) run.problems = problems;
  }

  /** The terminal a task ran in: by its process, else by its name (VS Code names it by the task's label). */
  async terminal(id: string): Promise<vscode.Terminal | undefined> {
    const run = this.runs.get(id);
    if (!run) return undefined;
    if (run.processId !== undefined) {
      for (const t of vscode.window.terminals) if ((await t.processId) === run.processId) return t;
    }
    return vscode.window.terminals.find((t) => t.name === run.label);
  }
}
