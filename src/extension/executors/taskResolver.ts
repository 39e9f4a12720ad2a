// Finds VS Code tasks by the label VS Code's Run Task shows for them, and reads each workspace
// folder's `.vscode/tasks.json` (JSONC, as VS Code reads it) for what the tasks API does not say:
// whether a configured provider task has a label of its own, and a task's `dependsOn`.
import * as vscode from 'vscode';
// The ESM build: the package's `main` is a UMD file whose dynamic requires a bundle cannot follow.
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import { ExecutionError, ValidationError } from '../../core/model/errors';
import type { VscodeTaskPayload } from '../../workspaceFiles/workflowFile';
import { isObjectLike } from '../../core/model/guards';

/** One entry of a tasks.json `tasks` array, as far as labels and dependencies need it. */
export interface ConfiguredTask {
  label?: string;
  type?: string;
  dependsOn?: unknown;
  dependsOrder?: unknown;
  /** Every property, to match a configured provider task by its definition (`script`, `path`...). */
  raw: Record<string, unknown>;
}

/** The tasks.json of one workspace folder; `entries` is empty when the file is missing. */
export interface FolderTasks {
  folder: vscode.WorkspaceFolder;
  entries: ConfiguredTask[];
}

const PLAIN_TYPES = new Set(['shell', 'process', '$composite']);

export function folderOf(task: vscode.Task): vscode.WorkspaceFolder | undefined {
  return typeof task.scope === 'object' && task.scope !== null && 'uri' in task.scope ? task.scope : undefined;
}

/** Reads and parses one folder's tasks.json; a syntax error is a ValidationError naming the file. */
export async function readFolderTasks(folder: vscode.WorkspaceFolder): Promise<FolderTasks> {
  const uri = vscode.Uri.joinPath(folder.uri, '.vscode', 'tasks.json');
  let text: string;
  try {
    text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    return { folder, entries: [] };
  }
  const errors: ParseError[] = [];
  const data: unknown = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  const [firstError] = errors;
  if (firstError) {
    throw new ValidationError(
      `${vscode.workspace.asRelativePath(uri)}: Expected valid JSON with comments, got ${printParseErrorCode(firstError.error)} at offset ${firstError.offset}`,
      'tasks.json',
    );
  }
  const tasks = typeof data === 'object' && data !== null ? (data as Record<string, unknown>).tasks : undefined;
  const entries: ConfiguredTask[] = [];
  if (Array.isArray(tasks)) {
    for (const t of tasks as unknown[]) {
      if (!isObjectLike(t)) continue;
      const raw = t as Record<string, unknown>;
      entries.push({
        ...(typeof raw.label === 'string' ? { label: raw.label } : {}),
        ...(typeof raw.type === 'string' ? { type: raw.type } : {}),
        dependsOn: raw.dependsOn,
        dependsOrder: raw.dependsOrder,
        raw,
      });
    }
  }
  return { folder, entries };
}

/** The tasks VS Code knows, with every folder's tasks.json: the lookups below work on this. */
export interface TaskCatalog {
  tasks: vscode.Task[];
  folders: FolderTasks[];
}

export async function loadCatalog(type?: string): Promise<TaskCatalog> {
  const [tasks, folders] = await Promise.all([
    vscode.tasks.fetchTasks(type ? { type } : undefined),
    Promise.all((vscode.workspace.workspaceFolders ?? []).map((f) => readFolderTasks(f))),
  ]);
  return { tasks, folders };
}

function entriesOf(catalog: TaskCatalog, task: vscode.Task): ConfiguredTask[] {
  const folder = folderOf(task);
  return catalog.folders.find((f) => f.folder.uri.toString() === folder?.uri.toString())?.entries ?? [];
}

/** Whether a tasks.json entry configures this provider task: same type and same definition values. */
function configures(entry: ConfiguredTask, task: vscode.Task): boolean {
  if (entry.type !== task.definition.type) return false;
  return Object.entries(task.definition).every(([k, v]) => k === 'type' || JSON.stringify(entry.raw[k]) === JSON.stringify(v));
}

/** The tasks.json entry a Workspace task comes from, if any. */
export function configuredEntry(catalog: TaskCatalog, task: vscode.Task): ConfiguredTask | undefined {
  if (task.source !== 'Workspace') return undefined;
  const entries = entriesOf(catalog, task);
  return (
    entries.find(
      (e) => e.label === task.name && (e.type ?? '$composite') === (task.definition.type === '$composite' ? (e.type ?? '$composite') : task.definition.type),
    ) ?? entries.find((e) => e.label === undefined && configures(e, task))
  );
}

/**
 * The label VS Code's Run Task shows: a provider task is `<source>: <name>` (`npm: compile`), and so
 * is a tasks.json entry that configures one without a `label` of its own; any other tasks.json task
 * shows its label. The tasks API gives a configured npm task's name as the bare script name, so
 * tasks.json tells which case applies.
 */
export function vscodeLabel(task: vscode.Task, catalog?: TaskCatalog): string {
  if (task.source === 'shell' || task.source === 'process') return task.name;
  if (task.source !== 'Workspace') return `${task.source}: ${task.name}`;
  const type = task.definition.type;
  if (PLAIN_TYPES.has(type) || !catalog) return task.name;
  const labelled = entriesOf(catalog, task).some((e) => e.label === task.name && e.type === type);
  return labelled ? task.name : `${type}: ${task.name}`;
}

function describeCandidate(catalog: TaskCatalog, task: vscode.Task): string {
  const folder = folderOf(task);
  const many = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
  return `\`${vscodeLabel(task, catalog)}\`${many && folder ? ` (folder \`${folder.name}\`)` : ''}`;
}

/**
 * The task a payload names: first by the label VS Code shows, then by the bare task name. More than
 * one match is refused, naming the candidates: running a guess would run the wrong task.
 */
export function resolveInCatalog(catalog: TaskCatalog, payload: VscodeTaskPayload): vscode.Task {
  const inScope = catalog.tasks.filter(
    (t) => (payload.folder === undefined || folderOf(t)?.name === payload.folder) && (payload.type === undefined || t.definition.type === payload.type),
  );
  let matches = inScope.filter((t) => vscodeLabel(t, catalog) === payload.label);
  if (!matches.length) matches = inScope.filter((t) => t.name === payload.label);
  const [first] = matches;
  if (!first) {
    const known = inScope
      .slice(0, 20)
      .map((t) => `\`${vscodeLabel(t, catalog)}\``)
      .join(', ');
    throw new ExecutionError(
      `No VS Code task labelled \`${payload.label}\`${known ? `; available: ${known}` : ' (the workspace has none)'}`,
      undefined,
      'TASK_NOT_FOUND',
    );
  }
  if (matches.length === 1) return first;
  const candidates = matches.map((t) => describeCandidate(catalog, t)).join(', ');
  throw new ExecutionError(
    `Expected \`${payload.label}\` to name one VS Code task, got ${matches.length}: ${candidates}; use the label VS Code shows${matches.some((t) => folderOf(t)?.name !== folderOf(first)?.name) ? ', and the folder' : ''}`,
    undefined,
    'TASK_AMBIGUOUS',
  );
}

/** Finds the task a payload names (see resolveInCatalog). */
export async function resolveTask(payload: VscodeTaskPayload): Promise<{ task: vscode.Task; catalog: TaskCatalog }> {
  const catalog = await loadCatalog();
  return { task: resolveInCatalog(catalog, payload), catalog };
}
