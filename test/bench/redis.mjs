// Workload `redis` of `npm run bench` (issue 15): 10,000 no-op, shell-free tasks through the Redis
// backend (a coordinator: createOrchestrator({ remote: RedisExecution }); workers: RedisWorker with
// a `noop` kind) against plain BullMQ doing the same (a Queue, addBulk in batches of 1,000 with
// removeOnComplete, the same number of Workers at the same concurrency, a no-op processor), through
// 1 and through 4 workers, on a redis-server of its own. Skipped with one line when
// /usr/bin/redis-server is absent.
//
// Method, and why:
//  - Wall time, whatever --clock says: the work is spread over the coordinator, the worker processes
//    and redis-server, so this process's CPU time would leave most of it out.
//  - Workers run in child processes (test/bench/redisWorker.mjs), for both sides: that is how they
//    run in use (`orchestrator worker`, on other machines), and in one process 4 workers would share
//    one event loop with each other and with the coordinator, which measures concurrency in one
//    thread rather than 4 workers. On this 2-core machine the processes share the cores; both
//    sides pay that alike. Workers are started before the timed part and stopped after it.
//  - Per-worker concurrency 16 on both sides (the plain BullMQ figure in the shared notes).
//  - Coordinator concurrency 10,000: every task may be handed to Redis at once, as plain BullMQ's
//    addBulk puts every job in Redis at once, so the coordinator's own limit is never what waits.
//  - Both coordinators learn every outcome from Redis (ours through its QueueEvents; the plain side
//    counts `completed` on a QueueEvents), and each run ends when the last outcome is known.
//  - Each run has its own key prefix and first runs one warm-up task, so queue and QueueEvents set-up
//    stay out of the timed part on both sides.
//  - Latency ready -> started is taken on a trickle (one task every 3 ms through 1 worker, far below
//    its capacity), so it is the path's own delay, not time spent waiting behind a backlog: ours from
//    the call of `scheduleTask` (an idle coordinator dispatches the task to the backend at once; it
//    turns Running only when a worker takes its job) to the worker's executor starting it; plain
//    from `queue.add` to the processor starting the job. Both
//    ends are wall-clock times (performance.timeOrigin + now()) taken on this one machine.
//  - Repetitions interleave ours and plain (alternating which goes first); medians are reported, and
//    every run checks its counts (all completed, every start seen once, each worker used); a run
//    that stalls (a lost outcome) fails loudly after RUN_BOUND_MS instead of hanging.
//  - Both sides keep 100,000 entries in the queue's events stream (EVENTS_MAX_LEN below).
//  - A third run per repetition (1 worker) is plain BullMQ with our jobs' options and data (a
//    priority, failed jobs kept, the record as data): what remains between it and ours is our
//    layer's own cost; between it and bare plain, the cost of those BullMQ features.
//  - A fourth (1 worker) is ours with the automatic concurrency a user gets by default (0: this
//    machine's CPUs plus the worker's 16 slots): no more in flight than the fleet runs, so each
//    no-op job waits a round trip through the coordinator for the next. What that round trip costs
//    real work is the last pair: 1,000 shell `true` commands through 1 worker, ours at the
//    automatic concurrency against ours with every task sent at once.
//  - BENCH_TRACE=1 also runs a ladder from bare BullMQ to ours, one layer per step (our jobs' options
//    and data; our worker behind a plain coordinator; our port without the orchestrator; ours), each
//    --reps times, with each run's CPU per process (coordinator, redis-server, workers), Redis's
//    command counts for the first, and the medians: which layer costs what, and which process.
import { execFileSync, fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import * as esbuild from 'esbuild';
import { Queue, QueueEvents } from 'bullmq';

export const REDIS_SERVER = '/usr/bin/redis-server';
const TASKS = 10_000;
const PER_WORKER = 16;
const COORDINATOR_CONCURRENCY = 10_000;
const BATCH = 1_000;
const TRICKLE = 300;
const SHELL_TASKS = 1_000;
const TRICKLE_GAP_MS = 3;
// The events stream length our lanes keep (src/backends/redis/queueLane.ts EVENTS_MAX_LEN); the plain
// side keeps the same, since with BullMQ's default of 10,000 its QueueEvents too loses completions
// under a 10,000-job burst and the run never ends.
const EVENTS_MAX_LEN = 100_000;

const RUN_BOUND_MS = 60_000;
/** `p`, or a loud failure saying `what()` if it takes longer than RUN_BOUND_MS: a lost outcome must not hang the suite. */
async function bounded(p, what) {
  let timer;
  const late = new Promise(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`benchmark run stalled for ${RUN_BOUND_MS} ms: ${what()}`)), RUN_BOUND_MS)),
  );
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
/** CPU ms (user + system) of each pid so far, from /proc (trace mode only: which process is the bottleneck). */
function cpuOf(pids) {
  return pids.map((pid) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
    } catch {
      return 0;
    }
  });
}
/** Redis's per-command counters (trace mode only), from `INFO commandstats`: { cmd: [calls, usec] }. */
function commandStats(port) {
  const text = execFileSync('redis-cli', ['-p', String(port), 'info', 'commandstats'], { encoding: 'utf8' });
  const stats = {};
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) stats[m[1]] = [Number(m[2]), Number(m[3])];
  return stats;
}
/** The commands that ran between two commandStats, busiest first: `cmd calls (usec)`. */
function commandDelta(before, after) {
  return Object.entries(after)
    .map(([cmd, [calls, usec]]) => [cmd, calls - (before[cmd]?.[0] ?? 0), usec - (before[cmd]?.[1] ?? 0)])
    .filter(([, calls]) => calls > 0)
    .sort((a, b) => b[2] - a[2])
    .map(([cmd, calls, usec]) => `${cmd} ${calls} (${usec})`)
    .join(', ');
}
const wallNow = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const trace = process.env.BENCH_TRACE ? (...a) => console.error('[redis]', ...a) : () => undefined;

/** Bundles the backend, the core and the test redis-server helper into out/bench/redis.js (bullmq and ioredis stay external). */
async function buildBundle(root) {
  const outfile = join(root, 'out', 'bench', 'redis.js');
  await esbuild.build({
    stdin: {
      contents: [
        "export { createOrchestrator } from './src/core/orchestrator/orchestrator';",
        "export { RedisExecution } from './src/backends/redis/redisExecution';",
        "export { RedisWorker } from './src/backends/redis/redisWorker';",
        "export { startRedis } from './test/support/redisServer';",
      ].join('\n'),
      resolveDir: root,
      sourcefile: 'redis-bench-entry.ts',
      loader: 'ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
    legalComments: 'none',
    packages: 'external',
  });
  return outfile;
}

/** A forked worker process; `call` sends one message and resolves with the next reply. */
function forkWorker(root) {
  const child = fork(join(root, 'test', 'bench', 'redisWorker.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let waiting;
  let hello;
  const listening = new Promise((resolve) => (hello = resolve));
  child.on('message', (m) => {
    if (m?.type === 'hello') return hello();
    const w = waiting;
    waiting = undefined;
    w?.resolve(m);
  });
  child.on('exit', (code) => waiting?.reject(new Error(`a bench worker exited (${code}) mid-call`)));
  return {
    child,
    listening,
    call(message) {
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        child.send(message);
      });
    },
  };
}

export async function redisWorkload({ root, reps, row, log, check, median, percentile }) {
  if (!existsSync(REDIS_SERVER)) {
    log(`  redis: skipped: ${REDIS_SERVER} is absent (apt-get install -y redis-server)`);
    return;
  }
  const bundle = await buildBundle(root);
  const b = createRequire(import.meta.url)(bundle);
  const server = await b.startRedis();
  const url = server.url;
  const connection = { host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null };
  const children = [];
  let runs = 0;
  // Interrupted (Ctrl-C, a timeout): the finally below would not run, so stop the server here.
  const onSignal = (signal) => {
    for (const c of children) c.child.kill('SIGTERM');
    void server.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (let i = 0; i < 4; i++) children.push(forkWorker(root));
    await bounded(Promise.all(children.map((c) => c.listening)), () => 'the worker processes did not start');

    const startWorkers = async (side, count, prefix) => {
      const used = children.slice(0, count);
      await Promise.all(used.map((c, i) => c.call({ type: 'start', side, url, prefix, queue: 'bench', name: `w${i + 1}`, concurrency: PER_WORKER, bundle })));
      return async () => {
        const replies = await Promise.all(used.map((c) => c.call({ type: 'stop' })));
        return replies.map((r) => new Map(r.starts));
      };
    };

    /** Our side: returns { ms, latencies } (latencies only for a trickle). */
    const ours = async (workers, trickle, concurrency = COORDINATOR_CONCURRENCY) => {
      const prefix = `bo${++runs}`;
      trace('ours start', workers, trickle);
      const stopWorkers = await startWorkers('ours', workers, prefix);
      trace('ours workers ready');
      const remote = await b.RedisExecution.connect({ url, prefix, name: 'bench', kinds: ['noop'] });
      const orch = await b.createOrchestrator({ remote, concurrency });
      // Ready times only where latency is taken (the trickle): the plain side keeps no such map either.
      const ready = new Map();
      let ms;
      let ids;
      try {
        const warm = await orch.scheduleTask({ name: 'warm', kind: 'noop' });
        await bounded(orch.whenIdle(), () => 'ours: the warm-up task');
        check(orch.getTask(warm)?.status === 'completed', `ours: the warm-up task ended ${orch.getTask(warm)?.status}`);
        trace('ours warm done');
        const t0 = wallNow();
        if (trickle) {
          ids = [];
          for (let i = 0; i < TRICKLE; i++) {
            const at = wallNow();
            const id = await orch.scheduleTask({ name: 'noop', kind: 'noop' });
            ready.set(id, at);
            ids.push(id);
            await sleep(TRICKLE_GAP_MS);
          }
        } else {
          ids = await orch.scheduleWorkflow(Array.from({ length: TASKS }, (_, i) => ({ key: `t${i}`, name: 'noop', kind: 'noop' })));
        }
        const tick = process.env.BENCH_TRACE ? setInterval(() => trace(JSON.stringify(orch.getSystemStatus().counts)), 1000) : undefined;
        await bounded(orch.whenIdle(), () => `ours, ${workers} worker(s): ${JSON.stringify(orch.getSystemStatus().counts)}`);
        clearInterval(tick);
        ms = wallNow() - t0;
        const byWorker = new Map();
        for (const id of ids) {
          const r = orch.getTask(id);
          check(r?.status === 'completed', `ours: task ${id} ended ${r?.status} (${JSON.stringify(r?.error)})`);
          byWorker.set(r.result?.worker, (byWorker.get(r.result?.worker) ?? 0) + 1);
        }
        check(byWorker.size === workers, `ours: ${workers} workers, ${byWorker.size} used (${JSON.stringify([...byWorker])})`);
      } finally {
        await orch.dispose();
        await remote.dispose();
      }
      const starts = await stopWorkers();
      const started = new Map();
      for (const m of starts) for (const [id, t] of m) started.set(id, t);
      check(starts.reduce((a, m) => a + m.size, 0) === ids.length + 1, `ours: every task started once`);
      const latencies = trickle ? ids.map((id) => started.get(id) - ready.get(id)) : [];
      return { ms, latencies };
    };

    /** Ours on SHELL_TASKS shell `true` commands through 1 worker: wall ms (no start times: the shell executor records none). */
    const oursShell = async (concurrency) => {
      const prefix = `bs${++runs}`;
      const stopWorkers = await startWorkers('ours', 1, prefix);
      const remote = await b.RedisExecution.connect({ url, prefix, name: 'bench' });
      const orch = await b.createOrchestrator({ remote, concurrency });
      let ms;
      try {
        const t0 = wallNow();
        const ids = await orch.scheduleWorkflow(
          Array.from({ length: SHELL_TASKS }, (_, i) => ({ key: `t${i}`, name: 'true', kind: 'shell', command: 'true' })),
        );
        await bounded(orch.whenIdle(), () => `ours, shell: ${JSON.stringify(orch.getSystemStatus().counts)}`);
        ms = wallNow() - t0;
        for (const id of ids) check(orch.getTask(id)?.status === 'completed', `ours, shell: task ${id} ended ${orch.getTask(id)?.status}`);
      } finally {
        await orch.dispose();
        await remote.dispose();
        await stopWorkers();
      }
      return ms;
    };

    // The options and data our jobs carry (redisExecution.ts): a priority (BullMQ's prioritized set),
    // the last 1,000 failed jobs kept (a completed one is removed), and the task as a job carries it.
    const likeOurs = {
      opts: { priority: 1_000_001, removeOnComplete: true, removeOnFail: { count: 1000 } },
      data: {
        v: 2,
        task: { id: 't-0000000001', name: 'noop', kind: 'noop', createdAt: Date.now(), spec: { name: 'noop', kind: 'noop' } },
        attempt: 1,
        coordinator: 'bench',
      },
    };
    /**
     * Plain BullMQ: the same work, a Queue and a QueueEvents in this process, the same workers. `like`:
     * with our jobs' options and data, so the difference left is our layer's own.
     */
    const plain = async (workers, trickle, like = false, workerSide = 'plain') => {
      const prefix = `bp${++runs}`;
      trace('plain start', workers, trickle);
      const stopWorkers = await startWorkers(workerSide, workers, prefix);
      trace('plain workers ready');
      // Our workers take the queue of their pools (none: protocol.ts queueName).
      const name = workerSide === 'ours' ? `${prefix}.run.any` : 'bench';
      const queue = new Queue(name, { connection, prefix, streams: { events: { maxLen: EVENTS_MAX_LEN } } });
      // From the stream's start (each run's prefix is new, so it is empty): with the default '$' the
      // warm-up job's events can come before the first read and be missed.
      const events = new QueueEvents(name, { connection, prefix, lastEventId: '0-0' });
      let completed = 0;
      let target = 1;
      let onDone = () => undefined;
      events.on('completed', () => {
        if (++completed === target) onDone();
      });
      const allDone = () => new Promise((resolve) => (onDone = resolve));
      let ms;
      const added = new Map();
      try {
        await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
        let done = allDone();
        // Our worker runs only a job that carries a record (a task id of its own, for its start times).
        const dataOf = (id) => (workerSide === 'ours' ? { ...likeOurs.data, task: { ...likeOurs.data.task, id } } : like ? likeOurs.data : {});
        await queue.add('warm', dataOf('warm'), { jobId: 'warm', removeOnComplete: true });
        await bounded(done, () => 'plain: the warm-up job');
        target += trickle ? TRICKLE : TASKS;
        done = allDone();
        const t0 = wallNow();
        if (trickle) {
          for (let i = 0; i < TRICKLE; i++) {
            const id = `j${i}`;
            added.set(id, wallNow());
            await queue.add('noop', {}, { jobId: id, removeOnComplete: true });
            await sleep(TRICKLE_GAP_MS);
          }
        } else {
          for (let i = 0; i < TASKS; i += BATCH) {
            const jobs = [];
            for (let k = i; k < Math.min(TASKS, i + BATCH); k++)
              jobs.push({
                name: 'noop',
                data: dataOf(`j${k}`),
                opts: like ? { jobId: `j${k}`, ...likeOurs.opts } : { jobId: `j${k}`, removeOnComplete: true },
              });
            await queue.addBulk(jobs);
          }
        }
        await bounded(done, () => `plain, ${workers} worker(s): ${completed - 1} of ${target - 1} completed`);
        ms = wallNow() - t0;
      } finally {
        await events.close();
        await queue.close();
      }
      const starts = await stopWorkers();
      const n = trickle ? TRICKLE : TASKS;
      check(completed === n + 1, `plain: ${completed - 1} of ${n} completed`);
      check(starts.reduce((a, m) => a + m.size, 0) === n + 1, 'plain: every job started once');
      check(
        starts.every((m) => m.size > 0),
        `plain: ${workers} workers, not all used`,
      );
      const started = new Map();
      for (const m of starts) for (const [id, t] of m) started.set(id, t);
      const latencies = trickle ? [...added].map(([id, t]) => started.get(id) - t) : [];
      return { ms, latencies };
    };

    /**
     * Trace only: our execution port without the orchestrator (10,000 `start`s of records made here),
     * so the coordinator's CPU splits into the port's share and the orchestrator's.
     */
    const portOnly = async (workers) => {
      const prefix = `bq${++runs}`;
      const stopWorkers = await startWorkers('ours', workers, prefix);
      const remote = await b.RedisExecution.connect({ url, prefix, name: 'bench', kinds: ['noop'] });
      const record = (id) => ({
        id,
        name: 'noop',
        kind: 'noop',
        status: 'running',
        priority: 0,
        attempts: 1,
        createdAt: Date.now(),
        history: [],
        spec: { name: 'noop', kind: 'noop' },
        dependsOn: [],
      });
      const startAll = (ids) =>
        new Promise((resolve, reject) => {
          let left = ids.length;
          const done = (_result, error) => (error !== undefined ? reject(error) : --left === 0 && resolve());
          for (const id of ids) remote.start(record(id), 1, undefined, undefined, undefined, done);
        });
      let ms;
      try {
        await bounded(startAll(['warm']), () => 'port only: the warm-up task');
        const t0 = wallNow();
        await bounded(startAll(Array.from({ length: TASKS }, (_, i) => `t${i}`)), () => 'port only: the run');
        ms = wallNow() - t0;
      } finally {
        await remote.dispose();
        await stopWorkers();
      }
      return { ms };
    };

    // Warm-up (JIT in every process: the coordinator and all 4 workers) on each side, then the
    // measured repetitions. With 1 worker only, workers 2-4 met our code cold in the first 4-worker
    // run (5,586 tasks/s against 8,000-10,500 in the runs after it).
    for (const w of [1, 4]) {
      await ours(w, false);
      await plain(w, false);
    }
    const rate = (ms) => (TASKS / ms) * 1000;
    if (process.env.BENCH_TRACE) {
      // The ladder from bare BullMQ to ours, one layer added per step, `reps` times (medians at the end):
      // our jobs' options and data, our worker, our port, the orchestrator.
      const redisPid = Number(execFileSync('pgrep', ['-f', `redis-server 127.0.0.1:${server.port}`], { encoding: 'utf8' }).trim());
      const pids = [process.pid, redisPid, ...children.map((c) => c.child.pid)];
      const ladder = [
        ['plain', plain],
        ['like ours', (w, t) => plain(w, t, true)],
        ['like ours, our worker', (w, t) => plain(w, t, true, 'ours')],
        ['port only', portOnly],
        ['ours', ours],
      ];
      for (const w of [1, 4]) for (const [, fn] of ladder) await fn(w, false); // every worker process warm on each path
      const walls = new Map();
      for (let r = 0; r < reps; r++)
        for (const [side, fn] of r % 2 === 0 ? ladder : [...ladder].reverse())
          for (const w of [1, 4]) {
            const c0 = cpuOf(pids);
            const s0 = commandStats(server.port);
            const res = await fn(w, false);
            const c1 = cpuOf(pids);
            const s1 = commandStats(server.port);
            walls.set(`${side} ${w}w`, [...(walls.get(`${side} ${w}w`) ?? []), res.ms]);
            trace(`${side} ${w}w: ${res.ms.toFixed(0)} ms wall; cpu ms coordinator, redis, workers:`, c1.map((c, i) => (c - c0[i]).toFixed(0)).join(' '));
            if (r === 0) trace(`  redis calls (usec):`, commandDelta(s0, s1));
          }
      for (const [key, ms] of walls) trace(`median ${key}: ${median(ms).toFixed(0)} ms (${ms.map((m) => m.toFixed(0)).join(' ')})`);
    }
    const figures = [];
    for (let r = 0; r < reps; r++) {
      const f = {};
      const pair = async (key, workers, trickle) => {
        const first = r % 2 === 0 ? 'ours' : 'plain';
        for (const side of first === 'ours' ? ['ours', 'plain'] : ['plain', 'ours']) {
          const res = side === 'ours' ? await ours(workers, trickle) : await plain(workers, trickle);
          if (trickle) {
            f[`${side}P50`] = percentile(res.latencies, 50);
            f[`${side}P99`] = percentile(res.latencies, 99);
          } else f[`${side}${key}`] = rate(res.ms);
        }
      };
      await pair('W1', 1, false);
      f.likeW1 = rate((await plain(1, false, true)).ms);
      f.autoW1 = rate((await ours(1, false, 0)).ms);
      for (const auto of r % 2 === 0 ? [true, false] : [false, true])
        f[auto ? 'shellAuto' : 'shellAll'] = (SHELL_TASKS / (await oursShell(auto ? 0 : COORDINATOR_CONCURRENCY))) * 1000;
      await pair('W4', 4, false);
      await pair('', 1, true);
      log(
        `    rep ${r + 1}: 1 worker ${f.oursW1.toFixed(0)} vs ${f.plainW1.toFixed(0)} (like ours ${f.likeW1.toFixed(0)}, ours at auto ${f.autoW1.toFixed(0)}), 4 workers ${f.oursW4.toFixed(0)} vs ${f.plainW4.toFixed(0)} tasks/s; ` +
          `p50 ${f.oursP50.toFixed(2)} vs ${f.plainP50.toFixed(2)} ms, p99 ${f.oursP99.toFixed(2)} vs ${f.plainP99.toFixed(2)} ms`,
      );
      figures.push(f);
    }
    const m = (k) => median(figures.map((f) => f[k]));
    const target = { text: '>= 0.8 x plain BullMQ', test: (_o, ratio) => ratio >= 0.8 };
    const peerName = 'plain BullMQ';
    row(`10. redis: 10k no-op, 1 worker x c=${PER_WORKER} (wall)`, m('oursW1'), m('plainW1'), 'tasks/s', { peerName, target });
    row(`10. redis: 10k no-op, 1 worker, plain with our options (wall)`, m('oursW1'), m('likeW1'), 'tasks/s', {
      peerName: 'plain BullMQ + priority, our data',
    });
    row(`10. redis: 10k no-op, 1 worker, ours at the automatic concurrency (wall)`, m('autoW1'), m('plainW1'), 'tasks/s', { peerName });
    row(`10. redis: 10k no-op, 4 workers x c=${PER_WORKER} (wall)`, m('oursW4'), m('plainW4'), 'tasks/s', { peerName, target });
    row('10. redis: 1k shell `true`, 1 worker, ours at the automatic concurrency (wall)', m('shellAuto'), m('shellAll'), 'tasks/s', {
      peerName: 'ours, every task sent at once',
    });
    row('10. redis: ready -> started, trickle, p50', m('oursP50'), m('plainP50'), 'ms', { peerName, better: 'lower' });
    row('10. redis: ready -> started, trickle, p99', m('oursP99'), m('plainP99'), 'ms', { peerName, better: 'lower' });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const c of children) c.child.kill('SIGTERM');
    await server.stop();
  }
}
