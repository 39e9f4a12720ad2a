// `npm run bench`: the core beside its peers (p-queue, fastq's promise API, p-limit) on the same
// workloads, in one Node process, printing ours, peer, ratio, target and whether it is met.
//
//   node --expose-gc test/bench/run.mjs [--json] [--reps N] [--only <workload id>] [--clock cpu|wall]
//   workload ids: full, bare, backlog, latency, queue, persistence, memory, dag, shell, reference, redis, services, triggers, history, cache
//   (redis: test/bench/redis.mjs, wall time always; skipped when /usr/bin/redis-server is absent)
//
// The core is benched as users run it: src/core is bundled with esbuild the way `npm run build` makes
// dist/core.js (CommonJS, node20, not minified), here into out/bench/core.js so the suite never races
// a colleague's build. --json writes the same rows to stdout as JSON (build and progress go to stderr).
//
// Method. Each workload is repeated (--reps, default 5) and the median reported; within a repetition
// ours and the peers run interleaved, so load from elsewhere on the machine weighs on all alike. Every
// run checks its result (counts, order, dependencies) and the suite fails loudly if one is wrong.
// Ratios are ours / peer: for rates (ops/s) higher is better; for times (ms, us) lower is better.
// Timings never go into pass/fail tests: a missed target is reported, not thrown.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { redisWorkload } from './redis.mjs';
import { servicesWorkload } from './services.mjs';
import { triggersWorkload } from './triggers.mjs';
import { cacheWorkload } from './cache.mjs';
import { historyWorkload } from './history.mjs';
import PQueue from 'p-queue';
import fastq from 'fastq';
import pLimit from 'p-limit';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const asJson = args.includes('--json');
const argValue = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const REPS = Number(argValue('--reps', '5'));
// cpu: this process's CPU time (user + system, all its threads); wall: elapsed time. On a shared,
// loaded machine wall time also counts other processes' time slices, so throughput figures are
// taken in CPU time by default. Latency, store writes per second and the shell row are always wall time.
const CLOCK = argValue('--clock', 'cpu');
const ONLY = argValue('--only', '');
const log = (...a) => console.error(...a);

const outfile = join(root, 'out', 'bench', 'core.js');
await esbuild.build({
  entryPoints: [join(root, 'src/core/index.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  legalComments: 'none',
});
const core = createRequire(import.meta.url)(outfile);

const gc = globalThis.gc ?? (() => undefined);
if (!globalThis.gc) log('note: run with --expose-gc for the memory row (npm run bench does)');

// ------------------------------------------------------------------ helpers

const now = () => performance.now();
/** A stopwatch on the chosen --clock; `ms()` is the time since it was made. */
function stopwatch() {
  if (CLOCK === 'wall') {
    const t0 = now();
    return { ms: () => now() - t0 };
  }
  const c0 = process.cpuUsage();
  return {
    ms: () => {
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / 1000;
    },
  };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
function check(cond, what) {
  if (!cond) throw new Error(`benchmark result is wrong: ${what}`);
}
/** Runs `fn` for each repetition; returns the median of each named figure it returns. */
async function repeat(reps, fn) {
  const runs = [];
  for (let r = 0; r < reps; r++) {
    gc();
    runs.push(await fn(r));
  }
  const out = {};
  for (const k of Object.keys(runs[0])) out[k] = median(runs.map((x) => x[k]));
  return out;
}
const rate = (n, ms) => (n / ms) * 1000;

const rows = [];
/**
 * A table row. `better` says which way the ratio is good: 'higher' for rates, 'lower' for times.
 * `target` is a predicate on the row with a text; absent for rows shown for reference.
 */
function row(workload, ours, peer, unit, { peerName, better = 'higher', target, ratio } = {}) {
  const r = ratio ?? (peer !== undefined ? ours / peer : undefined);
  const entry = {
    workload,
    ours,
    peer: peer ?? null,
    peerName: peerName ?? null,
    unit,
    ratio: r ?? null,
    better,
    target: target?.text ?? null,
    met: target ? target.test(ours, r) : null,
  };
  rows.push(entry);
  log(
    `  ${workload}: ${fmt(ours)} ${unit}${peer !== undefined ? ` vs ${peerName} ${fmt(peer)}` : ''}${r !== undefined ? ` ratio ${r.toFixed(2)}` : ''}${entry.met === null ? '' : entry.met ? ' (met)' : ' (MISSED)'}`,
  );
  return entry;
}
function fmt(x) {
  if (x === null || x === undefined) return '—';
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}
const wants = (id) => ONLY === '' || id.includes(ONLY);

// One no-op for every contender: an async function, since fastq's promise API requires one.
let done = 0;
const noop = async () => {
  done++;
};

// ------------------------------------------------------------------ 1 and 2: 100,000 no-op tasks

const N = 100_000;

async function oursFull(n, concurrency) {
  const orch = await core.createOrchestrator({ concurrency });
  done = 0;
  const sw = stopwatch();
  for (let i = 0; i < n; i++) void orch.scheduleTask({ name: 'noop', kind: 'function', run: noop });
  await orch.whenIdle();
  const ms = sw.ms();
  const counts = orch.getSystemStatus().counts;
  check(
    done === n && counts.failed === 0 && counts.cancelled === 0 && counts.created + counts.scheduled + counts.running === 0,
    `orchestrator ran ${done} of ${n} (${JSON.stringify(counts)})`,
  );
  await orch.dispose();
  return ms;
}

/**
 * The bare scheduler: the orchestrator's own dispatch loop (ReadyQueue heap + ResourcePools, a
 * concurrency counter) driving the same no-op with the same concurrency; no records, lifecycle,
 * events, metrics or store.
 */
async function oursBare(n, concurrency) {
  const ready = new core.ReadyQueue({ baseTime: Date.now() });
  const pools = new core.ResourcePools({});
  let running = 0;
  let resolveIdle;
  const idle = new Promise((r) => (resolveIdle = r));
  const onDone = () => {
    running--;
    dispatch();
  };
  function dispatch() {
    while (running < concurrency) {
      const e = ready.takeNext(pools, true);
      if (e === undefined) break;
      running++;
      noop(e).then(onDone, onDone);
    }
    if (running === 0 && ready.size === 0) resolveIdle();
  }
  done = 0;
  const sw = stopwatch();
  for (let i = 0; i < n; i++) {
    ready.push({ id: `t${i}`, priority: 0, enqueuedAt: Date.now() });
    dispatch();
  }
  await idle;
  const ms = sw.ms();
  check(done === n, `bare scheduler ran ${done} of ${n}`);
  return ms;
}

async function pQueue(n, concurrency) {
  const q = new PQueue({ concurrency });
  done = 0;
  const sw = stopwatch();
  for (let i = 0; i < n; i++) void q.add(noop);
  await q.onIdle();
  const ms = sw.ms();
  check(done === n, `p-queue ran ${done} of ${n}`);
  return ms;
}

async function fastqPromise(n, concurrency) {
  const q = fastq.promise(noop, concurrency);
  done = 0;
  const sw = stopwatch();
  for (let i = 0; i < n; i++) void q.push(i);
  await q.drained();
  const ms = sw.ms();
  check(done === n, `fastq ran ${done} of ${n}`);
  return ms;
}

async function pLimitRun(n, concurrency) {
  const limit = pLimit(concurrency);
  done = 0;
  const sw = stopwatch();
  const all = new Array(n);
  for (let i = 0; i < n; i++) all[i] = limit(noop);
  await Promise.all(all);
  const ms = sw.ms();
  check(done === n, `p-limit ran ${done} of ${n}`);
  return ms;
}

async function throughput() {
  for (const c of [1, 16]) {
    // Warm-up (JIT) on a smaller run of each contender, then interleaved measured runs.
    for (const f of [oursFull, oursBare, pQueue, fastqPromise, pLimitRun]) await f(10_000, c);
    const m = await repeat(REPS, async () => ({
      full: await oursFull(N, c),
      bare: await oursBare(N, c),
      pq: await pQueue(N, c),
      fq: await fastqPromise(N, c),
      pl: await pLimitRun(N, c),
    }));
    const full = rate(N, m.full);
    const bare = rate(N, m.bare);
    const ge1 = (text) => ({ text, test: (_o, r) => r >= 1 });
    if (wants('full')) {
      row(`1. full lifecycle, 100k no-op, c=${c}`, full, rate(N, m.pq), 'tasks/s', { peerName: 'p-queue', target: ge1('>= 1.0 x p-queue') });
      row(`1. full lifecycle, 100k no-op, c=${c}`, full, rate(N, m.fq), 'tasks/s', { peerName: 'fastq' });
      row(`1. full lifecycle, 100k no-op, c=${c}`, full, rate(N, m.pl), 'tasks/s', { peerName: 'p-limit' });
    }
    if (wants('bare')) {
      row(`2. bare scheduler, 100k no-op, c=${c}`, bare, rate(N, m.fq), 'tasks/s', { peerName: 'fastq', target: ge1('>= 1.0 x fastq') });
      row(`2. bare scheduler, 100k no-op, c=${c}`, bare, rate(N, m.pq), 'tasks/s', { peerName: 'p-queue' });
      row(`2. bare scheduler, 100k no-op, c=${c}`, bare, rate(N, m.pl), 'tasks/s', { peerName: 'p-limit' });
    }
  }
}

// ------------------------------------------------------------------ 3: priority backlog

const LEVELS = 100;

/** Priority descending, then arrival ascending: what both queues promise. */
function checkOrder(order, who) {
  check(order.length === N, `${who} ran ${order.length} of ${N}`);
  for (let k = 1; k < order.length; k++) {
    const a = order[k - 1];
    const b = order[k];
    const pa = a % LEVELS;
    const pb = b % LEVELS;
    check(pa > pb || (pa === pb && a < b), `${who} ran task ${b} (priority ${pb}) after ${a} (priority ${pa})`);
  }
}

async function oursBacklog() {
  // Aging off: with it, tasks that waited longer would (rightly) overtake and the order check would
  // have to model time. Paused while the backlog builds, so it is a backlog and not a trickle.
  const orch = await core.createOrchestrator({ concurrency: 1, agingMs: Infinity });
  const order = [];
  const runs = Array.from({ length: N }, (_, i) => () => void order.push(i));
  orch.pause();
  const sw = stopwatch();
  for (let i = 0; i < N; i++) void orch.scheduleTask({ name: 'p', kind: 'function', priority: i % LEVELS, run: runs[i] });
  orch.resume();
  await orch.whenIdle();
  const ms = sw.ms();
  checkOrder(order, 'orchestrator');
  await orch.dispose();
  return ms;
}

/** The same backlog through the bare scheduler (ReadyQueue heap + pools), concurrency 1. */
async function bareBacklog() {
  const ready = new core.ReadyQueue({ agingMs: Infinity });
  const pools = new core.ResourcePools({});
  const order = [];
  const sw = stopwatch();
  for (let i = 0; i < N; i++) ready.push({ id: `t${i}`, priority: i % LEVELS, enqueuedAt: 0, i });
  for (;;) {
    const e = ready.takeNext(pools, true);
    if (e === undefined) break;
    await (async () => void order.push(e.i))();
  }
  const ms = sw.ms();
  checkOrder(order, 'bare scheduler');
  return ms;
}

async function pQueueBacklog() {
  const q = new PQueue({ concurrency: 1, autoStart: false });
  const order = [];
  const runs = Array.from({ length: N }, (_, i) => async () => void order.push(i));
  const sw = stopwatch();
  for (let i = 0; i < N; i++) void q.add(runs[i], { priority: i % LEVELS });
  q.start();
  await q.onIdle();
  const ms = sw.ms();
  checkOrder(order, 'p-queue');
  return ms;
}

async function backlog() {
  const m = await repeat(REPS, async () => ({ ours: await oursBacklog(), bare: await bareBacklog(), pq: await pQueueBacklog() }));
  const ten = { text: '>= 10 x p-queue', test: (_o, r) => r >= 10 };
  row('3. backlog 100k / 100 priorities, full orchestrator', rate(N, m.ours), rate(N, m.pq), 'tasks/s', { peerName: 'p-queue', target: ten });
  row('3. backlog 100k / 100 priorities, bare scheduler', rate(N, m.bare), rate(N, m.pq), 'tasks/s', { peerName: 'p-queue', target: ten });
}

// ------------------------------------------------------------------ 4: head-of-line latency

const LOW = 10_000;
const SAMPLES = 200;

/**
 * 10,000 low-priority 1 ms tasks queued at concurrency 4, kept at 10,000 (each finished one is
 * replaced); every few ms a high-priority task is scheduled and the time to its start is taken.
 */
async function latencyRun(kind) {
  const lat = [];
  let sampling = true;
  let schedule;
  let finish;
  const lowRun = async () => {
    await sleep(1);
    if (sampling) schedule(0, lowRun);
  };
  if (kind === 'ours') {
    const orch = await core.createOrchestrator({ concurrency: 4 });
    schedule = (priority, run) => void orch.scheduleTask({ name: priority ? 'high' : 'low', kind: 'function', priority, run });
    finish = async () => {
      const st = orch.getSystemStatus().counts;
      check(st.failed === 0 && st.created + st.scheduled >= LOW - 10, `the backlog drained (${JSON.stringify(st)})`);
      orch.pause();
      await orch.dispose();
    };
  } else {
    const q = new PQueue({ concurrency: 4 });
    schedule = (priority, run) => void q.add(run, { priority });
    finish = async () => {
      check(q.size >= LOW - 10, `the backlog drained (${q.size})`);
      q.clear();
      await q.onIdle();
    };
  }
  for (let i = 0; i < LOW + 4; i++) schedule(0, lowRun);
  await sleep(20);
  for (let s = 0; s < SAMPLES; s++) {
    const t0 = now();
    schedule(100, () => void lat.push(now() - t0));
    await sleep(2 + (s % 3));
  }
  sampling = false;
  check(lat.length >= SAMPLES - 4, `${kind}: ${lat.length} of ${SAMPLES} high-priority tasks started`);
  await finish();
  return { p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

async function latency() {
  await latencyRun('ours');
  const m = await repeat(REPS, async () => {
    const o = await latencyRun('ours');
    const p = await latencyRun('pq');
    return { o50: o.p50, o99: o.p99, p50: p.p50, p99: p.p99 };
  });
  row('4. high-priority start, 10k queued, c=4, p50', m.o50, m.p50, 'ms', { peerName: 'p-queue', better: 'lower' });
  row('4. high-priority start, 10k queued, c=4, p99', m.o99, m.p99, 'ms', {
    peerName: 'p-queue',
    better: 'lower',
    target: { text: 'p99 < 2 ms', test: (o) => o < 2 },
  });
}

// ------------------------------------------------------------------ 5: message queue

async function queueRun(messages, subscribers) {
  // The whole burst is published before any delivery: the subscription's bound must hold all of it.
  const q = new core.MessageQueue({ maxPending: messages });
  let handled = 0;
  for (let s = 0; s < subscribers; s++) q.subscribe('task.*', () => void handled++);
  const payload = { taskId: 'x', name: 'build', kind: 'function', status: 'completed', attempts: 1, at: 1 };
  const sw = stopwatch();
  for (let i = 0; i < messages; i++) void q.publish({ topic: 'task.completed', payload });
  await q.whenIdle();
  const ms = sw.ms();
  const s = q.getQueueStats().totals;
  check(
    handled === messages * subscribers && s.acknowledged === messages * subscribers,
    `queue delivered ${handled}, acknowledged ${s.acknowledged} of ${messages * subscribers}`,
  );
  q.dispose();
  return ms;
}

/** A publish to a topic nobody follows: what the orchestrator pays per transition when nothing listens. */
async function publishNoSubscriber(messages) {
  const q = new core.MessageQueue();
  const payload = { taskId: 'x' };
  const sw = stopwatch();
  for (let i = 0; i < messages; i++) void q.publish({ topic: 'task.started', payload });
  const ms = sw.ms();
  await q.whenIdle();
  check(q.getQueueStats().totals.published === messages, 'publish count');
  q.dispose();
  return ms;
}

async function queue() {
  const M = 100_000;
  await queueRun(10_000, 1);
  for (const subs of [1, 4]) {
    const m = await repeat(REPS, async () => ({ ms: await queueRun(M, subs) }));
    row(`5. queue publish+ack, ${subs} subscriber${subs > 1 ? 's' : ''}`, rate(M, m.ms), undefined, 'msgs/s');
  }
  const m = await repeat(REPS, async () => ({ ms: await publishNoSubscriber(M) }));
  row('5. queue publish, no subscriber (reference)', rate(M, m.ms), undefined, 'msgs/s');
}

// ------------------------------------------------------------------ reference: engine and monitor alone

/** One no-op attempt after another through TaskEngine.executeTask: the engine's own per-attempt cost. */
async function engineRun(n) {
  const engine = new core.TaskEngine();
  const task = {
    id: 'fn',
    name: 'fn',
    kind: 'function',
    status: 'running',
    priority: 0,
    attempts: 1,
    createdAt: 0,
    history: [],
    spec: { name: 'fn', kind: 'function' },
    dependsOn: [],
  };
  done = 0;
  const sw = stopwatch();
  for (let i = 0; i < n; i++) await engine.executeTask(task, { run: noop });
  const ms = sw.ms();
  check(done === n, `engine ran ${done} of ${n}`);
  await engine.dispose();
  return ms;
}

function monitorRun(n) {
  const m = new core.PerformanceMonitor({ pools: { gpu: 4 } });
  const sw = stopwatch();
  for (let i = 0; i < n; i++) {
    m.recordTaskExecution('t', (i % 1000) + 0.5, { status: i % 10 === 0 ? 'failed' : 'completed', waitMs: 3 });
    m.recordResourceUsage('gpu', { inUse: i & 3, capacity: 4 });
    m.recordMessageProcessing('m', 0.2);
    m.recordQueueDepth(i % 100, i & 3);
  }
  const ms = sw.ms();
  check(m.getPerformanceMetrics().taskThroughput >= 0, 'monitor metrics');
  return ms;
}

async function reference() {
  await engineRun(10_000);
  const m = await repeat(REPS, async () => ({ engine: await engineRun(N), monitor: monitorRun(250_000) }));
  row('ref. engine alone: sequential no-op attempts', (m.engine * 1000) / N, undefined, 'us/attempt', { better: 'lower' });
  row('ref. monitor: record calls (4 kinds)', rate(1_000_000, m.monitor), undefined, 'calls/s');
}

// ------------------------------------------------------------------ 6: persistence

/** Like VS Code's Memento: every update serialises the extension's whole state. */
class MementoLikeStore {
  constructor() {
    this.state = {};
    this.writes = [];
  }
  keys() {
    return Object.keys(this.state);
  }
  get(key) {
    return this.state[key];
  }
  update(key, value) {
    if (value === undefined) delete this.state[key];
    else this.state[key] = value;
    const raw = JSON.stringify(this.state);
    this.state = JSON.parse(raw);
    this.writes.push({ at: now(), bytes: raw.length });
    return Promise.resolve();
  }
}

async function persistenceRun(tasks) {
  const store = new MementoLikeStore();
  const orch = await core.createOrchestrator({ concurrency: 8, store });
  // Short real work, so the burst lasts long enough for the write limit to show.
  const run = () => sleep(1);
  const t0 = now();
  for (let i = 0; i < tasks; i++) void orch.scheduleTask({ name: 'burst', kind: 'function', run });
  await orch.whenIdle();
  const busyMs = now() - t0;
  // The coalescer's trailing write comes at most one interval later.
  await sleep(600);
  const w = store.writes.filter((x) => x.at >= t0);
  check(
    w.length > 0 && orch.getSystemStatus().counts.completed === tasks,
    `persistence burst: ${w.length} writes, ${JSON.stringify(orch.getSystemStatus().counts)}`,
  );
  // The most writes in any one-second window.
  let maxPerSecond = 0;
  for (let i = 0, j = 0; i < w.length; i++) {
    while (w[i].at - w[j].at >= 1000) j++;
    maxPerSecond = Math.max(maxPerSecond, i - j + 1);
  }
  const bytes = w.reduce((a, x) => a + x.bytes, 0) / w.length;
  const transitions = tasks * 4;
  await orch.dispose();
  return { maxPerSecond, bytes, writes: w.length, transitionsPerWrite: transitions / w.length, busyMs };
}

async function persistence() {
  for (const tasks of [1_000, 10_000]) {
    const m = await repeat(REPS, () => persistenceRun(tasks));
    log(`  (${tasks} tasks: ${m.writes} writes over ${m.busyMs.toFixed(0)} ms busy, ${fmt(m.transitionsPerWrite)} transitions per write)`);
    row(`6. store writes, burst of ${tasks.toLocaleString('en-US')}, max in any 1 s`, m.maxPerSecond, undefined, 'writes/s', {
      better: 'lower',
      target: { text: '<= 10 writes/s', test: (o) => o <= 10 },
    });
    row(`6. store bytes per write, burst of ${tasks.toLocaleString('en-US')}`, m.bytes, undefined, 'bytes', { better: 'lower' });
  }
}

// ------------------------------------------------------------------ 7: memory per retained record

async function memoryRun(n) {
  const orch = await core.createOrchestrator({ concurrency: 16, maxFinished: n });
  const run = () => undefined;
  for (let i = 0; i < 1000; i++) void orch.scheduleTask({ name: 'warm', kind: 'function', run });
  await orch.whenIdle();
  await orch.clearFinished();
  await orch.state.synchronizeState();
  gc();
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) void orch.scheduleTask({ name: 'build', kind: 'function', run });
  await orch.whenIdle();
  await orch.state.synchronizeState();
  await sleep(10);
  gc();
  gc();
  const heap1 = process.memoryUsage().heapUsed;
  const counts = orch.getSystemStatus().counts;
  check(counts.completed === n, `memory: ${counts.completed} of ${n} records retained`);
  await orch.dispose();
  return { perRecord: (heap1 - heap0) / n };
}

async function memory() {
  const n = 50_000;
  const m = await repeat(REPS, () => memoryRun(n));
  row('7. heap per retained finished record (50k)', m.perRecord, undefined, 'bytes', {
    better: 'lower',
    target: { text: '< 1024 bytes', test: (o) => o < 1024 },
  });
}

// ------------------------------------------------------------------ 8: DAG in layers

const WIDTH = 100;
const FAN_IN = 3;

/** `n` no-op tasks in layers of 100; each task after the first layer waits for 3 of the layer before. */
async function dagRun(n) {
  const orch = await core.createOrchestrator({ concurrency: 16 });
  const finished = new Set();
  let violations = 0;
  const specs = [];
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / WIDTH);
    const deps = [];
    if (layer > 0) for (let k = 0; k < FAN_IN; k++) deps.push(`t${(layer - 1) * WIDTH + ((i + k) % WIDTH)}`);
    const key = `t${i}`;
    specs.push({
      name: key,
      key,
      kind: 'function',
      dependsOn: deps.length ? deps : undefined,
      run: () => {
        for (const d of deps) if (!finished.has(d)) violations++;
        finished.add(key);
      },
    });
  }
  const sw = stopwatch();
  await orch.scheduleWorkflow(specs);
  await orch.whenIdle();
  const ms = sw.ms();
  check(finished.size === n && violations === 0, `DAG: ${finished.size} of ${n} ran, ${violations} before a dependency`);
  await orch.dispose();
  return ms;
}

async function dag() {
  await dagRun(1_000);
  const m = await repeat(REPS, async () => ({ small: await dagRun(1_000), large: await dagRun(10_000) }));
  row('8. DAG 1,000 tasks in layers of 100, fan-in 3', (m.small * 1000) / 1_000, undefined, 'us/task', { better: 'lower' });
  row('8. DAG 10,000 tasks in layers of 100, fan-in 3', (m.large * 1000) / 10_000, undefined, 'us/task', { better: 'lower' });
  row('8. DAG cost growth, 1k -> 10k tasks', m.large / m.small, undefined, 'x', {
    better: 'lower',
    target: { text: '<= 12 x for 10 x tasks', test: (o) => o <= 12 },
  });
}

// ------------------------------------------------------------------ 9: shell task vs bare spawn

function bareSpawn() {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'true'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  });
}

async function shell() {
  if (process.platform === 'win32') return;
  const orch = await core.createOrchestrator({ concurrency: 1 });
  const viaOrchestrator = async () => {
    const id = await orch.scheduleTask({ name: 'true', kind: 'shell', command: 'true' });
    await orch.whenIdle();
    check(orch.getTask(id).status === 'completed', `shell task ended ${orch.getTask(id).status}`);
  };
  const once = async (f) => {
    const t0 = now();
    await f();
    return now() - t0;
  };
  for (let i = 0; i < 10; i++) {
    await once(bareSpawn);
    await once(viaOrchestrator);
  }
  const RUNS = 60;
  const m = await repeat(REPS, async () => {
    const a = [];
    const b = [];
    for (let i = 0; i < RUNS; i++) {
      b.push(await once(bareSpawn));
      a.push(await once(viaOrchestrator));
    }
    return { ours: median(a), bare: median(b) };
  });
  await orch.dispose();
  row('9. shell `true`: task vs bare spawn (median)', m.ours, m.bare, 'ms', {
    peerName: 'spawn',
    better: 'lower',
    target: { text: '<= 1.2 x spawn', test: (_o, r) => r <= 1.2 },
  });
}

// ------------------------------------------------------------------ main

const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};
log(`bench: ${machine.cpus} x ${machine.cpu}, Node ${machine.node}, ${REPS} repetitions, median, throughput in ${CLOCK} time`);
const started = now();
const suites = [
  ['full bare', throughput],
  ['backlog', backlog],
  ['latency', latency],
  ['queue', queue],
  ['persistence', persistence],
  ['memory', memory],
  ['dag', dag],
  ['shell', shell],
  ['reference', reference],
  ['redis', () => redisWorkload({ root, reps: REPS, row, log, check, median, percentile })],
  ['services', () => servicesWorkload({ core, row, log, check, percentile })],
  ['triggers', () => triggersWorkload({ root, row, log, check, percentile })],
  ['cache', () => cacheWorkload({ core, root, reps: REPS, row, log, check, median })],
  ['history', () => historyWorkload({ core, root, reps: REPS, row, log, check, median })],
];
for (const [id, fn] of suites) {
  if (ONLY && !id.split(' ').some((s) => s.includes(ONLY))) continue;
  log(`- ${id}`);
  await fn();
}
const totalSeconds = (now() - started) / 1000;

if (asJson) {
  process.stdout.write(`${JSON.stringify({ machine, reps: REPS, clock: CLOCK, totalSeconds, rows }, null, 2)}\n`);
} else {
  const head = ['workload', 'ours', 'peer', 'ratio (ours/peer)', 'target', 'met?'];
  const body = rows.map((r) => [
    r.workload,
    `${fmt(r.ours)} ${r.unit}`,
    r.peer === null ? '—' : `${r.peerName} ${fmt(r.peer)}`,
    r.ratio === null ? '—' : `${r.ratio.toFixed(2)}${r.better === 'lower' ? ' (lower is better)' : ''}`,
    r.target ?? '—',
    r.met === null ? '—' : r.met ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const b of body) console.log(line(b));
  console.log(
    `\n${machine.cpus} x ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}; ${REPS} repetitions, median; rates in ${CLOCK === 'cpu' ? 'tasks per CPU second of this process' : 'wall-clock time'}; ${totalSeconds.toFixed(0)} s`,
  );
}
process.exit(0);
