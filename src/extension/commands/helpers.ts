// What every command shares: its dependencies, how it is registered (errors to the user or to the
// caller), how a task argument is read, and the task picker asked when there is no argument.
import * as vscode from 'vscode';
import { NotFoundError, ValidationError, describeValue, errorMessage } from '../../core/model/errors';
import { isObjectLike } from '../../core/model/guards';
import type { TaskRecord } from '../../core/model/model';
import type { HostOrchestrator } from '../hostOrchestrator';
import { WORKFLOW_FILE } from '../ids';
import type { Settings } from '../settings';
import type { RunJournal } from '../../core/history/runJournal';
import type { VscodeTaskRuns } from '../executors/vscodeTaskRuns';
import type { TaskStatusBar } from '../tasksView/statusBar';
import type { TaskOutput } from '../tasksView/taskOutput';
import { STAGE_LABELS, statusCodicon, taskDescription, taskTarget } from '../tasksView/taskPresentation';
import { isTaskNode, isTreeNode, type TaskTreeProvider } from '../tasksView/taskTree';
import { UntrustedWorkspaceError, type TrustGate } from '../trust';
import { WorkflowFileError } from '../../workspaceFiles/workflowFile';

export interface CommandDeps {
  orchestrator: HostOrchestrator;
  tree: TaskTreeProvider;
  output: TaskOutput;
  statusBar: TaskStatusBar;
  trust: TrustGate;
  settings: () => Settings;
  /** The run journal: finished records beyond the Tasks view, searchable (a RunHistory). */
  archive: RunJournal | undefined;
  /** The VS Code tasks our records run: their terminals (Show Output). */
  runs?: VscodeTaskRuns;
}

/** A command module: registers its command(s) and returns what disposes them. */
export type CommandModule = (deps: CommandDeps) => vscode.Disposable[];

/**
 * Registers a command. Invoked from the UI (no argument: palette, view title, a keybinding without
 * args; or a tree row: context menu), an error is shown as a message and the command resolves, since
 * VS Code would add a modal "resulted in an error" dialog for a rejection. Invoked with an argument
 * (another extension, a test, a keybinding with args), the error rejects the call. `isRow` says
 * which arguments are the rows of the view whose context menu invokes it (default: the Tasks view).
 */
export function register(id: string, handler: (...args: unknown[]) => unknown, isRow: (arg: unknown) => boolean = isTreeNode): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    const fromUi = args.length === 0 || args[0] === undefined || isRow(args[0]);
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
}

/** A task id from a command argument: an id, a tree row, or `{ id }`. */
export function taskIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (isTaskNode(arg)) return arg.id;
  if (isObjectLike(arg) && typeof arg.id === 'string') return arg.id;
  return undefined;
}

/** The record a command argument names; refuses an argument that names none. */
export function recordOf(orchestrator: HostOrchestrator, arg: unknown): TaskRecord {
  const id = taskIdOf(arg);
  if (id === undefined) throw new ValidationError(`Expected a task id, a task row or { id }, got ${describeValue(arg)}`, 'id');
  const record = orchestrator.getTask(id);
  if (!record) throw new NotFoundError('task', id);
  return record;
}

/** Asks for one of the tasks `filter` accepts, newest first; undefined if there is none or none is picked. */
export async function pickTask(orchestrator: HostOrchestrator, placeHolder: string, filter: (r: TaskRecord) => boolean): Promise<TaskRecord | undefined> {
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
}

/** Opens the first folder's workflow file (creating it from a starter if missing), at a field if given. */
export async function openWorkflowFile(field?: string): Promise<void> {
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
