import * as assert from 'node:assert/strict';
import type { TaskRecord, TaskStatus } from '../../src/core/model/model';
import { Emitter } from '../../src/core/util/events';
import { workflowRunHandle, type RunTasks } from '../../src/extension/triggers/workflowRunHandle';
import { settle } from '../support/manualClock';
import { runningRecord } from '../support/runningRecord';

/** The records of one run, moved by hand; cancelTask cancels as the orchestrator does. */
class FakeTasks implements RunTasks {
  readonly records = new Map<string, TaskRecord>();
  readonly cancelled: [string, string | undefined][] = [];
  private readonly changed = new Emitter<TaskRecord>();
  readonly onDidChangeTask = this.changed.event;

  constructor(ids: string[]) {
    for (const id of ids) this.records.set(id, runningRecord(id, { key: id }));
  }
  getTask(id: string): TaskRecord | undefined {
    return this.records.get(id);
  }
  async cancelTask(id: string, reason?: string): Promise<void> {
    this.cancelled.push([id, reason]);
    this.set(id, 'cancelled', reason);
  }
  set(id: string, status: TaskStatus, reason?: string, error?: string): void {
    const prev = this.records.get(id) as TaskRecord;
    const next: TaskRecord = {
      ...prev,
      status,
      history: [...prev.history, { status, at: 1, ...(reason ? { reason } : {}) }],
      ...(error ? { error: { message: error } } : {}),
    };
    this.records.set(id, next);
    this.changed.fire(next);
  }
  get listeners(): boolean {
    return this.changed.hasListeners;
  }
}

async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await settle();
  return settled;
}

describe('workflowRunHandle', () => {
  it('settles done only once every task of the run is final, completed when all completed', async () => {
    const tasks = new FakeTasks(['a', 'b', 'c']);
    const run = workflowRunHandle(tasks, ['a', 'b', 'c']);
    tasks.set('a', 'completed');
    tasks.set('b', 'completed');
    assert.equal(await isSettled(run.done), false);
    tasks.set('c', 'completed');
    assert.deepEqual(await run.done, { outcome: 'completed' });
    assert.equal(tasks.listeners, false, 'the subscription ends with the run');
  });

  it('says failed, naming the first failed task, when any failed', async () => {
    const tasks = new FakeTasks(['a', 'b']);
    const run = workflowRunHandle(tasks, ['a', 'b']);
    tasks.set('a', 'failed', undefined, 'exit 2');
    tasks.set('b', 'cancelled', 'Dependency `a` failed');
    assert.deepEqual(await run.done, { outcome: 'failed', reason: '`a` failed: exit 2' });
  });

  it('cancel cancels the tasks not yet final with the reason, and done says cancelled', async () => {
    const tasks = new FakeTasks(['a', 'b']);
    tasks.set('a', 'completed');
    const run = workflowRunHandle(tasks, ['a', 'b']);
    await run.cancel('Restarted: src/x.ts changed');
    assert.deepEqual(tasks.cancelled, [['b', 'Restarted: src/x.ts changed']]);
    assert.deepEqual(await run.done, { outcome: 'cancelled', reason: 'Restarted: src/x.ts changed' });
  });

  it('is done at once for a run whose tasks are already final or gone', async () => {
    const tasks = new FakeTasks(['a']);
    tasks.set('a', 'completed');
    assert.deepEqual(await workflowRunHandle(tasks, ['a', 'removed']).done, { outcome: 'completed' });
    assert.equal(tasks.listeners, false);
  });
});
