// A small run as the CLI's views and reports see it, on fixed times: records moved by the core's own
// transition function, and every change handed to a RunView the way the run loop hands them.
import { applyPatch, transition, type LifecycleEvent } from '../../src/core/lifecycle/transition';
import type { TaskRecord, TaskSpec, TaskStatus } from '../../src/core/model/model';
import type { RunSummary, RunView } from '../../src/cli/view/runView';
import { countStatuses } from '../../src/cli/view/taskText';
import { ManualClock } from './manualClock';

/** 2026-01-31T12:00:00.000Z: every time below is an offset from it. */
export const T0 = Date.UTC(2026, 0, 31, 12, 0, 0);

export function taskRecord(id: string, spec: Partial<TaskSpec> & { key: string }, at = T0): TaskRecord {
  const { run: _run, ...persisted } = { name: spec.key, kind: 'shell', command: `npm run ${spec.key}`, ...spec };
  return {
    id,
    name: persisted.name,
    kind: persisted.kind,
    status: 'created',
    priority: 0,
    attempts: 0,
    createdAt: at,
    history: [{ status: 'created', at }],
    spec: persisted,
    dependsOn: [...(spec.dependsOn ?? [])],
  };
}

/** Applies `event` at `at` (the clock moves there first) and tells the view. */
export function step(view: RunView, clock: ManualClock, record: TaskRecord, event: LifecycleEvent, at: number): void {
  clock.set(at);
  const from: TaskStatus = record.status;
  applyPatch(record, transition(record, event, at));
  view.change(record, from);
}

export interface Scenario {
  build: TaskRecord;
  lint: TaskRecord;
  test: TaskRecord;
  deploy: TaskRecord;
  tasks: TaskRecord[];
  /** The `task.<status>` transitions, `task.output` and `warning` in the order the view was told of them. */
  told: string[];
  summary: RunSummary;
}

/** The four tasks in declared order, created, as `start()` receives them. */
export function scenarioTasks(): Pick<Scenario, 'build' | 'lint' | 'test' | 'deploy' | 'tasks'> {
  const build = taskRecord('t1', { key: 'build', resources: { cpu: 1 } });
  const lint = taskRecord('t2', { key: 'lint', dependsOn: ['t1'] });
  const test = taskRecord('t3', { key: 'test', retries: 2, resources: { cpu: 1, gpu: 2 } });
  const deploy = taskRecord('t4', { key: 'deploy', dependsOn: ['t2', 't3'] });
  return { build, lint, test, deploy, tasks: [build, lint, test, deploy] };
}

/**
 * build completes after printing a line cut across chunks and an unfinished last line; lint fails
 * with exit 2; test fails its first attempt, retries and completes; deploy is cancelled because lint
 * failed. Calls start() and every change, output and warn, then finish(); the promise is finish()'s.
 */
export async function runScenario(view: RunView, clock: ManualClock): Promise<Scenario> {
  const s = scenarioTasks();
  const { build, lint, test, deploy, tasks } = s;
  const told: string[] = [];
  const go = (r: TaskRecord, event: LifecycleEvent, at: number): void => {
    step(view, clock, r, event, at);
    told.push(`task.${r.status}`);
  };
  const out = (r: TaskRecord, chunk: string): void => {
    view.output(r.id, chunk);
    told.push('task.output');
  };
  clock.set(T0);
  view.start({ tasks, workflows: ['ci'], concurrency: 2, pools: { cpu: 2, gpu: 2 } });
  for (const r of tasks) {
    view.change(r, undefined);
    told.push('task.created');
  }
  for (const r of tasks) go(r, { type: 'schedule' }, T0);
  go(build, { type: 'start' }, T0 + 100);
  go(test, { type: 'start' }, T0 + 100);
  out(build, 'compiling\nha');
  out(build, 'lf\nlast line without newline');
  out(test, 'test 1 failed\n');
  go(
    test,
    {
      type: 'retry',
      reason: 'Attempt 1 of 3 failed (exit 1); retrying in 250 ms',
      error: { message: 'Command failed', code: 'EXIT' },
      result: { exitCode: 1 },
    },
    T0 + 600,
  );
  go(build, { type: 'complete', result: { exitCode: 0, output: 'compiling\nhalf\nlast line without newline' } }, T0 + 1340);
  view.warn('pool `gpu` is busy');
  told.push('warning');
  go(lint, { type: 'start' }, T0 + 1400);
  go(test, { type: 'start' }, T0 + 1400);
  out(lint, 'src/a.ts:1:1 <error> & "quoted"\n');
  go(
    lint,
    { type: 'fail', error: { message: 'Command failed', code: 'EXIT' }, result: { exitCode: 2, output: 'src/a.ts:1:1 <error> & "quoted"\n' } },
    T0 + 1700,
  );
  go(deploy, { type: 'cancel', reason: 'Dependency lint failed' }, T0 + 1700);
  go(test, { type: 'complete', result: { exitCode: 0, output: 'all passed\n' } }, T0 + 2600);
  clock.set(T0 + 2650);
  const summary: RunSummary = { tasks, counts: countStatuses(tasks), elapsedMs: 2650, exitCode: 1, interrupted: false, cached: 0, savedMs: 0 };
  await view.finish(summary);
  return { ...s, told, summary };
}
