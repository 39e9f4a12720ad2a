// One worker process of the `redis` benchmark (test/bench/redis.mjs forks it, one per worker): either
// our RedisWorker with a no-op `noop` kind (and the built-in `shell`), or a plain BullMQ Worker with a no-op processor, both at
// the same concurrency. Each records the wall time (performance.timeOrigin + now(), shared by every
// process on this machine, sub-millisecond) at which it started each task, keyed by task id (ours)
// or job id (plain), and hands the times back when stopped.
//
// IPC protocol with the parent: first 'hello' (it listens now); then { type: 'start', side, url, prefix, queue, name, concurrency, bundle }
// -> 'ready'; { type: 'stop' } -> { type: 'stopped', starts: [[id, t], ...] }. A worker is started
// and stopped once per run (each run has its own prefix), in the same process, so spawn and module
// load stay out of the timed part. The process exits when its parent goes away.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Worker } from 'bullmq';

const wallNow = () => performance.timeOrigin + performance.now();
let starts = [];
let close = async () => undefined;

async function start(m) {
  starts = [];
  if (m.side === 'ours') {
    const { RedisWorker } = createRequire(import.meta.url)(m.bundle);
    const noop = {
      // Work in this heap only: nothing outlives an abandoned attempt.
      settleOnAbort: true,
      execute: async (ctx) => {
        starts.push([ctx.task.id, wallNow()]);
        return {};
      },
    };
    const worker = await RedisWorker.start({
      url: m.url,
      prefix: m.prefix,
      name: m.name,
      concurrency: m.concurrency,
      kinds: ['noop', 'shell'],
      executors: { noop },
    });
    close = () => worker.close();
  } else {
    const url = new URL(m.url);
    const worker = new Worker(
      m.queue,
      async (job) => {
        starts.push([job.id, wallNow()]);
      },
      {
        connection: { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null },
        prefix: m.prefix,
        concurrency: m.concurrency,
      },
    );
    worker.on('error', (err) => process.stderr.write(`plain worker: ${err}\n`));
    await worker.waitUntilReady();
    close = () => worker.close();
  }
}

process.on('message', (m) => {
  const run = async () => {
    if (m.type === 'start') {
      await start(m);
      process.send({ type: 'ready' });
    } else if (m.type === 'stop') {
      await close();
      close = async () => undefined;
      process.send({ type: 'stopped', starts });
    }
  };
  run().catch((err) => {
    process.stderr.write(`bench worker: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
// Messages sent before this process listens would be lost: the parent waits for this first.
process.send({ type: 'hello' });
