import * as assert from 'node:assert/strict';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import { MemoryStore, type Executor, type Store } from '../../src/core/ports';
import { STATE_KEY } from '../../src/core/state/snapshot';
import { MAX_MESSAGE_LENGTH, type TaskRecord } from '../../src/core/model/model';
import { ManualClock, settle } from '../support/manualClock';

/** A record as a snapshot holds it: a Created shell task that depends on `dependsOn`. */
function saved(id: string, spec: Record<string, unknown> = {}, dependsOn: string[] = []): Record<string, unknown> {
  return {
    id,
    name: id,
    kind: 'noop',
    status: 'created',
    priority: 0,
    attempts: 0,
    createdAt: 1,
    history: [{ status: 'created', at: 1 }],
    spec: { name: id, kind: 'noop', ...spec },
    dependsOn,
  };
}

function storeWith(tasks: unknown[], paused = true): MemoryStore {
  const s = new MemoryStore();
  void s.update(STATE_KEY, { version: 1, savedAt: 1, tasks, paused });
  return s;
}

const noop: Executor = { execute: async () => ({}) };

const opened: OrchestratorImpl[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.dispose();
});

/** createOrchestrator, failing the test with a message (instead of a mocha timeout) when it hangs. */
async function open(options: NonNullable<Parameters<typeof createOrchestrator>[0]>): Promise<OrchestratorImpl> {
  const clock = options.clock instanceof ManualClock ? options.clock : undefined;
  const pending = createOrchestrator({ executors: { noop }, ...options });
  let done = false;
  void pending.then(
    () => (done = true),
    () => (done = true),
  );
  // A manual clock lets bounded waits inside createOrchestrator run out; 30 s is longer than any.
  if (clock) for (let i = 0; i < 30 && !done; i++) await clock.advance(1000);
  const o = await Promise.race([
    pending,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('createOrchestrator did not resolve within 2 s')), 2000).unref()),
  ]);
  opened.push(o);
  return o;
}

function backups(store: Store): string[] {
  return store.keys().filter((k) => k.startsWith(`${STATE_KEY}.backup.`));
}

describe('restore', () => {
  describe('validates restored specs as new ones are validated', () => {
    const bad: [string, Record<string, unknown>, RegExp][] = [
      ['resources of -1', { resources: { gpu: -1 } }, /`resources\.gpu`/],
      ['resources of "1"', { resources: { gpu: '1' } }, /`resources\.gpu`/],
      ['resources of [1]', { resources: [1] }, /`resources`/],
      ['1e9 retries', { retries: 1e9 }, /`retries`/],
      ['a timeout of 1e12 ms', { timeoutMs: 1e12 }, /`timeoutMs`/],
    ];
    for (const [what, spec, field] of bad) {
      it(`fails a saved task with ${what} naming the field, keeps it under a backup key, and starts the rest`, async () => {
        const clock = new ManualClock(5000);
        // Scheduled: the state in which a bad demand used to make createOrchestrator reject.
        const raw = {
          ...saved('bad', spec),
          status: 'scheduled',
          history: [
            { status: 'created', at: 1 },
            { status: 'scheduled', at: 1 },
          ],
        };
        const store = storeWith([raw, saved('good')]);
        const o = await open({ store, clock, resources: { gpu: 2 } });
        const b = o.getTask('bad') as TaskRecord;
        assert.equal(b.status, 'failed');
        assert.equal(b.error?.code, 'VALIDATION');
        assert.match(b.error?.message ?? '', field);
        assert.match(b.history.at(-1)?.reason ?? '', field);
        assert.equal(o.getTask('good')?.status, 'created');
        const keys = backups(store);
        assert.equal(keys.length, 1, `backup keys: ${keys.join(', ')}`);
        const kept = store.get<{ tasks: unknown[] }>(keys[0]);
        assert.deepEqual(kept?.tasks, [raw]);
        assert.ok(
          o.warnings.some((w) => w.code === 'CORRUPT_STATE' && w.message.includes(keys[0]) && field.test(w.message)),
          JSON.stringify(o.warnings),
        );
        o.resume();
        await o.whenIdle();
        assert.equal(o.getTask('good')?.status, 'completed');
      });
    }
  });

  it('restores a paused workflow with pools and keys as it was saved, rejecting nothing', async () => {
    const store = new MemoryStore();
    const a = await createOrchestrator({ store, resources: { gpu: 2 }, startPaused: true });
    const ids = await a.scheduleWorkflow([
      { key: 'build', name: 'build', kind: 'shell', command: 'true', resources: { gpu: 1 }, retries: 2, timeoutMs: 60_000 },
      { key: 'test', name: 'test', kind: 'shell', command: 'true', dependsOn: ['build'], env: { CI: '1' }, priority: 5 },
    ]);
    await a.dispose();
    const b = await open({ store, resources: { gpu: 2 } });
    assert.deepEqual(
      ids.map((id) => b.getTask(id)?.status),
      ['created', 'created'],
    );
    assert.deepEqual(backups(store), []);
    assert.ok(!b.warnings.some((w) => w.code === 'CORRUPT_STATE'), JSON.stringify(b.warnings));
  });

  it('bounds the reasons and error message of a record saved before they were bounded', async () => {
    const huge = 'z'.repeat(1_000_000);
    const old = {
      ...saved('old'),
      status: 'scheduled',
      attempts: 1,
      history: [
        { status: 'created', at: 1 },
        { status: 'scheduled', at: 2, reason: huge },
      ],
      error: { message: huge, code: 'EXECUTION_FAILED' },
    };
    const o = await open({ store: storeWith([old]), clock: new ManualClock(5000) });
    const r = o.getTask('old') as TaskRecord;
    assert.ok((r.history[1].reason?.length ?? 0) <= MAX_MESSAGE_LENGTH, `reason: ${r.history[1].reason?.length}`);
    assert.ok((r.error?.message.length ?? 0) <= MAX_MESSAGE_LENGTH, `error: ${r.error?.message.length}`);
    assert.match(r.error?.message ?? '', /truncated/);
  });

  describe('dependency cycles', () => {
    it('fails the tasks of a cycle and a self-dependency naming the cycle, cancels their dependents, and runs the rest to idle', async () => {
      const clock = new ManualClock(5000);
      const store = storeWith([
        saved('a', {}, ['b']),
        saved('b', {}, ['a']),
        saved('self', {}, ['self']),
        saved('after', {}, ['a']),
        saved('fine'),
        saved('then', {}, ['fine']),
      ]);
      const o = await open({ store, clock });
      for (const id of ['a', 'b']) {
        const r = o.getTask(id) as TaskRecord;
        assert.equal(r.status, 'failed', id);
        assert.match(r.error?.message ?? '', /cycle/);
        assert.match(r.error?.message ?? '', /`a` -> `b` -> `a`|`b` -> `a` -> `b`/);
      }
      assert.equal(o.getTask('self')?.status, 'failed');
      assert.match(o.getTask('self')?.error?.message ?? '', /`self` -> `self`/);
      assert.equal(o.getTask('after')?.status, 'cancelled');
      o.resume();
      const idle = await Promise.race([o.whenIdle().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 1000).unref())]);
      assert.ok(idle, 'whenIdle resolved');
      assert.equal(o.getTask('fine')?.status, 'completed');
      assert.equal(o.getTask('then')?.status, 'completed');
    });
  });

  describe('a store that fails at start', () => {
    it('retries a read that throws once, and restores the saved tasks', async () => {
      const inner = storeWith([saved('kept')]);
      let throws = 1;
      const store: Store = {
        keys: () => inner.keys(),
        get: (k) => {
          if (throws-- > 0) throw new Error('EBUSY');
          return inner.get(k);
        },
        update: (k, v) => inner.update(k, v),
      };
      const o = await open({ store });
      assert.equal(o.getTask('kept')?.status, 'created');
    });

    it('never writes over a saved state it could not read: writes are held, warned about, and synchronizeState rejects', async () => {
      const inner = storeWith([saved('kept')]);
      const before = JSON.stringify(inner.get(STATE_KEY));
      const store: Store = {
        keys: () => inner.keys(),
        get: () => {
          throw new Error('EIO');
        },
        update: (k, v) => inner.update(k, v),
      };
      const clock = new ManualClock(5000);
      const o = await open({ store, clock });
      assert.ok(
        o.warnings.some((w) => w.code === 'CORRUPT_STATE' && /could not be read/.test(w.message) && /EIO/.test(w.message) && /not saved/.test(w.message)),
        JSON.stringify(o.warnings),
      );
      assert.match(o.state.writesHeld ?? '', /could not be read/);
      await o.scheduleTask({ name: 'new', kind: 'noop' });
      await clock.advance(5000);
      await assert.rejects(
        o.state.synchronizeState(),
        (err: { code?: string; message: string }) => err.code === 'STORE_WRITE_FAILED' && /could not be read/.test(err.message),
      );
      await o.dispose();
      assert.equal(JSON.stringify(inner.get(STATE_KEY)), before);
    });

    it('resolves with a corrupt snapshot and a store whose update never answers, warns, and holds writes', async () => {
      const inner = new MemoryStore();
      await inner.update(STATE_KEY, 'garbage');
      const store: Store = { keys: () => inner.keys(), get: (k) => inner.get(k), update: () => new Promise<void>(() => undefined) };
      const clock = new ManualClock(5000);
      const o = await open({ store, clock });
      const w = o.warnings.find((x) => x.code === 'CORRUPT_STATE');
      assert.ok(w && /could not be backed up/.test(w.message), JSON.stringify(o.warnings));
      assert.equal(inner.get(STATE_KEY), 'garbage');
      await settle();
    });
  });
});
