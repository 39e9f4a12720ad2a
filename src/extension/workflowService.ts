// Finds and reads the workflow file of each workspace folder. An open editor's text wins over the
// file on disk, so what runs is what the user sees (and what the editor validates with the schema).
import * as vscode from 'vscode';
import { ValidationError, describeValue } from '../core/errors';
import type { TaskSpec } from '../core/model';
import { WORKFLOW_FILE } from './ids';
import { WorkflowFileError, parseWorkflowFile, workflowToSpecs, type SpecDefaults, type WorkflowFile } from './workflowFile';

export interface LoadedFile {
  folder: vscode.WorkspaceFolder;
  uri: vscode.Uri;
  file: WorkflowFile;
}

export interface WorkflowChoice {
  name: string;
  description?: string;
  taskCount: number;
  folder: vscode.WorkspaceFolder;
  uri: vscode.Uri;
}

export interface LoadResult {
  files: LoadedFile[];
  /** Files that exist and do not validate: none of their workflows is offered. */
  errors: { uri: vscode.Uri; error: WorkflowFileError }[];
}

async function readText(uri: vscode.Uri): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch (err) {
    if (err instanceof vscode.FileSystemError && err.code === 'FileNotFound') return undefined;
    throw err;
  }
}

export async function loadWorkflowFiles(): Promise<LoadResult> {
  const result: LoadResult = { files: [], errors: [] };
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const uri = vscode.Uri.joinPath(folder.uri, WORKFLOW_FILE);
    const text = await readText(uri);
    if (text === undefined) continue;
    try {
      result.files.push({ folder, uri, file: parseWorkflowFile(text, vscode.workspace.asRelativePath(uri, true)) });
    } catch (err) {
      if (err instanceof WorkflowFileError) result.errors.push({ uri, error: err });
      else throw err;
    }
  }
  return result;
}

export function workflowChoices(result: LoadResult): WorkflowChoice[] {
  return result.files.flatMap(({ folder, uri, file }) =>
    Object.entries(file.workflows).map(([name, w]) => ({ name, description: w.description, taskCount: w.tasks.length, folder, uri })),
  );
}

/**
 * The specs of a named workflow, ready for `scheduleWorkflow`. Throws the file's validation error
 * (naming the field) if the file does not validate, whichever workflow was asked for: a file with an
 * error runs nothing.
 */
export async function resolveWorkflow(name: string, folderName: string | undefined, defaults: Omit<SpecDefaults, 'folder'>): Promise<{ choice: WorkflowChoice; specs: TaskSpec[] }> {
  const result = await loadWorkflowFiles();
  const inFolder = (uri: vscode.Uri) => folderName === undefined || vscode.workspace.getWorkspaceFolder(uri)?.name === folderName;
  const broken = result.errors.find((e) => inFolder(e.uri));
  if (broken) throw broken.error;
  const matches = workflowChoices(result).filter((c) => c.name === name && (folderName === undefined || c.folder.name === folderName));
  if (!matches.length) {
    const known = workflowChoices(result).map((c) => `\`${c.name}\``).join(', ');
    throw new ValidationError(
      known ? `Expected a workflow name, one of ${known}, got ${describeValue(name)}` : `No workflows: create ${WORKFLOW_FILE} in a workspace folder`,
      'workflow',
    );
  }
  if (matches.length > 1) {
    throw new ValidationError(`Workflow \`${name}\` exists in several folders (${matches.map((m) => m.folder.name).join(', ')}): name the folder`, 'folder');
  }
  const choice = matches[0];
  const file = result.files.find((f) => f.uri.toString() === choice.uri.toString()) as LoadedFile;
  return { choice, specs: workflowToSpecs(file.file, name, { ...defaults, folder: choice.folder.uri.fsPath }) };
}
