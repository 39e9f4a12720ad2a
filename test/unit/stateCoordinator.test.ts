import * as assert from 'node:assert/strict';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import { MemoryStore } from '../../src/core/ports';
import { STATE_KEY, migrate, validateSnapshot, type Snapshot } from '../../src/core/state/snapshot';
import type { SystemStatus, TaskRecord } from '../../src/core/model/model';
import { storeConformance } from '../support/storeConformance';

const opened: OrchestratorImpl[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.dispose();
});
async function open(store = new MemoryStore()): Promise<OrchestratorImpl> {
  const o = await createOrchestrator({ store, concurrency: 1 });
  opened.push(o);
  return o;
}

describe('stateCoordinator', () => {
  it('getState reads a task by `task:<id>` and the derived `system` status', async () => {
    const o = await open();
    o.pause();
    const id = await o.scheduleTask({ name: 'a', kind: 'shell', command: 'true' });
    assert.equal(((await o.state.getState(`task:${id}`)) as TaskRecord).name, 'a');
    assert.equal(((await o.state.getState('system')) as SystemStatus).counts.created, 1);
    assert.equal(await o.state.getState('task:nope'), undefined);
  });

  it('updateState on a task goes through the lifecycle: cancel is allowed, an illegal move throws and changes nothing', async () => {
    const o = await open();
    o.pause();
    const id = await o.scheduleTask({ name: 'a', kind: 'shell', command: 'true' });
    await assert.rejects(o.state.updateState(`task:${id}`, { status: 'completed' }), /Only `cancelled` can be requested/);
    await assert.rejects(o.state.updateState(`task:${id}`, { status: 'exploded' }), /one of `created`/);
    await assert.rejects(o.state.updateState(`task:${id}`, 'cancel'), /object like/);
    assert.equal(o.getTask(id)?.status, 'created');
    await o.state.updateState(`task:${id}`, { status: 'cancelled', reason: 'via state' });
    assert.equal(o.getTask(id)?.status, 'cancelled');
    await assert.rejects(o.state.updateState(`task:${id}`, { status: 'cancelled' }), (e: Error & { code?: string }) => e.code === 'ILLEGAL_TRANSITION');
    assert.equal(o.getTask(id)?.history.at(-1)?.reason, 'via state');
  });

  it('refuses to set the derived system state and bad ids, and application state that is not JSON', async () => {
    const o = await open();
    await assert.rejects(o.state.updateState('system', {}), /derived/);
    await assert.rejects(o.state.updateState('', 1), /non-empty string/);
    await assert.rejects(o.state.updateState('9lives', 1), /letter/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(o.state.updateState('ui.filter', cyclic), /JSON/);
    await assert.rejects(o.state.updateState('ui.big', 'x'.repeat(70_000)), /at most 65536 bytes/);
    assert.equal(await o.state.getState('ui.filter'), undefined);
  });

  it('keeps application state, persists it and restores it', async () => {
    const store = new MemoryStore();
    const a = await createOrchestrator({ store });
    await a.state.updateState('ui.filter', { status: 'failed' });
    await a.dispose();
    const b = await open(store);
    assert.deepEqual(await b.state.getState('ui.filter'), { status: 'failed' });
  });

  it('subscribeToState follows one task, every task, or everything, until disposed', async () => {
    const o = await open();
    const one: string[] = [];
    const all: string[] = [];
    const any: string[] = [];
    o.pause();
    const id = await o.scheduleTask({ name: 'a', kind: 'shell', command: 'true' });
    const sub = o.state.subscribeToState(`task:${id}`, (r) => void one.push((r as TaskRecord).status));
    o.state.subscribeToState('task:*', (r) => void all.push((r as TaskRecord).name));
    o.state.subscribeToState('*', (_v, stateId) => void any.push(stateId));
    await o.scheduleTask({ name: 'b', kind: 'shell', command: 'true' });
    await o.state.updateState('ui.x', 1);
    await o.cancelTask(id);
    sub.dispose();
    o.resume();
    await o.whenIdle();
    assert.deepEqual(one, ['cancelled']);
    assert.ok(all.includes('b') && all.includes('a'));
    assert.ok(any.includes('ui.x') && any.includes(`task:${id}`));
  });

  it('synchronizeState writes at once and resolves when the store has it', async () => {
    const store = new MemoryStore();
    const o = await open(store);
    o.pause();
    const id = await o.scheduleTask({ name: 'a', kind: 'shell', command: 'true' });
    await o.state.synchronizeState();
    assert.ok((store.get<Snapshot>(STATE_KEY) as Snapshot).tasks.some((t) => t.id === id));
  });

  it('validates snapshots field by field and migrates only versions it knows', () => {
    assert.throws(() => migrate({ version: 2 }), /version/);
    assert.throws(() => validateSnapshot({ version: 1, savedAt: 0, tasks: [{}] }), /tasks\[0\]\.id/);
    assert.throws(() => validateSnapshot({ version: 1, savedAt: 0, tasks: [], app: [] }), /app/);
    assert.doesNotThrow(() => validateSnapshot({ version: 1, savedAt: 0, tasks: [] }));
  });
});

storeConformance('MemoryStore', () => new MemoryStore());
