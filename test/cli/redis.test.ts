// The Redis backend end to end, with the real built CLI: a real redis-server on 127.0.0.1 (a free
// port, a scratch dir), two `orchestrator worker` processes and `orchestrator run --backend redis`
// as the coordinator. Every process started here carries a marker and is checked gone.
import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startRedis, type RedisServer } from '../support/redisServer';
import { assertBuilt, events, killMarked, makeWorkspace, processesWith, removeWorkspace, runCli, startCli, until, type Running } from './support/cli';

const node = (code: string, marker = ''): string => `node -e ${JSON.stringify(code)}${marker ? ` ${marker}` : ''}`;
/** Holds the fleet's one slot: fails (exit 9) if another holder, on any worker, is inside at once. */
const exclusive = "sh -c 'mkdir slot.lock || exit 9; sleep 0.3; rmdir slot.lock'";

describe('orchestrator run --backend redis, with two workers (the built CLI)', function () {
  this.timeout(120_000);
  const marker = `orch-redis-test-${process.pid}`;
  let redis: RedisServer;
  let dir: string;
  let workers: Running[] = [];

  before(async () => {
    assertBuilt();
    redis = await startRedis({ appendonly: true });
  });
  after(async () => {
    await redis?.stop();
  });

  function startWorker(name: string, extra: string[] = []): Running {
    const w = startCli(['worker', '--redis', redis.url, '--name', name, '--concurrency', '2', ...extra], dir, { ORCH_TEST_MARK: marker });
    workers.push(w);
    return w;
  }

  async function startWorkers(): Promise<void> {
    const a = startWorker('w1', ['--resources', 'slot=1']);
    const b = startWorker('w2', ['--resources', 'slot=1']);
    await until(() => a.stdout().includes('worker w1:') && b.stdout().includes('worker w2:'), 'both workers to listen');
  }

  afterEach(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.done));
    workers = [];
    killMarked(marker);
    if (dir) removeWorkspace(dir);
  });

  it('runs a workflow across the workers: dependencies in order, a fleet-wide pool of 1 held once at a time, each task naming its worker', async () => {
    dir = makeWorkspace({
      fleet: {
        tasks: [
          { key: 'prep', command: 'echo prep' },
          ...[1, 2, 3, 4].map((i) => ({ key: `slot${i}`, command: exclusive, dependsOn: ['prep'], resources: { slot: 1 } })),
          { key: 'free1', command: 'sleep 0.2', dependsOn: ['prep'] },
          { key: 'free2', command: 'sleep 0.2', dependsOn: ['prep'] },
          { key: 'last', command: 'echo last', dependsOn: ['slot1', 'slot2', 'slot3', 'slot4', 'free1', 'free2'] },
        ],
      },
    });
    await startWorkers();
    const result = await runCli(['run', 'fleet', '--backend', 'redis', '--redis', redis.url, '--resources', 'slot=1', '--concurrency', '4', '--json'], dir);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const list = events(result.stdout);
    const completed = list.filter((e) => e.type === 'task.completed');
    assert.equal(completed.length, 8);
    for (const e of completed) assert.match(String(e.worker), /^w[12]$/, `${String(e.key)} names its worker`);
    assert.ok(new Set(completed.map((e) => e.worker)).size === 2, 'both workers ran tasks');
    const at = (key: string, type: string): number => list.findIndex((e) => e.key === key && e.type === type);
    for (const key of ['slot1', 'slot2', 'slot3', 'slot4', 'free1', 'free2']) {
      assert.ok(at('prep', 'task.completed') < at(key, 'task.running'), `${key} after prep`);
      assert.ok(at(key, 'task.completed') < at('last', 'task.running'), `last after ${key}`);
    }
  });

  it("runs as many tasks at once as the workers' slots with the automatic concurrency, more than this machine's CPUs", async () => {
    // Each task marks itself up, then waits (5 s at most) until `slots` tasks are up at once and
    // writes how many it saw: with the coordinator's CPUs alone as the limit, fewer could ever meet.
    const slots = availableParallelism() + 2;
    const together = (key: string): string =>
      `touch up.${key}; i=0; while [ $(ls up.* | wc -l) -lt ${slots} ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; ls up.* | wc -l > seen.${key}`;
    const keys = Array.from({ length: slots }, (_, i) => `t${i}`);
    dir = makeWorkspace({ wide: { tasks: keys.map((key) => ({ key, command: together(key) })) } });
    const half = String(Math.ceil(slots / 2));
    const a = startCli(['worker', '--redis', redis.url, '--name', 'w1', '--concurrency', half], dir, { ORCH_TEST_MARK: marker });
    const b = startCli(['worker', '--redis', redis.url, '--name', 'w2', '--concurrency', half], dir, { ORCH_TEST_MARK: marker });
    workers.push(a, b);
    await until(() => a.stdout().includes('worker w1:') && b.stdout().includes('worker w2:'), 'both workers to listen');
    const result = await runCli(['run', 'wide', '--backend', 'redis', '--redis', redis.url, '--json'], dir);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const started = events(result.stdout).find((e) => e.type === 'run.started');
    assert.equal(started?.concurrency, availableParallelism() + 2 * Number(half), "the limit: this machine's CPUs plus both workers' slots");
    for (const key of keys) assert.equal(readFileSync(join(dir, `seen.${key}`), 'utf8').trim(), String(slots), `${key} ran with all ${slots} at once`);
  });

  it('starts ready tasks in priority order across the fleet', async () => {
    dir = makeWorkspace({
      order: { tasks: [1, 5, 3, 9, 7].map((p) => ({ key: `p${p}`, command: 'sleep 0.1', priority: p })) },
    });
    await startWorkers();
    const result = await runCli(['run', 'order', '--backend', 'redis', '--redis', redis.url, '--resources', 'slot=1', '--concurrency', '1', '--json'], dir);
    assert.equal(result.code, 0, result.stderr);
    const started = events(result.stdout)
      .filter((e) => e.type === 'task.running')
      .map((e) => e.key);
    assert.deepEqual(started, ['p9', 'p7', 'p5', 'p3', 'p1']);
  });

  it('cancels on Ctrl-C of the coordinator and the remote process tree stops', async () => {
    dir = makeWorkspace({ long: { tasks: [{ key: 'sleeper', command: node('setInterval(() => {}, 1000)', marker) }] } });
    await startWorkers();
    const cli = startCli(['run', 'long', '--backend', 'redis', '--redis', redis.url, '--json'], dir);
    await until(() => processesWith(marker).length > 0, 'the sleeper to run on a worker');
    cli.child.kill('SIGINT');
    const result = await cli.done;
    assert.equal(result.code, 130, result.stderr);
    await until(() => processesWith(marker).length === 0, 'the remote process tree to be stopped', 5_000);
    assert.equal(events(result.stdout).find((e) => e.type === 'task.cancelled')?.key, 'sleeper');
  });

  it('runs a task again on the other worker when its worker is SIGKILLed mid-task', async () => {
    dir = makeWorkspace({
      crash: {
        tasks: [
          {
            key: 'once',
            // The first attempt hangs (its worker is killed); the second finds the file and ends.
            command: `if [ -f started ]; then echo second attempt; else touch started; ${node('setInterval(() => {}, 1000)', marker)}; fi`,
            retries: 1,
            retryDelayMs: 100,
          },
        ],
      },
    });
    const w1 = startWorker('w1');
    await until(() => w1.stdout().includes('worker w1:'), 'w1 to listen');
    const cli = startCli(['run', 'crash', '--backend', 'redis', '--redis', redis.url, '--json'], dir);
    await until(() => existsSync(join(dir, 'started')) && processesWith(marker).length > 0, 'the first attempt to run on w1');
    const w2 = startWorker('w2');
    await until(() => w2.stdout().includes('worker w2:'), 'w2 to listen');
    w1.child.kill('SIGKILL');
    killMarked(marker); // What w1 ran dies with its machine.
    const result = await cli.done;
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const list = events(result.stdout);
    const retry = list.find((e) => e.type === 'task.scheduled' && e.from === 'running') as { error?: { code?: string } } | undefined;
    assert.equal(retry?.error?.code, 'INTERRUPTED');
    assert.equal(list.find((e) => e.type === 'task.completed')?.worker, 'w2');
  });

  it('re-attaches on --resume to a job still running on a worker after the coordinator was SIGKILLed, running it once', async () => {
    const log = (line: string): string => node(`require('fs').appendFileSync('runs.log', '${line}\\n')`);
    dir = makeWorkspace({
      reload: {
        tasks: [
          { key: 'long', command: `${log('start')}; sleep 2; ${log('end')}`, retries: 2 },
          { key: 'next', command: log('next'), dependsOn: ['long'] },
        ],
      },
    });
    await startWorkers();
    const cli = startCli(['run', 'reload', '--backend', 'redis', '--redis', redis.url, '--state', 'state.json'], dir);
    const saved = (): boolean => {
      try {
        const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {
          'orchestrator.state'?: { tasks: { status: string; spec: { key?: string } }[] };
        };
        return state['orchestrator.state']?.tasks.some((t) => t.spec.key === 'long' && t.status === 'running') === true;
      } catch {
        return false;
      }
    };
    await until(() => existsSync(join(dir, 'runs.log')) && saved(), 'long to run on a worker and be saved Running');
    cli.child.kill('SIGKILL');
    await cli.done;
    const resumed = await runCli(['run', '--resume', '--state', 'state.json', '--backend', 'redis', '--redis', redis.url, '--json'], dir);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    assert.deepEqual(readFileSync(join(dir, 'runs.log'), 'utf8').split('\n').filter(Boolean), ['start', 'end', 'next'], 'long ran once');
    const long = events(resumed.stdout).find((e) => e.key === 'long' && e.type === 'task.completed');
    assert.equal(long?.attempt, 1);
    assert.match(String(long?.worker), /^w[12]$/);
  });

  it('loses nothing acknowledged when Redis restarts mid-run', async () => {
    dir = makeWorkspace({
      restart: {
        tasks: [
          { key: 'a', command: `${node("require('fs').appendFileSync('done.log', 'a\\n')")}; sleep 1` },
          { key: 'b', command: node("require('fs').appendFileSync('done.log', 'b\\n')"), dependsOn: ['a'] },
          { key: 'c', command: node("require('fs').appendFileSync('done.log', 'c\\n')"), dependsOn: ['b'] },
        ],
      },
    });
    await startWorkers();
    const cli = startCli(['run', 'restart', '--backend', 'redis', '--redis', redis.url, '--json'], dir);
    await until(() => existsSync(join(dir, 'done.log')), 'a to run');
    await redis.restart();
    const result = await cli.done;
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.deepEqual(readFileSync(join(dir, 'done.log'), 'utf8').split('\n').filter(Boolean), ['a', 'b', 'c']);
  });

  it("runs the demo's ci workflow across two workers, its tasks.json step included", async () => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrator-demo-redis-'));
    cpSync(resolve(__dirname, '../../demo-workspace'), dir, { recursive: true, filter: (src) => !/node_modules|[/\\](dist|\.orchestrator)$/.test(src) });
    const a = startWorker('w1', ['--resources', 'cpu=2']);
    const b = startWorker('w2', ['--resources', 'cpu=2,network=1']);
    await until(() => a.stdout().includes('worker w1:') && b.stdout().includes('worker w2:'), 'both workers to listen');
    const result = await runCli(['run', 'ci', '--backend', 'redis', '--redis', redis.url, '--json'], dir);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const completed = events(result.stdout).filter((e) => e.type === 'task.completed');
    assert.deepEqual(completed.map((e) => e.key).sort(), ['build', 'install', 'lint', 'package', 'test']);
    for (const e of completed) assert.match(String(e.worker), /^w[12]$/, `${String(e.key)} ran on a worker`);
  });

  it('refuses a bad backend invocation before anything runs', async () => {
    dir = makeWorkspace({ x: { tasks: [{ key: 'a', command: 'touch ran.marker' }] } });
    const bad = await runCli(['run', 'x', '--backend', 'cloud'], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Expected --backend to be local or redis, got "cloud"/);
    const noUrl = await runCli(['run', 'x', '--backend', 'redis'], dir, { ORCHESTRATOR_REDIS_URL: '' });
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /Expected --redis URL/);
    const worker = await runCli(['worker', '--redis', 'http://x'], dir);
    assert.equal(worker.code, 2);
    assert.ok(!existsSync(join(dir, 'ran.marker')));
  });
});
