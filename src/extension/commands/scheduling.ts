// How the commands that start work build it: a shell command, a VS Code task (a compound becomes one
// task per step) or a workflow, each with the settings' defaults and, for the workspace's own files,
// behind the trust gate. Shared by Schedule Task…, Run Workflow… and Retry.
import * as vscode from 'vscode';
import type { TaskSpec } from '../../core/model/model';
import { applySpecDefaults } from '../../core/model/specDefaults';
import { expandCompound, isCompound } from '../executors/compoundTasks';
import { resolveTask } from '../executors/taskResolver';
import { taskLabel } from '../executors/vscodeTaskExecutor';
import { VSCODE_TASK_KIND, WORKFLOW_FILE } from '../ids';
import { specDefaultsOf } from '../settings';
import type { VscodeTaskPayload } from '../../workspaceFiles/workflowFile';
import { resolveWorkflow } from '../workflows/workflowService';
import { selectOnly } from '../../workspaceFiles/workflowSelection';
import type { CommandDeps } from './helpers';

/** What the trust gate names when it refuses: the workspace's workflows, or its VS Code tasks. */
export const WORKFLOWS_WHAT = `Workflows from ${WORKFLOW_FILE}`;
export const TASKS_WHAT = 'Tasks from tasks.json and task providers';

/** The cwd of work started from the UI: the first workspace folder, when there is one. */
export function defaultCwd(): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
}

/** A spec with the settings' default timeout and retries where it sets none. */
export function withDefaults(deps: CommandDeps, spec: TaskSpec): TaskSpec {
  return applySpecDefaults(spec, specDefaultsOf(deps.settings()));
}

export function scheduleShell(deps: CommandDeps, command: string, extra: Record<string, unknown> = {}): Promise<string> {
  const spec: Record<string, unknown> = { name: command.length > 80 ? `${command.slice(0, 77)}...` : command, ...extra, kind: 'shell', command };
  const cwd = defaultCwd();
  if (spec.cwd === undefined && cwd !== undefined) spec.cwd = cwd;
  // The core validates every field and refuses with the field's name; nothing is created then.
  return deps.orchestrator.scheduleTask(withDefaults(deps, spec as unknown as TaskSpec));
}

export async function scheduleVscodeTask(deps: CommandDeps, payload: VscodeTaskPayload, extra: Record<string, unknown> = {}): Promise<string> {
  const { orchestrator, trust } = deps;
  trust.require(TASKS_WHAT);
  // Resolved now, so a label that names no task is refused at once rather than failing later.
  const { task, catalog } = await resolveTask(payload);
  // The label VS Code shows is what the task is known by from now on (the tree, a retry, a reload).
  const label = taskLabel(task, catalog);
  const folder = typeof task.scope === 'object' && task.scope !== null && 'name' in task.scope ? task.scope.name : undefined;
  const exact: VscodeTaskPayload = {
    label,
    ...(folder && payload.folder !== undefined ? { folder } : {}),
    ...(payload.type !== undefined ? { type: payload.type } : {}),
  };
  if (isCompound(catalog, task)) {
    // Each task it depends on becomes a task of ours; the last id is the compound's own task.
    const { name, priority, ...stepFields } = extra;
    const specs = expandCompound(catalog, task, {
      key: label,
      ...(typeof name === 'string' ? { name } : {}),
      ...(typeof priority === 'number' ? { priority } : {}),
      extra: stepFields as Partial<TaskSpec>,
    });
    const last = specs.length - 1;
    const ids = await orchestrator.scheduleWorkflow(specs.map((s, i) => (i === last ? s : withDefaults(deps, s))));
    // One id per spec, and expandCompound always returns the compound's own task last.
    return ids[last]!;
  }
  const spec = { name: label, ...extra, kind: VSCODE_TASK_KIND, payload: exact };
  return orchestrator.scheduleTask(withDefaults(deps, spec as unknown as TaskSpec));
}

/**
 * Schedules the workflow `name` of the workspace's workflow files (of `folder`, if given); with
 * `only`, just that task and what it depends on (a task-level trigger, as the CLI's `--only`).
 */
export async function runWorkflow(
  deps: Pick<CommandDeps, 'orchestrator' | 'trust' | 'settings'>,
  name: string,
  folder?: string,
  only?: string,
): Promise<string[]> {
  deps.trust.require(WORKFLOWS_WHAT);
  const { specs, options } = await resolveWorkflow(name, folder, specDefaultsOf(deps.settings()));
  const chosen = only === undefined ? specs : (selectOnly([{ workflow: name, specs }], [only])[0]?.specs ?? []);
  return deps.orchestrator.scheduleWorkflow(chosen, options);
}
