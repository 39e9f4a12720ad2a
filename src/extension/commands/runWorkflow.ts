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
  return runWorkflow(deps, picked.choice.name, multi ? picked.choice.folder.name : undefined);
}
