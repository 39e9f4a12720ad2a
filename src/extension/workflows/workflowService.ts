// Finds and reads the workflow file of each workspace folder. An open editor's text wins over the
// file on disk, so what runs is what the user sees (and what the editor validates with the schema).
// A file that does not validate offers none of its workflows; a workflow with a problem is refused
// alone (with its problems), and the file's other workflows are offered.
import * as vscode from 'vscode';
import { ValidationError, describeValue } from '../../core/model/errors';
import type { TaskSpec } from '../../core/model/model';
import { expandCompound, isCompound } from '../executors/compoundTasks';
import { VSCODE_TASK_KIND, WORKFLOW_FILE } from '../ids';
import { loadCatalog, resolveInCatalog } from '../executors/taskResolver';
import {
  WorkflowFileError,
  parseWorkflowFile,
  workflowError,
  workflowOptions,
  workflowToSpecs,
  type SpecDefaults,
  type VscodeTaskPayload,
  type WorkflowFile,
} from '../../workspaceFiles/workflowFile';

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

/** A workflow its file declares but that cannot run: `error` names its first problem and counts the rest. */
export interface BrokenWorkflow {
  name: string;
  folder: vscode.WorkspaceFolder;
  uri: vscode.Uri;
  error: WorkflowFileError;
}

export interface LoadResult {
  /** Files that validate as files; each holds its usable workflows and the problems of the others. */
  files: LoadedFile[];
  /** Files that exist and do not validate: none of their workflows is offered. */
  errors: { uri: vscode.Uri; error: WorkflowFileError }[];
  /** Workflows of the `files` that have problems: not offered to run; refused, with them, if asked for. */
  broken: BrokenWorkflow[];
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
  const result: LoadResult = { files: [], errors: [], broken: [] };
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const uri = vscode.Uri.joinPath(folder.uri, WORKFLOW_FILE);
    const text = await readText(uri);
    if (text === undefined) continue;
    const source = vscode.workspace.asRelativePath(uri, true);
    let file: WorkflowFile;
    try {
      file = parseWorkflowFile(text, source);
    } catch (err) {
      if (err instanceof WorkflowFileError) result.errors.push({ uri, error: err });
      else throw err;
      continue;
    }
    result.files.push({ folder, uri, file });
    for (const name of file.problems?.keys() ?? []) {
      const error = workflowError(file, name, `${source}, workflow \`${name}\``);
      if (error) result.broken.push({ name, folder, uri, error });
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
 * The specs of a named workflow and the options of its run, ready for `scheduleWorkflow(specs,
 * options)`. Throws the file's validation error (naming the field) if the file does not validate,
 * whichever workflow was asked for: a file with an error runs nothing. Throws the workflow's own
 * problems if it has some; the file's other workflows still resolve.
 */
export async function resolveWorkflow(
  name: string,
  folderName: string | undefined,
  defaults: Omit<SpecDefaults, 'folder'>,
): Promise<{ choice: WorkflowChoice; specs: TaskSpec[]; options: { failFast: boolean } }> {
  const result = await loadWorkflowFiles();
  const inFolder = (uri: vscode.Uri) => folderName === undefined || vscode.workspace.getWorkspaceFolder(uri)?.name === folderName;
  const brokenFile = result.errors.find((e) => inFolder(e.uri));
  if (brokenFile) throw brokenFile.error;
  const brokenWorkflow = result.broken.find((b) => b.name === name && (folderName === undefined || b.folder.name === folderName));
  if (brokenWorkflow) throw brokenWorkflow.error;
  const matches = workflowChoices(result).filter((c) => c.name === name && (folderName === undefined || c.folder.name === folderName));
  const [choice] = matches;
  if (!choice) {
    const known = workflowChoices(result)
      .map((c) => `\`${c.name}\``)
      .join(', ');
    throw new ValidationError(
      known ? `Expected a workflow name, one of ${known}, got ${describeValue(name)}` : `No workflows: create ${WORKFLOW_FILE} in a workspace folder`,
      'workflow',
    );
  }
  if (matches.length > 1) {
    throw new ValidationError(`Workflow \`${name}\` exists in several folders (${matches.map((m) => m.folder.name).join(', ')}): name the folder`, 'folder');
  }
  const file = result.files.find((f) => f.uri.toString() === choice.uri.toString()) as LoadedFile;
  const specs = workflowToSpecs(file.file, name, { ...defaults, folder: choice.folder.uri.fsPath });
  return { choice, specs: await expandCompoundSteps(specs, choice.folder.name), options: workflowOptions(file.file, name) };
}

/**
 * A `task` step naming a tasks.json compound (`dependsOn`) becomes its steps plus the compound's own
 * task under the step's key, so the workflow's other steps wait for the whole compound. A step whose
 * task cannot be found now is left as written: it fails when it runs, saying what exists.
 */
async function expandCompoundSteps(specs: TaskSpec[], folderName: string): Promise<TaskSpec[]> {
  const taskSteps = specs.filter((s) => s.kind === VSCODE_TASK_KIND && s.key !== undefined);
  if (!taskSteps.length) return specs;
  const catalog = await loadCatalog();
  const out: TaskSpec[] = [];
  for (const spec of specs) {
    const payload = spec.payload as VscodeTaskPayload | undefined;
    if (spec.kind !== VSCODE_TASK_KIND || spec.key === undefined || !payload || payload.steps) {
      out.push(spec);
      continue;
    }
    let task: vscode.Task | undefined;
    try {
      task = resolveInCatalog(catalog, { ...payload, folder: payload.folder ?? folderName });
    } catch {
      task = undefined;
    }
    if (!task || !isCompound(catalog, task)) {
      out.push(spec);
      continue;
    }
    const { name, key, priority, dependsOn, kind: _kind, payload: _payload, ...extra } = spec;
    void _kind;
    void _payload;
    out.push(
      ...expandCompound(catalog, task, {
        key,
        name,
        ...(priority !== undefined ? { priority } : {}),
        ...(dependsOn?.length ? { dependsOn } : {}),
        extra,
      }),
    );
  }
  return out;
}
