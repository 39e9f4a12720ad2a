import * as assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/model/errors';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import type { OrchestratorOptions } from '../../src/core/orchestrator/orchestratorTypes';
import { MemoryStore, type ExecutionContext, type Executor } from '../../src/core/ports';
import { STATE_KEY, validateSnapshot } from '../../src/core/state/snapshot';
import type { TaskRecord, TaskSpec, TaskStatus } from '../../src/core/model/model';
import { ManualClock, settle } from '../support/manualClock';
import { WorkflowRuns } from '../../src/core/orchestrator/failurePolicies';
import { deferred, held } from '../support/heldTasks';

function failing(name: string, spec: Partial<TaskSpec> = {}): TaskSpec {
  return {
    name,
    kind: 'function',
    run: () => {
      throw new Error(`${name} broke`);
    },
    ...spec,
  };
}

function ok(name: string, spec: Partial<TaskSpec> = {}): TaskSpec {
  return { name, kind: 'function', run: () => undefined, ...spec };
}

const opened: OrchestratorImpl[] = [];
async function make(options: OrchestratorOptions = {}): Promise<OrchestratorImpl> {
  const o = await createOrchestrator({ concurrency: 4, agingMs: Infinity, ...options });
  opened.push(o);
  return o;
}
afterEach(async () => {
  for (const o of opened.splice(0)) await o.dispose();
});

function status(o: OrchestratorImpl, id: string): TaskStatus | undefined {
  return o.getTask(id)?.status;
}

function lastReason(o: OrchestratorImpl, id: string): string | undefined {
  return o.getTask(id)?.history.at(-1)?.reason;
}

async function refusal(p: Promise<unknown>): Promise<ValidationError> {
  const err = await p.then(
    () => assert.fail('accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ValidationError, `a ValidationError, got ${String(err)}`);
  return err;
}

describe('failure policies', () => {
  describe('continueOnError', () => {
    it('a failure releases its dependents, which run and complete; the task itself stays Failed and says so', async () => {
      const o = await make();
      const [lint, test, report] = await o.scheduleWorkflow([
        { key: 'lint', ...failing('lint', { continueOnError: true }) },
        { key: 'test', ...ok('test'), dependsOn: ['lint'] },
        { key: 'report', ...ok('report'), dependsOn: ['test'] },
      ]);
      await o.whenIdle();
      assert.equal(status(o, lint), 'failed');
      assert.equal(o.getTask(lint)?.error?.message, 'lint broke');
      assert.match(lastReason(o, lint) ?? '', /^Failed; dependents continue \(continueOnError\): lint broke/);
      assert.equal(o.getTask(lint)?.spec.continueOnError, true);
      assert.equal(status(o, test), 'completed');
      assert.equal(status(o, report), 'completed');
    });

    it('releases a dependent that waits for it and for others only once all of them are done', async () => {
      const o = await make();
      const slow = held('slow');
      const [, lint, both] = await o.scheduleWorkflow([
        { key: 'slow', ...slow.spec },
        { key: 'lint', ...failing('lint', { continueOnError: true }) },
        { key: 'both', ...ok('both'), dependsOn: ['slow', 'lint'] },
      ]);
      await settle();
      assert.equal(status(o, lint), 'failed');
      assert.equal(status(o, both), 'created', 'still waits for slow');
      slow.pass();
      await o.whenIdle();
      assert.equal(status(o, both), 'completed');
    });

    it('accepts a dependent scheduled after the failure, which runs', async () => {
      const o = await make();
      const lint = await o.scheduleTask(failing('lint', { continueOnError: true }));
      await o.whenIdle();
      assert.equal(status(o, lint), 'failed');
      const later = await o.scheduleTask(ok('later', { dependsOn: [lint] }));
      await o.whenIdle();
      assert.equal(status(o, later), 'completed');
    });

    it('tolerates a failure only: a cancelled continueOnError task still cancels its dependents', async () => {
      const o = await make();
      const lint = held('lint', { continueOnError: true });
      const [lintId, test] = await o.scheduleWorkflow([
        { key: 'lint', ...lint.spec },
        { key: 'test', ...ok('test'), dependsOn: ['lint'] },
      ]);
      await settle();
      assert.equal(status(o, lintId), 'running');
      await o.cancelTask(lintId, 'stop it');
      await o.whenIdle();
      assert.equal(status(o, lintId), 'cancelled');
      assert.equal(status(o, test), 'cancelled');
      assert.match(lastReason(o, test) ?? '', /Dependency `lint`.*was cancelled/);
    });

    it('applies after the retries: dependents wait through the backoff and run once the last attempt failed', async () => {
      const clock = new ManualClock(1000);
      const o = await make({ clock });
      let calls = 0;
      const [flaky, after] = await o.scheduleWorkflow([
        {
          key: 'flaky',
          name: 'flaky',
          kind: 'function',
          retries: 1,
          retryDelayMs: 500,
          continueOnError: true,
          run: () => {
            throw new Error(`attempt ${++calls}`);
          },
        },
        { key: 'after', ...ok('after'), dependsOn: ['flaky'] },
      ]);
      await settle();
      assert.equal(calls, 1);
      assert.equal(status(o, flaky), 'scheduled', 'waiting out its backoff');
      assert.equal(status(o, after), 'created', 'a failed attempt with retries left releases nothing');
      await clock.advance(1000);
      await o.whenIdle();
      assert.equal(calls, 2);
      assert.equal(status(o, flaky), 'failed');
      assert.equal(o.getTask(flaky)?.attempts, 2);
      assert.equal(status(o, after), 'completed');
    });

    it('leaves runAlways as it was: a cleanup after a continueOnError failure runs once', async () => {
      const o = await make();
      let cleaned = 0;
      const [, cleanup] = await o.scheduleWorkflow([
        { key: 'lint', ...failing('lint', { continueOnError: true }) },
        { key: 'cleanup', name: 'cleanup', kind: 'function', dependsOn: ['lint'], runAlways: true, run: () => void cleaned++ },
      ]);
      await o.whenIdle();
      assert.equal(status(o, cleanup), 'completed');
      assert.equal(cleaned, 1);
    });

    it('refuses a continueOnError that is not a boolean, naming the field, and creates nothing', async () => {
      const o = await make();
      for (const value of ['yes', 1, null]) {
        const err = await refusal(o.scheduleTask(ok('x', { continueOnError: value as unknown as boolean })));
        assert.equal(err.field, 'continueOnError');
        assert.match(err.message, /^Expected `continueOnError` to be a boolean/);
        assert.match(err.message, /got /);
      }
      const err = await refusal(
        o.scheduleWorkflow([
          { key: 'a', ...ok('a') },
          { key: 'b', ...ok('b', { continueOnError: 'no' as unknown as boolean }) },
        ]),
      );
      assert.equal(err.field, '[1].continueOnError');
      assert.equal(o.getTasks().length, 0, 'nothing was created');
    });

    it('restored: a Created task whose continueOnError dependency failed runs, one whose plain dependency failed is cancelled', async () => {
      const noop: Executor = { execute: async () => ({}) };
      const failedRecord = (id: string, spec: Record<string, unknown>): Record<string, unknown> => ({
        id,
        name: id,
        kind: 'noop',
        status: 'failed',
        priority: 0,
        attempts: 1,
        createdAt: 1,
        startedAt: 1,
        finishedAt: 2,
        error: { message: 'boom' },
        history: [
          { status: 'created', at: 1 },
          { status: 'scheduled', at: 1 },
          { status: 'running', at: 1 },
          { status: 'failed', at: 2 },
        ],
        spec: { name: id, kind: 'noop', ...spec },
        dependsOn: [],
      });
      const createdRecord = (id: string, dependsOn: string[]): Record<string, unknown> => ({
        id,
        name: id,
        kind: 'noop',
        status: 'created',
        priority: 0,
        attempts: 0,
        createdAt: 1,
        history: [{ status: 'created', at: 1 }],
        spec: { name: id, kind: 'noop' },
        dependsOn,
      });
      const store = new MemoryStore();
      await store.update(STATE_KEY, {
        version: 1,
        savedAt: 1,
        tasks: [failedRecord('lint', { continueOnError: true }), failedRecord('build', {}), createdRecord('test', ['lint']), createdRecord('pack', ['build'])],
      });
      const o = await make({ store, executors: { noop } });
      await o.whenIdle();
      assert.equal(status(o, 'test'), 'completed');
      assert.equal(status(o, 'pack'), 'cancelled');
    });
  });

  describe('failFast', () => {
    it('true: a failure cancels the Created and Scheduled tasks of its run, not running ones, runAlways ones or another run', async () => {
      const o = await make({ concurrency: 3 });
      const bad = held('bad');
      const long = held('long');
      const otherRunning = held('otherRunning');
      const [otherId, otherWaiting] = await o.scheduleWorkflow(
        [
          { key: 'r', ...otherRunning.spec },
          { key: 'w', ...ok('otherWaiting'), dependsOn: ['r'] },
        ],
        { failFast: true },
      );
      const [badId, longId, queued, afterBad, afterLong, cleanup] = await o.scheduleWorkflow(
        [
          { key: 'bad', ...bad.spec },
          { key: 'long', ...long.spec },
          { key: 'queued', ...ok('queued') },
          { key: 'afterBad', ...ok('afterBad'), dependsOn: ['bad'] },
          { key: 'afterLong', ...ok('afterLong'), dependsOn: ['long'] },
          { key: 'cleanup', ...ok('cleanup'), dependsOn: ['long', 'afterLong'], runAlways: true },
        ],
        { failFast: true },
      );
      const [otherQueued] = await o.scheduleWorkflow([{ key: 'q', ...ok('otherQueued') }], { failFast: true });
      await settle();
      assert.equal(status(o, otherId), 'running');
      assert.equal(status(o, otherWaiting), 'created');
      assert.equal(status(o, badId), 'running');
      assert.equal(status(o, longId), 'running');
      assert.equal(status(o, otherQueued), 'scheduled', 'no slot left');
      assert.equal(status(o, queued), 'scheduled', 'no slot left');
      assert.equal(o.getTask(badId)?.failFast, true, 'the run policy is on its records');

      bad.fail('boom');
      await settle();
      assert.equal(status(o, badId), 'failed');
      assert.equal(status(o, queued), 'cancelled');
      assert.equal(lastReason(o, queued), 'Workflow run stopped: `bad` failed (failFast)');
      assert.equal(status(o, afterLong), 'cancelled');
      assert.equal(lastReason(o, afterLong), 'Workflow run stopped: `bad` failed (failFast)');
      assert.equal(status(o, afterBad), 'cancelled');
      assert.match(lastReason(o, afterBad) ?? '', /Dependency `bad`.*failed/, 'its own dependents keep the cascade reason');
      assert.equal(status(o, longId), 'running', 'a running task finishes');
      assert.equal(status(o, cleanup), 'created', 'runAlways waits for what it depends on');
      assert.notEqual(status(o, otherQueued), 'cancelled', 'another run goes on');
      assert.equal(status(o, otherWaiting), 'created', 'another run goes on');

      long.pass();
      otherRunning.pass();
      await o.whenIdle();
      assert.equal(status(o, longId), 'completed');
      assert.equal(status(o, cleanup), 'completed');
      assert.equal(status(o, otherId), 'completed');
      assert.equal(status(o, otherQueued), 'completed');
      assert.equal(status(o, otherWaiting), 'completed');
    });

    for (const options of [undefined, {}, { failFast: false }]) {
      it(`${JSON.stringify(options) ?? 'absent'}: a failure cancels only what depends on it`, async () => {
        const o = await make({ concurrency: 1 });
        const [bad, after, independent] = await o.scheduleWorkflow(
          [
            { key: 'bad', ...failing('bad') },
            { key: 'after', ...ok('after'), dependsOn: ['bad'] },
            { key: 'independent', ...ok('independent') },
          ],
          options,
        );
        await o.whenIdle();
        assert.equal(status(o, bad), 'failed');
        assert.equal(status(o, after), 'cancelled');
        assert.equal(status(o, independent), 'completed');
        assert.equal(o.getTask(bad)?.failFast, undefined);
      });
    }

    it('is not stopped by a continueOnError failure', async () => {
      const o = await make({ concurrency: 1 });
      const [lint, independent] = await o.scheduleWorkflow(
        [
          { key: 'lint', ...failing('lint', { continueOnError: true }) },
          { key: 'independent', ...ok('independent') },
        ],
        { failFast: true },
      );
      await o.whenIdle();
      assert.equal(status(o, lint), 'failed');
      assert.equal(status(o, independent), 'completed');
    });

    it('stops the run only after the failing task used up its retries', async () => {
      const clock = new ManualClock(1000);
      const o = await make({ clock });
      const gate = held('gate');
      let calls = 0;
      const [flaky, , next] = await o.scheduleWorkflow(
        [
          {
            key: 'flaky',
            name: 'flaky',
            kind: 'function',
            retries: 1,
            retryDelayMs: 500,
            run: () => {
              throw new Error(`attempt ${++calls}`);
            },
          },
          { key: 'gate', ...gate.spec },
          { key: 'next', ...ok('next'), dependsOn: ['gate'] },
        ],
        { failFast: true },
      );
      await settle();
      assert.equal(status(o, flaky), 'scheduled', 'waiting out its backoff');
      assert.equal(status(o, next), 'created', 'a failed attempt with retries left stops nothing');
      await clock.advance(1000);
      assert.equal(calls, 2);
      assert.equal(status(o, flaky), 'failed');
      assert.equal(status(o, next), 'cancelled');
      assert.equal(lastReason(o, next), 'Workflow run stopped: `flaky` failed (failFast)');
      gate.pass();
      await o.whenIdle();
    });

    it('survives a restart: the flag is saved with the records, and a restored run still stops on a failure', async () => {
      const store = new MemoryStore();
      // `job` tasks end as the test says, by name; the first orchestrator never settles them.
      const outcomes = new Map<string, ReturnType<typeof deferred>>();
      const job: Executor = {
        execute: async (ctx: ExecutionContext) => {
          const d = deferred<unknown>();
          outcomes.set(ctx.task.name, d);
          ctx.signal.addEventListener('abort', () => d.reject(new Error('aborted')));
          await d.promise;
          return {};
        },
      };
      const first = await make({ store, concurrency: 1, executors: { job } });
      const [x, z, y] = await first.scheduleWorkflow(
        [
          { key: 'x', name: 'x', kind: 'job', retries: 1, retryDelayMs: 0, priority: 10 },
          { key: 'z', name: 'z', kind: 'job' },
          { key: 'y', name: 'y', kind: 'job', dependsOn: ['x'] },
        ],
        { failFast: true },
      );
      await settle();
      assert.equal(status(first, x), 'running');
      await first.dispose();
      const saved = validateSnapshot(await store.get(STATE_KEY));
      assert.deepEqual(
        saved.tasks.map((t: TaskRecord) => [t.name, t.status, t.failFast]),
        [
          ['x', 'running', true],
          ['z', 'scheduled', true],
          ['y', 'created', true],
        ],
      );

      outcomes.clear();
      const second = await make({ store, concurrency: 1, executors: { job } });
      await settle();
      assert.equal(status(second, x), 'running', 'interrupted, retried first (priority 10)');
      assert.equal(status(second, z), 'scheduled');
      assert.equal(second.getTask(z)?.failFast, true);
      outcomes.get('x')?.reject(new Error('x broke'));
      await second.whenIdle();
      assert.equal(status(second, x), 'failed');
      assert.equal(status(second, z), 'cancelled');
      assert.equal(lastReason(second, z), 'Workflow run stopped: `x` failed (failFast)');
      assert.equal(status(second, y), 'cancelled');
    });

    it('restored with tasks that cannot resume: the first failure stops the run, and the later decisions change nothing', async () => {
      const noop: Executor = { execute: async () => ({}) };
      const member = (id: string, kind: string, st: TaskStatus, dependsOn: string[] = []): Record<string, unknown> => ({
        id,
        name: id,
        kind,
        status: st,
        priority: 0,
        attempts: st === 'running' ? 1 : 0,
        createdAt: 1,
        ...(st === 'running' ? { startedAt: 1 } : {}),
        history: [
          { status: 'created', at: 1 },
          ...(st === 'running'
            ? [
                { status: 'scheduled', at: 1 },
                { status: 'running', at: 1 },
              ]
            : []),
        ],
        spec: { name: id, kind },
        dependsOn,
        workflowId: 'wf-1',
        failFast: true,
      });
      const store = new MemoryStore();
      await store.update(STATE_KEY, {
        version: 1,
        savedAt: 1,
        // `a` fails first (interrupted, no retries left); `b`, a function task, would fail as not
        // resumable after it, but the run's stop has cancelled it by then.
        tasks: [member('a', 'noop', 'running'), member('b', 'function', 'created'), member('c', 'noop', 'created'), member('d', 'noop', 'created', ['a'])],
      });
      const o = await make({ store, executors: { noop } });
      await o.whenIdle();
      assert.equal(status(o, 'a'), 'failed');
      assert.equal(o.getTask('a')?.error?.code, 'INTERRUPTED');
      for (const id of ['b', 'c']) {
        assert.equal(status(o, id), 'cancelled', id);
        assert.equal(lastReason(o, id), 'Workflow run stopped: `a` failed (failFast)', id);
      }
      assert.equal(status(o, 'd'), 'cancelled');
    });

    it('forgets a run once its last member is final', () => {
      const records = new Map<string, TaskRecord>();
      const rec = (id: string, st: TaskStatus): TaskRecord => {
        const r: TaskRecord = {
          id,
          name: id,
          kind: 'noop',
          status: st,
          priority: 0,
          attempts: 0,
          createdAt: 0,
          history: [],
          spec: { name: id, kind: 'noop' },
          dependsOn: [],
          workflowId: 'w',
          failFast: true,
        };
        records.set(id, r);
        return r;
      };
      const runs = new WorkflowRuns((id) => records.get(id));
      const a = rec('a', 'running');
      const b = rec('b', 'scheduled');
      runs.add(a);
      runs.add(b);
      runs.add(rec('done', 'completed'));
      assert.equal(runs.size, 1);
      a.status = 'completed';
      assert.deepEqual(runs.finished(a), [], 'a completion stops nothing');
      b.status = 'failed';
      assert.deepEqual(runs.finished(b), []);
      assert.equal(runs.size, 0, 'the run left with its last member');
    });

    it('refuses a saved record whose failFast is not a boolean', () => {
      const record = {
        id: 'a',
        name: 'a',
        kind: 'shell',
        status: 'created',
        priority: 0,
        attempts: 0,
        createdAt: 1,
        history: [{ status: 'created', at: 1 }],
        spec: { name: 'a', kind: 'shell', command: 'true' },
        dependsOn: [],
        failFast: 'yes',
      };
      assert.throws(
        () => validateSnapshot({ version: 1, savedAt: 1, tasks: [record] }),
        (e: unknown) => e instanceof ValidationError && e.field === 'tasks[0].failFast' && /a boolean/.test(e.message),
      );
    });

    it('refuses a bad option value, naming it, and schedules nothing', async () => {
      const o = await make();
      const specs = (): TaskSpec[] => [{ key: 'a', ...ok('a') }];
      const cases: [unknown, string, RegExp][] = [
        ['yes', 'options', /^Expected `options` to be a plain object like `\{ failFast: true \}`, got `"yes"` \(string\)/],
        [null, 'options', /^Expected `options` to be a plain object/],
        [[], 'options', /^Expected `options` to be a plain object/],
        [{ failFast: 'yes' }, 'options.failFast', /^Expected `options.failFast` to be a boolean/],
        [{ failFast: 1 }, 'options.failFast', /^Expected `options.failFast` to be a boolean/],
        [{ failfast: true }, 'options.failfast', /failFast/],
      ];
      for (const [value, field, message] of cases) {
        const err = await refusal(o.scheduleWorkflow(specs(), value as { failFast?: boolean }));
        assert.equal(err.field, field, JSON.stringify(value));
        assert.match(err.message, message);
      }
      assert.equal(o.getTasks().length, 0, 'nothing was created');
    });
  });
});
