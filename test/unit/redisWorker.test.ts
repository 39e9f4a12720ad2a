// The worker's own rules: what it refuses, how it drains, what it says about itself.
import * as assert from 'node:assert/strict';
import { Queue, QueueEvents } from 'bullmq';
import { RedisExecution } from '../../src/backends/redis/redisExecution';
import { RedisWorker } from '../../src/backends/redis/redisWorker';
import { decodeFailure, jobId, queueName } from '../../src/backends/redis/protocol';
import { ExecutionError } from '../../src/core/model/errors';
import type { TaskRecord, TaskResult } from '../../src/core/model/model';
import { redisAvailable, startRedis, type RedisServer } from '../support/redisServer';

function record(id: string, kind: string, command = 'true'): TaskRecord {
  return { id, name: id, kind, status: 'running', priority: 0, attempts: 1, createdAt: 0, history: [], spec: { name: id, kind, command }, dependsOn: [] };
}

/** Starts one attempt through `port` and resolves with its outcome. */
function run(port: RedisExecution, task: TaskRecord, timeoutMs?: number) {
  return new Promise<{ result: TaskResult | undefined; error: unknown }>((resolve) => {
    port.start(task, 1, timeoutMs, undefined, undefined, (result, error) => resolve({ result, error }));
  });
}

(redisAvailable() ? describe : describe.skip)('redisWorker (skipped without /usr/bin/redis-server)', function () {
  // Real processes and a real Redis: a lost worker is noticed after its heartbeat goes stale (6 s).
  this.timeout(30_000);
  let redis: RedisServer;
  let n = 0;
  let prefix = '';
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });
  beforeEach(() => {
    prefix = `w${++n}`;
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  async function coordinator(kinds = ['shell']) {
    const port = await RedisExecution.connect({ url: redis.url, prefix, kinds, name: 'coordinator' });
    closers.push(() => port.dispose());
    return port;
  }
  async function worker(name: string, options: { kinds?: string[]; concurrency?: number } = {}) {
    const w = await RedisWorker.start({ url: redis.url, prefix, name, killGraceMs: 200, concurrency: 2, ...options });
    closers.push(() => w.close());
    return w;
  }

  it('refuses a kind it was not told to run: the attempt fails REFUSED, naming the kinds it runs', async () => {
    await worker('shell-only');
    const port = await coordinator(['shell', 'function']);
    const { error } = await run(port, record('f', 'function'));
    assert.ok(error instanceof ExecutionError);
    assert.equal(error.errorCode, 'REFUSED');
    assert.match(error.message, /shell-only.*runs kinds shell, not `function`/);
  });

  it('refuses a job of another protocol version', async () => {
    await worker('v1');
    const name = queueName(prefix, []);
    const queue = new Queue(name, { connection: { host: '127.0.0.1', port: redis.port }, prefix });
    const events = new QueueEvents(name, { connection: { host: '127.0.0.1', port: redis.port }, prefix });
    closers.push(async () => {
      await events.close();
      await queue.close();
    });
    await events.waitUntilReady();
    const job = await queue.add('future', { v: 99, task: record('x', 'shell'), attempt: 1, coordinator: 'someone' }, { jobId: jobId('x', 1) });
    const reason = await job.waitUntilFinished(events, 10_000).then(
      () => assert.fail('a job of version 99 ran'),
      (e: unknown) => (e as Error).message,
    );
    const failure = decodeFailure(reason);
    assert.equal(failure.kind, 'refused');
    assert.equal(failure.code, 'PROTOCOL');
    assert.equal(failure.worker, 'v1');
  });

  it('drain: lets a running attempt finish, takes nothing new, and says it is draining', async () => {
    const w = await worker('drainer');
    const port = await coordinator();
    const running = run(port, record('slow', 'shell', 'sleep 0.3; echo done'));
    for (let i = 0; i < 100 && w.runningCount === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(w.runningCount, 1);
    const drained = w.drain(5000);
    const later = run(port, record('later', 'shell'));
    await drained;
    const first = await running;
    assert.equal(first.error, undefined);
    assert.match(first.result?.output ?? '', /done/);
    const fleet = await port.fleet();
    assert.deepEqual(
      fleet.workers.map((x) => [x.name, x.draining]),
      [['drainer', true]],
    );
    // A job the draining worker had fetched just before it paused is moved back (delayed), not run.
    const counts = fleet.queues.find((q) => q.name === queueName(prefix, []));
    assert.equal((counts?.waiting ?? 0) + (counts?.delayed ?? 0), 1, `the later job waits for another worker: ${JSON.stringify(counts)}`);
    await worker('next');
    const second = await later;
    assert.equal(second.result?.worker, 'next');
  });

  it('drain past its grace stops what still runs: the attempt fails INTERRUPTED for the coordinator to retry', async () => {
    const w = await worker('short-grace');
    const port = await coordinator();
    const running = run(port, record('long', 'shell', 'sleep 30'));
    for (let i = 0; i < 100 && w.runningCount === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await w.drain(50);
    const { error } = await running;
    assert.ok(error instanceof ExecutionError, String(error));
    assert.equal(error.errorCode, 'INTERRUPTED');
  });

  it('close removes its heartbeat: the fleet no longer lists it', async () => {
    const w = await RedisWorker.start({ url: redis.url, prefix, name: 'leaving', concurrency: 1 });
    const port = await coordinator();
    assert.deepEqual(
      (await port.fleet()).workers.map((x) => x.name),
      ['leaving'],
    );
    await w.close();
    assert.deepEqual((await port.fleet()).workers, []);
  });
});
