import * as assert from 'node:assert/strict';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import { MemoryStore, type Store } from '../../src/core/ports';
import { STATE_KEY, type Snapshot } from '../../src/core/state/snapshot';
import { loadSnapshot } from '../../src/core/state/snapshotLoad';
import type { TaskRecord } from '../../src/core/model/model';
import type { Message } from '../../src/core/queue/queueTypes';
import { ManualClock, settle } from '../support/manualClock';
import { until } from '../support/until';

/** A Store that keeps a copy of the state after every write, as a crash at that moment would leave it. */
class RecordingStore implements Store {
  readonly data = new Map<string, string>();
  readonly writes: string[] = [];
  keys(): readonly string[] {
    return [...this.data.keys()];
  }
  get<T>(key: string): T | undefined {
    const raw = this.data.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }
  async update(key: string, value: unknown): Promise<void> {
    if (value === undefined) this.data.delete(key);
    else this.data.set(key, JSON.stringify(value));
    if (key === STATE_KEY && value !== undefined) this.writes.push(JSON.stringify(value));
  }
}

function storeWith(raw: unknown): MemoryStore {
  const s = new MemoryStore();
  void s.update(STATE_KEY, raw);
  return s;
}

const opened: OrchestratorImpl[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.dispose();
});
async function open(...args: Parameters<typeof createOrchestrator>): Promise<OrchestratorImpl> {
  const o = await createOrchestrator(...args);
  opened.push(o);
  return o;
}

describe('persistence', () => {
  describe('writes', () => {
    it('coalesces writes: a burst of 1,000 tasks makes a handful of writes, not one per change', async () => {
      const clock = new ManualClock(1000);
      const store = new MemoryStore();
      const o = await open({ store, clock, concurrency: 8 });
      for (let i = 0; i < 1000; i++) await o.scheduleTask({ name: `t${i}`, kind: 'shell', command: 'true' });
      o.pause();
      await clock.advance(1000);
      await settle();
      // 4 writes per second at most by default, in a second of clock time.
      assert.ok(store.writes >= 1 && store.writes <= 5, `writes: ${store.writes}`);
      const snap = store.get<Snapshot>(STATE_KEY) as Snapshot;
      assert.equal(snap.version, 1);
      assert.equal(snap.tasks.length, 1000);
    });

    it('keeps unfinished tasks always and finished ones newest first within the byte budget, archiving the rest', async () => {
      const archived: TaskRecord[] = [];
      const store = new MemoryStore();
      const o = await open({ store, concurrency: 4, archive: { append: async (rs) => void archived.push(...rs) } });
      // A budget for a few records only.
      (o.state as unknown as { byteBudget: number }).byteBudget = 2000;
      for (let i = 0; i < 30; i++) await o.scheduleTask({ name: `done-${i}`, kind: 'function', run: () => i });
      await o.whenIdle();
      o.pause();
      const waiting = await o.scheduleTask({ name: 'waiting', kind: 'shell', command: 'true' });
      await o.state.synchronizeState();
      const snap = store.get<Snapshot>(STATE_KEY) as Snapshot;
      const names = snap.tasks.map((t) => t.name);
      assert.equal(snap.tasks[0].id, waiting);
      const finished = names.slice(1);
      assert.ok(finished.length > 0 && finished.length < 30, `finished kept: ${finished.length}`);
      assert.equal(finished[0], 'done-29');
      assert.ok(JSON.stringify(snap.tasks.slice(1)).length <= 2000 + 200);
      // Every finished record is either in the snapshot or in the archive: none silently dropped.
      const everywhere = new Set([...finished, ...archived.map((r) => r.name)]);
      for (let i = 0; i < 30; i++) assert.ok(everywhere.has(`done-${i}`), `done-${i} lost`);
    });

    it('goes on when the store rejects, reports it, and writes again later', async () => {
      const clock = new ManualClock();
      let fail = true;
      const inner = new MemoryStore();
      const store: Store = {
        keys: () => inner.keys(),
        get: (k) => inner.get(k),
        update: (k, v) => (fail ? Promise.reject(new Error('disk full')) : inner.update(k, v)),
      };
      const o = await open({ store, clock });
      const warnings: string[] = [];
      o.onDidWarn((w) => void warnings.push(`${w.code}: ${w.message}`));
      const id = await o.scheduleTask({ name: 'a', kind: 'function', run: () => 1 });
      await o.whenIdle();
      assert.equal(o.getTask(id)?.status, 'completed');
      await clock.advance(500);
      assert.ok(
        warnings.some((w) => /STORE_WRITE_FAILED.*disk full/.test(w)),
        warnings.join('\n'),
      );
      fail = false;
      await clock.advance(60_000);
      const snap = inner.get<Snapshot>(STATE_KEY) as Snapshot;
      assert.equal(snap.tasks.find((t) => t.id === id)?.status, 'completed');
    });

    it('does not wait for a store whose update hangs: the write times out and is retried', async () => {
      const clock = new ManualClock();
      let hang = true;
      const inner = new MemoryStore();
      const store: Store = {
        keys: () => inner.keys(),
        get: (k) => inner.get(k),
        update: (k, v) => (hang ? new Promise<void>(() => undefined) : inner.update(k, v)),
      };
      const o = await open({ store, clock });
      const warnings: string[] = [];
      o.onDidWarn((w) => void warnings.push(w.message));
      const id = await o.scheduleTask({ name: 'a', kind: 'function', run: () => 1 });
      await o.whenIdle();
      await clock.advance(11_000);
      assert.ok(
        warnings.some((w) => /did not answer/.test(w)),
        warnings.join('\n'),
      );
      hang = false;
      await clock.advance(60_000);
      assert.equal((inner.get<Snapshot>(STATE_KEY) as Snapshot).tasks.find((t) => t.id === id)?.status, 'completed');
    });
  });

  describe('restore', () => {
    it('goes on with Created and Scheduled tasks after a restart', async () => {
      const store = new MemoryStore();
      const a = await createOrchestrator({ store, concurrency: 1 });
      a.pause();
      const created = await a.scheduleTask({ name: 'created', kind: 'shell', command: 'exit 0' });
      await a.dispose();
      const b = await open({ store, concurrency: 1 });
      // Paused when it stopped, paused when it comes back: the user's choice survives a reload.
      assert.equal(b.paused, true);
      assert.equal(b.getTask(created)?.status, 'created');
      b.resume();
      await b.whenIdle();
      assert.equal(b.getTask(created)?.status, 'completed');
      assert.deepEqual(
        b.getTask(created)?.history.map((h) => h.status),
        ['created', 'scheduled', 'running', 'completed'],
      );
    });

    it('retries a task that was Running when the process died if it has retries left, else fails it as interrupted', async () => {
      const store = new MemoryStore();
      const a = await createOrchestrator({ store, concurrency: 2, killGraceMs: 50 });
      const withRetry = await a.scheduleTask({ name: 'with-retry', kind: 'shell', command: 'sleep 5', retries: 1 });
      const without = await a.scheduleTask({ name: 'without', kind: 'shell', command: 'sleep 5' });
      await settle();
      await a.state.synchronizeState();
      // Simulate a crash: take the store as it is now, without letting `a` finish anything.
      const crashed = new MemoryStore();
      await crashed.update(STATE_KEY, store.get(STATE_KEY));
      await a.dispose();
      const b = await open({ store: crashed, concurrency: 2 });
      b.pause();
      const r1 = b.getTask(withRetry) as TaskRecord;
      const r2 = b.getTask(without) as TaskRecord;
      assert.equal(r2.status, 'failed');
      assert.equal(r2.error?.code, 'INTERRUPTED');
      assert.equal(r2.history.at(-1)?.reason, 'interrupted');
      assert.ok(r1.status === 'scheduled' || r1.status === 'running');
      assert.match(r1.history.find((h) => /Interrupted/.test(h.reason ?? ''))?.reason ?? '', /Interrupted by a restart/);
      await b.cancelTask(withRetry);
      assert.ok(b.warnings.some((w) => w.code === 'RECOVERED'));
    });

    it('starts a `restart: on-failure` service that was Running when the process died again, and it gets Ready again', async () => {
      const store = new MemoryStore();
      const serve = { name: 'server', kind: 'shell', command: 'echo up; sleep 5', readyWhen: { output: 'up' }, restart: 'on-failure' as const };
      const a = await createOrchestrator({ store, concurrency: 2, killGraceMs: 50 });
      const server = await a.scheduleTask(serve);
      await until(() => a.getTask(server)?.ready !== undefined, 10_000, 'the service to be Ready');
      await a.state.synchronizeState();
      const crashed = new MemoryStore();
      await crashed.update(STATE_KEY, store.get(STATE_KEY));
      await a.dispose();
      const b = await open({ store: crashed, concurrency: 2, killGraceMs: 50 });
      assert.notEqual(b.getTask(server)?.status, 'failed');
      assert.ok(
        b.getTask(server)?.history.some((h) => /restarting the service \(restart: on-failure\)/.test(h.reason ?? '')),
        JSON.stringify(b.getTask(server)?.history),
      );
      await until(() => b.getTask(server)?.status === 'running' && b.getTask(server)?.ready !== undefined, 10_000, 'the restarted service to be Ready');
      await b.cancelTask(server);
      assert.equal(b.getTask(server)?.status, 'cancelled');
    });

    it('fails function tasks as not resumable, since their code is not persisted', async () => {
      const store = new MemoryStore();
      const a = await createOrchestrator({ store });
      a.pause();
      const fn = await a.scheduleTask({ name: 'fn', kind: 'function', run: () => 1 });
      const dependent = await a.scheduleTask({ name: 'after-fn', kind: 'shell', command: 'true', dependsOn: [fn] });
      await a.dispose();
      const b = await open({ store });
      assert.equal(b.getTask(fn)?.status, 'failed');
      assert.equal(b.getTask(fn)?.error?.code, 'NOT_RESUMABLE');
      assert.equal(b.getTask(dependent)?.status, 'cancelled');
      assert.match(b.getTask(dependent)?.history.at(-1)?.reason ?? '', /fn/);
    });

    const corrupt: [string, unknown][] = [
      ['garbage', 'not a snapshot at all'],
      ['a wrong version', { version: 99, savedAt: 1, tasks: [] }],
      ['a truncated task list', { version: 1, savedAt: 1 }],
      ['a task missing fields', { version: 1, savedAt: 1, tasks: [{ id: 'x', name: 'x' }] }],
      [
        'an unknown status',
        {
          version: 1,
          savedAt: 1,
          tasks: [{ id: 'x', name: 'x', kind: 'shell', status: 'exploded', priority: 0, attempts: 0, createdAt: 1, history: [], spec: {}, dependsOn: [] }],
        },
      ],
      ['an array', [1, 2, 3]],
    ];
    for (const [what, raw] of corrupt) {
      it(`keeps a snapshot with ${what} under a backup key, warns, and starts clean`, async () => {
        const store = storeWith(raw);
        const o = await open({ store });
        assert.equal(o.getTasks().length, 0);
        const w = o.warnings.find((x) => x.code === 'CORRUPT_STATE');
        assert.ok(w, 'a CORRUPT_STATE warning');
        const backup = store.keys().find((k) => k.startsWith(`${STATE_KEY}.backup.`));
        assert.ok(backup && w.message.includes(backup));
        assert.deepEqual(store.get(backup), raw);
        assert.equal(store.get(STATE_KEY), undefined);
        // And it works.
        await o.scheduleTask({ name: 'fine', kind: 'function', run: () => 1 });
        await o.whenIdle();
      });
    }

    it('loads nothing and warns nothing from an empty store', async () => {
      assert.deepEqual(await loadSnapshot(new MemoryStore(), new ManualClock()), {});
    });
  });

  describe('fault injection', () => {
    it('restores from the state after every write of a busy run: no accepted task lost, no completed task run again, no message lost', async function () {
      this.timeout(30_000);
      const store = new RecordingStore();
      const a = await createOrchestrator({ store, concurrency: 3 });
      (a.state as unknown as { minIntervalMs: number }).minIntervalMs = 5;
      // A durable subscriber that acknowledges only some messages before the "crash".
      a.queue.subscribe(
        'task.completed',
        (m: Message) => {
          if ((m.payload as { name: string }).name.endsWith('7')) throw new Error('handler down');
        },
        { name: 'audit' },
      );
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) {
        ids.push(await a.scheduleTask({ name: `job-${i}`, kind: 'shell', command: i % 9 === 0 ? 'exit 3' : 'true', priority: i % 3 }));
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await a.whenIdle();
      await a.state.synchronizeState();
      await a.dispose();
      assert.ok(store.writes.length >= 3, `writes: ${store.writes.length}`);

      let seenBefore = new Set<string>();
      for (const [n, raw] of store.writes.entries()) {
        const snap = JSON.parse(raw) as Snapshot;
        const inSnap = new Map(snap.tasks.map((t) => [t.id, t]));
        // Monotonic: a task accepted in an earlier write is still there in a later one.
        for (const id of seenBefore) assert.ok(inSnap.has(id), `write ${n} lost task ${id}`);
        seenBefore = new Set(inSnap.keys());

        const crashed = new MemoryStore();
        await crashed.update(STATE_KEY, snap);
        const b = await createOrchestrator({ store: crashed, concurrency: 3 });
        const completedBefore = snap.tasks.filter((t) => t.status === 'completed').map((t) => t.id);
        const runs = new Map<string, number>();
        b.onDidChangeTask((r) => r.status === 'running' && runs.set(r.id, (runs.get(r.id) ?? 0) + 1));
        const redelivered: string[] = [];
        b.queue.subscribe('task.completed', (m: Message) => void redelivered.push(m.id), { name: 'audit' });
        await b.whenIdle();
        await b.queue.whenIdle();
        for (const id of snap.tasks.map((t) => t.id)) assert.ok(b.getTask(id), `write ${n}: task ${id} not restored`);
        for (const id of completedBefore) {
          assert.equal(runs.get(id), undefined, `write ${n}: completed task ${id} ran again`);
          assert.equal(b.getTask(id)?.status, 'completed');
        }
        for (const id of snap.tasks.map((t) => t.id))
          assert.notEqual(['created', 'scheduled', 'running'].includes(b.getTask(id)?.status as string), true, `write ${n}: ${id} left unfinished`);
        // Every message the snapshot held for the durable subscriber reaches it again.
        const held = ((snap.queue as { subscriptions?: { name: string; messages: { id: string }[] }[] })?.subscriptions ?? []).flatMap((s) =>
          s.messages.map((m) => m.id),
        );
        for (const id of held) assert.ok(redelivered.includes(id), `write ${n}: message ${id} lost`);
        await b.dispose();
      }
      // And the last write knows every accepted task.
      const last = JSON.parse(store.writes.at(-1) as string) as Snapshot;
      for (const id of ids)
        assert.ok(
          last.tasks.some((t) => t.id === id),
          `task ${id} missing from the final state`,
        );
    });
  });
});

describe('shutdown', () => {
  it('leaves running tasks Running in the final snapshot, so a reload applies the recovery policy instead of calling them cancelled', async () => {
    const store = new MemoryStore();
    const a = await createOrchestrator({ store, killGraceMs: 50 });
    const id = await a.scheduleTask({ name: 'long', kind: 'shell', command: 'sleep 5' });
    await settle();
    await a.dispose();
    assert.equal((store.get<Snapshot>(STATE_KEY) as Snapshot).tasks.find((t) => t.id === id)?.status, 'running');
    const b = await createOrchestrator({ store });
    assert.equal(b.getTask(id)?.status, 'failed');
    assert.equal(b.getTask(id)?.error?.code, 'INTERRUPTED');
    await b.dispose();
  });
});
