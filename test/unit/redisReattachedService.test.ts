// A window reload while a fleet service starts up: the worker's port probe fires while no
// coordinator listens, and the coordinator that restores and re-attaches still learns it was Ready,
// from the job's last progress (readiness is sticky there, protocol.ts), and runs its dependent.
// Real redis-server of the test's own, an in-process worker, two coordinators on one store.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import { RedisExecution } from '../../src/backends/redis/redisExecution';
import { RedisWorker } from '../../src/backends/redis/redisWorker';
import { jobId, queueName } from '../../src/backends/redis/protocol';
import type { TaskRecord } from '../../src/core/model/model';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import { MemoryStore, type ReadyInfo } from '../../src/core/ports';
import { redisAvailable, startRedis, type RedisServer } from '../support/redisServer';
import { until } from '../support/until';
import { freePort } from '../support/freePort';

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
  let redis: RedisServer | undefined;
  let dir: string;
  const closers: (() => Promise<unknown> | void)[] = [];

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'redis-reattach-svc-'));
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is Ready after the reload from the job's sticky progress, though the worker's probe fired while no coordinator listened", async () => {
    const url = (redis as RedisServer).url;
    const prefix = 'reattachsvc';
    const worker = await RedisWorker.start({ url, prefix, name: 'w1', concurrency: 4, killGraceMs: 200 });
    closers.push(() => worker.close());
    const store = new MemoryStore();
    const port = await freePort();
    const script = join(dir, 'server.js');
    const go = join(dir, 'go');
    const trace = join(dir, 'trace');
    writeFileSync(script, SERVER_JS);

    // Coordinator A starts the service on the worker, then goes away (a window reload) before it listens.
    const remoteA = await RedisExecution.connect({ url, prefix, name: 'A' });
    closers.push(() => remoteA.dispose());
    const a: OrchestratorImpl = await createOrchestrator({ remote: remoteA, store, concurrency: 4 });
    closers.push(() => a.dispose());
    const [svc, dep] = await a.scheduleWorkflow([
      {
        key: 'svc',
        name: 'svc',
        kind: 'shell',
        command: `exec '${process.execPath}' '${script}' ${port} '${go}'`,
        readyWhen: { port },
        readyTimeoutMs: 10_000,
        stopWhen: 'dependentsDone',
      },
      { key: 'dep', name: 'dep', kind: 'shell', command: `echo dep >> '${trace}'`, dependsOn: ['svc'] },
    ]);
    await until(() => worker.runningCount === 1, 10_000, 'the service running on the worker');
    await a.dispose();
    assert.equal(worker.runningCount, 1, 'the reload let the service run on');

    // Now it listens: the worker's probe connects and sends Ready with nobody listening, then the
    // service prints `accepted`, a later progress than the Ready.
    writeFileSync(go, '');
    const queue = new Queue(queueName(prefix, []), { connection: { host: '127.0.0.1', port: (redis as RedisServer).port }, prefix });
    closers.push(() => queue.close());
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
    closers.push(() => remoteB.dispose());
    const b: OrchestratorImpl = await createOrchestrator({ remote: remoteB, store, concurrency: 4 });
    closers.push(() => b.dispose());
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
