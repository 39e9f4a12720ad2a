// `orchestrator worker --redis URL`: a worker of the Redis backend. It takes the jobs of the queues
// whose pools it has (protocol.ts), runs each through the core's engine and executors (timeouts,
// process-tree kill on cancel), heartbeats, and on SIGTERM or Ctrl-C drains: it takes nothing new,
// lets what it runs finish within a grace, and hands back the rest (they fail INTERRUPTED and the
// coordinator retries them per their retries). A second Ctrl-C stops at once.
import { hostname } from 'node:os';
import { defaultConcurrency } from '../../core/orchestrator/options';
import { LIMITS } from '../../core/model/limits';
import { DEFAULT_PREFIX } from '../../backends/redis/protocol';
import { RedisWorker } from '../../backends/redis/redisWorker';
import { ExitCode } from '../exitCodes';
import { killEverythingStarted } from '../killNow';
import { checkName, parseConcurrency, parseResources, redisUrlOf } from '../options';
import { redisCaOf } from '../redisCa';
import type { Io } from './io';

export interface WorkerFlags {
  redis?: string;
  redisCa?: string;
  concurrency?: string;
  resources?: string;
  kinds?: string[];
  name?: string;
  prefix?: string;
}

export async function workerCommand(flags: WorkerFlags, io: Io): Promise<number> {
  const url = redisUrlOf(flags.redis, io.env);
  const ca = redisCaOf(flags.redisCa, io.env, url);
  const concurrencyFlag = flags.concurrency === undefined ? 0 : parseConcurrency(flags.concurrency);
  const concurrency = concurrencyFlag === 0 ? defaultConcurrency() : Math.min(concurrencyFlag, LIMITS.concurrency);
  const resources = flags.resources === undefined ? {} : parseResources(flags.resources);
  const kinds = flags.kinds?.length ? flags.kinds.map((k) => checkName('--kinds', k)) : ['shell'];
  const name = checkName('--name', flags.name ?? `${hostname()}-${process.pid}`);
  const prefix = checkName('--prefix', flags.prefix ?? DEFAULT_PREFIX);
  const log = (line: string): void => void io.stdout.write(`${new Date().toISOString()} ${line}\n`);

  const worker = await RedisWorker.start({
    url,
    ...(io.env.ORCHESTRATOR_REDIS_PASSWORD ? { password: io.env.ORCHESTRATOR_REDIS_PASSWORD } : {}),
    ...(ca !== undefined ? { ca } : {}),
    prefix,
    name,
    concurrency,
    resources,
    kinds,
    onLog: log,
  });
  const pools = Object.entries(resources).map(([pool, n]) => `${pool}=${n}`);
  log(
    `worker ${name}: kinds ${kinds.join(', ')}; pools ${pools.length ? pools.join(', ') : 'none'}; concurrency ${concurrency}; on ${url.replace(/\/\/[^@/]*@/, '//***@')}`,
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log('stopping at once: killing every process the worker started');
        void killEverythingStarted().finally(() => process.exit(ExitCode.interrupted));
        return;
      }
      stopping = true;
      log(`${signal}: draining (no new jobs; running ones finish or are handed back)${signal === 'SIGINT' ? '; Ctrl-C again stops at once' : ''}`);
      void worker
        .drain()
        .then(() => worker.close())
        .then(
          () => {
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
            log('stopped');
            resolve(ExitCode.ok);
          },
          (err: unknown) => {
            log(`stopping failed: ${err instanceof Error ? err.message : String(err)}`);
            resolve(ExitCode.failed);
          },
        );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
