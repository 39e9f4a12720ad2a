import * as assert from 'node:assert/strict';
import { ExecutionError } from '../../src/core/model/errors';
import { MAX_MESSAGE_LENGTH } from '../../src/core/model/model';
import type { TaskRecord } from '../../src/core/model/model';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import { MemoryStore, type Clock, type Executor, type Store } from '../../src/core/ports';
import { STATE_KEY, type Snapshot } from '../../src/core/state/snapshot';
import { ManualClock, settle } from '../support/manualClock';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunJournal } from '../../src/core/history/runJournal';
import type { HistoryArchive } from '../../src/core/ports';

const opened: OrchestratorImpl[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.dispose();
});

/** A store whose update does what `mode` says at the time of the call. */
function faultyStore(inner = new MemoryStore()): { store: Store; inner: MemoryStore; mode: { update: 'ok' | 'reject' | 'hang' } } {
  const mode = { update: 'ok' as 'ok' | 'reject' | 'hang' };
  const store: Store = {
    keys: () => inner.keys(),
    get: (k) => inner.get(k),
    update: (k, v) =>
      mode.update === 'reject' ? Promise.reject(new Error('disk full')) : mode.update === 'hang' ? new Promise<void>(() => undefined) : inner.update(k, v),
  };
  return { store, inner, mode };
}

const noop: Executor = { execute: async () => ({}) };

describe('stateCoordinator reliability', () => {
  describe('synchronizeState and dispose say when nothing was written', () => {
    it("synchronizeState rejects with STORE_WRITE_FAILED carrying the store's error when the write is refused", async () => {
      const clock = new ManualClock(1000);
      const { store, mode } = faultyStore();
      const o = await createOrchestrator({ store, clock, executors: { noop } });
      opened.push(o);
      o.pause();
      await o.scheduleTask({ name: 'a', kind: 'noop' });
      mode.update = 'reject';
      await assert.rejects(o.state.synchronizeState(), (err: { code?: string; storeError?: unknown; message: string }) => {
        assert.equal(err.code, 'STORE_WRITE_FAILED');
        assert.equal((err.storeError as Error).message, 'disk full');
        assert.match(err.message, /disk full/);
        return true;
      });
      mode.update = 'ok';
      await o.state.synchronizeState();
    });

    it('dispose resolves but warns that the final state was not saved when the store refuses it', async () => {
      const clock = new ManualClock(1000);
      const { store, mode } = faultyStore();
      const o = await createOrchestrator({ store, clock, executors: { noop } });
      o.pause();
      await o.scheduleTask({ name: 'a', kind: 'noop' });
      const warnings: string[] = [];
      o.onDidWarn((w) => void warnings.push(`${w.code}: ${w.message}`));
      mode.update = 'reject';
      await o.dispose();
      assert.ok(
        warnings.some((w) => /^STORE_WRITE_FAILED: .*final state was not saved.*disk full/.test(w)),
        warnings.join('\n'),
      );
    });

    it('synchronizeState and updateState after dispose reject with DISPOSED instead of losing the data', async () => {
      const o = await createOrchestrator({ store: new MemoryStore() });
      await o.dispose();
      await assert.rejects(o.state.updateState('ui.filter', 'x'), (err: { code?: string }) => err.code === 'DISPOSED');
      await assert.rejects(o.state.synchronizeState(), (err: { code?: string }) => err.code === 'DISPOSED');
    });

    it('dispose with a store that never answers takes one short timeout, not two write timeouts', async () => {
      const clock = new ManualClock(1000);
      const { store, mode } = faultyStore();
      const o = await createOrchestrator({ store, clock, executors: { noop } });
      o.pause();
      await o.scheduleTask({ name: 'a', kind: 'noop' });
      mode.update = 'hang';
      // A coalesced write is in flight (hanging) when dispose starts.
      await clock.advance(300);
      await o.scheduleTask({ name: 'b', kind: 'noop' });
      let done = false;
      const disposing = o.dispose().then(() => (done = true));
      const start = clock.monotonic();
      for (let i = 0; i < 40 && !done; i++) await clock.advance(500);
      await disposing;
      const took = clock.monotonic() - start;
      assert.ok(took <= 3000, `dispose took ${took} ms of clock time`);
    });
    it('a synchronizeState waiting behind a write that never answers rejects when dispose gives up on it', async () => {
      const clock = new ManualClock(1000);
      const { store, mode } = faultyStore();
      const o = await createOrchestrator({ store, clock, executors: { noop } });
      o.pause();
      await o.scheduleTask({ name: 'a', kind: 'noop' });
      mode.update = 'hang';
      await clock.advance(300); // a coalesced write is now in flight, and hangs
      await o.scheduleTask({ name: 'b', kind: 'noop' });
      let outcome: string | undefined;
      const sync = o.state.synchronizeState().then(
        () => (outcome = 'resolved'),
        (err: { code?: string }) => (outcome = `rejected ${err.code}`),
      );
      const disposing = o.dispose();
      for (let i = 0; i < 40 && outcome === undefined; i++) await clock.advance(500);
      await disposing;
      await sync;
      assert.equal(outcome, 'rejected STORE_WRITE_FAILED', 'nothing holding task b was ever written');
    });
  });

  describe('write spacing', () => {
    it('keeps writing when the wall clock steps back an hour: spacing uses the monotonic clock', async () => {
      const clock = new ManualClock(10_000_000);
      const store = new MemoryStore();
      const o = await createOrchestrator({ store, clock, executors: { noop } });
      opened.push(o);
      o.pause();
      await o.scheduleTask({ name: 'a', kind: 'noop' });
      await clock.advance(1000);
      assert.equal((store.get<Snapshot>(STATE_KEY) as Snapshot).tasks.length, 1);
      clock.stepWallClock(-3_600_000);
      await o.scheduleTask({ name: 'b', kind: 'noop' });
      await clock.advance(2000);
      assert.equal((store.get<Snapshot>(STATE_KEY) as Snapshot).tasks.length, 2);
    });
  });

  describe('write spacing without a monotonic clock', () => {
    it('delays a write by one interval at most when a clock with only now() steps back', async () => {
      const manual = new ManualClock(10_000_000);
      let offset = 0;
      const clock: Clock = { now: () => manual.now() + offset, setTimeout: (fn, ms) => manual.setTimeout(fn, ms), clearTimeout: (h) => manual.clearTimeout(h) };
      const store = new MemoryStore();
      const o = await createOrchestrator({ store, clock, executors: { noop } });
      opened.push(o);
      o.pause();
      await o.scheduleTask({ name: 'a', kind: 'noop' });
      await manual.advance(1000);
      offset = -3_600_000;
      await o.scheduleTask({ name: 'b', kind: 'noop' });
      await manual.advance(1000);
      assert.equal((store.get<Snapshot>(STATE_KEY) as Snapshot).tasks.length, 2);
    });
  });

  describe('bounded records', () => {
    it('truncates a 10 MB cancel reason and a 10 MB error message with a marker', async () => {
      const clock = new ManualClock(1000);
      const huge = 'x'.repeat(10_000_000);
      const failing: Executor = {
        execute: async () => {
          throw new Error(huge);
        },
      };
      const o = await createOrchestrator({ store: new MemoryStore(), clock, executors: { failing } });
      opened.push(o);
      o.pause();
      const c = await o.scheduleTask({ name: 'c', kind: 'failing' });
      await o.cancelTask(c, huge);
      const reason = o.getTask(c)?.history.at(-1)?.reason ?? '';
      assert.ok(reason.length <= MAX_MESSAGE_LENGTH, `reason: ${reason.length} chars`);
      assert.match(reason, /truncated/);
      o.resume();
      const f = await o.scheduleTask({ name: 'f', kind: 'failing' });
      await o.whenIdle();
      const r = o.getTask(f) as TaskRecord;
      assert.equal(r.status, 'failed');
      assert.ok((r.error?.message.length ?? 0) <= MAX_MESSAGE_LENGTH, `error: ${r.error?.message.length} chars`);
      assert.match(r.error?.message ?? '', /truncated/);
      assert.ok((r.history.at(-1)?.reason?.length ?? 0) <= MAX_MESSAGE_LENGTH);
    });

    it('one oversized finished record leaves the older finished records in the snapshot', async () => {
      const clock = new ManualClock(1000);
      // 64 KiB of control characters: each escapes to 6 bytes of JSON, 384 KiB in all.
      const noisy: Executor = { execute: async () => ({ output: '\u0001'.repeat(64 * 1024) }) };
      const archived: TaskRecord[] = [];
      const store = new MemoryStore();
      const o = await createOrchestrator({ store, clock, executors: { noop, noisy }, archive: { append: async (rs) => void archived.push(...rs) } });
      opened.push(o);
      for (let i = 0; i < 5; i++) {
        await o.scheduleTask({ name: `old-${i}`, kind: 'noop' });
        await o.whenIdle();
        await clock.advance(10);
      }
      const big = await o.scheduleTask({ name: 'noisy', kind: 'noisy' });
      await o.whenIdle();
      await o.state.synchronizeState();
      const snap = store.get<Snapshot>(STATE_KEY) as Snapshot;
      const names = snap.tasks.map((t) => t.name);
      for (let i = 0; i < 5; i++) assert.ok(names.includes(`old-${i}`), `old-${i} pushed out: ${names.join(', ')}`);
      assert.ok(JSON.stringify(snap).length <= 256 * 1024, `snapshot ${JSON.stringify(snap).length} bytes`);
      // The oversized one is in the archive whole, and the snapshot holds at most a trimmed copy.
      assert.equal(archived.find((r) => r.id === big)?.result?.output?.length, 64 * 1024);
      const kept = snap.tasks.find((t) => t.id === big);
      if (kept) assert.match(kept.result?.output ?? '', /trimmed/);
      // Memory keeps the whole record.
      assert.equal(o.getTask(big)?.result?.output?.length, 64 * 1024);
    });

    it('bounds the output tails of tasks waiting to retry: 100 of them make a small snapshot', async () => {
      const clock = new ManualClock(1000);
      const tail = 'y'.repeat(64 * 1024);
      const flaky: Executor = {
        execute: async () => {
          throw new ExecutionError('exit 1', { exitCode: 1, output: tail });
        },
      };
      const store = new MemoryStore();
      const o = await createOrchestrator({ store, clock, concurrency: 100, executors: { flaky } });
      opened.push(o);
      const ids: string[] = [];
      for (let i = 0; i < 100; i++) ids.push(await o.scheduleTask({ name: `r${i}`, kind: 'flaky', retries: 1, retryDelayMs: 3_600_000 }));
      await settle();
      await settle();
      assert.ok(ids.every((id) => o.getTask(id)?.status === 'scheduled' && o.getTask(id)?.attempts === 1));
      await o.state.synchronizeState();
      const bytes = JSON.stringify(store.get(STATE_KEY)).length;
      assert.ok(bytes <= 512 * 1024, `snapshot of 100 tasks waiting to retry: ${bytes} bytes`);
      assert.equal(o.getTask(ids[0])?.result?.output?.length, 64 * 1024);
      await o.cancelAll();
    });
  });

  describe('crash points around the run journal', () => {
    let dir = '';
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'orchestrator-crash-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /** Every id any successful store write held. */
    function recordingStore(inner: MemoryStore, held: Set<string>): Store {
      return {
        keys: () => inner.keys(),
        get: (k) => inner.get(k),
        update: async (k, v) => {
          await inner.update(k, v);
          if (k === STATE_KEY) for (const t of (v as Snapshot).tasks) held.add(t.id);
        },
      };
    }

    /** What survives a crash now: the store's last snapshot (with its pending set) and the journal's files. */
    async function afterCrash(inner: MemoryStore): Promise<Set<string>> {
      const journal = new RunJournal({ dir });
      const o = await createOrchestrator({
        store: inner,
        clock: new ManualClock(1000),
        archive: journal,
        pending: journal,
        executors: { noop },
        startPaused: true,
      });
      opened.push(o);
      const kept = new Set(o.getTasks().map((t) => t.id));
      for (const run of (await journal.search({}, undefined, 1000)).runs) for (const t of run.tasks) kept.add(t.id);
      return kept;
    }

    it('loses nothing when the host dies after the journal took finished records but before the state write', async () => {
      const clock = new ManualClock(1000);
      const held = new Set<string>();
      const inner = new MemoryStore();
      const { store, mode } = faultyStore(inner);
      const journal = new RunJournal({ dir });
      const o = await createOrchestrator({
        store: recordingStore(store as MemoryStore, held),
        clock,
        archive: journal,
        pending: journal,
        executors: { noop },
        maxFinished: 2,
      });
      opened.push(o);
      for (let i = 0; i < 4; i++) await o.scheduleTask({ name: `a${i}`, kind: 'noop' });
      await o.whenIdle();
      await o.state.synchronizeState();
      // From now on the state write never lands: the host dies with it in flight.
      mode.update = 'reject';
      for (let i = 0; i < 4; i++) await o.scheduleTask({ name: `b${i}`, kind: 'noop' });
      await o.whenIdle();
      await o.state.synchronizeState().catch(() => undefined);
      await journal.close();
      const kept = await afterCrash(inner);
      assert.deepEqual(
        [...held].filter((id) => !kept.has(id)),
        [],
        'every task a write held is restored or in the journal',
      );
    });

    it('loses nothing when the host dies while the journal has not yet taken records the state write drops', async () => {
      const clock = new ManualClock(1000);
      const held = new Set<string>();
      const inner = new MemoryStore();
      const journal = new RunJournal({ dir });
      // The journal's append never completes: the host dies before it does.
      const stuck = { hang: false };
      const archive: HistoryArchive = { append: (rs) => (stuck.hang ? new Promise<void>(() => undefined) : journal.append(rs)) };
      const o = await createOrchestrator({ store: recordingStore(inner, held), clock, archive, pending: journal, executors: { noop }, maxFinished: 2 });
      opened.push(o);
      for (let i = 0; i < 4; i++) await o.scheduleTask({ name: `a${i}`, kind: 'noop' });
      await o.whenIdle();
      await o.state.synchronizeState();
      stuck.hang = true;
      for (let i = 0; i < 6; i++) {
        await o.scheduleTask({ name: `b${i}`, kind: 'noop' });
        await o.whenIdle();
        await clock.advance(2000);
      }
      const kept = await afterCrash(inner);
      assert.deepEqual(
        [...held].filter((id) => !kept.has(id)),
        [],
        'every task a write held is restored or in the journal',
      );
      // The archive never answers: dispose gives up on it after its timeout.
      opened.splice(opened.indexOf(o), 1);
      const disposing = o.dispose();
      for (let i = 0; i < 10; i++) await clock.advance(1000);
      await disposing;
    });

    it('loses no queued task when the host dies between writing a pending set and the state write, or before pruning the old set', async () => {
      const clock = new ManualClock(1000);
      const held = new Set<string>();
      const inner = new MemoryStore();
      const { store, mode } = faultyStore(inner);
      const journal = new RunJournal({ dir });
      const o = await createOrchestrator({
        store: recordingStore(store as MemoryStore, held),
        clock,
        archive: journal,
        pending: journal,
        executors: { noop },
        startPaused: true,
      });
      opened.push(o);
      for (let i = 0; i < 3000; i++) o.scheduleTask({ name: `q${i}`, kind: 'noop', command: `echo ${i}` });
      await o.state.synchronizeState();
      const first = (inner.get<Snapshot>(STATE_KEY) as Snapshot).pending;
      assert.ok(first && first.count > 0, 'the backlog overflows into a pending set');
      // A new set is written, then the state write fails: the store still points at the first set.
      mode.update = 'reject';
      for (let i = 0; i < 10; i++) o.scheduleTask({ name: `late${i}`, kind: 'noop' });
      await o.state.synchronizeState().catch(() => undefined);
      assert.deepEqual((inner.get<Snapshot>(STATE_KEY) as Snapshot).pending, first);
      let kept = await afterCrash(inner);
      assert.deepEqual(
        [...held].filter((id) => !kept.has(id)),
        [],
      );
      // The reverse: the state write lands; the old set is still there until pruned, and unused.
      mode.update = 'ok';
      await o.state.synchronizeState();
      kept = await afterCrash(inner);
      assert.deepEqual(
        [...held].filter((id) => !kept.has(id)),
        [],
      );
      assert.equal(kept.size, 3010);
    });
  });
});
