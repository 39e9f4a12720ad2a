import * as assert from 'node:assert/strict';
import { RECONNECT_MAX_MS, reconnectDelay, redisOptions } from '../../src/backends/redis/connection';
import { ValidationError } from '../../src/core/model/errors';
import { RedisExecution } from '../../src/backends/redis/redisExecution';
import { RedisWorker } from '../../src/backends/redis/redisWorker';

describe('redis connection', () => {
  it('reads host, port, db, user and password from a redis:// URL', () => {
    const o = redisOptions('redis://ann:s%40cret@cache.example:6380/3');
    assert.equal(o.host, 'cache.example');
    assert.equal(o.port, 6380);
    assert.equal(o.db, 3);
    assert.equal(o.username, 'ann');
    assert.equal(o.password, 's@cret');
    assert.equal(o.tls, undefined);
    assert.equal(o.maxRetriesPerRequest, null);
  });

  it('defaults to port 6379 and db 0; rediss:// turns TLS on with the host as server name', () => {
    const o = redisOptions('rediss://cache.example');
    assert.equal(o.port, 6379);
    assert.equal(o.db, 0);
    assert.deepEqual(o.tls, { servername: 'cache.example' });
  });

  it('a password given apart wins over the one in the URL', () => {
    assert.equal(redisOptions('redis://:fromurl@h', 'fromsecret').password, 'fromsecret');
    assert.equal(redisOptions('redis://h', 'only').password, 'only');
    assert.equal(redisOptions('redis://h').password, undefined);
  });

  it('refuses what is not a redis URL, naming what is allowed', () => {
    for (const bad of ['', 'cache:6379', 'http://h', 'redis://h/abc', 'redis://']) {
      assert.throws(
        () => redisOptions(bad),
        (e: unknown) => e instanceof ValidationError && e.field === 'redis.url' && /redis:\/\/.*rediss:\/\//.test(e.message),
        bad,
      );
    }
  });

  it('reconnects after 100 ms, doubling, capped at 5 s, and never gives up', () => {
    assert.deepEqual([1, 2, 3, 4].map(reconnectDelay), [100, 200, 400, 800]);
    assert.equal(reconnectDelay(7), RECONNECT_MAX_MS);
    assert.equal(reconnectDelay(10_000), RECONNECT_MAX_MS);
    const o = redisOptions('redis://h');
    assert.equal(typeof o.retryStrategy, 'function');
    assert.equal(o.retryStrategy?.(50), RECONNECT_MAX_MS);
  });

  it('RedisExecution.connect and RedisWorker.start refuse bad options before opening a connection', async () => {
    // Nothing listens on port 1: a connection attempt would hang the test in reconnects, not refuse.
    const url = 'redis://127.0.0.1:1';
    await assert.rejects(RedisExecution.connect({ url, abortSettleMs: -1 }), /Expected `abortSettleMs` to be a non-negative number, got `-1`/);
    await assert.rejects(RedisExecution.connect({ url, kinds: [''] }), /Expected `kinds` to be an array of non-empty strings/);
    await assert.rejects(RedisExecution.connect({ url: 'http://x' }), ValidationError);
    await assert.rejects(RedisWorker.start({ url, concurrency: 0 }), /Expected `concurrency` to be an integer >= 1, got `0`/);
    await assert.rejects(RedisWorker.start({ url, resources: { gpu: 1.5 } }), /Expected `resources.gpu` to be an integer >= 1/);
  });
});
