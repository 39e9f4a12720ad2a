// The workflow file `.vscode/orchestrator.json`: parsed, checked against workflowSchema.json (the
// same file the editor validates with through `contributes.jsonValidation`), then checked for what a
// schema cannot say (unique keys, dependencies naming a key of the same workflow), and turned into
// TaskSpecs for `scheduleWorkflow`. All or nothing: any issue and nothing of the file runs.
// Imports nothing from 'vscode', so plain Node tests load it.
import * as path from 'node:path';
import { ValidationError, describeValue } from '../core/model/errors';
import type { TaskSpec } from '../core/model/model';
import { applySpecDefaults, type SpecDefaults as CoreSpecDefaults } from '../core/model/specDefaults';
import { validateAgainstSchema, type JsonSchema, type SchemaIssue } from './schemaValidator';
import schemaJson from './workflowSchema.json';
import { VSCODE_TASK_KIND } from './names';

export const workflowSchema: JsonSchema = schemaJson;

/**
 * One task as the file declares it, after validation: the spec's own fields (TaskSpec says what each
 * means), a required `key`, an optional `name`, and `task` for a VS Code task by label.
 */
export interface WorkflowTaskDecl extends Partial<
  Pick<TaskSpec, 'command' | 'payload' | 'cwd' | 'env' | 'priority' | 'dependsOn' | 'resources' | 'timeoutMs' | 'retries' | 'retryDelayMs'>
> {
  key: string;
  name?: string;
  task?: string;
  kind?: string;
}

export interface WorkflowDecl {
  description?: string;
  tasks: WorkflowTaskDecl[];
}

export interface WorkflowFile {
  version?: 1;
  workflows: Record<string, WorkflowDecl>;
}

/** Thrown for a file that does not validate; `issues` has every problem found, the message the first. */
export class WorkflowFileError extends ValidationError {
  constructor(
    readonly source: string,
    readonly issues: readonly SchemaIssue[],
  ) {
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    super(`${source}: ${issues[0]?.message ?? 'invalid'}${more}`, issues[0]?.path);
  }
}

/** The payload of a `vscodeTask` task: which VS Code task to run. */
export interface VscodeTaskPayload {
  /** The task's label, e.g. `build` or `npm: test`. */
  label: string;
  /** The task's type (`shell`, `npm`...), to disambiguate equal labels. */
  type?: string;
  /** Name of the workspace folder the task belongs to. */
  folder?: string;
  /** Its tasks.json `dependsOn` are tasks of ours (compoundTasks.ts): run the task without them. */
  ownOnly?: boolean;
  /** Keys, in the same workflow run, of the steps a compound's own task waits for and reports on. */
  steps?: string[];
}

/** Parses and validates the file's text; throws WorkflowFileError naming the field. */
export function parseWorkflowFile(text: string, source: string): WorkflowFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new WorkflowFileError(source, [{ path: '', message: `Expected valid JSON: ${err instanceof Error ? err.message : String(err)}` }]);
  }
  const issues = validateAgainstSchema(data, workflowSchema);
  if (issues.length) throw new WorkflowFileError(source, issues);
  // The schema has established this shape; what follows checks what JSON Schema cannot express.
  const file = data as WorkflowFile;
  for (const [name, workflow] of Object.entries(file.workflows)) {
    const keys = new Map<string, number>();
    workflow.tasks.forEach((task, i) => {
      const at = `workflows.${name}.tasks[${i}]`;
      if (keys.has(task.key)) {
        issues.push({
          path: `${at}.key`,
          message: `Expected \`${at}.key\` to be unique in workflow \`${name}\`, got ${describeValue(task.key)} also at \`tasks[${keys.get(task.key)}]\``,
        });
      }
      keys.set(task.key, i);
    });
    workflow.tasks.forEach((task, i) => {
      (task.dependsOn ?? []).forEach((dep, j) => {
        const at = `workflows.${name}.tasks[${i}].dependsOn[${j}]`;
        if (dep === task.key) {
          issues.push({ path: at, message: `Expected \`${at}\` to name another task, got the task itself (${describeValue(dep)})` });
        } else if (!keys.has(dep)) {
          const known = [...keys.keys()].map((k) => `\`${k}\``).join(', ');
          issues.push({ path: at, message: `Expected \`${at}\` to be a key of workflow \`${name}\` (${known}), got ${describeValue(dep)}` });
        }
      });
    });
  }
  if (issues.length) throw new WorkflowFileError(source, issues);
  return file;
}

export interface SpecDefaults extends CoreSpecDefaults {
  /** Relative `cwd`s resolve against it; it is the cwd of tasks that give none. */
  folder?: string;
}

/** The specs of one workflow, keyed so `dependsOn` can name keys inside `scheduleWorkflow`. */
export function workflowToSpecs(file: WorkflowFile, workflowName: string, defaults: SpecDefaults = {}): TaskSpec[] {
  const workflow = file.workflows[workflowName];
  if (!workflow) {
    const known = Object.keys(file.workflows)
      .map((k) => `\`${k}\``)
      .join(', ');
    throw new ValidationError(`Expected a workflow name, one of ${known}, got ${describeValue(workflowName)}`, 'workflow');
  }
  return workflow.tasks.map((decl) => declToSpec(decl, workflowName, defaults));
}

function declToSpec(decl: WorkflowTaskDecl, workflowName: string, defaults: SpecDefaults): TaskSpec {
  const spec: TaskSpec = { name: decl.name ?? `${workflowName}: ${decl.key}`, kind: 'shell', key: decl.key };
  if (decl.command !== undefined) {
    spec.command = decl.command;
    const cwd = decl.cwd === undefined ? defaults.folder : defaults.folder ? path.resolve(defaults.folder, decl.cwd) : decl.cwd;
    if (cwd !== undefined) spec.cwd = cwd;
    if (decl.env) spec.env = { ...decl.env };
  } else if (decl.task !== undefined) {
    spec.kind = VSCODE_TASK_KIND;
    const payload: VscodeTaskPayload = { label: decl.task };
    spec.payload = payload;
  } else if (decl.kind !== undefined) {
    spec.kind = decl.kind;
    if (decl.payload !== undefined) spec.payload = decl.payload;
  }
  if (decl.priority !== undefined) spec.priority = decl.priority;
  if (decl.dependsOn?.length) spec.dependsOn = [...decl.dependsOn];
  if (decl.resources) spec.resources = { ...decl.resources };
  if (decl.timeoutMs !== undefined) spec.timeoutMs = decl.timeoutMs;
  if (decl.retries !== undefined) spec.retries = decl.retries;
  if (decl.retryDelayMs !== undefined) spec.retryDelayMs = decl.retryDelayMs;
  return applySpecDefaults(spec, defaults);
}
