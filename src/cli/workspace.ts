// The folder the CLI works on, read as the extension reads it: the workflow file through the same
// parser, schema and checks (workspaceFiles/workflowFile.ts), the `orchestrator.*` settings from the
// folder's .vscode/settings.json through the same checks (workspaceFiles/settingsValues.ts).
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SETTINGS_FILE, WORKFLOW_FILE, type ConfigKey } from '../workspaceFiles/names';
import { readSettingsFrom, settingAt, type Settings } from '../workspaceFiles/settingsValues';
import { parseWorkflowFile, WorkflowFileError, type WorkflowFile } from '../workspaceFiles/workflowFile';
import { UsageError } from './exitCodes';
import type { SchemaIssue } from '../workspaceFiles/schemaValidator';
import { readJsonc } from './jsoncFile';
import { jsonSyntaxErrors, positionOfPath } from './sourcePositions';

/** One problem of a file, located: `file:line:column: message`. */
export interface FileProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export function formatProblem(p: FileProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.message}`;
}

/**
 * A workflow file that does not validate, or one of its workflows (`subject`, e.g. workflow `ci`):
 * every problem, located. Nothing of it runs.
 */
export class InvalidFileError extends Error {
  override readonly name = 'InvalidFileError';
  constructor(
    readonly problems: readonly FileProblem[],
    readonly subject = 'the workflow file',
  ) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export interface Workspace {
  /** The workspace folder: relative cwds resolve against it, tasks.json and settings.json are read from it. */
  folder: string;
  /** The workflow file, absolute. */
  file: string;
  /** How messages name the file: relative to the current directory when inside it. */
  shownFile: string;
  /** The file's usable workflows (and the names of the others, in `problems`). */
  workflows: WorkflowFile;
  /** The problems of each unusable workflow, located; the other workflows run. */
  workflowProblems: ReadonlyMap<string, readonly FileProblem[]>;
  settings: Settings;
  /** Settings refused (each replaced by its default), one line each. */
  settingProblems: string[];
}

/**
 * The workflow file: `--file` if given (its folder is the parent of its `.vscode/` directory, else
 * the current directory), else `.vscode/orchestrator.json` in the current directory or the nearest
 * parent that has one, as git finds `.git`.
 */
export function locateWorkflowFile(cwd: string, file?: string): { folder: string; file: string } {
  if (file !== undefined) {
    const absolute = path.resolve(cwd, file);
    if (!existsSync(absolute))
      throw new UsageError(`No workflow file at ${file}: --file must name an existing ${path.basename(WORKFLOW_FILE)}-style JSON file`);
    const dir = path.dirname(absolute);
    return { folder: path.basename(dir) === '.vscode' ? path.dirname(dir) : cwd, file: absolute };
  }
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, WORKFLOW_FILE);
    if (existsSync(candidate)) return { folder: dir, file: candidate };
    if (path.dirname(dir) === dir) break;
  }
  throw new UsageError(`No ${WORKFLOW_FILE} in ${cwd} or any folder above it: create one (the extension's schema describes it) or pass --file FILE`);
}

function shown(cwd: string, file: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/**
 * Reads, parses and validates the workflow file; throws InvalidFileError with every problem located
 * when the file itself is invalid. A workflow's own problems leave the others usable: they are
 * returned located, by workflow.
 */
export function readWorkflowFile(file: string, shownFile: string): { workflows: WorkflowFile; workflowProblems: ReadonlyMap<string, readonly FileProblem[]> } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read ${shownFile}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const syntax = jsonSyntaxErrors(text);
  if (syntax.length) throw new InvalidFileError(syntax.map((e) => ({ file: shownFile, ...e.position, message: e.message })));
  const located = (issues: readonly SchemaIssue[]): FileProblem[] =>
    issues.map((issue) => ({ file: shownFile, ...positionOfPath(text, issue.path), message: issue.message }));
  let workflows: WorkflowFile;
  try {
    workflows = parseWorkflowFile(text, shownFile);
  } catch (err) {
    if (!(err instanceof WorkflowFileError)) throw err;
    throw new InvalidFileError(located(err.issues));
  }
  const workflowProblems = new Map([...(workflows.problems ?? [])].map(([name, issues]) => [name, located(issues)] as const));
  return { workflows, workflowProblems };
}

/** Refuses the unusable workflow `name` with its problems, located. */
export function invalidWorkflowError(workspace: Workspace, name: string): InvalidFileError | undefined {
  const problems = workspace.workflowProblems.get(name);
  return problems?.length ? new InvalidFileError(problems, `workflow \`${name}\``) : undefined;
}

/**
 * The folder's `orchestrator.*` settings from its .vscode/settings.json (JSONC, as VS Code reads it).
 * A missing file means defaults; an unreadable or unparsable one is a problem, and defaults apply.
 */
export function readFolderSettings(folder: string, problems: string[]): Settings {
  let values: unknown;
  try {
    values = readJsonc(path.join(folder, SETTINGS_FILE));
  } catch (err) {
    problems.push(`${err instanceof Error ? err.message : String(err)}; using the default settings`);
  }
  return readSettingsFrom((key: ConfigKey) => settingAt(values, key.split('.')), problems);
}

export function loadWorkspace(cwd: string, file?: string): Workspace {
  const located = locateWorkflowFile(cwd, file);
  const shownFile = shown(cwd, located.file);
  const { workflows, workflowProblems } = readWorkflowFile(located.file, shownFile);
  const settingProblems: string[] = [];
  const settings = readFolderSettings(located.folder, settingProblems);
  return { folder: located.folder, file: located.file, shownFile, workflows, workflowProblems, settings, settingProblems };
}
