// Faults of the fleet, with real processes: a worker SIGKILLed mid-task, and Redis restarted mid-run.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisExecution } from '../../src/backends/redis/redisExecution';
import { RedisWorker, type RedisWorkerOptions } from '../../src/backends/redis/redisWorker';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import { ExecutionError } from '../../src/core/model/errors';
import { gone } from '../support/processChecks';
import { redisAvailable, startRedis, type RedisServer } from '../support/redisServer';
import { runningRecord } from '../support/runningRecord';
import { until } from '../support/until';

/** Starts a worker in a child process and resolves once it says `ready`. */
function childWorker(options: RedisWorkerOptions): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../support/redisWorkerProcess.ts'), JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`the worker process exited (${code}) before it was ready`)));
  });
}

(redisAvailable() ? describe : describe.skip)('redis backend faults (skipped without /usr/bin/redis-server)', function () {
  // Real processes and a real Redis: a lost worker is noticed after its heartbeat goes stale (6 s).
  this.timeout(30_000);
  let redis: RedisServer;
  let dir: string;
  let remote: RedisExecution | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    redis = await startRedis({ appendonly: true });
  });
  after(async () => {
    await redis?.stop();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'redis-faults-'));
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await remote?.dispose();
    remote = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a worker SIGKILLed mid-task: the attempt fails INTERRUPTED and its retry completes on another worker', async () => {
    const prefix = 'kill';
    const pidFile = join(dir, 'pid');
    const doomed = await childWorker({ url: redis.url, prefix, name: 'doomed', concurrency: 1, lockDurationMs: 1000, stalledIntervalMs: 500 });
    cleanups.push(() => void (doomed.exitCode === null && doomed.kill('SIGKILL')));
    remote = await RedisExecution.connect({ url: redis.url, prefix, name: 'coordinator' });
    const o = await createOrchestrator({ remote, concurrency: 2 });
    cleanups.push(() => o.dispose());
    const id = await o.scheduleTask({
      name: 'once-killed',
      kind: 'shell',
      retries: 1,
      retryDelayMs: 10,
      command: `if [ -e ${pidFile} ]; then echo second; else echo $$ > ${pidFile}; exec sleep 30; fi`,
    });
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 15_000, 'the first attempt starting');
    const orphan = Number(readFileSync(pidFile, 'utf8'));
    cleanups.push(() => void (gone(orphan) || process.kill(orphan, 'SIGKILL')));
    doomed.kill('SIGKILL');
    const rescuer = await RedisWorker.start({ url: redis.url, prefix, name: 'rescuer', concurrency: 1, lockDurationMs: 1000, stalledIntervalMs: 500 });
    cleanups.push(() => rescuer.close());
    await o.whenIdle();
    const r = o.getTask(id);
    assert.equal(r?.status, 'completed', JSON.stringify(r?.error));
    assert.equal(r?.attempts, 2);
    assert.equal(r?.result?.worker, 'rescuer');
    assert.match(r?.result?.output ?? '', /second/);
    assert.ok(
      r?.history.some((h) => /lost|stalled|INTERRUPTED/i.test(h.reason ?? '')),
      `the first attempt's failure is in the history: ${JSON.stringify(r?.history)}`,
    );
  });

  it('Redis restarted mid-run (appendonly): a job acknowledged before is not lost; the outage is warned once and its end once', async () => {
    const prefix = 'restart';
    const warnings: string[] = [];
    remote = await RedisExecution.connect({ url: redis.url, prefix, name: 'coordinator', onWarn: (m) => warnings.push(m) });
    const o = await createOrchestrator({ remote, concurrency: 2 });
    cleanups.push(() => o.dispose());
    const before = await o.scheduleTask({ name: 'before', kind: 'shell', command: 'echo before' });
    const counts = async () => (await remote!.fleet()).queues.find((q) => q.name === `${prefix}.run.any`)?.waiting ?? 0;
    for (let i = 0; i < 100 && (await counts()) < 1; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await counts(), 1, 'the job is in Redis (acknowledged) before the restart');
    const restarted = redis.restart();
    const during = await o.scheduleTask({ name: 'during', kind: 'shell', command: 'echo during' });
    await restarted;
    const worker = await RedisWorker.start({ url: redis.url, prefix, name: 'after-restart', concurrency: 2 });
    cleanups.push(() => worker.close());
    await o.whenIdle();
    for (const id of [before, during]) {
      const r = o.getTask(id);
      assert.equal(r?.status, 'completed', `${r?.name}: ${JSON.stringify(r?.error)}`);
      assert.equal(r?.result?.worker, 'after-restart');
    }
    // The command connection may still be in its reconnect backoff when the work is done.
    await until(() => warnings.some((w) => /reachable again/.test(w)), 6000, 'the end of the outage being warned');
    assert.equal(warnings.filter((w) => /unreachable/.test(w)).length, 1, warnings.join('\n'));
    assert.equal(warnings.filter((w) => /reachable again/.test(w)).length, 1, warnings.join('\n'));
  });
  it('Redis down: a task started meanwhile waits, goes out on reconnect and runs; dispose during an outage still ends', async () => {
    const prefix = 'outage';
    const warnings: string[] = [];
    remote = await RedisExecution.connect({ url: redis.url, prefix, name: 'coordinator', onWarn: (m) => warnings.push(m), abortSettleMs: 100 });
    const o = await createOrchestrator({ remote, concurrency: 2 });
    cleanups.push(() => o.dispose());
    await redis.down();
    await until(() => warnings.some((w) => /unreachable/.test(w)), 5000, 'the outage being warned');
    const id = await o.scheduleTask({ name: 'while-down', kind: 'shell', command: 'echo ok' });
    assert.equal(remote.connected, false);
    assert.equal(remote.available, false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The orchestrator holds dispatch while the backend is unavailable: the ready task waits in Scheduled.
    assert.equal(o.getTask(id)?.status, 'scheduled');
    assert.deepEqual(await remote.fleet(), { connected: false, workers: [], queues: [] });
    await redis.up();
    const worker = await RedisWorker.start({ url: redis.url, prefix, name: 'after-outage', concurrency: 1 });
    cleanups.push(() => worker.close());
    await o.whenIdle();
    assert.equal(o.getTask(id)?.status, 'completed', JSON.stringify(o.getTask(id)?.error));
    assert.equal(o.getTask(id)?.result?.worker, 'after-outage');
    // A coordinator that starts an attempt while Redis is down still disposes within its bound.
    const lonely = await RedisExecution.connect({ url: redis.url, prefix: 'outage2', name: 'lonely', abortSettleMs: 100 });
    await redis.down();
    const outcome = new Promise<unknown>((resolve) =>
      lonely.start(runningRecord('x', { command: 'true' }), 1, undefined, undefined, undefined, (_r, error) => resolve(error)),
    );
    const began = Date.now();
    await lonely.dispose();
    assert.ok(Date.now() - began < 2000, `dispose took ${Date.now() - began} ms`);
    assert.ok((await outcome) instanceof Error);
    await redis.up();
  });
  it('Redis away longer than a job lock: the worker stops the attempt (no second run behind the retry) and it fails INTERRUPTED', async () => {
    const prefix = 'lock';
    const pidFile = join(dir, 'pid');
    const worker = await RedisWorker.start({
      url: redis.url,
      prefix,
      name: 'holder',
      concurrency: 1,
      lockDurationMs: 600,
      stalledIntervalMs: 300,
      killGraceMs: 200,
    });
    cleanups.push(() => worker.close());
    remote = await RedisExecution.connect({ url: redis.url, prefix, name: 'coordinator', abortSettleMs: 30_000 });
    const outcome = new Promise<unknown>((resolve) =>
      remote!.start(runningRecord('held', { command: `echo $$ > ${pidFile}; exec sleep 30` }), 1, undefined, undefined, undefined, (_r, error) =>
        resolve(error),
      ),
    );
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 10_000, 'the job starting');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    cleanups.push(() => void (gone(pid) || process.kill(pid, 'SIGKILL')));
    await redis.down();
    await new Promise((resolve) => setTimeout(resolve, 1200));
    await redis.up();
    await until(() => gone(pid), 10_000, 'the attempt being stopped on the worker');
    const error = await outcome;
    assert.ok(error instanceof ExecutionError, String(error));
    assert.equal(error.errorCode, 'INTERRUPTED');
  });
});
