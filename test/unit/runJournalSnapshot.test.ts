import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunJournal } from '../../src/core/history/runJournal';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import { MemoryStore, type Executor } from '../../src/core/ports';
import { STATE_KEY, type Snapshot } from '../../src/core/state/snapshot';
import { ManualClock } from '../support/manualClock';

const noop: Executor = { execute: async () => ({}) };
const QUEUED = 10_000;

describe('runJournal as the pending store: a small snapshot', () => {
  let dir = '';
  const opened: OrchestratorImpl[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrator-pending-'));
  });
  afterEach(async () => {
    for (const o of opened.splice(0)) await o.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(store: MemoryStore, journal: RunJournal, clock = new ManualClock(1000)): Promise<OrchestratorImpl> {
    const o = await createOrchestrator({ store, clock, archive: journal, pending: journal, executors: { noop }, startPaused: true });
    opened.push(o);
    return o;
  }

  function queue(o: OrchestratorImpl, n: number): void {
    for (let i = 0; i < n; i++)
      o.scheduleTask({ name: `queued ${i}`, kind: 'noop', command: `npm run test -- --shard ${i}/${n} --reporter dot`, cwd: 'packages/app' });
  }

  it('keeps the snapshot under 256 KiB with 10,000 queued tasks, and a restore brings all 10,000 back', async () => {
    const store = new MemoryStore();
    const journal = new RunJournal({ dir });
    const o = await open(store, journal);
    queue(o, QUEUED);
    await o.state.synchronizeState();
    const snap = store.get<Snapshot>(STATE_KEY) as Snapshot;
    const bytes = JSON.stringify(snap).length;
    assert.ok(bytes < 256 * 1024, `snapshot of ${QUEUED} queued tasks: ${bytes} bytes`);
    assert.equal(snap.tasks.length + (snap.pending?.count ?? 0), QUEUED);
    const ids = o.getTasks().map((t) => t.id);
    await o.dispose();

    const again = await open(store, new RunJournal({ dir }));
    assert.deepEqual(
      again.warnings.filter((w) => w.code !== 'RECOVERED'),
      [],
    );
    assert.deepEqual(
      again.getTasks().map((t) => t.id),
      ids,
      'every task back, in creation order',
    );
    assert.ok(again.getTasks().every((t) => t.status === 'scheduled' || t.status === 'created'));
  });

  it('writes a set only when it changed, and prunes the sets the stored snapshot no longer points at', async () => {
    const store = new MemoryStore();
    const journal = new RunJournal({ dir });
    const o = await open(store, journal);
    queue(o, 3000);
    await o.state.synchronizeState();
    const first = (store.get<Snapshot>(STATE_KEY) as Snapshot).pending?.generation;
    await o.state.updateState('ui.filter', 'x'); // the state changes, the backlog does not
    await o.state.synchronizeState();
    assert.equal((store.get<Snapshot>(STATE_KEY) as Snapshot).pending?.generation, first);
    queue(o, 10);
    await o.state.synchronizeState();
    const second = (store.get<Snapshot>(STATE_KEY) as Snapshot).pending?.generation as number;
    assert.ok(second > (first as number));
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('pending-')),
      [`pending-${String(second).padStart(6, '0')}.log`],
    );
    await o.cancelAll();
    await o.state.synchronizeState();
    assert.equal((store.get<Snapshot>(STATE_KEY) as Snapshot).pending, undefined);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('pending-')),
      [],
    );
  });

  it('restores what it can of a damaged set, says so, and keeps writing', async () => {
    const store = new MemoryStore();
    const o = await open(store, new RunJournal({ dir }));
    queue(o, 3000);
    await o.state.synchronizeState();
    await o.dispose();
    const generation = (store.get<Snapshot>(STATE_KEY) as Snapshot).pending?.generation as number;
    const file = join(dir, `pending-${String(generation).padStart(6, '0')}.log`);
    writeFileSync(file, 'garbage\n');
    const again = await open(store, new RunJournal({ dir }));
    const warnings = again.warnings.filter((w) => w.code === 'CORRUPT_STATE');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.message ?? '', /read in part: .*is damaged/);
    assert.equal(again.state.writesHeld, undefined);
  });

  it('refuses a `pending` option that is not a PendingStore, naming its methods', async () => {
    await assert.rejects(
      createOrchestrator({ pending: { writePending: () => Promise.resolve(1) } as never }),
      /Expected `pending` to be a PendingStore \(an object with `writePending\(\)`, `readPending\(\)`, `prunePending\(\)`\), got `\{\}` \(object\)/,
    );
  });

  it('holds writes when the snapshot points at a set and no pending store was given', async () => {
    const store = new MemoryStore();
    const o = await open(store, new RunJournal({ dir }));
    queue(o, 3000);
    await o.state.synchronizeState();
    await o.dispose();
    const plain = await createOrchestrator({ store, clock: new ManualClock(1000), executors: { noop }, startPaused: true });
    opened.push(plain);
    assert.match(plain.warnings[0]?.message ?? '', /could not be read \(no pending store was given/);
    assert.match(plain.state.writesHeld ?? '', /unfinished tasks saved beside the state/);
  });
});
