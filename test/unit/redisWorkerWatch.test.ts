// The coordinator's watchdog (workerWatch.ts) on a redis-server of the test's own: a job no live
// worker can take (no worker has its pools, or no worker is up) is warned of once, naming what it
// needs and who is up, and runs once a worker that can take it joins; the fleet's slots (what an
// automatic concurrency adds) count the live, undrained workers that run a kind sent here.
import * as assert from 'node:assert/strict';
import { RedisExecution } from '../../src/backends/redis/redisExecution';
import { RedisWorker } from '../../src/backends/redis/redisWorker';
import type { TaskResult } from '../../src/core/model/model';
import { runningRecord } from '../support/runningRecord';
import { redisAvailable } from '../support/redisServer';
import { redisSuite } from '../support/redisSuite';
import { until } from '../support/until';

(redisAvailable() ? describe : describe.skip)('workerWatch (skipped without /usr/bin/redis-server)', function () {
  // The watchdog ticks every 2 s and warns of a job that waited longer than that.
  this.timeout(20_000);
  const suite = redisSuite('redis-watch');
  let n = 0;

  async function coordinator(prefix: string, warnings: string[]): Promise<RedisExecution> {
    const port = await RedisExecution.connect({ url: suite.redis.url, prefix, name: 'coordinator', onWarn: (m) => warnings.push(m) });
    suite.closeAfter(() => port.dispose());
    return port;
  }
  async function worker(prefix: string, name: string, resources: Record<string, number> = {}): Promise<RedisWorker> {
    const w = await RedisWorker.start({ url: suite.redis.url, prefix, name, concurrency: 2, resources });
    suite.closeAfter(() => w.close());
    return w;
  }

  it('warns once of a job that needs pools no live worker has, then runs it when one with them joins', async () => {
    const prefix = `ww${++n}`;
    await worker(prefix, 'plain');
    const warnings: string[] = [];
    const port = await coordinator(prefix, warnings);
    let outcome: { result: TaskResult | undefined; error: unknown } | undefined;
    port.start(runningRecord('train', { command: 'echo trained', resources: { gpu: 1 } }), 1, undefined, undefined, undefined, (result, error) => {
      outcome = { result, error };
    });
    await until(() => warnings.length > 0, 8000, 'the warning');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^1 task \(`train`\) wait in Redis for a worker with pools gpu: no live worker has them \(up: plain \(no pools\)\)/);
    assert.match(warnings[0]!, /orchestrator worker --resources gpu=1/);
    // Another tick says nothing new.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    await worker(prefix, 'gpu-box', { gpu: 1 });
    await until(() => outcome !== undefined, 8000, 'the job running on the worker with the pool');
    assert.equal(outcome?.error, undefined);
    assert.equal(outcome?.result?.worker, 'gpu-box');
  });

  it("counts the fleet's slots: live, undrained workers that run a kind it sends, followed as they come and go", async () => {
    const prefix = `ww${++n}`;
    const start = async (name: string, concurrency: number, kinds?: string[]): Promise<RedisWorker> => {
      const w = await RedisWorker.start({ url: suite.redis.url, prefix, name, concurrency, ...(kinds ? { kinds } : {}) });
      suite.closeAfter(() => w.close());
      return w;
    };
    const w1 = await start('w1', 3);
    await start('w2', 2);
    await start('other-kinds', 7, ['noop']);
    const port = await coordinator(prefix, []);
    assert.equal(port.slots, 5, 'known when connect resolves: 3 + 2, the worker running only `noop` not counted');
    const seen: number[] = [];
    port.onDidChangeSlots((slots) => seen.push(slots));
    await start('w3', 4);
    await until(() => port.slots === 9, 8000, 'w3 joining (a heartbeat tick)');
    await w1.drain(0);
    await until(() => port.slots === 6, 8000, 'w1 draining');
    await w1.close();
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(seen, [9, 6], 'each change told once; a drained worker leaving changes nothing');
  });

  it('warns of jobs waiting with no worker up at all', async () => {
    const prefix = `ww${++n}`;
    const warnings: string[] = [];
    const port = await coordinator(prefix, warnings);
    for (const id of ['a', 'b']) port.start(runningRecord(id, { command: 'true' }), 1, undefined, undefined, undefined, () => undefined);
    await until(() => warnings.length > 0, 8000, 'the warning');
    assert.match(warnings[0]!, /^2 tasks \(`a`, `b`\) wait in Redis: no worker takes new jobs; start one with `orchestrator worker --redis URL`/);
  });
});
