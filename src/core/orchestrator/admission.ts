// Admission: a spec becomes a record, or is refused and changes nothing. It validates the spec (or
// a workflow, all or nothing), refuses a dependency that already failed or was cancelled (unless
// runAlways), fills the defaults, creates the record through the lifecycle and hands it to the
// dispatcher to be gated.
//
// Hot path: validation copies the spec once and the defaults object is built once, not per task.
import { ValidationError } from '../model/errors';
import type { TaskLifecycleManager } from '../lifecycle/lifecycle';
import { applySpecDefaults, type SpecDefaults } from '../model/specDefaults';
import type { TaskRecord, TaskSpec } from '../model/model';
import type { Clock } from '../ports';
import { validateSpec, type SpecContext, type ValidSpec } from '../model/specValidation';
import { validateWorkflow } from '../model/workflowValidation';
import type { Dispatcher } from './dispatcher';
import { runtimeOf } from './taskRun';
import type { Services } from '../services/services';
import { checkWorkflowRunOptions, toleratedFailure, type WorkflowRuns } from './failurePolicies';

/** For a spec without dependsOn: the lifecycle copies a non-empty list, so nothing writes to this. */
const NO_DEPS: readonly string[] = Object.freeze([]);

export class Admission {
  readonly specContext: SpecContext;

  constructor(
    private readonly lifecycle: TaskLifecycleManager,
    private readonly clock: Clock,
    private readonly dispatcher: Dispatcher,
    private readonly defaults: Readonly<SpecDefaults>,
    private readonly runs: WorkflowRuns,
    private readonly services?: Services,
  ) {
    this.specContext = {
      kinds: dispatcher.kinds,
      pools: dispatcher.pools.capacities(),
      taskExists: (id) => lifecycle.has(id),
    };
  }

  /** The pools changed: specs are checked against the new capacities. */
  poolsChanged(): void {
    (this.specContext as { pools: Readonly<Record<string, number>> }).pools = this.dispatcher.pools.capacities();
  }

  /** Validates and creates one task; throws (changing nothing) when it is refused. Returns its id. */
  admitTask(spec: TaskSpec, noCache = false): string {
    const valid = validateSpec(spec, this.specContext);
    const refusal = valid.runAlways === true ? undefined : this.dependencyRefusal(valid.dependsOn, 'dependsOn');
    if (refusal) throw refusal;
    return this.admit(valid, spec.run, valid.dependsOn ?? NO_DEPS, undefined, false, noCache).id;
  }

  /**
   * Creates a graph of specs named by `key`, all or nothing: every spec is validated and the graph
   * checked (unknown keys, cycles) before the first task is created. Returns ids in the given order.
   * `options` (unknown until checked) set the run's failure policy, kept on each of its records.
   */
  admitWorkflow(specs: TaskSpec[], options?: unknown): string[] {
    const { failFast, noCache, name } = checkWorkflowRunOptions(options);
    const workflow = validateWorkflow(specs, this.specContext);
    for (const entry of workflow.entries) {
      const refusal = entry.spec.runAlways === true ? undefined : this.dependencyRefusal(entry.dependsOnIds, `[${entry.index}].dependsOn`);
      if (refusal) throw refusal;
    }
    const workflowId = `wf-${this.clock.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const ids: string[] = new Array<string>(workflow.entries.length);
    const byIndex: string[] = [];
    // Created in topological order, so a dependency exists (and is tracked) before its dependents;
    // dispatch is held until all exist: a fast first task must not finish before its dependents
    // are registered as waiting for it.
    this.dispatcher.batch(() => {
      for (let i = 0; i < workflow.entries.length; i++) {
        const entry = workflow.entries[i]!;
        // A shared service an earlier run still has: this run's dependents depend on that instance.
        const shared = entry.spec.shared === true ? this.services?.sharedInstance(entry.spec.key, entry.spec.cwd) : undefined;
        if (shared !== undefined) {
          byIndex[i] = ids[entry.index] = shared;
          continue;
        }
        const dependsOn = [...entry.dependsOnIndexes.map((j) => byIndex[j] as string), ...entry.dependsOnIds];
        const record = this.admit(entry.spec, (specs[entry.index] as TaskSpec).run, dependsOn, workflowId, failFast, noCache, name);
        byIndex[i] = record.id;
        ids[entry.index] = record.id;
      }
    });
    this.dispatcher.dispatch();
    return ids;
  }

  /**
   * The spec to schedule a finished task again with: dependencies that completed or are gone need no
   * waiting, the rest are waited for again; a function task keeps its code (none after a restart).
   */
  respec(record: Readonly<TaskRecord>): TaskSpec {
    const spec: TaskSpec = { ...record.spec };
    // Completed dependencies stay: they are done (the copy is ready at once) and they are part of
    // what the task's cache key hashes. Only dependencies no longer held are dropped.
    const deps = record.dependsOn.filter((d) => this.lifecycle.get(d) !== undefined);
    if (deps.length) spec.dependsOn = deps;
    else delete spec.dependsOn;
    delete spec.key;
    const run = runtimeOf(record).run;
    if (record.kind === 'function' && !run) {
      throw new ValidationError(
        `Task \`${record.name}\` (${record.id}) is a function task from before a restart: its code was not persisted, so it cannot be retried; schedule it again`,
        'id',
      );
    }
    if (run) spec.run = run;
    return spec;
  }

  /** An existing dependency that already failed or was cancelled: the task (not runAlways) could never run. */
  private dependencyRefusal(deps: readonly string[] | undefined, field: string): ValidationError | undefined {
    if (!deps) return undefined;
    for (let i = 0; i < deps.length; i++) {
      const dep = this.lifecycle.get(deps[i] as string);
      if (dep && (dep.status === 'failed' || dep.status === 'cancelled') && !toleratedFailure(dep)) {
        return new ValidationError(
          `Expected \`${field}[${i}]\` to name a task that can still complete, but \`${dep.name}\` (${dep.id}) is ${dep.status}`,
          `${field}[${i}]`,
        );
      }
    }
    return undefined;
  }

  /** Creates the record and gates it. The spec is valid (`run` checked with it) and its dependencies exist. */
  private admit(
    spec: ValidSpec,
    run: TaskSpec['run'],
    dependsOn: readonly string[],
    workflowId: string | undefined,
    failFast = false,
    noCache = false,
    workflowName?: string,
  ): Readonly<TaskRecord> {
    const init = { dependsOn, workflowId, ownedSpec: true, failFast, noCache, workflowName };
    const record = this.lifecycle.create(applySpecDefaults(spec, this.defaults), init);
    // Tracked before it is gated: a member that fails at once must already find its run.
    if (failFast) this.runs.add(record);
    runtimeOf(record).run = run;
    // Scheduled at its creation time: one clock read less per task.
    this.dispatcher.gate(record, record.createdAt);
    this.dispatcher.dispatch();
    return record;
  }
}
