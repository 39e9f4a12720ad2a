// Schedule Task…: with an argument, a command line or an object naming what to run; without, a picker
// of a shell command, the workspace's VS Code tasks and its workflows.
import * as vscode from 'vscode';
import { ValidationError, describeValue, errorMessage } from '../../core/model/errors';
import { isObjectLike } from '../../core/model/guards';
import type { TaskSpec } from '../../core/model/model';
import { isCompound } from '../executors/compoundTasks';
import { loadCatalog, type TaskCatalog } from '../executors/taskResolver';
import { taskLabel } from '../executors/vscodeTaskExecutor';
import { CommandIds, VSCODE_TASK_KIND, WORKFLOW_FILE } from '../ids';
import { loadWorkflowFiles, workflowChoices } from '../workflows/workflowService';
import { register, type CommandDeps } from './helpers';
import { TASKS_WHAT, WORKFLOWS_WHAT, defaultCwd, runWorkflow, scheduleShell, scheduleVscodeTask, withDefaults } from './scheduling';

export function registerScheduleTask(deps: CommandDeps): vscode.Disposable[] {
  return [register(CommandIds.scheduleTask, (arg?: unknown) => (arg === undefined ? scheduleFromPicker(deps) : scheduleFromArg(deps, arg)))];
}

/** `scheduleTask` with an argument: a command line, or an object naming what to run. */
async function scheduleFromArg(deps: CommandDeps, arg: unknown): Promise<string | string[]> {
  if (typeof arg === 'string') return scheduleShell(deps, arg);
  if (!isObjectLike(arg)) {
    throw new ValidationError(
      `Expected a shell command or an object like { command }, { task }, { workflow } or a task spec, got ${describeValue(arg)}`,
      'spec',
    );
  }
  const { command, task, workflow, folder, ...rest } = arg;
  if (typeof workflow === 'string') return runWorkflow(deps, workflow, typeof folder === 'string' ? folder : undefined);
  if (typeof task === 'string') return scheduleVscodeTask(deps, { label: task, ...(typeof folder === 'string' ? { folder } : {}) }, rest);
  if (typeof command === 'string' && (rest.kind === undefined || rest.kind === 'shell')) return scheduleShell(deps, command, rest);
  if (rest.kind === VSCODE_TASK_KIND) deps.trust.require(TASKS_WHAT);
  return deps.orchestrator.scheduleTask(withDefaults(deps, arg as unknown as TaskSpec));
}

async function askShell(deps: CommandDeps): Promise<string | undefined> {
  const command = await vscode.window.showInputBox({
    title: 'Schedule a shell command',
    prompt: `Runs in ${defaultCwd() ?? "the extension host's directory"}`,
    placeHolder: 'npm test',
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : 'Type a command'),
  });
  if (!command?.trim()) return undefined;
  const priorities = [
    { label: 'Normal', description: 'priority 0', priority: 0 },
    { label: 'High', description: 'priority 10: runs before normal and low tasks', priority: 10 },
    { label: 'Low', description: 'priority -10: runs when nothing else waits', priority: -10 },
  ];
  const p = await vscode.window.showQuickPick(priorities, { title: `Priority of: ${command}`, placeHolder: 'Priority' });
  if (!p) return undefined;
  return scheduleShell(deps, command.trim(), { priority: p.priority });
}

type ScheduleItem = vscode.QuickPickItem & { run?: () => Promise<string | string[] | undefined> };

/** The items after the shell command: the workspace's VS Code tasks and workflows, or why there are none. */
async function loadItems(deps: CommandDeps): Promise<ScheduleItem[]> {
  const { trust } = deps;
  const items: ScheduleItem[] = [];
  if (!trust.trusted) {
    items.push(
      { label: 'Workspace tasks', kind: vscode.QuickPickItemKind.Separator },
      {
        label: '$(shield) VS Code tasks and workflows need a trusted workspace',
        detail: "In Restricted Mode nothing from the workspace's files runs. Pick to manage trust.",
        run: async () => {
          trust.require(`${TASKS_WHAT} and ${WORKFLOWS_WHAT.toLowerCase()}`);
          return undefined;
        },
      },
    );
    return items;
  }
  const [catalog, workflows] = await Promise.all([loadCatalog().catch((): TaskCatalog => ({ tasks: [], folders: [] })), loadWorkflowFiles()]);
  if (catalog.tasks.length) items.push({ label: 'VS Code tasks', kind: vscode.QuickPickItemKind.Separator });
  for (const t of catalog.tasks) {
    const folder = typeof t.scope === 'object' && t.scope !== null && 'name' in t.scope ? t.scope.name : undefined;
    const label = taskLabel(t, catalog);
    items.push({
      // The label VS Code's Run Task shows, so typing what VS Code shows finds it.
      label: `$(tools) ${label}`,
      description: t.source === 'Workspace' ? (isCompound(catalog, t) ? 'tasks.json · compound' : 'tasks.json') : t.source,
      detail: folder,
      run: () => scheduleVscodeTask(deps, { label, ...(folder ? { folder } : {}), ...(t.source !== 'Workspace' ? { type: t.definition.type } : {}) }),
    });
  }
  const choices = workflowChoices(workflows);
  if (choices.length || workflows.errors.length || workflows.broken.length)
    items.push({ label: `Workflows (${WORKFLOW_FILE})`, kind: vscode.QuickPickItemKind.Separator });
  for (const c of choices) {
    items.push({
      label: `$(run-all) ${c.name}`,
      description: `workflow · ${c.taskCount} task${c.taskCount === 1 ? '' : 's'}`,
      detail: c.description,
      run: () => runWorkflow(deps, c.name, (vscode.workspace.workspaceFolders?.length ?? 0) > 1 ? c.folder.name : undefined),
    });
  }
  for (const b of workflows.broken) {
    items.push({
      label: `$(error) ${b.name}`,
      description: `workflow · cannot run: ${b.error.issues.length} problem${b.error.issues.length === 1 ? '' : 's'}`,
      detail: b.error.issues[0]?.message,
      run: () => Promise.reject(b.error),
    });
  }
  for (const e of workflows.errors) {
    items.push({
      label: `$(error) ${vscode.workspace.asRelativePath(e.uri)} has errors`,
      detail: e.error.message,
      run: () => Promise.reject(e.error),
    });
  }
  return items;
}

/** The Schedule Task… picker: a shell command at once, VS Code tasks and workflows as they load. */
function scheduleFromPicker(deps: CommandDeps): Promise<string | string[] | undefined> {
  const qp = vscode.window.createQuickPick<ScheduleItem>();
  qp.title = 'Schedule Task';
  qp.placeholder = 'A shell command, a VS Code task or a workflow';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  const shellItem: ScheduleItem = {
    label: '$(terminal) Shell command…',
    description: 'type a command, then choose its priority',
    alwaysShow: true,
    run: () => askShell(deps),
  };
  qp.items = [shellItem];
  qp.busy = true;
  qp.show();
  return new Promise<string | string[] | undefined>((resolve, reject) => {
    let done = false;
    loadItems(deps).then(
      (items) => {
        if (done) return;
        qp.items = [shellItem, ...items];
        qp.busy = false;
      },
      (err: unknown) => {
        qp.busy = false;
        void vscode.window.showErrorMessage(`Orchestrator: could not list tasks: ${errorMessage(err)}`);
      },
    );
    qp.onDidAccept(() => {
      const item = qp.selectedItems[0];
      if (!item?.run) return;
      done = true;
      qp.hide();
      item.run().then(resolve, reject);
    });
    qp.onDidHide(() => {
      qp.dispose();
      if (!done) {
        done = true;
        resolve(undefined);
      }
    });
  });
}
