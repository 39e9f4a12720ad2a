// The coordinator's bulk adds (addBatcher.ts) on a redis-server of the test's own: every add of one
// turn goes to Redis together, in order, and a job BullMQ refuses fails alone.
import * as assert from 'node:assert/strict';
import { Queue, type ConnectionOptions } from 'bullmq';
import { AddBatcher, FIRST_BULK, MAX_BULK } from '../../src/backends/redis/addBatcher';
import { PROTOCOL_VERSION, type JobData, type JobReturn } from '../../src/backends/redis/protocol';
import { redisAvailable } from '../support/redisServer';
import { redisSuite } from '../support/redisSuite';

(redisAvailable() ? describe : describe.skip)('addBatcher (skipped without /usr/bin/redis-server)', function () {
  this.timeout(15_000);
  const suite = redisSuite('redis-bulk');
  let queue: Queue<JobData, JobReturn>;
  afterEach(async () => {
    await queue?.close();
  });

  const data = (i: number): JobData => ({ v: PROTOCOL_VERSION, task: { id: `t${i}` } as JobData['task'], attempt: 1, coordinator: 'test' });

  it('adds every job of one turn in bulk, in the order they were added, in bulks growing from a small first one', async () => {
    queue = new Queue<JobData, JobReturn>('bulk', { connection: suite.commands as unknown as ConnectionOptions, prefix: 'b1' });
    const batcher = new AddBatcher(queue);
    const sent: number[] = [];
    const addBulk = queue.addBulk.bind(queue);
    queue.addBulk = (jobs) => {
      sent.push(jobs.length);
      return addBulk(jobs);
    };
    const n = MAX_BULK * 3 + 5;
    await Promise.all(Array.from({ length: n }, (_, i) => batcher.add('noop', data(i), { jobId: `j${i}` })));
    // The first bulk is small (the fleet starts at once), each next twice the last, up to MAX_BULK.
    assert.deepEqual([FIRST_BULK, MAX_BULK], [32, 1000], 'the sizes this test spells out');
    assert.deepEqual(sent, [32, 64, 128, 256, 512, 1000, 1000, 13]);
    const waiting = await queue.getWaiting(0, -1);
    assert.equal(waiting.length, n);
    assert.deepEqual(
      waiting.map((j) => j.id),
      Array.from({ length: n }, (_, i) => `j${i}`),
    );
  });

  it('rejects only the job BullMQ refuses; the others of its bulk are added', async () => {
    queue = new Queue<JobData, JobReturn>('bulk', { connection: suite.commands as unknown as ConnectionOptions, prefix: 'b2' });
    const batcher = new AddBatcher(queue);
    const outcomes = await Promise.allSettled([
      batcher.add('noop', data(1), { jobId: 'a' }),
      batcher.add('noop', data(2), { jobId: 'b', priority: 2 ** 30 }),
      batcher.add('noop', data(3), { jobId: 'c' }),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /[Pp]riority/);
    const ids = (await queue.getWaiting(0, -1)).map((j) => j.id).sort();
    assert.deepEqual(ids, ['a', 'c']);
  });
});
