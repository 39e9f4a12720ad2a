import * as assert from 'node:assert/strict';
import type { ExecutionHandle, OutcomeCallback } from '../../src/core/execution/executionPort';
import type { RemoteExecution } from '../../src/core/execution/routedExecution';
import type { TaskRecord } from '../../src/core/model/model';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import { defaultConcurrency } from '../../src/core/orchestrator/options';
import { Emitter } from '../../src/core/util/events';
import { MemoryStore } from '../../src/core/ports';
import { CancelledError } from '../../src/core/model/errors';

/**
 * A remote port in memory: it runs `remote` tasks by resolving them (or, `holding`, keeps them running
 * until `finishAll`), names its worker, can be "down", and reports its fleet's slots.
 */
class FakeRemote implements RemoteExecution {
  readonly kinds = new Set(['remote']);
  readonly started: string[] = [];
  available = true;
  slots = 0;
  holding = false;
  private readonly changes = new Emitter<boolean>();
  private readonly slotChanges = new Emitter<number>();
  private readonly running = new Map<ExecutionHandle, OutcomeCallback>();

  onDidChangeSlots(listener: (slots: number) => void) {
    return this.slotChanges.event(listener);
  }
  setSlots(slots: number): void {
    this.slots = slots;
    this.slotChanges.fire(slots);
  }
  finishAll(): void {
    for (const [handle, done] of [...this.running]) if (this.running.delete(handle)) done({ worker: 'fake-worker' }, undefined, handle.task);
  }

  onDidChangeAvailability(listener: (available: boolean) => void) {
    return this.changes.event(listener);
  }
  setAvailable(available: boolean): void {
    this.available = available;
    this.changes.fire(available);
  }
  start(task: TaskRecord, _attempt: number, _timeoutMs: number | undefined, _run: unknown, _onOutput: unknown, done: OutcomeCallback): ExecutionHandle {
    this.started.push(task.name);
    const handle = { task };
    this.running.set(handle, done);
    if (!this.holding)
      setImmediate(() => {
        if (this.running.delete(handle)) done({ worker: 'fake-worker' }, undefined, task);
      });
    return handle;
  }
  async cancel(handle: ExecutionHandle): Promise<void> {
    const done = this.running.get(handle);
    if (done && this.running.delete(handle)) done(undefined, new CancelledError('cancelled'), handle.task);
  }
  async dispose(): Promise<void> {
    for (const handle of [...this.running.keys()]) await this.cancel(handle);
  }
}

describe('remote execution (createOrchestrator({ remote }))', () => {
  it('sends the remote kinds to the remote port and every other kind to the local engine', async () => {
    const remote = new FakeRemote();
    const o = await createOrchestrator({ remote });
    try {
      const [r, l] = await o.scheduleWorkflow([
        { key: 'r', name: 'on a worker', kind: 'remote' },
        { key: 'l', name: 'here', kind: 'function', run: async () => 'local', dependsOn: ['r'] },
      ]);
      await o.whenIdle();
      assert.deepEqual(remote.started, ['on a worker']);
      assert.equal(o.getTask(r as string)?.result?.worker, 'fake-worker');
      assert.equal(o.getTask(l as string)?.status, 'completed');
      assert.equal(o.getTask(l as string)?.result?.value, 'local');
    } finally {
      await o.dispose();
    }
  });

  it('holds ready tasks in Scheduled while the remote is unavailable, in order, and runs them when it is back', async () => {
    const remote = new FakeRemote();
    remote.available = false;
    const o = await createOrchestrator({ remote, concurrency: 1 });
    try {
      const low = await o.scheduleTask({ name: 'low', kind: 'remote', priority: 1 });
      const high = await o.scheduleTask({ name: 'high', kind: 'remote', priority: 9 });
      await new Promise((r) => setImmediate(r));
      assert.equal(o.getTask(low)?.status, 'scheduled');
      assert.equal(o.getTask(high)?.status, 'scheduled');
      assert.deepEqual(remote.started, []);
      remote.setAvailable(true);
      await o.whenIdle();
      assert.deepEqual(remote.started, ['high', 'low']);
      remote.setAvailable(false);
      const later = await o.scheduleTask({ name: 'later', kind: 'remote' });
      await new Promise((r) => setImmediate(r));
      assert.equal(o.getTask(later)?.status, 'scheduled');
      remote.setAvailable(true);
      await o.whenIdle();
      assert.equal(o.getTask(later)?.status, 'completed');
    } finally {
      await o.dispose();
    }
  });

  it("runs one task per CPU plus the fleet's live slots with an automatic concurrency, following the slots", async () => {
    const cpus = defaultConcurrency();
    const remote = new FakeRemote();
    remote.holding = true;
    remote.slots = 3;
    const o = await createOrchestrator({ remote });
    try {
      assert.equal(o.getSystemStatus().concurrency.limit, cpus + 3, 'automatic by default: CPUs + slots at the start');
      assert.deepEqual(o.getSystemStatus().concurrency.automatic, { cpus, fleet: 3 }, 'and the status says what it is made of');
      await o.scheduleWorkflow(Array.from({ length: cpus + 10 }, (_, i) => ({ key: `t${i}`, name: `t${i}`, kind: 'remote' })));
      await new Promise((r) => setImmediate(r));
      assert.equal(o.getSystemStatus().concurrency.running, cpus + 3);
      remote.setSlots(5);
      assert.equal(o.getSystemStatus().concurrency.limit, cpus + 5, 'a worker joined');
      assert.equal(o.getSystemStatus().concurrency.running, cpus + 5, 'and its slots took work at once');
      remote.setSlots(1);
      assert.equal(o.getSystemStatus().concurrency.limit, cpus + 1, 'workers left');
      assert.equal(o.getSystemStatus().concurrency.running, cpus + 5, 'what runs goes on');
      remote.finishAll();
      await new Promise((r) => setImmediate(r));
      assert.equal(o.getSystemStatus().concurrency.running, cpus + 1, 'and only the slots left take the next tasks');
      remote.holding = false;
      remote.finishAll();
      await o.whenIdle();
      assert.equal(remote.started.length, cpus + 10);
    } finally {
      await o.dispose();
    }
  });

  it('keeps a concurrency given as a number whatever the fleet, and goes automatic again with 0', async () => {
    const cpus = defaultConcurrency();
    const remote = new FakeRemote();
    remote.slots = 8;
    const o = await createOrchestrator({ remote, concurrency: 2 });
    try {
      assert.equal(o.getSystemStatus().concurrency.limit, 2);
      assert.equal(o.getSystemStatus().concurrency.automatic, undefined);
      remote.setSlots(16);
      assert.equal(o.getSystemStatus().concurrency.limit, 2, 'the fleet does not move a limit the user gave');
      o.setConcurrency(0);
      assert.equal(o.getSystemStatus().concurrency.limit, cpus + 16);
      remote.setSlots(4);
      assert.equal(o.getSystemStatus().concurrency.limit, cpus + 4);
      assert.throws(() => o.setConcurrency(-1), /Expected `concurrency` to be an integer number of tasks \(0: automatic.*\) from 0 to 1000000, got `-1`/);
      assert.equal(o.getSystemStatus().concurrency.limit, cpus + 4, 'a refused setting changes nothing');
    } finally {
      await o.dispose();
    }
  });

  it('follows a remote attempt again after a restart instead of running it twice', async () => {
    /** Where the "workers" keep running attempts: shared by both coordinators, as Redis is. */
    const jobs = new Map<string, { runs: number; finish?: () => void }>();
    const remoteWith = (): RemoteExecution & { detached: boolean } => {
      const port = {
        kinds: new Set(['remote']),
        detached: false,
        start(task: TaskRecord, attempt: number, _t: unknown, _r: unknown, _o: unknown, done: OutcomeCallback) {
          const key = `${task.id}.${attempt}`;
          const job = { runs: (jobs.get(key)?.runs ?? 0) + 1, finish: () => done({ worker: 'w1' }, undefined, task) };
          jobs.set(key, job);
          return { task };
        },
        reattach(task: TaskRecord, attempt: number, _o: unknown, done: OutcomeCallback) {
          const job = jobs.get(`${task.id}.${attempt}`);
          if (job) job.finish = () => done({ worker: 'w1' }, undefined, task);
          return { task };
        },
        async detach() {
          port.detached = true;
        },
        async cancel() {},
        async dispose() {},
      };
      return port;
    };
    const store = new MemoryStore();
    const first = remoteWith();
    const a = await createOrchestrator({ remote: first, store });
    const id = await a.scheduleTask({ name: 'long', kind: 'remote' });
    await new Promise((r) => setImmediate(r));
    assert.equal(a.getTask(id)?.status, 'running');
    await a.dispose();
    assert.equal(first.detached, true, 'the remote attempt was let go, not stopped');

    const b = await createOrchestrator({ remote: remoteWith(), store });
    try {
      assert.equal(b.getTask(id)?.status, 'running', 'still running where it runs');
      jobs.get(`${id}.1`)?.finish?.();
      await b.whenIdle();
      assert.equal(b.getTask(id)?.status, 'completed');
      assert.equal(b.getTask(id)?.attempts, 1);
      assert.equal(jobs.get(`${id}.1`)?.runs, 1, 'the work ran once');
      assert.equal(jobs.size, 1);
    } finally {
      await b.dispose();
    }
  });

  it('refuses a remote without kinds, naming the field', async () => {
    const bad = { start: () => undefined, cancel: async () => undefined, dispose: async () => undefined };
    await assert.rejects(createOrchestrator({ remote: bad as unknown as RemoteExecution }), (err: Error) => /remote\.kinds/.test(err.message));
  });
});
