// The workflow file `.vscode/orchestrator.json`: parsed, checked against workflowSchema.json (the
// same file the editor validates with through `contributes.jsonValidation`), then checked for what a
// schema cannot say (unique keys, dependencies naming a key of the same workflow, no cycle, a
// `readyWhen` the core accepts, triggers only where they can run), and turned into TaskSpecs for
// `scheduleWorkflow`. A problem of the file itself (bad JSON, no `workflows`) refuses the file; a
// problem inside one workflow refuses that workflow only, and the others stay usable.
// Imports nothing from 'vscode', so plain Node tests load it.
import * as path from 'node:path';
import { ValidationError, describeValue } from '../core/model/errors';
import type { PersistedSpec, TaskSpec } from '../core/model/model';
import { checkServiceFields } from '../core/model/serviceFields';
import { checkCacheSpec } from '../core/model/cacheFields';
import { applySpecDefaults, type SpecDefaults as CoreSpecDefaults } from '../core/model/specDefaults';
import { findCycle } from '../core/util/findCycle';
import { joinPath, validateAgainstSchema, type JsonSchema, type SchemaIssue } from './schemaValidator';
import schemaJson from './workflowSchema.json';
import { VSCODE_TASK_KIND } from './names';
import type { OnRunning } from './triggers';

export const workflowSchema: JsonSchema = schemaJson;

/** `failFast` of a workflow that does not say: a failure stops the run's tasks that have not started. */
export const DEFAULT_FAIL_FAST = true;

/** `"on"`: what fires a trigger; at least one of `save` and `change` (triggers.ts reads it). */
export interface WorkflowTriggerDecl {
  save?: string[];
  change?: string[];
  debounceMs?: number;
}

/** The spec fields a task of the file may set, each meaning what TaskSpec says. */
type DeclaredSpecFields =
  | 'command'
  | 'payload'
  | 'cwd'
  | 'env'
  | 'priority'
  | 'dependsOn'
  | 'resources'
  | 'timeoutMs'
  | 'retries'
  | 'retryDelayMs'
  | 'readyWhen'
  | 'readyTimeoutMs'
  | 'stopWhen'
  | 'restart'
  | 'shared'
  | 'continueOnError'
  | 'runAlways'
  | 'cache';

/**
 * One task as the file declares it, after validation: the spec's own fields (TaskSpec says what each
 * means), a required `key`, an optional `name`, `task` for a VS Code task by label, and a trigger.
 */
export interface WorkflowTaskDecl extends Partial<Pick<TaskSpec, DeclaredSpecFields>> {
  key: string;
  name?: string;
  task?: string;
  kind?: string;
  on?: WorkflowTriggerDecl;
  onRunning?: OnRunning;
}

export interface WorkflowDecl {
  description?: string;
  /** Default DEFAULT_FAIL_FAST. */
  failFast?: boolean;
  on?: WorkflowTriggerDecl;
  onRunning?: OnRunning;
  tasks: WorkflowTaskDecl[];
}

export interface WorkflowFile {
  version?: 1;
  /** The usable workflows: every check passed. A workflow with a problem is not here but in `problems`. */
  workflows: Record<string, WorkflowDecl>;
  /**
   * The workflows that are declared but unusable, by name, with every problem found (each naming its
   * field by path, `workflows.ci.tasks[1].priority`). Absent or empty: every workflow is usable.
   */
  problems?: ReadonlyMap<string, readonly SchemaIssue[]>;
}

/** Thrown for a file, or a workflow, that does not validate; `issues` has every problem found, the message the first. */
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

/** The file's own shape, its workflows unchecked: they are checked one by one, so one cannot spoil another. */
const fileLevelSchema: JsonSchema = (() => {
  const root = schemaJson as { properties: Record<string, object> };
  return { ...root, properties: { ...root.properties, workflows: { ...root.properties.workflows, additionalProperties: true } } };
})();

/**
 * Parses and validates the file's text. Throws WorkflowFileError naming the field for a problem of
 * the file itself (not JSON, not an object, no `workflows`, an unknown top-level property); a problem
 * inside a workflow goes to `problems` and leaves the other workflows usable.
 */
export function parseWorkflowFile(text: string, source: string): WorkflowFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new WorkflowFileError(source, [{ path: '', message: `Expected valid JSON: ${err instanceof Error ? err.message : String(err)}` }]);
  }
  const fileIssues = validateAgainstSchema(data, fileLevelSchema, workflowSchema);
  if (fileIssues.length) throw new WorkflowFileError(source, fileIssues);
  // The file-level schema has established an object whose `workflows` is a non-empty object.
  const { workflows: declared, ...rest } = data as { workflows: Record<string, unknown>; version?: 1 };
  const file: WorkflowFile = { ...rest, workflows: {} };
  const problems = new Map<string, SchemaIssue[]>();
  for (const [name, value] of Object.entries(declared)) {
    const at = joinPath('workflows', name);
    const issues = validateAgainstSchema(value, { $ref: '#/definitions/workflow' }, workflowSchema, at);
    // The schema has established this shape when it found nothing; what follows checks what JSON Schema cannot express.
    if (!issues.length) issues.push(...workflowIssues(name, at, value as WorkflowDecl));
    if (issues.length) problems.set(name, issues);
    // Defined, not assigned: a workflow named `__proto__` stays a workflow, not the record's prototype.
    else Object.defineProperty(file.workflows, name, { value, enumerable: true, writable: true, configurable: true });
  }
  if (problems.size) file.problems = problems;
  return file;
}

/** What a schema cannot say about one workflow that passed the schema. */
function workflowIssues(name: string, at: string, workflow: WorkflowDecl): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const keys = new Map<string, number>();
  workflow.tasks.forEach((task, i) => {
    const taskAt = `${at}.tasks[${i}]`;
    if (keys.has(task.key)) {
      issues.push({
        path: `${taskAt}.key`,
        message: `Expected \`${taskAt}.key\` to be unique in workflow \`${name}\`, got ${describeValue(task.key)} also at \`tasks[${keys.get(task.key)}]\``,
      });
    }
    keys.set(task.key, i);
  });
  let depsKnown = true;
  workflow.tasks.forEach((task, i) => {
    const taskAt = `${at}.tasks[${i}]`;
    (task.dependsOn ?? []).forEach((dep, j) => {
      const depAt = `${taskAt}.dependsOn[${j}]`;
      if (dep === task.key) {
        depsKnown = false;
        issues.push({ path: depAt, message: `Expected \`${depAt}\` to name another task, got the task itself (${describeValue(dep)})` });
      } else if (!keys.has(dep)) {
        depsKnown = false;
        const known = [...keys.keys()].map((k) => `\`${k}\``).join(', ');
        issues.push({ path: depAt, message: `Expected \`${depAt}\` to be a key of workflow \`${name}\` (${known}), got ${describeValue(dep)}` });
      }
    });
    // The core's own checks of the service fields (a readyWhen regex that compiles, an http(s) URL, no
    // runAlways service) and of `cache` (no cached service), so the file refuses exactly what scheduling would.
    try {
      const checked: PersistedSpec = { name: task.key, kind: 'shell' };
      checkServiceFields(task as unknown as Record<string, unknown>, taskAt, checked);
      if (task.cache !== undefined) {
        checkCacheSpec(`${taskAt}.cache`, task.cache);
        if (task.readyWhen !== undefined) {
          throw new ValidationError(
            `Expected \`${taskAt}.cache\` to be absent when \`readyWhen\` is set: a service runs until it is stopped, so it has no result to restore`,
            `${taskAt}.cache`,
          );
        }
      }
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      issues.push({ path: err.field ?? taskAt, message: err.message });
    }
    if (task.on) issues.push(...globIssues(`${taskAt}.on`, task.on));
    if (task.onRunning !== undefined && !task.on) issues.push(onRunningAlone(`${taskAt}.onRunning`, task.onRunning));
  });
  const triggered = workflow.on !== undefined || workflow.tasks.some((t) => t.on !== undefined);
  if (workflow.on) issues.push(...globIssues(`${at}.on`, workflow.on));
  if (workflow.onRunning !== undefined && !triggered) issues.push(onRunningAlone(`${at}.onRunning`, workflow.onRunning));
  if (triggered && name.includes('/')) {
    issues.push({
      path: at,
      message: `Expected the name of workflow ${describeValue(name)} to have no \`/\`: it has a trigger, and trigger ids are \`workflow/task\``,
    });
  }
  // Only over unique keys that all resolve: otherwise the graph is not the one the user meant.
  if (depsKnown && keys.size === workflow.tasks.length) {
    const cycle = findCycle(new Map(workflow.tasks.map((t) => [t.key, t.dependsOn ?? []])));
    if (cycle) {
      // A long cycle is shown by its ends, so the message stays readable in a notification.
      const ends = cycle.length <= 21 ? cycle : [...cycle.slice(0, 10), `(${cycle.length - 20} more)`, ...cycle.slice(-10)];
      const shown = `\`${ends.join(' -> ')}\``;
      const from = keys.get(cycle[0] as string) ?? 0;
      const edge = (workflow.tasks[from]?.dependsOn ?? []).indexOf(cycle[1] as string);
      issues.push({
        path: `${at}.tasks[${from}].dependsOn[${edge}]`,
        message: `Expected the tasks of workflow \`${name}\` to have no dependency cycle, got ${shown}: \`dependsOn\` must never lead back to the task itself`,
      });
      const onCycle = (onAt: string): SchemaIssue => ({
        path: onAt,
        message: `Expected \`${onAt}\` to be absent: workflow \`${name}\` has a dependency cycle (${shown}) and cannot run, so nothing may trigger it`,
      });
      if (workflow.on) issues.push(onCycle(`${at}.on`));
      workflow.tasks.forEach((task, i) => {
        if (task.on) issues.push(onCycle(`${at}.tasks[${i}].on`));
      });
    }
  }
  return issues;
}

/** Globs are relative to the workspace folder (VS Code's RelativePattern): an absolute one or one that climbs out matches nothing. */
function globIssues(at: string, on: WorkflowTriggerDecl): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  for (const list of ['save', 'change'] as const) {
    (on[list] ?? []).forEach((glob, i) => {
      if (/^([/\\]|[A-Za-z]:)/.test(glob) || /(^|[/\\])\.\.([/\\]|$)/.test(glob)) {
        const globAt = `${at}.${list}[${i}]`;
        issues.push({
          path: globAt,
          message: `Expected \`${globAt}\` to be a glob relative to the workspace folder (like \`src/**/*.ts\`), got ${describeValue(glob)}`,
        });
      }
    });
  }
  return issues;
}

function onRunningAlone(at: string, value: OnRunning): SchemaIssue {
  return { path: at, message: `Expected \`${at}\` to be set only with an \`on\` trigger beside it, got ${describeValue(value)} without one` };
}

/** The problems of workflow `name` as one error (the first named, the rest counted); undefined when it is usable or not declared. */
export function workflowError(file: WorkflowFile, name: string, source: string): WorkflowFileError | undefined {
  const issues = file.problems?.get(name);
  return issues?.length ? new WorkflowFileError(source, issues) : undefined;
}

/** The usable workflow `name`; throws its problems if it has some, or a ValidationError listing the usable ones. */
function usableWorkflow(file: WorkflowFile, name: string): WorkflowDecl {
  const broken = workflowError(file, name, `Workflow \`${name}\``);
  if (broken) throw broken;
  const workflow = Object.hasOwn(file.workflows, name) ? file.workflows[name] : undefined;
  if (!workflow) {
    const known = Object.keys(file.workflows)
      .map((k) => `\`${k}\``)
      .join(', ');
    throw new ValidationError(`Expected a workflow name, one of ${known}, got ${describeValue(name)}`, 'workflow');
  }
  return workflow;
}

/** How a run of workflow `name` goes, for `scheduleWorkflow(specs, options)`. Throws as workflowToSpecs does. */
export function workflowOptions(file: WorkflowFile, name: string): { failFast: boolean; name: string } {
  return { failFast: usableWorkflow(file, name).failFast ?? DEFAULT_FAIL_FAST, name };
}

export interface SpecDefaults extends CoreSpecDefaults {
  /** Relative `cwd`s resolve against it; it is the cwd of tasks that give none. */
  folder?: string;
}

/** The specs of one usable workflow, keyed so `dependsOn` can name keys inside `scheduleWorkflow`. */
export function workflowToSpecs(file: WorkflowFile, workflowName: string, defaults: SpecDefaults = {}): TaskSpec[] {
  return usableWorkflow(file, workflowName).tasks.map((decl) => declToSpec(decl, workflowName, defaults));
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
  if (decl.timeoutMs !== undefined) spec.timeoutMs = decl.timeoutMs;
  if (decl.retries !== undefined) spec.retries = decl.retries;
  if (decl.retryDelayMs !== undefined) spec.retryDelayMs = decl.retryDelayMs;
  if (decl.readyTimeoutMs !== undefined) spec.readyTimeoutMs = decl.readyTimeoutMs;
  if (decl.stopWhen !== undefined) spec.stopWhen = decl.stopWhen;
  if (decl.restart !== undefined) spec.restart = decl.restart;
  if (decl.shared !== undefined) spec.shared = decl.shared;
  if (decl.continueOnError !== undefined) spec.continueOnError = decl.continueOnError;
  if (decl.runAlways !== undefined) spec.runAlways = decl.runAlways;
  if (decl.dependsOn?.length) spec.dependsOn = [...decl.dependsOn];
  if (decl.resources) spec.resources = { ...decl.resources };
  if (decl.readyWhen) spec.readyWhen = { ...decl.readyWhen };
  if (decl.cache) spec.cache = structuredClone(decl.cache);
  return applySpecDefaults(spec, defaults);
}
