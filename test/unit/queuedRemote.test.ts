// A remote backend whose attempts wait in a queue until a worker takes them (RemoteExecution.startsLater,
// as the Redis backend's jobs do): the task stays Scheduled while its attempt is queued, holding its
// slot, and is Running from the moment the port says a worker took it; cancelled while queued it is
// Cancelled from Scheduled, no attempt counted; a task restored Scheduled is resumed, not started.
import * as assert from 'node:assert/strict';
import type { ExecutionHandle, OutcomeCallback } from '../../src/core/execution/executionPort';
import type { RemoteExecution } from '../../src/core/execution/routedExecution';
import { CancelledError } from '../../src/core/model/errors';
import type { TaskRecord } from '../../src/core/model/model';
import { MemoryStore } from '../../src/core/ports';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';

interface Job {
  task: TaskRecord;
  attempt: number;
  done: OutcomeCallback;
  how: 'start' | 'resume';
}

/** A queue of jobs in memory, shared by the coordinators of a test as Redis is: `take` is a worker taking one. */
class QueuedRemote implements RemoteExecution {
  readonly kinds = new Set(['remote']);
  readonly startsLater = true;
  onStarted: ((task: TaskRecord) => void) | undefined;
  cancelled: string[] = [];
  detached = false;

  constructor(readonly jobs = new Map<string, Job>()) {}

  private queue(how: Job['how'], task: TaskRecord, attempt: number, done: OutcomeCallback): ExecutionHandle {
    this.jobs.set(`${task.id}.${attempt}`, { task, attempt, done, how });
    return { task };
  }
  start(task: TaskRecord, attempt: number, _t: unknown, _r: unknown, _o: unknown, done: OutcomeCallback): ExecutionHandle {
    return this.queue('start', task, attempt, done);
  }
  resume(task: TaskRecord, attempt: number, _t: unknown, _r: unknown, _o: unknown, done: OutcomeCallback): ExecutionHandle {
    return this.queue('resume', task, attempt, done);
  }
  /** A worker takes the job of `id`. */
  take(id: string): void {
    const job = [...this.jobs.values()].find((j) => j.task.id === id);
    assert.ok(job, `a job of ${id}`);
    this.onStarted?.(job.task);
  }
  /** The job of `id` ends (its task record the one it was given). */
  finish(id: string): void {
    const [key, job] = [...this.jobs].find(([, j]) => j.task.id === id) ?? [];
    assert.ok(key && job, `a job of ${id}`);
    this.jobs.delete(key);
    job.done({ worker: 'w1' }, undefined, job.task);
  }
  async cancel(handle: ExecutionHandle, reason?: string): Promise<void> {
    const [key, job] = [...this.jobs].find(([, j]) => j.task === handle.task) ?? [];
    if (!key || !job) return;
    this.jobs.delete(key);
    this.cancelled.push(job.task.id);
    await Promise.resolve();
    job.done(undefined, new CancelledError(reason), job.task);
  }
  reattach(): ExecutionHandle | undefined {
    return undefined;
  }
  async detach(): Promise<void> {
    this.detached = true;
  }
  async dispose(): Promise<void> {}
}

const tick = () => new Promise((r) => setImmediate(r));

describe('a remote backend whose attempts wait in a queue (startsLater)', () => {
  it('keeps a queued task Scheduled, its slot held, and runs it from when a worker takes it', async () => {
    const remote = new QueuedRemote();
    const o = await createOrchestrator({ remote, concurrency: 1 });
    try {
      const a = await o.scheduleTask({ name: 'a', kind: 'remote' });
      const b = await o.scheduleTask({ name: 'b', kind: 'remote' });
      await tick();
      assert.equal(o.getTask(a)?.status, 'scheduled', 'queued, not running');
      assert.equal(o.getTask(a)?.attempts, 0);
      assert.equal(o.getSystemStatus().concurrency.running, 1, 'its slot is held');
      assert.equal(remote.jobs.size, 1, 'b waits here for the slot');
      assert.deepEqual(
        o.getTaskQueue().map((r) => r.name),
        ['a', 'b'],
        'the queued task is in flight, ahead of the ready one',
      );
      remote.take(a);
      const running = o.getTask(a);
      assert.equal(running?.status, 'running');
      assert.equal(running?.attempts, 1, 'the attempt counts from its start');
      assert.deepEqual(
        running?.history.map((h) => h.status),
        ['created', 'scheduled', 'running'],
      );
      remote.finish(a);
      await tick();
      assert.equal(o.getTask(a)?.status, 'completed');
      assert.equal(o.getTask(a)?.result?.worker, 'w1');
      assert.equal(o.getTask(b)?.status, 'scheduled', 'b is queued in the freed slot');
      remote.finish(b);
      await o.whenIdle();
      assert.equal(o.getTask(b)?.status, 'completed', 'an outcome whose start went unseen still counts the attempt');
      assert.equal(o.getTask(b)?.attempts, 1);
    } finally {
      await o.dispose();
    }
  });

  it('cancels a queued task from Scheduled through the port: no attempt counted, its dependents cancelled', async () => {
    const remote = new QueuedRemote();
    const o = await createOrchestrator({ remote });
    try {
      const [a, b] = await o.scheduleWorkflow([
        { key: 'a', name: 'a', kind: 'remote' },
        { key: 'b', name: 'b', kind: 'remote', dependsOn: ['a'] },
      ]);
      await tick();
      await o.cancelTask(a as string, 'not needed');
      assert.deepEqual(remote.cancelled, [a], 'the queued job was withdrawn');
      const cancelled = o.getTask(a as string);
      assert.equal(cancelled?.status, 'cancelled');
      assert.equal(cancelled?.attempts, 0);
      assert.ok(!cancelled?.history.some((h) => h.status === 'running'), 'it never ran');
      assert.equal(o.getTask(b as string)?.status, 'cancelled');
      assert.equal(o.getSystemStatus().concurrency.running, 0, 'its slot is free');
    } finally {
      await o.dispose();
    }
  });

  it('withdraws the queued tasks of a failFast workflow that failed, as it cancels those not yet started', async () => {
    const remote = new QueuedRemote();
    const o = await createOrchestrator({ remote, concurrency: 2 });
    try {
      const [a, b] = await o.scheduleWorkflow(
        [
          { key: 'a', name: 'a', kind: 'remote' },
          { key: 'b', name: 'b', kind: 'remote' },
        ],
        { failFast: true },
      );
      await tick();
      remote.take(a as string);
      const queuedB = remote.jobs.get(`${b}.1`);
      assert.ok(queuedB, 'b is queued too');
      const job = remote.jobs.get(`${a}.1`);
      remote.jobs.delete(`${a}.1`);
      job?.done(undefined, new Error('exit 1'), job.task);
      await tick();
      assert.equal(o.getTask(a as string)?.status, 'failed');
      assert.deepEqual(remote.cancelled, [b], "b's queued job was withdrawn");
      assert.equal(o.getTask(b as string)?.status, 'cancelled');
      assert.equal(o.getTask(b as string)?.attempts, 0);
      remote.onStarted?.(queuedB.task);
      assert.equal(o.getTask(b as string)?.status, 'cancelled', 'a late start of a withdrawn attempt changes nothing');
    } finally {
      await o.dispose();
    }
  });

  it('resumes a task that was queued when the session ended, instead of queuing it again', async () => {
    const jobs = new Map<string, Job>();
    const store = new MemoryStore();
    const first = new QueuedRemote(jobs);
    const a = await createOrchestrator({ remote: first, store });
    const id = await a.scheduleTask({ name: 'queued', kind: 'remote' });
    await tick();
    assert.equal(a.getTask(id)?.status, 'scheduled');
    await a.dispose();
    assert.equal(first.detached, true, 'the queued job was let go, not withdrawn');
    assert.deepEqual(first.cancelled, []);

    const second = new QueuedRemote(jobs);
    const b = await createOrchestrator({ remote: second, store });
    try {
      await tick();
      assert.equal(b.getTask(id)?.status, 'scheduled');
      assert.equal(jobs.size, 1);
      assert.equal(jobs.get(`${id}.1`)?.how, 'resume', 'the same attempt, resumed');
      second.take(id);
      second.finish(id);
      await b.whenIdle();
      assert.equal(b.getTask(id)?.status, 'completed');
      assert.equal(b.getTask(id)?.attempts, 1);
    } finally {
      await b.dispose();
    }
  });

  it('runs a service at once (its readiness clock starts with the attempt), not queued', async () => {
    const remote = new QueuedRemote();
    const o = await createOrchestrator({ remote });
    try {
      const id = await o.scheduleTask({ name: 'svc', kind: 'remote', readyWhen: { output: 'up' }, readyTimeoutMs: 60_000 });
      await tick();
      assert.equal(o.getTask(id)?.status, 'running');
      assert.equal(o.getTask(id)?.attempts, 1);
      await o.cancelTask(id);
    } finally {
      await o.dispose();
    }
  });
});
