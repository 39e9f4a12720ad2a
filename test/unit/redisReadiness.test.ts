// A service on the fleet: its `readyWhen: { port }` is probed by the worker that runs it, on the
// worker's machine, and Ready reaches the coordinator as job progress. A coordinator (createOrchestrator
//({ remote })) and an in-process worker on a redis-server of the test's own.
import * as assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { RedisExecution } from '../../src/backends/redis/redisExecution';
import { RedisWorker, type RedisWorkerOptions } from '../../src/backends/redis/redisWorker';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import type { TaskRecord } from '../../src/core/model/model';
import type { Executor, ReadyInfo } from '../../src/core/ports';
import { redisAvailable } from '../support/redisServer';
import { redisSuite } from '../support/redisSuite';
import { until } from '../support/until';
import { freePort } from '../support/freePort';
import { portServiceWorkflow } from '../support/portService';

// The service: listens on argv[2] after a short pause, and writes one line per connection it accepts.
const SERVER_JS = `
const [port, log] = [Number(process.argv[2]), process.argv[3]];
const fs = require('node:fs');
setTimeout(() => {
  require('node:net').createServer((s) => { fs.appendFileSync(log, 'connection\\n'); s.destroy(); }).listen(port, '127.0.0.1');
}, 100);
process.on('SIGTERM', () => process.exit(0));
`;

(redisAvailable() ? describe : describe.skip)(
  'redis backend: a service readyWhen port is probed on its worker (skipped without /usr/bin/redis-server)',
  function () {
    this.timeout(30_000);
    const suite = redisSuite('redis-ready');

    /** A worker, its coordinator's port and an orchestrator on it, all closed after the test. */
    async function fleet(prefix: string, workerOptions: Partial<RedisWorkerOptions> = {}, kinds?: string[]) {
      const url = suite.redis.url;
      const worker = await RedisWorker.start({ url, prefix, name: 'w1', concurrency: 4, killGraceMs: 200, ...workerOptions });
      suite.closeAfter(() => worker.close());
      const remote = await RedisExecution.connect({ url, prefix, name: 'coordinator', ...(kinds ? { kinds } : {}) });
      suite.closeAfter(() => remote.dispose());
      const o: OrchestratorImpl = await createOrchestrator({ remote, concurrency: 4 });
      suite.closeAfter(() => o.dispose());
      return { remote, o };
    }

    it('runs the service on the worker, is Ready through the worker probe, runs its dependent, then stops it', async () => {
      const { remote, o } = await fleet('ready1');
      const readies: { task: TaskRecord; info: ReadyInfo | undefined }[] = [];
      const deliver = remote.onReady;
      assert.equal(typeof deliver, 'function', 'the orchestrator set the port onReady');
      remote.onReady = (task, info) => {
        readies.push({ task, info });
        deliver?.(task, info);
      };
      const port = await freePort();
      const connections = join(suite.dir, 'connections');
      const { specs, trace } = portServiceWorkflow(suite.dir, SERVER_JS, port, connections, 8000);
      const [svc, dep] = await o.scheduleWorkflow(specs);
      await o.whenIdle();
      const service = o.getTask(svc as string);
      assert.equal(readies.length, 1, 'one ready, from the worker');
      assert.equal(readies[0]?.task.id, svc);
      assert.equal(service?.status, 'completed', JSON.stringify(service?.error));
      assert.equal(o.getTask(dep as string)?.status, 'completed');
      assert.equal(readFileSync(trace, 'utf8'), 'dep\n');
      // The worker's probe connected once; the coordinator opened none of its own.
      assert.equal(existsSync(connections) ? readFileSync(connections, 'utf8') : '', 'connection\n');
    });

    it("carries an executor's reportReady on the worker to the coordinator, after the output written before it", async () => {
      // A watch-like executor: prints, reports a cycle's problems, then runs until stopped.
      const watch: Executor = {
        execute: (ctx) =>
          new Promise((resolve) => {
            ctx.onOutput?.('compiling\n');
            ctx.reportReady?.({ problems: { errors: 1, warnings: 2 } });
            // Output after Ready carries a sticky copy of it (protocol.ts): no second ready signal.
            ctx.onOutput?.('watching\n');
            ctx.signal.addEventListener('abort', () => resolve({}), { once: true });
          }),
      };
      const { remote, o } = await fleet('ready2', { kinds: ['watch', 'shell'], executors: { watch } }, ['watch', 'shell']);
      let output = '';
      o.onDidOutput((chunk) => (output += chunk.chunk));
      const seen: { output: string; info: ReadyInfo | undefined }[] = [];
      const deliver = remote.onReady;
      remote.onReady = (task, info) => {
        seen.push({ output, info });
        deliver?.(task, info);
      };
      const [svc, dep] = await o.scheduleWorkflow([
        { key: 'svc', name: 'svc', kind: 'watch', stopWhen: 'dependentsDone' },
        { key: 'dep', name: 'dep', kind: 'shell', command: 'true', dependsOn: ['svc'] },
      ]);
      // Without it the service would run on, unready, until the test's timeout: fail sooner, and say why.
      await until(() => seen.length > 0, 10_000, "the worker executor's reportReady reaching the coordinator");
      await until(() => output.includes('watching'), 10_000, 'the output after Ready reaching the coordinator');
      await o.whenIdle();
      assert.deepEqual(seen, [{ output: 'compiling\n', info: { problems: { errors: 1, warnings: 2 } } }]);
      assert.equal(o.getTask(dep as string)?.status, 'completed');
      const service = o.getTask(svc as string);
      assert.equal(service?.status, 'completed', JSON.stringify(service?.error));
    });
  },
);
