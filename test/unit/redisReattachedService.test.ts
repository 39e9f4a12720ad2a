// A window reload while a fleet service starts up: the worker's port probe fires while no
// coordinator listens, and the coordinator that restores and re-attaches still learns it was Ready,
// from the job's last progress (readiness is sticky there, protocol.ts), and runs its dependent.
// Real redis-server of the test's own, an in-process worker, two coordinators on one store.
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import { RedisExecution } from '../../src/backends/redis/redisExecution';
import { RedisWorker } from '../../src/backends/redis/redisWorker';
import { jobId, queueName } from '../../src/backends/redis/protocol';
import type { TaskRecord } from '../../src/core/model/model';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import { MemoryStore, type ReadyInfo } from '../../src/core/ports';
import { redisAvailable } from '../support/redisServer';
import { redisSuite } from '../support/redisSuite';
import { until } from '../support/until';
import { freePort } from '../support/freePort';
import { portServiceWorkflow } from '../support/portService';

// The service: listens on argv[2] once the file argv[3] exists (the test creates it after the
// reload began), says `accepted` on stdout for each connection, and runs until stopped.
const SERVER_JS = `
const [port, go] = [Number(process.argv[2]), process.argv[3]];
const fs = require('node:fs');
const wait = setInterval(() => {
  if (!fs.existsSync(go)) return;
  clearInterval(wait);
  require('node:net').createServer((s) => { process.stdout.write('accepted\\n'); s.destroy(); }).listen(port, '127.0.0.1');
}, 20);
process.on('SIGTERM', () => process.exit(0));
`;

(redisAvailable() ? describe : describe.skip)('redis backend: a reload while a service starts up (skipped without /usr/bin/redis-server)', function () {
  this.timeout(30_000);
  const suite = redisSuite('redis-reattach-svc');

  it("is Ready after the reload from the job's sticky progress, though the worker's probe fired while no coordinator listened", async () => {
    const url = suite.redis.url;
    const prefix = 'reattachsvc';
    const worker = await RedisWorker.start({ url, prefix, name: 'w1', concurrency: 4, killGraceMs: 200 });
    suite.closeAfter(() => worker.close());
    const store = new MemoryStore();
    const port = await freePort();
    const go = join(suite.dir, 'go');
    const { specs, trace } = portServiceWorkflow(suite.dir, SERVER_JS, port, go, 10_000);

    // Coordinator A starts the service on the worker, then goes away (a window reload) before it listens.
    const remoteA = await RedisExecution.connect({ url, prefix, name: 'A' });
    suite.closeAfter(() => remoteA.dispose());
    const a: OrchestratorImpl = await createOrchestrator({ remote: remoteA, store, concurrency: 4 });
    suite.closeAfter(() => a.dispose());
    const [svc, dep] = await a.scheduleWorkflow(specs);
    await until(() => worker.runningCount === 1, 10_000, 'the service running on the worker');
    await a.dispose();
    assert.equal(worker.runningCount, 1, 'the reload let the service run on');

    // Now it listens: the worker's probe connects and sends Ready with nobody listening, then the
    // service prints `accepted`, a later progress than the Ready.
    writeFileSync(go, '');
    const queue = new Queue(queueName(prefix, []), { connection: { host: '127.0.0.1', port: suite.redis.port }, prefix });
    suite.closeAfter(() => queue.close());
    const id = jobId(svc as string, 1);
    const progress = async (): Promise<unknown> => (await Job.fromId(queue, id))?.progress;
    let last: unknown;
    const deadline = Date.now() + 10_000;
    while (!String((last as { output?: unknown } | undefined)?.output ?? '').includes('accepted')) {
      if (Date.now() > deadline) throw new Error(`the output after the probe did not reach the job within 10000 ms (progress ${JSON.stringify(last)})`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      last = await progress();
    }
    assert.equal(typeof (last as { ready?: { at?: unknown } }).ready?.at, 'number', `the output after Ready carries it: ${JSON.stringify(last)}`);

    // Coordinator B restores from the same store and re-attaches.
    const remoteB = await RedisExecution.connect({ url, prefix, name: 'B' });
    suite.closeAfter(() => remoteB.dispose());
    const b: OrchestratorImpl = await createOrchestrator({ remote: remoteB, store, concurrency: 4 });
    suite.closeAfter(() => b.dispose());
    const readies: { task: TaskRecord; info: ReadyInfo | undefined }[] = [];
    const deliver = remoteB.onReady;
    remoteB.onReady = (task, info) => {
      readies.push({ task, info });
      deliver?.(task, info);
    };
    assert.equal(b.getTask(svc as string)?.status, 'running');
    assert.equal(b.getTask(svc as string)?.ready, undefined, 'not Ready in the saved state');
    await until(() => b.getTask(svc as string)?.ready !== undefined, 10_000, 'the re-attached service becoming Ready');
    await b.whenIdle();
    assert.equal(readies.length, 1, 'one Ready, from the job');
    assert.equal(b.getTask(dep as string)?.status, 'completed');
    const service = b.getTask(svc as string);
    assert.equal(service?.status, 'completed', JSON.stringify(service?.error));
    assert.equal(readFileSync(trace, 'utf8'), 'dep\n');
  });
});
