// A RedisWorker in a process of its own, for tests that kill a worker outright (SIGKILL): options as
// JSON in argv[2] (RedisWorkerOptions without functions). Prints `ready` once it serves its queues;
// closes on SIGTERM.
import { RedisWorker, type RedisWorkerOptions } from '../../src/backends/redis/redisWorker';

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as RedisWorkerOptions;
  const worker = await RedisWorker.start(options);
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => {
    void worker.close().then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
