// The Redis backend under the real orchestrator: a coordinator (createOrchestrator({ remote })) and
// in-process workers on a redis-server of the test's own. Work is shell commands whose traces (files
// in a scratch directory) show where and when they ran.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Job, Queue, type ConnectionOptions } from 'bullmq';
import { redisOptions } from '../../src/backends/redis/connection';
import { PROTOCOL_VERSION, jobId, queueName, type JobData } from '../../src/backends/redis/protocol';
import { RedisExecution } from '../../src/backends/redis/redisExecution';
import { RedisWorker, type RedisWorkerOptions } from '../../src/backends/redis/redisWorker';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import type { TaskSpec } from '../../src/core/model/model';
import { gone } from '../support/processChecks';
import { redisAvailable } from '../support/redisServer';
import { redisSuite } from '../support/redisSuite';
import { until } from '../support/until';

(redisAvailable() ? describe : describe.skip)('redis backend under the orchestrator (skipped without /usr/bin/redis-server)', function () {
  // Real processes and a real Redis: a lost worker is noticed after its heartbeat goes stale (6 s).
  this.timeout(30_000);
  const suite = redisSuite('redis-backend');
  /** The coordinator's port of the test's fleet. */
  let remote: RedisExecution | undefined;
  let n = 0;

  /** A worker closed after the test. */
  async function startWorker(options: RedisWorkerOptions): Promise<RedisWorker> {
    const w = await RedisWorker.start(options);
    suite.closeAfter(() => w.close());
    return w;
  }

  /** A fleet of its own prefix per test, so queues and heartbeats of another test never mix in. */
  async function fleet(workerOptions: Omit<RedisWorkerOptions, 'url' | 'prefix'>[], resources: Record<string, number> = {}) {
    const prefix = `t${++n}`;
    for (const o of workerOptions) await startWorker({ url: suite.redis.url, prefix, killGraceMs: 200, ...o });
    const port = await RedisExecution.connect({ url: suite.redis.url, prefix, name: 'coordinator' });
    suite.closeAfter(() => port.dispose());
    remote = port;
    return createOrchestrator({ remote, concurrency: 8, resources });
  }

  const sh = (key: string, command: string, extra: Partial<TaskSpec> = {}): TaskSpec => ({ key, name: key, kind: 'shell', command, ...extra });

  it('runs a workflow with dependencies on a worker; each record names the worker', async () => {
    const o = await fleet([{ name: 'w1', concurrency: 4 }]);
    const trace = join(suite.dir, 'trace');
    const step = (key: string, deps: string[] = []) => sh(key, `echo ${key} >> ${trace}`, { dependsOn: deps });
    const ids = await o.scheduleWorkflow([step('build'), step('lint', ['build']), step('test', ['build']), step('package', ['lint', 'test'])]);
    await o.whenIdle();
    for (const id of ids) {
      const r = o.getTask(id);
      assert.equal(r?.status, 'completed', `${r?.name}: ${JSON.stringify(r?.error)}`);
      assert.equal(r?.result?.worker, 'w1');
    }
    const order = readFileSync(trace, 'utf8').trim().split('\n');
    assert.equal(order[0], 'build');
    assert.equal(order[3], 'package');
    assert.deepEqual([...order].sort(), ['build', 'lint', 'package', 'test']);
    await o.dispose();
  });

  it('a task is Running only once a worker takes its job: the rest wait Scheduled, in Redis', async () => {
    const o = await fleet([{ name: 'w1', concurrency: 1 }]);
    let most = 0;
    const attemptsWhenRunning: number[] = [];
    o.onDidChangeTask((r) => {
      most = Math.max(most, o.getSystemStatus().counts.running);
      if (r.status === 'running') attemptsWhenRunning.push(r.attempts);
    });
    const ids = await o.scheduleWorkflow(['a', 'b', 'c'].map((key) => sh(key, 'sleep 0.3')));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(o.getSystemStatus().concurrency.running, 3, 'all three handed to Redis (concurrency 8)');
    assert.equal(o.getSystemStatus().counts.running, 1, 'one taken by the worker');
    assert.equal(o.getSystemStatus().counts.scheduled, 2, 'two waiting for it');
    await o.whenIdle();
    assert.equal(most, 1, 'never more Running than the worker runs');
    assert.deepEqual(attemptsWhenRunning, [1, 1, 1], 'each attempt counted once, at its start');
    const records = ids.map((id) => o.getTask(id)!);
    for (const r of records) assert.equal(r.status, 'completed');
    const byStart = [...records].sort((x, y) => (x.startedAt ?? 0) - (y.startedAt ?? 0));
    for (let i = 1; i < byStart.length; i++)
      assert.ok((byStart[i]!.startedAt ?? 0) >= (byStart[i - 1]!.finishedAt ?? Infinity) - 50, 'each started when the one before it had ended');
  });

  it('a worker takes waiting jobs highest priority first', async () => {
    const o = await fleet([]);
    const trace = join(suite.dir, 'trace');
    const ids = await o.scheduleWorkflow([0, 10, 5, -3].map((priority) => sh(`p${priority}`, `echo ${priority} >> ${trace}`, { priority })));
    const waiting = async () => (await remote!.fleet()).queues.find((q) => q.name === `t${n}.run.any`)?.waiting ?? 0;
    for (let i = 0; i < 100 && (await waiting()) < 4; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await waiting(), 4, 'all four are queued before a worker exists');
    await startWorker({ url: suite.redis.url, prefix: `t${n}`, name: 'late', concurrency: 1 });
    await o.whenIdle();
    for (const id of ids) assert.equal(o.getTask(id)?.status, 'completed');
    assert.deepEqual(readFileSync(trace, 'utf8').trim().split('\n'), ['10', '5', '0', '-3']);
    await o.dispose();
  });

  it('routes by pool: a gpu task never runs on a worker without gpu', async () => {
    const o = await fleet(
      [
        { name: 'plain', concurrency: 4 },
        { name: 'gpu', concurrency: 4, resources: { gpu: 1 } },
      ],
      { gpu: 1 },
    );
    const specs = [0, 1, 2, 3].map((i) => sh(`g${i}`, 'true', { resources: { gpu: 1 } }));
    const ids = await o.scheduleWorkflow([...specs, ...[0, 1, 2, 3].map((i) => sh(`p${i}`, 'true'))]);
    await o.whenIdle();
    const ran = ids.map((id) => o.getTask(id));
    for (const r of ran) assert.equal(r?.status, 'completed', `${r?.name}: ${JSON.stringify(r?.error)}`);
    assert.deepEqual(
      ran.filter((r) => r?.spec.resources?.gpu).map((r) => r?.result?.worker),
      ['gpu', 'gpu', 'gpu', 'gpu'],
    );
    await o.dispose();
  });

  it('a worker with cpu=1 never runs two cpu=1 jobs at once, even when the coordinator admits more', async () => {
    // The coordinator believes in 4 cpu units; the only worker has 1: the worker moves the extra jobs back.
    const o = await fleet([{ name: 'single', concurrency: 4, resources: { cpu: 1 } }], { cpu: 4 });
    const lock = join(suite.dir, 'lock');
    const job = (i: number) => sh(`c${i}`, `mkdir ${lock} || exit 9; sleep 0.2; rmdir ${lock}`, { resources: { cpu: 1 } });
    const ids = await o.scheduleWorkflow([0, 1, 2, 3].map(job));
    await o.whenIdle();
    for (const id of ids) assert.equal(o.getTask(id)?.status, 'completed', JSON.stringify(o.getTask(id)?.error));
    await o.dispose();
  });

  it('cancel kills the remote process tree', async () => {
    const o = await fleet([{ name: 'w1', concurrency: 2 }]);
    const pidFile = join(suite.dir, 'pid');
    const [id] = await o.scheduleWorkflow([sh('sleeper', `sleep 30 & echo $! > ${pidFile}; wait`)]);
    assert.ok(id);
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 10_000, 'the sleep starting');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.equal(gone(pid), false);
    const began = Date.now();
    await o.cancelTask(id, 'stop it');
    await until(() => gone(pid), 3000, 'the remote sleep being killed');
    assert.ok(Date.now() - began < 3000);
    assert.equal(o.getTask(id)?.status, 'cancelled');
    await o.dispose();
  });

  it('a running task names its worker within a heartbeat, and keeps it when cancelled', async () => {
    const o = await fleet([{ name: 'w1', concurrency: 2 }]);
    const changes: (string | undefined)[] = [];
    o.onDidChangeTask((r) => changes.push(r.status === 'running' ? r.worker : undefined));
    const [id] = await o.scheduleWorkflow([sh('sleeper', 'sleep 30')]);
    assert.ok(id);
    // Named from its job while it runs (the watchdog's tick, every 2 s), not only at its end.
    await until(() => o.getTask(id)?.worker === 'w1', 5000, 'the worker named while running');
    assert.equal(o.getTask(id)?.status, 'running');
    assert.ok(changes.includes('w1'), 'a change event told it');
    await o.cancelTask(id, 'stop it');
    await until(() => o.getTask(id)?.status === 'cancelled', 3000, 'the cancel');
    assert.equal(o.getTask(id)?.worker, 'w1', 'a cancelled task still names where it ran');
    await o.dispose();
  });

  it("a job carries what a worker needs of its task, not the coordinator's bookkeeping", async () => {
    // No worker: the job waits in Redis, where it can be read.
    const o = await fleet([]);
    const [id] = await o.scheduleWorkflow([sh('build', 'echo hi', { env: { A: '1' }, priority: 3 })]);
    const queue = new Queue<JobData>(queueName(remote!.prefix, []), { connection: redisOptions(suite.redis.url) as ConnectionOptions, prefix: remote!.prefix });
    try {
      let job: Job<JobData> | undefined;
      const deadline = Date.now() + 5000;
      while (!(job = await Job.fromId<JobData>(queue, jobId(id!, 1))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(job, 'the job in Redis');
      assert.equal(job.data.v, PROTOCOL_VERSION);
      assert.deepEqual(Object.keys(job.data.task).sort(), ['createdAt', 'id', 'kind', 'name', 'spec']);
      assert.equal(job.data.task.createdAt, o.getTask(id!)?.createdAt);
      assert.equal(job.data.task.spec.command, 'echo hi');
      assert.deepEqual(job.data.task.spec.env, { A: '1' });
    } finally {
      await queue.close();
      await o.dispose();
    }
  });

  it('fleet(): lists live workers with their pools and the counts of their queues', async () => {
    await fleet([{ name: 'w1', concurrency: 2, resources: { gpu: 1 } }]);
    const status = await remote!.fleet();
    assert.equal(status.connected, true);
    assert.deepEqual(
      status.workers.map((w) => [w.name, w.pools, w.concurrency]),
      [['w1', { gpu: 1 }, 2]],
    );
    assert.deepEqual(
      status.queues.map((q) => q.name),
      [`t${n}.run.any`, `t${n}.run.gpu`],
    );
    assert.deepEqual(status.queues[0], { name: `t${n}.run.any`, waiting: 0, active: 0, delayed: 0, failed: 0 });
  });
});
