// Failure policies: what a task's failure does beyond its own record and its dependents' cascade.
//
// - continueOnError (per task): its failure, final after its retries, releases its dependents as a
//   completion does (they run), and its fail transition's reason says so; the task stays Failed. A
//   cancel is not a failure: a cancelled continueOnError task cancels its dependents as any task does.
// - failFast (per workflow run, scheduleWorkflow's option; default false): the failure of a member,
//   final and not tolerated by continueOnError, stops the run: every member still Created or
//   Scheduled is cancelled, except runAlways ones (they run once what they wait for is final);
//   running members finish. The flag is on each member's record (TaskRecord.failFast), so a
//   restored run keeps it.
//
// Invariants of WorkflowRuns:
// - `open` holds, for each failFast run with a member not yet final, exactly those members; a run
//   leaves it with its last member, so nothing is kept for finished runs.
// - Runs without failFast are not tracked: they cost nothing here.
// - Each operation is O(members of that run touched); nothing scans all tasks.
import { fieldError } from '../model/errors';
import { LIMITS } from '../model/limits';
import { unknownField } from '../model/fieldChecks';
import { isPlainObject } from '../model/guards';
import { isFinished, type TaskRecord } from '../model/model';

/** The options of a workflow run (scheduleWorkflow's second argument). */
export interface WorkflowRunOptions {
  /** A failure of one task (after its retries, not continueOnError) cancels the run's tasks that have not started. Default false. */
  failFast?: boolean;
  /** Run the workflow's tasks without reading the cache (their results are still stored). Default false. */
  noCache?: boolean;
  /** The workflow's name, e.g. `ci`: kept on each record (TaskRecord.workflowName) for history and search. */
  name?: string;
}

/** The run options once checked: the flags with their defaults; `name` only when given. */
export type CheckedRunOptions = Required<Omit<WorkflowRunOptions, 'name'>> & Pick<WorkflowRunOptions, 'name'>;

const RUN_OPTION_FIELDS: readonly string[] = ['failFast', 'noCache', 'name'];

/** The options checked, defaults filled; a ValidationError naming the field otherwise (nothing is scheduled then). */
export function checkWorkflowRunOptions(options: unknown): CheckedRunOptions {
  if (options === undefined) return { failFast: false, noCache: false };
  if (!isPlainObject(options)) throw fieldError('options', 'a plain object like `{ failFast: true }`', options);
  for (const k in options) if (!RUN_OPTION_FIELDS.includes(k)) unknownField('options', k, RUN_OPTION_FIELDS, 'the workflow run options');
  const failFast = options.failFast;
  if (failFast !== undefined && typeof failFast !== 'boolean') {
    throw fieldError('options.failFast', "a boolean (true: a task's failure cancels the run's tasks that have not started)", failFast);
  }
  const noCache = options.noCache;
  if (noCache !== undefined && typeof noCache !== 'boolean') {
    throw fieldError('options.noCache', 'a boolean (true: run every task of the workflow without reading the cache)', noCache);
  }
  const name = options.name;
  if (name !== undefined && !(typeof name === 'string' && name.length > 0 && name.length <= LIMITS.nameLength)) {
    throw fieldError('options.name', `a workflow name, a non-empty string of at most ${LIMITS.nameLength} characters`, name);
  }
  return { failFast: failFast === true, noCache: noCache === true, ...(name === undefined ? {} : { name }) };
}

/** The options of retryTask (its second argument). */
export interface RetryOptions {
  /** Run the new task without reading the cache (its result is still stored); a completed task may then be run again too. Default false. */
  noCache?: boolean;
}

/** retryTask's options checked, defaults filled; a ValidationError naming the field otherwise (nothing is scheduled then). */
export function checkRetryOptions(options: unknown): Required<RetryOptions> {
  if (options === undefined) return { noCache: false };
  if (!isPlainObject(options)) throw fieldError('options', 'a plain object like `{ noCache: true }`', options);
  for (const k in options) if (k !== 'noCache') unknownField('options', k, ['noCache'], 'the retry options');
  if (options.noCache !== undefined && typeof options.noCache !== 'boolean') {
    throw fieldError('options.noCache', 'a boolean (true: run the task again without reading the cache)', options.noCache);
  }
  return { noCache: options.noCache === true };
}

/** A Failed task whose failure its dependents tolerate: to them it counts as completed. */
export function toleratedFailure(record: Readonly<TaskRecord>): boolean {
  return record.status === 'failed' && record.spec.continueOnError === true;
}

/** The reason of a continueOnError task's fail transition: the marker first, so bounding the text keeps it. */
export function continueReason(message: string): string {
  return `Failed; dependents continue (continueOnError): ${message}`;
}

/** The reason the members of a stopped failFast run are cancelled with. */
export function stopReason(failed: Readonly<TaskRecord>): string {
  return `Workflow run stopped: \`${failed.name}\` failed (failFast)`;
}

const NONE: readonly string[] = Object.freeze([]);

export class WorkflowRuns {
  /** failFast run id -> its members not yet final. */
  private readonly open = new Map<string, Set<string>>();

  constructor(private readonly lookup: (id: string) => Readonly<TaskRecord> | undefined) {}

  /** failFast runs with a member not yet final. */
  get size(): number {
    return this.open.size;
  }

  /** A member of a failFast run, created or restored; a final one is not tracked. */
  add(record: Readonly<TaskRecord>): void {
    const run = record.workflowId;
    if (record.failFast !== true || run === undefined || isFinished(record.status)) return;
    const members = this.open.get(run);
    if (members === undefined) this.open.set(run, new Set([record.id]));
    else members.add(record.id);
  }

  /**
   * A member reached a final status. Returns the members its failure stops (Created or Scheduled,
   * not runAlways), for the caller to cancel with stopReason; none for a completion, a cancel or a
   * tolerated failure.
   */
  finished(record: Readonly<TaskRecord>): readonly string[] {
    const run = record.workflowId;
    const members = run === undefined ? undefined : this.open.get(run);
    if (members === undefined) return NONE;
    members.delete(record.id);
    if (members.size === 0) this.open.delete(run as string);
    if (record.status !== 'failed' || toleratedFailure(record)) return NONE;
    const stop: string[] = [];
    for (const id of members) {
      const r = this.lookup(id);
      if (r && (r.status === 'created' || r.status === 'scheduled') && r.spec.runAlways !== true) stop.push(id);
    }
    return stop;
  }
}
