// The coordinator's queue lanes on a redis-server of the test's own: how long the events stream its
// QueueEvents reads is kept. With BullMQ's default (about 10,000 entries) a coordinator that fell a
// few thousand jobs behind, as under a 10,000-task burst, lost outcomes to trimming and those tasks
// stayed Running for ever.
import * as assert from 'node:assert/strict';
import { fleetStatus } from '../../src/backends/redis/fleetStatus';
import { redisOptions } from '../../src/backends/redis/connection';
import { EVENTS_MAX_LEN, openLane, type Lane } from '../../src/backends/redis/queueLane';
import { redisAvailable } from '../support/redisServer';
import { redisSuite } from '../support/redisSuite';

(redisAvailable() ? describe : describe.skip)('queueLane (skipped without /usr/bin/redis-server)', function () {
  this.timeout(15_000);
  const suite = redisSuite('redis-lane');
  let lane: Lane | undefined;
  afterEach(async () => {
    await lane?.events?.close();
    await lane?.queue.close();
    lane = undefined;
  });

  const maxLenEvents = (prefix: string, name: string): Promise<string | null> => suite.commands.hget(`${prefix}:${name}:meta`, 'opts.maxLenEvents');

  it('keeps the events stream long enough for a coordinator thousands of jobs behind', async () => {
    assert.ok(EVENTS_MAX_LEN >= 100_000, `EVENTS_MAX_LEN is ${EVENTS_MAX_LEN}`);
    lane = openLane(
      'p1.run.any',
      'p1',
      suite.commands,
      redisOptions(suite.redis.url),
      () => undefined,
      () => false,
    );
    await lane.ready;
    await lane.queue.waitUntilReady();
    // The Queue writes its meta asynchronously after it connects; wait for it, bounded.
    const deadline = Date.now() + 2000;
    while ((await maxLenEvents('p1', 'p1.run.any')) === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await maxLenEvents('p1', 'p1.run.any'), String(EVENTS_MAX_LEN));
  });

  it('the fleet view reads counts without shortening the stream again', async () => {
    lane = openLane(
      'p2.run.any',
      'p2',
      suite.commands,
      redisOptions(suite.redis.url),
      () => undefined,
      () => false,
    );
    await lane.ready;
    const deadline = Date.now() + 2000;
    while ((await maxLenEvents('p2', 'p2.run.any')) === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const status = await fleetStatus(suite.commands, 'p2', true, ['p2.run.any']);
    assert.deepEqual(
      status.queues.map((q) => q.name),
      ['p2.run.any'],
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await maxLenEvents('p2', 'p2.run.any'), String(EVENTS_MAX_LEN));
  });
});
