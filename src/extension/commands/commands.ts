// Every command of the extension. Each takes optional arguments, so keybindings, other extensions and
// tests can call it without UI; without arguments it asks through quick picks and input boxes.
//
// Errors: a command invoked from the UI tells the user (an error message naming the field) and
// resolves; invoked with an argument, the error rejects the call instead (see `register`).
import * as vscode from 'vscode';
import { NotFoundError, ValidationError, describeValue, errorMessage } from '../../core/model/errors';
import { isFinished, type TaskRecord, type TaskSpec, type TaskStatus, ALL_STATUSES } from '../../core/model/model';
import type { HostOrchestrator } from '../hostOrchestrator';
import { CommandIds, ContextKeys, VSCODE_TASK_KIND, ViewIds, WORKFLOW_FILE } from '../ids';
import { specDefaultsOf, type Settings } from '../settings';
import { applySpecDefaults } from '../../core/model/specDefaults';
import { isObjectLike } from '../../core/model/guards';
import type { TaskStatusBar } from '../tasksView/statusBar';
import { detailsUri } from '../tasksView/taskDetails';
import type { TaskOutput } from '../tasksView/taskOutput';
import { STAGE_LABELS, statusCodicon, taskDescription, taskTarget } from '../tasksView/taskPresentation';
import { isTaskNode, isTreeNode, type TaskTreeProvider } from '../tasksView/taskTree';
import { UntrustedWorkspaceError, type TrustGate } from '../trust';
import { taskLabel } from '../executors/vscodeTaskExecutor';
import { compoundPayload, expandCompound, isCompound } from '../executors/compoundTasks';
import { loadCatalog, resolveTask, type TaskCatalog } from '../executors/taskResolver';
import { WorkflowFileError, type VscodeTaskPayload } from '../workflows/workflowFile';
import { loadWorkflowFiles, resolveWorkflow, workflowChoices } from '../workflows/workflowService';
import type { FileHistoryArchive } from '../storage/historyArchive';
import type { VscodeTaskRuns } from '../executors/vscodeTaskRuns';

export interface CommandDeps {
  orchestrator: HostOrchestrator;
  tree: TaskTreeProvider;
  output: TaskOutput;
  statusBar: TaskStatusBar;
  trust: TrustGate;
  settings: () => Settings;
  archive: FileHistoryArchive | undefined;
  /** The VS Code tasks our records run: their terminals (Show Output). */
  runs?: VscodeTaskRuns;
}

const WORKFLOWS_WHAT = `Workflows from ${WORKFLOW_FILE}`;
const TASKS_WHAT = 'Tasks from tasks.json and task providers';

/** A task id from a command argument: an id, a tree row, or `{ id }`. */
export function taskIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (isTaskNode(arg)) return arg.id;
  if (isObjectLike(arg) && typeof arg.id === 'string') return arg.id;
  return undefined;
}

/** The cwd of work started from the UI: the first workspace folder, when there is one. */
function defaultCwd(): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { orchestrator, tree, output, statusBar, trust } = deps;

  /**
   * Registers a command. Invoked from the UI (no argument: palette, view title, a keybinding without
   * args; or a tree row: context menu), an error is shown as a message and the command resolves, since
   * VS Code would add a modal "resulted in an error" dialog for a rejection. Invoked with an argument
   * (another extension, a test, a keybinding with args), the error rejects the call.
   */
  const register = (id: string, handler: (...args: unknown[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      const fromUi = args.length === 0 || args[0] === undefined || isTreeNode(args[0]);
      try {
        return await handler(...args);
      } catch (err) {
        if (!fromUi) throw err;
        if (err instanceof WorkflowFileError) {
          void vscode.window.showErrorMessage(err.message, 'Open File').then((choice) => {
            if (choice) void openWorkflowFile(err.field);
          });
        } else if (!(err instanceof UntrustedWorkspaceError)) {
          // The trust gate has told the user already, with a button to manage trust.
          void vscode.window.showErrorMessage(errorMessage(err));
        }
        return undefined;
      }
    });

  const recordOf = (arg: unknown): TaskRecord => {
    const id = taskIdOf(arg);
    if (id === undefined) throw new ValidationError(`Expected a task id, a task row or { id }, got ${describeValue(arg)}`, 'id');
    const record = orchestrator.getTask(id);
    if (!record) throw new NotFoundError('task', id);
    return record;
  };

  const withDefaults = (spec: TaskSpec): TaskSpec => applySpecDefaults(spec, specDefaultsOf(deps.settings()));

  const scheduleShell = (command: string, extra: Record<string, unknown> = {}): Promise<string> => {
    const spec: Record<string, unknown> = { name: command.length > 80 ? `${command.slice(0, 77)}...` : command, ...extra, kind: 'shell', command };
    const cwd = defaultCwd();
    if (spec.cwd === undefined && cwd !== undefined) spec.cwd = cwd;
    // The core validates every field and refuses with the field's name; nothing is created then.
    return orchestrator.scheduleTask(withDefaults(spec as unknown as TaskSpec));
  };

  const scheduleVscodeTask = async (payload: VscodeTaskPayload, extra: Record<string, unknown> = {}): Promise<string> => {
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
      const ids = await orchestrator.scheduleWorkflow(specs.map((s, i) => (i === last ? s : withDefaults(s))));
      // One id per spec, and expandCompound always returns the compound's own task last.
      return ids[last]!;
    }
    const spec = { name: label, ...extra, kind: VSCODE_TASK_KIND, payload: exact };
    return orchestrator.scheduleTask(withDefaults(spec as unknown as TaskSpec));
  };

  const runWorkflow = async (name: string, folder?: string): Promise<string[]> => {
    trust.require(WORKFLOWS_WHAT);
    const { specs } = await resolveWorkflow(name, folder, specDefaultsOf(deps.settings()));
    return orchestrator.scheduleWorkflow(specs);
  };

  /** `scheduleTask` with an argument: a command line, or an object naming what to run. */
  const scheduleFromArg = async (arg: unknown): Promise<string | string[]> => {
    if (typeof arg === 'string') return scheduleShell(arg);
    if (!isObjectLike(arg)) {
      throw new ValidationError(
        `Expected a shell command or an object like { command }, { task }, { workflow } or a task spec, got ${describeValue(arg)}`,
        'spec',
      );
    }
    const { command, task, workflow, folder, ...rest } = arg;
    if (typeof workflow === 'string') return runWorkflow(workflow, typeof folder === 'string' ? folder : undefined);
    if (typeof task === 'string') return scheduleVscodeTask({ label: task, ...(typeof folder === 'string' ? { folder } : {}) }, rest);
    if (typeof command === 'string' && (rest.kind === undefined || rest.kind === 'shell')) return scheduleShell(command, rest);
    if (rest.kind === VSCODE_TASK_KIND) trust.require(TASKS_WHAT);
    return orchestrator.scheduleTask(withDefaults(arg as unknown as TaskSpec));
  };

  const pickTask = async (placeHolder: string, filter: (r: TaskRecord) => boolean): Promise<TaskRecord | undefined> => {
    const now = Date.now();
    const records = orchestrator.getTasks().filter(filter).reverse().slice(0, 500);
    if (!records.length) {
      void vscode.window.showInformationMessage(`Orchestrator: no task to choose (${placeHolder.toLowerCase()})`);
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      records.map((r) => ({
        label: `$(${statusCodicon(r.status)}) ${r.name}`,
        description: `${STAGE_LABELS[r.status]} · ${taskDescription(r, now)}`,
        detail: taskTarget(r),
        record: r,
      })),
      { placeHolder, matchOnDescription: true, matchOnDetail: true },
    );
    return picked?.record;
  };

  const askShell = async (): Promise<string | undefined> => {
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
    return scheduleShell(command.trim(), { priority: p.priority });
  };

  type ScheduleItem = vscode.QuickPickItem & { run?: () => Promise<string | string[] | undefined> };

  /** The Schedule Task… picker: a shell command at once, VS Code tasks and workflows as they load. */
  const scheduleFromPicker = async (): Promise<string | string[] | undefined> => {
    const qp = vscode.window.createQuickPick<ScheduleItem>();
    qp.title = 'Schedule Task';
    qp.placeholder = 'A shell command, a VS Code task or a workflow';
    qp.matchOnDescription = true;
    qp.matchOnDetail = true;
    const shellItem: ScheduleItem = {
      label: '$(terminal) Shell command…',
      description: 'type a command, then choose its priority',
      alwaysShow: true,
      run: askShell,
    };
    qp.items = [shellItem];
    qp.busy = true;
    qp.show();
    const load = async (): Promise<ScheduleItem[]> => {
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
          run: () => scheduleVscodeTask({ label, ...(folder ? { folder } : {}), ...(t.source !== 'Workspace' ? { type: t.definition.type } : {}) }),
        });
      }
      const choices = workflowChoices(workflows);
      if (choices.length || workflows.errors.length) items.push({ label: `Workflows (${WORKFLOW_FILE})`, kind: vscode.QuickPickItemKind.Separator });
      for (const c of choices) {
        items.push({
          label: `$(run-all) ${c.name}`,
          description: `workflow · ${c.taskCount} task${c.taskCount === 1 ? '' : 's'}`,
          detail: c.description,
          run: () => runWorkflow(c.name, (vscode.workspace.workspaceFolders?.length ?? 0) > 1 ? c.folder.name : undefined),
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
    };
    return new Promise<string | string[] | undefined>((resolve, reject) => {
      let done = false;
      load().then(
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
  };

  const pickWorkflow = async (): Promise<string[] | undefined> => {
    trust.require(WORKFLOWS_WHAT);
    const result = await loadWorkflowFiles();
    const [firstError] = result.errors;
    if (firstError) throw firstError.error;
    const choices = workflowChoices(result);
    if (!choices.length) {
      const choice = await vscode.window.showInformationMessage(`No workflows: declare them in ${WORKFLOW_FILE}.`, 'Create File');
      if (choice) await openWorkflowFile();
      return undefined;
    }
    const multi = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
    const picked = await vscode.window.showQuickPick(
      choices.map((c) => ({
        label: c.name,
        description: `${c.taskCount} task${c.taskCount === 1 ? '' : 's'}${multi ? ` · ${c.folder.name}` : ''}`,
        detail: c.description,
        choice: c,
      })),
      { title: 'Run Workflow', placeHolder: `A workflow from ${WORKFLOW_FILE}` },
    );
    if (!picked) return undefined;
    return runWorkflow(picked.choice.name, multi ? picked.choice.folder.name : undefined);
  };

  const afterRemoval = async (ids: readonly string[]): Promise<void> => {
    tree.resync();
    statusBar.schedule();
    await output.forget(ids);
  };

  /** Removes every finished task from the orchestrator, the tree and the output files. */
  const clearFinished = async (): Promise<number> => {
    const finished = orchestrator
      .getTasks()
      .filter((r) => isFinished(r.status))
      .map((r) => r.id);
    const n = await orchestrator.clearFinished();
    await afterRemoval(finished);
    return n;
  };

  const setPaused = (paused: boolean): void => {
    if (paused) orchestrator.pause();
    else orchestrator.resume();
    void vscode.commands.executeCommand('setContext', ContextKeys.paused, paused);
    statusBar.update();
  };

  return [
    register(CommandIds.refresh, () => tree.refreshAll()),

    register(CommandIds.scheduleTask, (arg?: unknown) => (arg === undefined ? scheduleFromPicker() : scheduleFromArg(arg))),

    register(CommandIds.runWorkflow, (arg?: unknown) => {
      if (arg === undefined) return pickWorkflow();
      if (typeof arg === 'string') return runWorkflow(arg);
      if (isObjectLike(arg) && typeof arg.name === 'string') return runWorkflow(arg.name, typeof arg.folder === 'string' ? arg.folder : undefined);
      throw new ValidationError(`Expected a workflow name or { name, folder? }, got ${describeValue(arg)}`, 'workflow');
    }),

    register(CommandIds.cancelTask, async (arg?: unknown, selection?: unknown) => {
      // From the tree with several rows selected, VS Code passes the clicked row and the selection.
      const many = Array.isArray(selection) ? selection.map(taskIdOf).filter((id): id is string => id !== undefined) : [];
      if (many.length > 1) {
        await Promise.all(many.map((id) => orchestrator.cancelTask(id, 'Cancelled by the user')));
        return many;
      }
      const record = arg === undefined ? await pickTask('Cancel which task?', (r) => !isFinished(r.status)) : recordOf(arg);
      if (!record) return undefined;
      await orchestrator.cancelTask(record.id, 'Cancelled by the user');
      return record.id;
    }),

    register(CommandIds.cancelAll, () => orchestrator.cancelAll('Cancelled by the user (Cancel All)')),

    register(CommandIds.retryTask, async (arg?: unknown) => {
      const record = arg === undefined ? await pickTask('Retry which task?', (r) => r.status === 'failed' || r.status === 'cancelled') : recordOf(arg);
      if (!record) return undefined;
      if (record.kind === VSCODE_TASK_KIND) trust.require(TASKS_WHAT);
      if (record.workflowId !== undefined) trust.require(WORKFLOWS_WHAT);
      // A compound's own task stands for its steps: retrying it schedules the whole compound again.
      const compound = record.kind === VSCODE_TASK_KIND ? compoundPayload(record.spec.payload) : undefined;
      if (compound)
        return scheduleVscodeTask({ label: compound.label, ...(compound.folder !== undefined ? { folder: compound.folder } : {}) }, { name: record.name });
      return orchestrator.retryTask(record.id);
    }),

    register(CommandIds.pause, () => setPaused(true)),
    register(CommandIds.resume, () => setPaused(false)),

    register(CommandIds.clearFinished, clearFinished),

    register(CommandIds.clearHistory, async () => {
      const n = await clearFinished();
      await deps.archive?.clear();
      await output.clear(new Set(orchestrator.getTasks().map((r) => r.id)));
      return n;
    }),

    register(CommandIds.showOutput, async (arg?: unknown) => {
      const record = arg === undefined ? await pickTask('Show the output of which task?', () => true) : recordOf(arg);
      if (!record) return undefined;
      await output.show(record);
      // A VS Code task's own output is its terminal (what shell integration let us read is in the
      // channel): reveal it last, so it is the panel's visible part.
      if (record.kind === VSCODE_TASK_KIND) {
        const terminal = await deps.runs?.terminal(record.id);
        if (terminal) terminal.show(true);
        else output.append(record.id, `> The terminal of this VS Code task is closed or was never opened in this window.\n`);
      }
      return record.id;
    }),

    register(CommandIds.showProblems, async (arg?: unknown) => {
      const record = arg === undefined ? await pickTask('Show the problems of which VS Code task?', (r) => r.kind === VSCODE_TASK_KIND) : recordOf(arg);
      if (!record) return undefined;
      if (record.kind !== VSCODE_TASK_KIND) {
        throw new ValidationError(`Show Problems is for VS Code tasks; \`${record.name}\` is a \`${record.kind}\` task`, 'id');
      }
      // No command sets the Problems view's filter (VS Code 1.139): the view opens unfiltered.
      await vscode.commands.executeCommand('workbench.actions.view.problems');
      return record.id;
    }),

    register(CommandIds.showDetails, async (arg?: unknown) => {
      const record = arg === undefined ? await pickTask('Show the details of which task?', () => true) : recordOf(arg);
      if (!record) return undefined;
      const doc = await vscode.workspace.openTextDocument(detailsUri(record));
      await vscode.languages.setTextDocumentLanguage(doc, 'json');
      await vscode.window.showTextDocument(doc, { preview: true });
      return record.id;
    }),

    register(CommandIds.copyTaskId, async (arg?: unknown) => {
      const record = recordOf(arg);
      await vscode.env.clipboard.writeText(record.id);
      return record.id;
    }),

    register(CommandIds.removeTask, async (arg?: unknown) => {
      const record = recordOf(arg);
      await orchestrator.removeTask(record.id);
      await afterRemoval([record.id]);
      return record.id;
    }),

    register(CommandIds.showTasks, () => vscode.commands.executeCommand(`${ViewIds.tasks}.focus`)),

    register(CommandIds.showMore, (arg?: unknown) => {
      if (typeof arg !== 'string' || !(ALL_STATUSES as readonly string[]).includes(arg)) {
        throw new ValidationError(`Expected a stage (${ALL_STATUSES.join(', ')}), got ${describeValue(arg)}`, 'status');
      }
      tree.showMore(arg as TaskStatus);
    }),
  ];
}

/** Opens the first folder's workflow file (creating it from a starter if missing), at a field if given. */
async function openWorkflowFile(field?: string): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) return;
  const uri = vscode.Uri.joinPath(folder.uri, WORKFLOW_FILE);
  try {
    await vscode.workspace.fs.stat(uri);
  } catch {
    const starter = {
      version: 1,
      workflows: { build: { description: 'An example', tasks: [{ key: 'build', command: 'npm run build' }] } },
    };
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(JSON.stringify(starter, null, 2) + '\n'));
  }
  const editor = await vscode.window.showTextDocument(uri);
  // Put the cursor on the last named property of the field path, e.g. `priority` in `...tasks[1].priority`.
  const last = field?.match(/([A-Za-z_$][\w$-]*)(?:\[\d+\])*$/)?.[1];
  if (last) {
    const offset = editor.document.getText().indexOf(`"${last}"`);
    if (offset >= 0) {
      const pos = editor.document.positionAt(offset);
      editor.selection = new vscode.Selection(pos, pos);
      editor.revealRange(new vscode.Range(pos, pos));
    }
  }
}
