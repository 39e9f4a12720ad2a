// The `vscodeTask` executor: runs a VS Code task (tasks.json, or a provider's such as npm scripts)
// through `vscode.tasks.executeTask`, waits for its process to end and takes its exit code. Cancel
// and timeout (the context's signal) terminate the task's execution.
import * as vscode from 'vscode';
import { CancelledError, ExecutionError, ValidationError, describeValue } from '../core/errors';
import type { TaskResult } from '../core/model';
import type { ExecutionContext, Executor } from '../core/ports';
import type { VscodeTaskPayload } from './workflowFile';

/** Checks a payload that came from a persisted record, a workflow file or another extension. */
export function parseVscodeTaskPayload(value: unknown): VscodeTaskPayload {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(`Expected \`payload\` to be an object like { "label": "build" }, got ${describeValue(value)}`, 'payload');
  }
  const { label, type, folder } = value as Record<string, unknown>;
  if (typeof label !== 'string' || !label) throw new ValidationError(`Expected \`payload.label\` to be a non-empty string, got ${describeValue(label)}`, 'payload.label');
  if (type !== undefined && typeof type !== 'string') throw new ValidationError(`Expected \`payload.type\` to be a string, got ${describeValue(type)}`, 'payload.type');
  if (folder !== undefined && typeof folder !== 'string') throw new ValidationError(`Expected \`payload.folder\` to be a string, got ${describeValue(folder)}`, 'payload.folder');
  const payload: VscodeTaskPayload = { label };
  if (type !== undefined) payload.type = type;
  if (folder !== undefined) payload.folder = folder;
  return payload;
}

/** The label VS Code shows for a task: provider tasks are prefixed by their source (`npm: test`). */
export function taskLabel(task: vscode.Task): string {
  return task.source === 'Workspace' || task.source === 'shell' || task.source === 'process' ? task.name : `${task.source}: ${task.name}`;
}

function folderName(task: vscode.Task): string | undefined {
  return typeof task.scope === 'object' && task.scope !== null && 'name' in task.scope ? task.scope.name : undefined;
}

/** Finds the task a payload names; tasks.json tasks win over provider tasks of the same name. */
export async function findTask(payload: VscodeTaskPayload): Promise<vscode.Task> {
  const all = await vscode.tasks.fetchTasks(payload.type ? { type: payload.type } : undefined);
  const matches = all.filter(
    (t) => (t.name === payload.label || taskLabel(t) === payload.label) && (payload.folder === undefined || folderName(t) === payload.folder),
  );
  if (!matches.length) {
    const known = all.slice(0, 20).map((t) => `\`${taskLabel(t)}\``).join(', ');
    throw new ExecutionError(`No VS Code task labelled \`${payload.label}\`${known ? `; available: ${known}` : ' (the workspace has none)'}`, undefined, 'TASK_NOT_FOUND');
  }
  return matches.find((t) => t.source === 'Workspace') ?? matches[0];
}

export class VscodeTaskExecutor implements Executor {
  /** `isTrusted` is read per run: granting trust enables the executor without a reload. */
  constructor(private readonly isTrusted: () => boolean) {}

  async execute(ctx: ExecutionContext): Promise<TaskResult> {
    if (!this.isTrusted()) {
      throw new ExecutionError('VS Code tasks from the workspace do not run in Restricted Mode: trust the workspace to run them', undefined, 'UNTRUSTED');
    }
    const payload = parseVscodeTaskPayload(ctx.task.spec.payload);
    ctx.signal.throwIfAborted();
    const task = await findTask(payload);
    ctx.signal.throwIfAborted();
    ctx.onOutput?.(`> VS Code task "${taskLabel(task)}" (${task.source}); its output is in its terminal\n`);
    return runTask(task, ctx.signal);
  }
}

/** Runs a task and settles when its process (or, for a custom execution, the task) ends. */
export function runTask(task: vscode.Task, signal: AbortSignal): Promise<TaskResult> {
  return new Promise<TaskResult>((resolve, reject) => {
    let execution: vscode.TaskExecution | undefined;
    let settled = false;
    // Events can arrive before executeTask resolves: keep them until the execution is known.
    const endedProcesses = new Map<vscode.TaskExecution, number | undefined>();
    const endedTasks = new Set<vscode.TaskExecution>();
    const subscriptions: vscode.Disposable[] = [];

    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      for (const s of subscriptions) s.dispose();
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const check = (): void => {
      if (!execution) return;
      if (endedProcesses.has(execution)) {
        const exitCode = endedProcesses.get(execution);
        settle(() => {
          if (exitCode === undefined || exitCode === 0) resolve(exitCode === undefined ? {} : { exitCode });
          else resolve({ exitCode });
        });
      } else if (endedTasks.has(execution)) {
        // A task without a process (CustomExecution) ends without onDidEndTaskProcess; a process task
        // fires onDidEndTaskProcess first, so by now it would have settled.
        settle(() => resolve({}));
      }
    };
    const onAbort = (): void => {
      stopWhenStarted();
      const reason: unknown = signal.reason;
      settle(() => reject(reason instanceof Error ? reason : new CancelledError()));
    };
    // `terminate()` on an execution whose process has not started yet does nothing (measured in
    // code-server 1.139): keep terminating as it starts, until it ends or a minute has passed.
    const stopWhenStarted = (): void => {
      execution?.terminate();
      const killer: vscode.Disposable[] = [];
      const stop = (): void => killer.forEach((d) => d.dispose());
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

    vscode.tasks.executeTask(task).then(
      (exec) => {
        execution = exec;
        if (settled) exec.terminate();
        else check();
      },
      (err: unknown) => settle(() => reject(new ExecutionError(`Could not start VS Code task \`${taskLabel(task)}\`: ${err instanceof Error ? err.message : String(err)}`, undefined, 'TASK_START_FAILED'))),
    );
  });
}
