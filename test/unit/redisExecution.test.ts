// The Redis backend against the execution port's conformance suite: a RedisExecution coordinator and
// an in-process RedisWorker running the suite's executors, on a redis-server of the test's own.
import { RedisExecution } from '../../src/backends/redis/redisExecution';
import { RedisWorker } from '../../src/backends/redis/redisWorker';
import { conformanceExecutors, executionConformance } from '../support/executionConformance';
import { redisAvailable, startRedis, type RedisServer } from '../support/redisServer';

const kinds = Object.keys(conformanceExecutors);

(redisAvailable() ? describe : describe.skip)('redisExecution (skipped without /usr/bin/redis-server)', function () {
  // Real processes and a real Redis: a lost worker is noticed after its heartbeat goes stale (6 s).
  this.timeout(30_000);
  let redis: RedisServer;
  let worker: RedisWorker;
  const prefix = 'conformance';

  before(async () => {
    redis = await startRedis();
    worker = await RedisWorker.start({ url: redis.url, prefix, name: 'w1', concurrency: 8, kinds, executors: conformanceExecutors, abortSettleMs: 50 });
  });
  after(async () => {
    await worker?.close();
    await redis?.stop();
  });

  executionConformance('RedisExecution', {
    makePort: (_executors, abortSettleMs) => RedisExecution.connect({ url: redis.url, prefix, kinds, name: 'coordinator', abortSettleMs }),
  });
});
