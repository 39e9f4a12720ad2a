// A completed job's outcome found in its queue's events stream (completedInStream.ts), on a
// redis-server of the test's own, with entries written as BullMQ writes them.
import * as assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { CompletedInStream } from '../../src/backends/redis/completedInStream';
import { redisAvailable } from '../support/redisServer';
import { redisSuite } from '../support/redisSuite';

(redisAvailable() ? describe : describe.skip)('completedInStream (skipped without /usr/bin/redis-server)', function () {
  this.timeout(15_000);
  const suite = redisSuite('redis-stream');
  let n = 0;

  /** A fresh stream and a lookup on it; `reads` counts its XREVRANGE round trips. */
  function stream() {
    const commands = suite.commands;
    const key = `s${++n}:events`;
    const counted = Object.create(commands) as Redis;
    let reads = 0;
    counted.xrevrange = ((...args: Parameters<Redis['xrevrange']>) => {
      reads++;
      return commands.xrevrange(...args);
    }) as Redis['xrevrange'];
    const completed = (jobId: string, createdAt: number | undefined, worker = 'w1') =>
      commands.xadd(key, '*', 'event', 'completed', 'jobId', jobId, 'returnvalue', JSON.stringify({ result: {}, worker, createdAt }), 'prev', 'active');
    const other = (event: string, jobId: string) => commands.xadd(key, '*', 'event', event, 'jobId', jobId);
    return { key, lookup: new CompletedInStream(counted, key), completed, other, reads: () => reads };
  }

  it('finds a completion by job id and record, and none for an id only waiting or never seen', async () => {
    const s = stream();
    await s.other('added', 'a.1');
    await s.completed('a.1', 100);
    await s.other('waiting', 'b.1');
    const [found, waiting, never] = await Promise.all([s.lookup.find('a.1', 100), s.lookup.find('b.1', 100), s.lookup.find('z.1', 100)]);
    assert.equal(JSON.parse(found ?? 'null').worker, 'w1');
    assert.equal(waiting, undefined);
    assert.equal(never, undefined);
  });

  it("an earlier session's job of the same id is not this record's; a return without createdAt is nobody's", async () => {
    const s = stream();
    await s.completed('t.1', 1, 'earlier');
    await s.completed('t.1', 2, 'this');
    await s.completed('u.1', undefined);
    assert.equal(JSON.parse((await s.lookup.find('t.1', 1)) ?? 'null').worker, 'earlier');
    assert.equal(JSON.parse((await s.lookup.find('t.1', 2)) ?? 'null').worker, 'this');
    assert.equal(await s.lookup.find('t.1', 3), undefined);
    assert.equal(await s.lookup.find('u.1', 0), undefined);
  });

  it('answers every find of one turn with one scan, over pages, and stops once all are found', async () => {
    const s = stream();
    // 2,500 entries: the oldest job's completion is on the third page of 1,000.
    await s.completed('old.1', 7);
    for (let i = 0; i < 2498; i++) await s.other('active', `x${i}.1`);
    await s.completed('new.1', 7);
    const [old, recent] = await Promise.all([s.lookup.find('old.1', 7), s.lookup.find('new.1', 7)]);
    assert.ok(old && recent);
    assert.equal(s.reads(), 3, 'one scan of three pages for both');
    // Only the newest wanted: the scan stops on the first page.
    assert.ok(await s.lookup.find('new.1', 7));
    assert.equal(s.reads(), 4);
  });

  it('a Redis error rejects the finds of its scan; the next find scans again', async () => {
    const commands = suite.commands;
    const s = stream();
    await commands.set(s.key, 'not a stream');
    await assert.rejects(Promise.all([s.lookup.find('a.1', 1), s.lookup.find('b.1', 1)]), /WRONGTYPE/);
    await commands.del(s.key);
    await s.completed('a.1', 1);
    assert.ok(await s.lookup.find('a.1', 1));
  });
});
