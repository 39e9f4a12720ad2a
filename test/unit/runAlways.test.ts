import * as assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/model/errors';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import type { OrchestratorOptions } from '../../src/core/orchestrator/orchestratorTypes';
import { MemoryStore, type Executor } from '../../src/core/ports';
import { STATE_KEY } from '../../src/core/state/snapshot';
import type { TaskRecord, TaskStatus } from '../../src/core/model/model';
import { ManualClock, settle } from '../support/manualClock';
import { held } from '../support/heldTasks';

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

/** The statuses of a task's dependencies as its run sees them, through getTask (`id`: the task's, or its name). */
function depStatuses(o: OrchestratorImpl, id: string): (TaskStatus | undefined)[] {
  const r = (o.getTask(id) ?? o.getTasks().find((t) => t.name === id)) as TaskRecord;
  return r.dependsOn.map((d) => o.getTask(d)?.status);
}

describe('runAlways', () => {
  it('runs after a failed dependency, which it can read, and completes', async () => {
    const o = await make();
    const seen: (TaskStatus | undefined)[][] = [];
    const [build, cleanup] = await o.scheduleWorkflow([
      {
        key: 'build',
        name: 'build',
        kind: 'function',
        run: () => {
          throw new Error('compile error');
        },
      },
      { key: 'cleanup', name: 'cleanup', kind: 'function', dependsOn: ['build'], runAlways: true, run: () => void seen.push(depStatuses(o, 'cleanup')) },
    ]);
    await o.whenIdle();
    assert.equal(status(o, build), 'failed');
    assert.equal(status(o, cleanup), 'completed');
    assert.deepEqual(seen, [['failed']]);
    assert.equal(o.getTask(cleanup)?.spec.runAlways, true);
  });

  it('runs after a cancelled dependency', async () => {
    const o = await make();
    const db = held('db');
    const dbId = await o.scheduleTask(db.spec);
    let ran = 0;
    const stop = await o.scheduleTask({ name: 'stop db', kind: 'function', dependsOn: [dbId], runAlways: true, run: () => void ran++ });
    await settle();
    assert.equal(status(o, stop), 'created', 'waits while its dependency runs');
    await o.cancelTask(dbId, 'user stopped it');
    await o.whenIdle();
    assert.equal(status(o, dbId), 'cancelled');
    assert.equal(status(o, stop), 'completed');
    assert.equal(ran, 1);
  });

  it('waits until every dependency is final, after a mix of completed, failed and cancelled', async () => {
    const o = await make();
    const ok = held('ok');
    const bad = held('bad');
    const slow = held('slow');
    const ids = await Promise.all([ok, bad, slow].map((t) => o.scheduleTask(t.spec)));
    const seen: (TaskStatus | undefined)[][] = [];
    const cleanup = await o.scheduleTask({
      name: 'cleanup',
      kind: 'function',
      dependsOn: ids,
      runAlways: true,
      run: () => void seen.push(depStatuses(o, 'cleanup')),
    });
    ok.pass();
    bad.fail('boom');
    await settle();
    assert.equal(status(o, ids[1]), 'failed');
    assert.equal(status(o, cleanup), 'created', 'slow is still running');
    await o.cancelTask(ids[2]);
    await o.whenIdle();
    assert.deepEqual(seen, [['completed', 'failed', 'cancelled']]);
    assert.equal(status(o, cleanup), 'completed');
  });

  it('stops the cascade there: its dependents wait for its outcome, and other dependents are cancelled as before', async () => {
    const o = await make();
    const ids = await o.scheduleWorkflow([
      {
        key: 'build',
        name: 'build',
        kind: 'function',
        run: () => {
          throw new Error('no');
        },
      },
      { key: 'test', name: 'test', kind: 'function', dependsOn: ['build'], run: () => undefined },
      { key: 'cleanup', name: 'cleanup', kind: 'function', dependsOn: ['build', 'test'], runAlways: true, run: () => undefined },
      { key: 'report', name: 'report', kind: 'function', dependsOn: ['cleanup'], run: () => undefined },
      {
        key: 'cleanup2',
        name: 'cleanup2',
        kind: 'function',
        dependsOn: ['build'],
        runAlways: true,
        run: () => {
          throw new Error('cleanup failed');
        },
      },
      { key: 'after2', name: 'after2', kind: 'function', dependsOn: ['cleanup2'], run: () => undefined },
    ]);
    await o.whenIdle();
    assert.deepEqual(
      ids.map((id) => status(o, id)),
      ['failed', 'cancelled', 'completed', 'completed', 'failed', 'cancelled'],
    );
    assert.match(o.getTask(ids[1])?.history.at(-1)?.reason ?? '', /Dependency `build`.*failed/);
    assert.match(o.getTask(ids[5])?.history.at(-1)?.reason ?? '', /Dependency `cleanup2`.*failed/);
  });

  it('takes no slot while a dependency waits out a retry backoff (concurrency 1)', async () => {
    const clock = new ManualClock(1000);
    const o = await make({ concurrency: 1, clock });
    let calls = 0;
    const [flaky, after] = await o.scheduleWorkflow([
      {
        key: 'flaky',
        name: 'flaky',
        kind: 'function',
        retries: 1,
        retryDelayMs: 500,
        run: () => {
          if (++calls === 1) throw new Error('first');
        },
      },
      { key: 'after', name: 'after', kind: 'function', dependsOn: ['flaky'], runAlways: true, run: () => undefined },
    ]);
    await settle();
    assert.equal(status(o, flaky), 'scheduled', 'waiting out its backoff');
    assert.equal(status(o, after), 'created');
    assert.equal(o.getSystemStatus().concurrency.running, 0);
    await clock.advance(1000);
    await o.whenIdle();
    assert.equal(status(o, flaky), 'completed');
    assert.equal(status(o, after), 'completed');
  });

  it('is cancelled while it waits like any task: it never runs, and its dependents are cancelled', async () => {
    const o = await make();
    const dep = held('dep');
    const depId = await o.scheduleTask(dep.spec);
    let ran = 0;
    const cleanup = await o.scheduleTask({ name: 'cleanup', kind: 'function', dependsOn: [depId], runAlways: true, run: () => void ran++ });
    const next = await o.scheduleTask({ name: 'next', kind: 'function', dependsOn: [cleanup], run: () => void ran++ });
    await o.cancelTask(cleanup, 'not needed');
    assert.equal(status(o, cleanup), 'cancelled');
    assert.equal(status(o, next), 'cancelled');
    dep.fail('boom');
    await o.whenIdle();
    assert.equal(status(o, depId), 'failed');
    assert.equal(ran, 0);
  });

  it('may be scheduled on a dependency that already failed, and runs at once', async () => {
    const o = await make();
    const bad = await o.scheduleTask({
      name: 'bad',
      kind: 'function',
      run: () => {
        throw new Error('no');
      },
    });
    await o.whenIdle();
    await assert.rejects(o.scheduleTask({ name: 'plain', kind: 'function', dependsOn: [bad], run: () => undefined }), ValidationError);
    const cleanup = await o.scheduleTask({ name: 'cleanup', kind: 'function', dependsOn: [bad], runAlways: true, run: () => undefined });
    await o.whenIdle();
    assert.equal(status(o, cleanup), 'completed');
  });

  it('refuses a runAlways that is not a boolean, naming the field', async () => {
    const o = await make();
    for (const value of ['yes', 1, null]) {
      const err = await o.scheduleTask({ name: 'x', kind: 'function', run: () => undefined, runAlways: value as unknown as boolean }).then(
        () => assert.fail('accepted'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ValidationError);
      assert.equal(err.field, 'runAlways');
      assert.match(err.message, /Expected `runAlways` to be a boolean/);
    }
    assert.equal(o.getTasks().length, 0, 'nothing was created');
  });

  describe('restore', () => {
    const noop: Executor = { execute: async () => ({}) };
    function saved(id: string, status: TaskStatus, spec: Record<string, unknown> = {}, dependsOn: string[] = []): Record<string, unknown> {
      const history = [{ status: 'created', at: 1 }];
      const finished = status === 'failed' ? { finishedAt: 2, error: { message: 'boom' } } : {};
      if (status === 'failed') history.push({ status: 'scheduled', at: 1 }, { status: 'running', at: 1 }, { status: 'failed', at: 2 });
      return {
        id,
        name: id,
        kind: 'noop',
        status,
        priority: 0,
        attempts: status === 'failed' ? 1 : 0,
        createdAt: 1,
        history,
        spec: { name: id, kind: 'noop', ...spec },
        dependsOn,
        ...finished,
        ...(status === 'failed' ? { startedAt: 1 } : {}),
      };
    }

    it('runs a saved Created runAlways task whose dependency failed, and cancels a plain one', async () => {
      const store = new MemoryStore();
      await store.update(STATE_KEY, {
        version: 1,
        savedAt: 1,
        tasks: [
          saved('build', 'failed'),
          // Gated before `plain`, which the restore then cancels: that cancel releases it.
          saved('cleanup2', 'created', { runAlways: true }, ['plain']),
          saved('plain', 'created', {}, ['build']),
          saved('cleanup', 'created', { runAlways: true }, ['build']),
        ],
      });
      const o = await make({ store, executors: { noop } });
      assert.equal(status(o, 'plain'), 'cancelled');
      await o.whenIdle();
      assert.equal(status(o, 'build'), 'failed');
      assert.equal(status(o, 'cleanup'), 'completed');
      assert.equal(status(o, 'cleanup2'), 'completed');
    });
  });
});
