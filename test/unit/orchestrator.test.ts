import * as assert from 'node:assert/strict';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import type { OrchestratorOptions } from '../../src/core/orchestrator/orchestratorTypes';
import type { TaskRecord, TaskSpec, TaskStatus } from '../../src/core/model/model';
import type { Message } from '../../src/core/queue/queueTypes';
import { ManualClock, settle } from '../support/manualClock';
import { deferred } from '../support/heldTasks';

type Orch = OrchestratorImpl;

/** A function task that runs until the test releases it, recording the start order. */
function gate(log: string[], name: string, spec: Partial<TaskSpec> = {}): { spec: TaskSpec; release(): void } {
  const d = deferred();
  return {
    spec: {
      name,
      kind: 'function',
      run: () => {
        log.push(name);
        return d.promise;
      },
      ...spec,
    },
    release: () => d.resolve(),
  };
}

const orchestrators: Orch[] = [];
async function make(options: OrchestratorOptions = {}): Promise<Orch> {
  const o = await createOrchestrator({ concurrency: 1, agingMs: Infinity, ...options });
  orchestrators.push(o);
  return o;
}
afterEach(async () => {
  for (const o of orchestrators.splice(0)) await o.dispose();
});

function statuses(o: Orch, ids: string[]): TaskStatus[] {
  return ids.map((id) => o.getTask(id)?.status as TaskStatus);
}

describe('orchestrator', () => {
  describe('scheduling', () => {
    it('runs a task through created, scheduled, running and completed, keeping every transition in its history', async () => {
      const o = await make();
      const id = await o.scheduleTask({ name: 'answer', kind: 'function', run: () => 42 });
      await o.whenIdle();
      const r = o.getTask(id) as TaskRecord;
      assert.equal(r.status, 'completed');
      assert.deepEqual(
        r.history.map((h) => h.status),
        ['created', 'scheduled', 'running', 'completed'],
      );
      assert.equal(r.result?.value, 42);
      assert.equal(r.attempts, 1);
      assert.ok((r.startedAt as number) >= r.createdAt && (r.finishedAt as number) >= (r.startedAt as number));
    });

    it('runs a higher priority first and equal priorities in arrival order', async () => {
      const o = await make({ concurrency: 1 });
      const log: string[] = [];
      const blocker = gate(log, 'blocker');
      await o.scheduleTask(blocker.spec);
      for (const [name, priority] of [
        ['low', 0],
        ['high-a', 5],
        ['mid', 2],
        ['high-b', 5],
      ] as const) {
        await o.scheduleTask({ name, kind: 'function', priority, run: () => void log.push(name) });
      }
      assert.deepEqual(
        o.getTaskQueue().map((t) => t.name),
        ['blocker', 'high-a', 'high-b', 'mid', 'low'],
      );
      blocker.release();
      await o.whenIdle();
      assert.deepEqual(log, ['blocker', 'high-a', 'high-b', 'mid', 'low']);
    });

    it('never runs more tasks at once than the concurrency limit', async () => {
      const o = await make({ concurrency: 3 });
      let now = 0;
      let peak = 0;
      const run = async () => {
        peak = Math.max(peak, ++now);
        await new Promise((r) => setImmediate(r));
        now--;
      };
      for (let i = 0; i < 20; i++) await o.scheduleTask({ name: `t${i}`, kind: 'function', run });
      assert.equal(o.getSystemStatus().concurrency.running, 3);
      await o.whenIdle();
      assert.equal(peak, 3);
      assert.equal(o.getSystemStatus().counts.completed, 20);
    });

    it('lets a low priority task overtake newer high ones once it has waited long enough (aging)', async () => {
      const clock = new ManualClock(1_000_000);
      const o = await make({ concurrency: 1, agingMs: 1000, clock });
      const log: string[] = [];
      const blocker = gate(log, 'blocker');
      await o.scheduleTask(blocker.spec);
      await o.scheduleTask({ name: 'old-low', kind: 'function', priority: 0, run: () => void log.push('old-low') });
      await clock.advance(3000);
      // Arriving 3 s later, priority 2 is worth less than priority 0 that waited 3 s (3 levels).
      await o.scheduleTask({ name: 'new-high', kind: 'function', priority: 2, run: () => void log.push('new-high') });
      blocker.release();
      await settle();
      await o.whenIdle();
      assert.deepEqual(log, ['blocker', 'old-low', 'new-high']);
    });

    it('refuses a bad spec with a ValidationError naming the field and changes nothing', async () => {
      const o = await make({ resources: { gpu: 1 } });
      const before = o.getSystemStatus();
      await assert.rejects(
        o.scheduleTask({ name: 'x', kind: 'shell', command: 'true', timeoutMs: -5 }),
        (e: Error & { field?: string }) => e.name === 'ValidationError' && e.field === 'timeoutMs' && /-5/.test(e.message),
      );
      await assert.rejects(o.scheduleTask({ name: 'x', kind: 'shell', command: 'true', resources: { gpu: 2 } }), /gpu/);
      await assert.rejects(o.scheduleTask({ name: 'x', kind: 'shell', command: 'true', resources: { tpu: 1 } }), /tpu/);
      await assert.rejects(o.scheduleTask({ name: 'x', kind: 'shell', command: 'true', dependsOn: ['nope'] }), /nope/);
      await assert.rejects(o.scheduleTask({ name: 'x', kind: 'teleport' }), /teleport/);
      assert.deepEqual(o.getSystemStatus(), before);
      assert.equal(o.getTasks().length, 0);
    });
  });

  describe('resource pools', () => {
    it('starts a task only when every unit it needs is free, and lets tasks needing nothing pass a blocked one', async () => {
      const o = await make({ concurrency: 4, resources: { gpu: 1 } });
      const log: string[] = [];
      const a = gate(log, 'gpu-a', { resources: { gpu: 1 } });
      const b = gate(log, 'gpu-b', { resources: { gpu: 1 } });
      const c = gate(log, 'cpu', {});
      const ida = await o.scheduleTask(a.spec);
      const idb = await o.scheduleTask(b.spec);
      const idc = await o.scheduleTask(c.spec);
      assert.deepEqual(statuses(o, [ida, idb, idc]), ['running', 'scheduled', 'running']);
      assert.deepEqual(o.getSystemStatus().pools.gpu, { capacity: 1, inUse: 1 });
      a.release();
      await settle();
      assert.deepEqual(statuses(o, [ida, idb, idc]), ['completed', 'running', 'running']);
      b.release();
      c.release();
      await o.whenIdle();
      assert.deepEqual(o.getSystemStatus().pools.gpu, { capacity: 1, inUse: 0 });
    });

    it('takes all units at once: a task needing two pools never holds one while waiting for the other', async () => {
      const o = await make({ concurrency: 4, resources: { gpu: 1, net: 1 } });
      const log: string[] = [];
      const holdsNet = gate(log, 'net', { resources: { net: 1 } });
      const both = gate(log, 'both', { resources: { gpu: 1, net: 1 } });
      await o.scheduleTask(holdsNet.spec);
      const idBoth = await o.scheduleTask(both.spec);
      assert.equal(o.getTask(idBoth)?.status, 'scheduled');
      assert.deepEqual(o.getSystemStatus().pools, { gpu: { capacity: 1, inUse: 0 }, net: { capacity: 1, inUse: 1 } });
      holdsNet.release();
      await settle();
      assert.equal(o.getTask(idBoth)?.status, 'running');
      both.release();
      await o.whenIdle();
    });

    it('cancels queued tasks that can no longer ever run when a pool is removed, saying why', async () => {
      const o = await make({ concurrency: 1, resources: { gpu: 2 } });
      const log: string[] = [];
      const blocker = gate(log, 'blocker');
      await o.scheduleTask(blocker.spec);
      const id = await o.scheduleTask({ name: 'train', kind: 'function', resources: { gpu: 2 }, run: () => 1 });
      o.setResources({ gpu: 1 });
      assert.equal(o.getTask(id)?.status, 'cancelled');
      assert.match(o.getTask(id)?.history.at(-1)?.reason ?? '', /gpu/);
      blocker.release();
      await o.whenIdle();
    });
  });

  describe('dependencies', () => {
    it('runs a workflow in dependency order and returns ids in the order given', async () => {
      const o = await make({ concurrency: 4 });
      const log: string[] = [];
      const step = (key: string, dependsOn: string[] = []): TaskSpec => ({ key, name: key, kind: 'function', dependsOn, run: async () => void log.push(key) });
      const ids = await o.scheduleWorkflow([
        step('package', ['build']),
        step('build', ['lint', 'test']),
        step('lint', ['install']),
        step('test', ['install']),
        step('install'),
      ]);
      assert.equal(ids.length, 5);
      assert.equal(o.getTask(ids[0])?.name, 'package');
      await o.whenIdle();
      assert.equal(log[0], 'install');
      assert.deepEqual(log.slice(3), ['build', 'package']);
      assert.deepEqual(new Set(log.slice(1, 3)), new Set(['lint', 'test']));
      assert.ok(ids.every((id) => o.getTask(id)?.workflowId === o.getTask(ids[0])?.workflowId));
    });

    it('refuses a workflow with a cycle naming the cycle, creating none of it', async () => {
      const o = await make();
      const spec = (key: string, dependsOn: string[]): TaskSpec => ({ key, name: key, kind: 'shell', command: 'true', dependsOn });
      await assert.rejects(
        o.scheduleWorkflow([spec('a', []), spec('build', ['test']), spec('test', ['build'])]),
        /build -> test -> build|test -> build -> test/,
      );
      assert.equal(o.getTasks().length, 0);
    });

    it('cancels the dependents of a failed task, transitively, with a reason naming it', async () => {
      const o = await make({ concurrency: 2 });
      const ids = await o.scheduleWorkflow([
        { key: 'a', name: 'compile', kind: 'function', run: () => Promise.reject(new Error('syntax error')) },
        { key: 'b', name: 'test', kind: 'function', dependsOn: ['a'], run: () => 1 },
        { key: 'c', name: 'deploy', kind: 'function', dependsOn: ['b'], run: () => 1 },
        { key: 'd', name: 'docs', kind: 'function', run: () => 1 },
      ]);
      await o.whenIdle();
      assert.deepEqual(statuses(o, ids), ['failed', 'cancelled', 'cancelled', 'completed']);
      assert.match(o.getTask(ids[1])?.history.at(-1)?.reason ?? '', /compile.*failed/);
      assert.match(o.getTask(ids[2])?.history.at(-1)?.reason ?? '', /compile.*failed/);
      assert.equal(o.getTask(ids[0])?.error?.message, 'syntax error');
    });

    it('cancelling a task cancels what depends on it', async () => {
      const o = await make({ concurrency: 1 });
      const log: string[] = [];
      const first = gate(log, 'first');
      const a = await o.scheduleTask(first.spec);
      const b = await o.scheduleTask({ name: 'b', kind: 'function', dependsOn: [a], run: () => 1 });
      const c = await o.scheduleTask({ name: 'c', kind: 'function', dependsOn: [b], run: () => 1 });
      await o.cancelTask(a, 'not needed');
      assert.deepEqual(statuses(o, [a, b, c]), ['cancelled', 'cancelled', 'cancelled']);
      assert.equal(o.getTask(a)?.history.at(-1)?.reason, 'not needed');
      assert.ok(await Promise.race([o.whenIdle().then(() => true), new Promise((r) => setTimeout(() => r(false), 500))]));
    });

    it('refuses a dependency that has already failed: the task could never run', async () => {
      const o = await make();
      const bad = await o.scheduleTask({
        name: 'bad',
        kind: 'function',
        run: () => {
          throw new Error('no');
        },
      });
      await o.whenIdle();
      await assert.rejects(o.scheduleTask({ name: 'after', kind: 'function', dependsOn: [bad], run: () => 1 }), /bad.*failed/);
    });

    it('waits for a dependency that completed before it was scheduled: not at all', async () => {
      const o = await make();
      const a = await o.scheduleTask({ name: 'a', kind: 'function', run: () => 1 });
      await o.whenIdle();
      const b = await o.scheduleTask({ name: 'b', kind: 'function', dependsOn: [a], run: () => 2 });
      await o.whenIdle();
      assert.equal(o.getTask(b)?.status, 'completed');
    });
  });

  describe('retries and timeouts', () => {
    it('retries a failed attempt after its backoff (running -> scheduled), and completes on a later attempt', async () => {
      const clock = new ManualClock(5000);
      const o = await make({ clock });
      let calls = 0;
      const id = await o.scheduleTask({
        name: 'flaky',
        kind: 'function',
        retries: 2,
        retryDelayMs: 100,
        run: () => {
          if (++calls < 3) throw new Error(`boom ${calls}`);
          return 'ok';
        },
      });
      await settle();
      assert.equal(o.getTask(id)?.status, 'scheduled');
      assert.match(o.getTask(id)?.history.at(-1)?.reason ?? '', /Attempt 1 of 3 failed \(boom 1\); retrying in \d+ ms/);
      await clock.advance(1000);
      await o.whenIdle();
      const r = o.getTask(id) as TaskRecord;
      assert.equal(r.status, 'completed');
      assert.equal(r.attempts, 3);
      assert.deepEqual(
        r.history.map((h) => h.status),
        ['created', 'scheduled', 'running', 'scheduled', 'running', 'scheduled', 'running', 'completed'],
      );
    });

    it('fails with the last error once retries are used up', async () => {
      const clock = new ManualClock();
      const o = await make({ clock });
      const id = await o.scheduleTask({
        name: 'broken',
        kind: 'function',
        retries: 1,
        retryDelayMs: 10,
        run: () => {
          throw new Error('always');
        },
      });
      await clock.advance(100);
      await o.whenIdle();
      assert.equal(o.getTask(id)?.status, 'failed');
      assert.equal(o.getTask(id)?.attempts, 2);
      assert.equal(o.getTask(id)?.error?.message, 'always');
    });

    it('fails an attempt that runs past its timeout with code TIMEOUT, even if the function ignores the signal', async () => {
      const o = await make();
      const id = await o.scheduleTask({ name: 'hang', kind: 'function', timeoutMs: 30, run: () => new Promise(() => undefined) });
      await o.whenIdle();
      assert.equal(o.getTask(id)?.status, 'failed');
      assert.equal(o.getTask(id)?.error?.code, 'TIMEOUT');
    });

    it('never retries a cancelled task', async () => {
      const o = await make();
      let calls = 0;
      const id = await o.scheduleTask({
        name: 'long',
        kind: 'function',
        retries: 5,
        run: ({ signal }) => {
          calls++;
          return new Promise((_, rej) => signal.addEventListener('abort', () => rej(new Error('aborted'))));
        },
      });
      await settle();
      await o.cancelTask(id);
      await settle();
      assert.equal(o.getTask(id)?.status, 'cancelled');
      assert.equal(calls, 1);
    });

    it('applies the default timeout and retries to specs without their own', async () => {
      const clock = new ManualClock();
      const o = await make({ clock, defaultRetries: 1 });
      let calls = 0;
      const id = await o.scheduleTask({
        name: 'x',
        kind: 'function',
        retryDelayMs: 1,
        run: () => {
          calls++;
          throw new Error('x');
        },
      });
      await clock.advance(100);
      await o.whenIdle();
      assert.equal(calls, 2);
      assert.equal(o.getTask(id)?.spec.retries, 1);
    });
  });

  describe('cancellation', () => {
    it('cancels a created task (waiting on a dependency), a scheduled one and a running one', async () => {
      const o = await make({ concurrency: 1 });
      const log: string[] = [];
      const running = gate(log, 'running');
      const r = await o.scheduleTask(running.spec);
      const s = await o.scheduleTask({ name: 'queued', kind: 'function', run: () => 1 });
      const c = await o.scheduleTask({ name: 'waiting', kind: 'function', dependsOn: [s], run: () => 1 });
      assert.deepEqual(statuses(o, [r, s, c]), ['running', 'scheduled', 'created']);
      await o.cancelTask(c, 'c');
      await o.cancelTask(s, 's');
      await o.cancelTask(r, 'r');
      assert.deepEqual(statuses(o, [r, s, c]), ['cancelled', 'cancelled', 'cancelled']);
      assert.deepEqual(
        [r, s, c].map((id) => o.getTask(id)?.history.at(-1)?.reason),
        ['r', 's', 'c'],
      );
      await o.whenIdle();
    });

    it('refuses to cancel a finished task and an unknown one, with typed errors', async () => {
      const o = await make();
      const id = await o.scheduleTask({ name: 'done', kind: 'function', run: () => 1 });
      await o.whenIdle();
      await assert.rejects(o.cancelTask(id), (e: Error & { code?: string }) => e.code === 'ILLEGAL_TRANSITION');
      await assert.rejects(o.cancelTask('nope'), (e: Error & { code?: string }) => e.code === 'NOT_FOUND');
      assert.equal(o.getTask(id)?.status, 'completed');
    });

    it('cancelAll cancels every unfinished task and starts none of the waiting ones', async () => {
      const o = await make({ concurrency: 1 });
      const log: string[] = [];
      const first = gate(log, 'first');
      await o.scheduleTask(first.spec);
      for (let i = 0; i < 5; i++) await o.scheduleTask({ name: `q${i}`, kind: 'function', run: () => void log.push(`q${i}`) });
      const n = await o.cancelAll();
      assert.equal(n, 6);
      await o.whenIdle();
      assert.deepEqual(log, ['first']);
      assert.equal(o.getSystemStatus().counts.cancelled, 6);
    });

    it('retryTask schedules a failed task again as a new task with the same spec', async () => {
      const o = await make();
      let fail = true;
      const id = await o.scheduleTask({
        name: 'sometimes',
        kind: 'function',
        priority: 3,
        run: () => {
          if (fail) throw new Error('once');
          return 'fine';
        },
      });
      await o.whenIdle();
      fail = false;
      const again = await o.retryTask(id);
      await o.whenIdle();
      assert.notEqual(again, id);
      assert.equal(o.getTask(again)?.status, 'completed');
      assert.equal(o.getTask(again)?.priority, 3);
      await assert.rejects(o.retryTask(again), /only a failed or cancelled task/);
    });
  });

  describe('pause, resume, idle and status', () => {
    it('starts paused when asked, so a host can check something before restored work goes on', async () => {
      const { MemoryStore } = await import('../../src/core/ports');
      const store = new MemoryStore();
      const first = await createOrchestrator({ store });
      first.pause();
      const id = await first.scheduleTask({ name: 'restored', kind: 'shell', command: 'true' });
      await first.dispose();
      // The snapshot says paused; even without it, startPaused holds everything back.
      const raw = store.get<{ paused?: boolean }>('orchestrator.state');
      await store.update('orchestrator.state', { ...raw, paused: false });
      const o = await make({ store, startPaused: true });
      assert.equal(o.paused, true);
      await settle();
      assert.equal(o.getTask(id)?.status, 'created');
      o.resume();
      await o.whenIdle();
      assert.equal(o.getTask(id)?.status, 'completed');
      await assert.rejects(createOrchestrator({ startPaused: 'yes' as unknown as boolean }), /startPaused.*boolean/);
    });

    it('keeps new tasks Created while paused and runs them on resume', async () => {
      const o = await make();
      o.pause();
      const id = await o.scheduleTask({ name: 'later', kind: 'function', run: () => 1 });
      await settle();
      assert.equal(o.getTask(id)?.status, 'created');
      assert.equal(o.getSystemStatus().paused, true);
      o.resume();
      await o.whenIdle();
      assert.equal(o.getTask(id)?.status, 'completed');
    });

    it('counts tasks per status and reports pools, concurrency and paused', async () => {
      const o = await make({ concurrency: 2, resources: { gpu: 1 } });
      const log: string[] = [];
      const g = gate(log, 'g', { resources: { gpu: 1 } });
      await o.scheduleTask(g.spec);
      await o.scheduleTask({ name: 'w', kind: 'function', dependsOn: [o.getTasks()[0].id], run: () => 1 });
      const s = o.getSystemStatus();
      assert.deepEqual(s.counts, { created: 1, scheduled: 0, running: 1, completed: 0, failed: 0, cancelled: 0 });
      assert.deepEqual(s.pools, { gpu: { capacity: 1, inUse: 1 } });
      assert.deepEqual(s.concurrency, { limit: 2, running: 1 });
      assert.equal(s.total, 2);
      g.release();
      await o.whenIdle();
    });

    it('applies a new concurrency at once', async () => {
      const o = await make({ concurrency: 1 });
      const log: string[] = [];
      const a = gate(log, 'a');
      const b = gate(log, 'b');
      await o.scheduleTask(a.spec);
      await o.scheduleTask(b.spec);
      assert.deepEqual(log, ['a']);
      o.setConcurrency(2);
      assert.deepEqual(log, ['a', 'b']);
      assert.throws(() => o.setConcurrency(-1), /concurrency/);
      assert.throws(() => o.setConcurrency(1.5), /concurrency/);
      a.release();
      b.release();
      await o.whenIdle();
    });
  });

  describe('events', () => {
    it('publishes every transition on the task.* topics, retries on task.retrying', async () => {
      const clock = new ManualClock();
      const o = await make({ clock });
      const seen: string[] = [];
      o.queue.subscribe('task.*', (m: Message) => void seen.push(`${m.topic}:${(m.payload as { name: string }).name}`));
      let n = 0;
      await o.scheduleTask({
        name: 'x',
        kind: 'function',
        retries: 1,
        retryDelayMs: 1,
        run: () => {
          if (n++ === 0) throw new Error('first');
        },
      });
      await clock.advance(100);
      await o.whenIdle();
      await o.queue.whenIdle();
      assert.deepEqual(seen, ['task.created:x', 'task.scheduled:x', 'task.started:x', 'task.retrying:x', 'task.started:x', 'task.completed:x']);
      const stats = o.queue.getQueueStats();
      assert.equal(stats.topics['task.started'].published, 2);
      assert.equal(stats.topics['task.started'].acknowledged, 2);
      // Each acknowledged message is a processed message for the Performance Monitor.
      assert.equal(o.monitor.getPerformanceMetrics().totals.messages, 6);
    });

    it('fires onDidChangeTask after the change is complete, and a listener may schedule more work', async () => {
      const o = await make();
      const seen: string[] = [];
      let spawned = false;
      o.onDidChangeTask((r) => {
        seen.push(`${r.name}:${r.status}`);
        if (r.status === 'completed' && !spawned) {
          spawned = true;
          void o.scheduleTask({ name: 'child', kind: 'function', run: () => 2 });
        }
      });
      await o.scheduleTask({ name: 'parent', kind: 'function', run: () => 1 });
      await o.whenIdle();
      await settle();
      await o.whenIdle();
      assert.deepEqual(
        seen.filter((s) => s.startsWith('parent')),
        ['parent:created', 'parent:scheduled', 'parent:running', 'parent:completed'],
      );
      assert.ok(seen.includes('child:completed'));
    });

    it('records executions in the performance monitor', async () => {
      const o = await make({ concurrency: 4 });
      for (let i = 0; i < 10; i++) await o.scheduleTask({ name: `t${i}`, kind: 'function', run: () => (i % 5 === 0 ? Promise.reject(new Error('x')) : i) });
      await o.whenIdle();
      const m = o.monitor.getPerformanceMetrics();
      assert.equal(m.totals.completed, 8);
      assert.equal(m.totals.failed, 2);
      assert.equal(m.successRate, 0.8);
    });
  });

  describe('history', () => {
    it('keeps at most maxFinished finished records in memory, archiving the oldest', async () => {
      const archived: TaskRecord[] = [];
      const o = await make({ concurrency: 4, maxFinished: 3, archive: { append: async (rs) => void archived.push(...rs) } });
      for (let i = 0; i < 10; i++) await o.scheduleTask({ name: `t${i}`, kind: 'function', run: () => i });
      await o.whenIdle();
      await o.state.synchronizeState();
      assert.equal(o.getTasks().length, 3);
      assert.deepEqual(
        archived.map((r) => r.name),
        ['t0', 't1', 't2', 't3', 't4', 't5', 't6'],
      );
    });

    it('applies a smaller maxFinished at once, archiving the oldest, and refuses a bad one', async () => {
      const archived: string[] = [];
      const o = await make({ concurrency: 4, archive: { append: async (rs) => void archived.push(...rs.map((r) => r.name)) } });
      for (let i = 0; i < 6; i++) await o.scheduleTask({ name: `t${i}`, kind: 'function', run: () => i });
      await o.whenIdle();
      o.setMaxFinished(2);
      await o.state.synchronizeState();
      assert.deepEqual(
        o.getTasks().map((t) => t.name),
        ['t4', 't5'],
      );
      assert.deepEqual(archived, ['t0', 't1', 't2', 't3']);
      assert.throws(() => o.setMaxFinished(-1), /maxFinished.*-1/);
    });

    it('removes finished tasks, and refuses to remove unfinished ones', async () => {
      const o = await make({ concurrency: 1 });
      const log: string[] = [];
      const g = gate(log, 'g');
      const running = await o.scheduleTask(g.spec);
      const done = await o.scheduleTask({ name: 'x', kind: 'function', priority: -1, run: () => 1 });
      await assert.rejects(o.removeTask(running), /only finished tasks can be removed/);
      g.release();
      await o.whenIdle();
      await o.removeTask(done);
      assert.equal(o.getTask(done), undefined);
      assert.equal(await o.clearFinished(), 1);
      assert.equal(o.getTasks().length, 0);
    });
  });

  describe('dispose', () => {
    it('stops all running work', async () => {
      const o = await createOrchestrator({ concurrency: 2 });
      let aborted = 0;
      for (let i = 0; i < 2; i++) {
        await o.scheduleTask({
          name: `forever${i}`,
          kind: 'function',
          run: ({ signal }) => new Promise(() => signal.addEventListener('abort', () => aborted++)),
        });
      }
      await o.dispose();
      assert.equal(aborted, 2);
      await assert.rejects(o.scheduleTask({ name: 'late', kind: 'function', run: () => 1 }), /disposed/);
    });
  });
});
