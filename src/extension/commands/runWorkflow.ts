// Run Workflow…: a workflow by name (or { name, folder? }), or one picked from the workflow files.
import * as vscode from 'vscode';
import { ValidationError, describeValue } from '../../core/model/errors';
import { isObjectLike } from '../../core/model/guards';
import { CommandIds, WORKFLOW_FILE } from '../ids';
import { loadWorkflowFiles, workflowChoices } from '../workflows/workflowService';
import { openWorkflowFile, register, type CommandDeps } from './helpers';
import { WORKFLOWS_WHAT, runWorkflow } from './scheduling';

export function registerRunWorkflow(deps: CommandDeps): vscode.Disposable[] {
  return [
    register(CommandIds.runWorkflow, (arg?: unknown) => {
      if (arg === undefined) return pickWorkflow(deps);
      if (typeof arg === 'string') return runWorkflow(deps, arg);
      if (isObjectLike(arg) && typeof arg.name === 'string') return runWorkflow(deps, arg.name, typeof arg.folder === 'string' ? arg.folder : undefined);
      throw new ValidationError(`Expected a workflow name or { name, folder? }, got ${describeValue(arg)}`, 'workflow');
    }),
  ];
}

async function pickWorkflow(deps: CommandDeps): Promise<string[] | undefined> {
  deps.trust.require(WORKFLOWS_WHAT);
  const result = await loadWorkflowFiles();
  const [firstError] = result.errors;
  if (firstError) throw firstError.error;
  const choices = workflowChoices(result);
  if (!choices.length && !result.broken.length) {
    const choice = await vscode.window.showInformationMessage(`No workflows: declare them in ${WORKFLOW_FILE}.`, 'Create File');
    if (choice) await openWorkflowFile();
    return undefined;
  }
  const multi = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
  type Item = vscode.QuickPickItem & { run: () => Promise<string[] | undefined> };
  const items: Item[] = choices.map((c) => ({
    label: c.name,
    description: `${c.taskCount} task${c.taskCount === 1 ? '' : 's'}${multi ? ` · ${c.folder.name}` : ''}`,
    detail: c.description,
    run: () => runWorkflow(deps, c.name, multi ? c.folder.name : undefined),
  }));
  // A workflow with problems is listed so it is not silently missing, but picking it only shows them.
  if (result.broken.length) items.push({ label: 'Cannot run', kind: vscode.QuickPickItemKind.Separator, run: () => Promise.resolve(undefined) });
  for (const b of result.broken) {
    const count = b.error.issues.length;
    items.push({
      label: `$(error) ${b.name}`,
      description: `${count} problem${count === 1 ? '' : 's'}${multi ? ` · ${b.folder.name}` : ''}`,
      detail: b.error.issues[0]?.message,
      run: () => Promise.reject(b.error),
    });
  }
  const picked = await vscode.window.showQuickPick(items, { title: 'Run Workflow', placeHolder: `A workflow from ${WORKFLOW_FILE}` });
  return picked?.run();
}
