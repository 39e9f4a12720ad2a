// A service re-attached after a restore (a window reload while its attempt runs on a remote port):
// if it was not Ready yet, it is watched as a started attempt is (its output probe and its readiness
// timer, from the restore on); if it was Ready, nothing times it out. Without that it waited for ever.
import * as assert from 'node:assert/strict';
import type { ExecutionHandle, OutcomeCallback, OutputCallback } from '../../src/core/execution/executionPort';
import type { RemoteExecution } from '../../src/core/execution/routedExecution';
import { CancelledError } from '../../src/core/model/errors';
import type { TaskRecord, TaskStatus } from '../../src/core/model/model';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import { MemoryStore } from '../../src/core/ports';
import { STATE_KEY } from '../../src/core/state/snapshot';
import { ManualClock, settle } from '../support/manualClock';

interface Run {
  handle: ExecutionHandle;
  onOutput: OutputCallback | undefined;
  done: OutcomeCallback;
  reattached: boolean;
}

/** A remote port in memory that can follow an attempt again: its attempts run until cancelled; the test plays the worker. */
class ReattachingRemote implements RemoteExecution {
  readonly kinds = new Set(['remote']);
  onReady: RemoteExecution['onReady'];
  readonly running = new Map<string, Run>();
  start(task: TaskRecord, _attempt: number, _timeoutMs: number | undefined, _run: unknown, onOutput: OutputCallback | undefined, done: OutcomeCallback) {
    return this.follow(task, onOutput, done, false);
  }
  reattach(task: TaskRecord, _attempt: number, onOutput: OutputCallback | undefined, done: OutcomeCallback): ExecutionHandle {
    return this.follow(task, onOutput, done, true);
  }
  private follow(task: TaskRecord, onOutput: OutputCallback | undefined, done: OutcomeCallback, reattached: boolean): ExecutionHandle {
    const handle = { task };
    this.running.set(task.id, { handle, onOutput, done, reattached });
    return handle;
  }
  async cancel(handle: ExecutionHandle, reason?: string): Promise<void> {
    const run = this.running.get(handle.task.id);
    if (run?.handle !== handle) return;
    this.running.delete(handle.task.id);
    run.done(undefined, new CancelledError(reason ?? 'cancelled'), handle.task);
  }
  async dispose(): Promise<void> {
    for (const { handle } of [...this.running.values()]) await this.cancel(handle);
  }
}

/** A saved record as a session that ended with it in `status` left it. */
function saved(id: string, status: TaskStatus, spec: Partial<TaskRecord['spec']>, extra: Partial<TaskRecord> = {}): TaskRecord {
  const running = status === 'running';
  return {
    id,
    name: id,
    kind: 'remote',
    status,
    priority: 0,
    attempts: running ? 1 : 0,
    createdAt: 1,
    ...(running ? { startedAt: 2 } : {}),
    history: running
      ? [
          { status: 'created', at: 1 },
          { status: 'scheduled', at: 1 },
          { status: 'running', at: 2 },
        ]
      : [{ status, at: 1 }],
    spec: { name: id, kind: 'remote', command: 'true', ...spec },
    dependsOn: [],
    ...extra,
  };
}

describe('a service re-attached after a restore', () => {
  let o: OrchestratorImpl | undefined;
  afterEach(async () => {
    await o?.dispose();
    o = undefined;
  });

  async function restore(tasks: TaskRecord[], clock: ManualClock): Promise<{ o: OrchestratorImpl; remote: ReattachingRemote }> {
    const store = new MemoryStore();
    await store.update(STATE_KEY, { version: 1, savedAt: 2, tasks });
    const remote = new ReattachingRemote();
    o = await createOrchestrator({ store, remote, clock });
    return { o, remote };
  }

  it('not Ready yet: its output probe makes it Ready through the re-attached attempt, and its dependent starts', async () => {
    const clock = new ManualClock(10);
    const { o, remote } = await restore(
      [saved('svc', 'running', { readyWhen: { output: 'up' }, readyTimeoutMs: 5000 }), saved('dep', 'created', {}, { dependsOn: ['svc'] })],
      clock,
    );
    assert.equal(remote.running.get('svc')?.reattached, true, 'the service attempt is followed again, not started again');
    assert.equal(o.getTask('dep')?.status, 'created');
    remote.running.get('svc')?.onOutput?.('booting\n');
    assert.equal(o.getTask('svc')?.ready, undefined);
    remote.running.get('svc')?.onOutput?.('up\n');
    assert.notEqual(o.getTask('svc')?.ready, undefined, 'Ready from the output probe');
    await settle();
    assert.equal(remote.running.get('dep')?.reattached, false, 'the dependent started');
    assert.equal(o.getTask('dep')?.status, 'running');
  });

  it('never Ready: fails with the readiness timeout, counted from the restore, instead of waiting for ever', async () => {
    const clock = new ManualClock(10);
    const { o, remote } = await restore(
      [saved('svc', 'running', { readyWhen: { output: 'up' }, readyTimeoutMs: 5000 }), saved('dep', 'created', {}, { dependsOn: ['svc'] })],
      clock,
    );
    await clock.advance(4999);
    assert.equal(o.getTask('svc')?.status, 'running', 'not before readyTimeoutMs from the restore');
    await clock.advance(1);
    await settle();
    const svc = o.getTask('svc');
    assert.equal(svc?.status, 'failed');
    assert.match(svc?.error?.message ?? '', /was not ready within 5000 ms/);
    assert.equal(remote.running.has('svc'), false, 'its attempt was stopped');
    assert.equal(o.getTask('dep')?.status, 'cancelled');
  });

  it('already Ready: no readiness timer (past readyTimeoutMs nothing fails), and its dependent runs', async () => {
    const clock = new ManualClock(10);
    const { o, remote } = await restore(
      [
        saved('svc', 'running', { readyWhen: { output: 'up' }, readyTimeoutMs: 5000 }, { ready: { at: 3 } }),
        saved('dep', 'created', {}, { dependsOn: ['svc'] }),
      ],
      clock,
    );
    await settle();
    assert.equal(o.getTask('dep')?.status, 'running');
    await clock.advance(60_000);
    await settle();
    assert.equal(o.getTask('svc')?.status, 'running');
    assert.notEqual(o.getTask('svc')?.ready, undefined);
    assert.equal(remote.running.has('svc'), true);
  });
});
