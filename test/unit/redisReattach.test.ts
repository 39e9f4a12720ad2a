// The coordinator going away and coming back, and a worker lost with nobody left to notice it.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Job, Queue, type ConnectionOptions } from 'bullmq';
import { redisOptions } from '../../src/backends/redis/connection';
import { jobId, queueName } from '../../src/backends/redis/protocol';
import { RedisExecution } from '../../src/backends/redis/redisExecution';
import { RedisWorker } from '../../src/backends/redis/redisWorker';
import type { RemoteAttempt } from '../../src/backends/redis/remoteAttempt';
import { ExecutionError } from '../../src/core/model/errors';
import { runningRecord } from '../support/runningRecord';
import type { TaskRecord, TaskResult } from '../../src/core/model/model';
import { gone } from '../support/processChecks';
import { redisAvailable } from '../support/redisServer';
import { redisSuite } from '../support/redisSuite';
import { until } from '../support/until';

const record = (id: string, command: string): TaskRecord => runningRecord(id, { command });

interface Outcome {
  result: TaskResult | undefined;
  error: unknown;
}

(redisAvailable() ? describe : describe.skip)('redisExecution re-attach and lost workers (skipped without /usr/bin/redis-server)', function () {
  // Real processes and a real Redis: a lost worker is noticed after its heartbeat goes stale (6 s).
  this.timeout(30_000);
  const suite = redisSuite('redis-reattach');
  let n = 0;

  async function coordinator(prefix: string) {
    const port = await RedisExecution.connect({ url: suite.redis.url, prefix, name: 'coordinator' });
    suite.closeAfter(() => port.dispose());
    return port;
  }

  it('a restarted coordinator re-attaches to a job still running instead of running it again', async () => {
    const prefix = `r${++n}`;
    const w = await RedisWorker.start({ url: suite.redis.url, prefix, name: 'w1', concurrency: 2 });
    suite.closeAfter(() => w.close());
    const trace = join(suite.dir, 'runs');
    const task = record('build', `echo run >> ${trace}; sleep 0.4; echo built`);
    const first = await coordinator(prefix);
    const early: Outcome[] = [];
    first.start(task, 1, undefined, undefined, undefined, (result, error) => early.push({ result, error }));
    await until(() => w.runningCount === 1, 5000, 'the job running');
    await first.detach();
    const second = await coordinator(prefix);
    const output: string[] = [];
    const outcome = await new Promise<Outcome>((resolve) =>
      second.reattach(
        task,
        1,
        (c) => output.push(c),
        (result, error) => resolve({ result, error }),
      ),
    );
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.result?.worker, 'w1');
    assert.match(outcome.result?.output ?? '', /built/);
    assert.match(output.join(''), /built/);
    assert.deepEqual(early, [], 'the detached coordinator reported nothing');
    assert.equal(readFileSync(trace, 'utf8'), 'run\n', 'the job ran once');
    // Re-attaching after the end: the completed job is gone from Redis, its outcome is read from the
    // events stream. Another record of that id (an earlier session's) and an attempt Redis never saw
    // are INTERRUPTED.
    const queue = new Queue(queueName(prefix, []), { connection: redisOptions(suite.redis.url) as ConnectionOptions, prefix });
    suite.closeAfter(() => queue.close());
    assert.equal(await Job.fromId(queue, jobId(task.id, 1)), undefined, 'the completed job was removed');
    const third = await coordinator(prefix);
    const reattach = (t: TaskRecord, attempt: number) =>
      new Promise<Outcome>((resolve) => third.reattach(t, attempt, undefined, (result, error) => resolve({ result, error })));
    const [again, never] = await Promise.all([reattach(task, 1), reattach(task, 7)]);
    const other = await reattach({ ...task, createdAt: task.createdAt - 1 }, 1);
    assert.equal(again.error, undefined);
    assert.equal(again.result?.worker, 'w1');
    assert.match(again.result?.output ?? '', /built/);
    for (const lost of [other, never]) {
      assert.ok(lost.error instanceof ExecutionError);
      assert.equal(lost.error.errorCode, 'INTERRUPTED');
    }
  });

  it('resume follows a job an earlier coordinator queued (waiting, or completed meanwhile) and queues only one it never did', async () => {
    const prefix = `r${++n}`;
    const trace = join(suite.dir, 'runs');
    const finished = record('finished', `echo finished >> ${trace}`);
    const waiting = record('waiting', `echo waiting >> ${trace}`);
    const fresh = record('fresh', `echo fresh >> ${trace}`);
    const early: Outcome[] = [];
    const queueAndLeave = async (t: TaskRecord): Promise<void> => {
      const earlier = await coordinator(prefix);
      await (earlier.start(t, 1, undefined, undefined, undefined, (result, error) => early.push({ result, error })) as RemoteAttempt).added;
      await earlier.detach();
    };
    // `finished` is queued, then run by a worker while no coordinator listens; `waiting` is queued after.
    await queueAndLeave(finished);
    const w1 = await RedisWorker.start({ url: suite.redis.url, prefix, name: 'w1', concurrency: 2 });
    await until(() => w1.runningCount === 0 && existsSync(trace), 5000, 'the finished job to run');
    await w1.close();
    await queueAndLeave(waiting);

    const second = await coordinator(prefix);
    const resume = (t: TaskRecord) =>
      new Promise<Outcome>((resolve) => second.resume(t, 1, undefined, undefined, undefined, (result, error) => resolve({ result, error })));
    const outcomes = Promise.all([resume(finished), resume(waiting), resume(fresh)]);
    const w2 = await RedisWorker.start({ url: suite.redis.url, prefix, name: 'w2', concurrency: 2 });
    suite.closeAfter(() => w2.close());
    const [a, b, c] = await outcomes;
    assert.deepEqual([a.error, b.error, c.error], [undefined, undefined, undefined]);
    assert.equal(a.result?.worker, 'w1', 'the completion that came while nobody listened, read from the stream');
    assert.equal(b.result?.worker, 'w2');
    assert.equal(c.result?.worker, 'w2');
    assert.deepEqual(readFileSync(trace, 'utf8').trim().split('\n').sort(), ['finished', 'fresh', 'waiting'], 'each ran once');
    assert.deepEqual(early, [], 'the detached coordinators reported nothing');
  });

  it('a new run reusing a finished task id runs again (the finished job of the earlier run is replaced)', async () => {
    const prefix = `r${++n}`;
    const w = await RedisWorker.start({ url: suite.redis.url, prefix, name: 'w1', concurrency: 2 });
    suite.closeAfter(() => w.close());
    const trace = join(suite.dir, 'runs');
    // Core ids restart with each session (`1`, `2`…): the same id comes back in the next run.
    const task = record('1', `echo run >> ${trace}`);
    for (const session of ['first', 'second']) {
      const port = await coordinator(prefix);
      const outcome = await new Promise<Outcome>((resolve) =>
        port.start(task, 1, undefined, undefined, undefined, (result, error) => resolve({ result, error })),
      );
      assert.equal(outcome.error, undefined, `${session}: ${String(outcome.error)}`);
      assert.equal(outcome.result?.worker, 'w1');
    }
    assert.equal(readFileSync(trace, 'utf8'), 'run\nrun\n');
  });

  it('a new run whose task id is held by a job of an earlier run still running waits for it, then runs its own', async () => {
    const prefix = `r${++n}`;
    const w = await RedisWorker.start({ url: suite.redis.url, prefix, name: 'w1', concurrency: 2 });
    suite.closeAfter(() => w.close());
    const trace = join(suite.dir, 'runs');
    const old = await coordinator(prefix);
    old.start({ ...record('1', `sleep 0.4; echo old >> ${trace}`), createdAt: 1 }, 1, undefined, undefined, undefined, () => undefined);
    await until(() => w.runningCount === 1, 5000, 'the job of the earlier run running');
    await old.detach();
    const port = await coordinator(prefix);
    const output: string[] = [];
    const outcome = await new Promise<Outcome>((resolve) =>
      port.start(
        { ...record('1', `echo new >> ${trace}; echo mine`), createdAt: 2 },
        1,
        undefined,
        undefined,
        (c) => output.push(c),
        (result, error) => resolve({ result, error }),
      ),
    );
    assert.equal(outcome.error, undefined, String(outcome.error));
    assert.match(outcome.result?.output ?? '', /mine/);
    assert.equal(readFileSync(trace, 'utf8'), 'old\nnew\n');
    assert.doesNotMatch(output.join(''), /old/);
  });

  it('a worker lost with no other worker left: the attempt fails INTERRUPTED once its heartbeat is stale', async () => {
    const prefix = `r${++n}`;
    const pidFile = join(suite.dir, 'pid');
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, '../support/redisWorkerProcess.ts'), JSON.stringify({ url: suite.redis.url, prefix, name: 'alone', concurrency: 1 })],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    suite.closeAfter(() => void (child.exitCode === null && child.kill('SIGKILL')));
    await new Promise<void>((resolve) => child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    const port = await coordinator(prefix);
    const outcome = new Promise<Outcome>((resolve) =>
      port.start(record('hang', `echo $$ > ${pidFile}; exec sleep 30`), 1, undefined, undefined, undefined, (result, error) => resolve({ result, error })),
    );
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 10_000, 'the job starting');
    const orphan = Number(readFileSync(pidFile, 'utf8'));
    suite.closeAfter(() => void (gone(orphan) || process.kill(orphan, 'SIGKILL')));
    child.kill('SIGKILL');
    const { error } = await outcome;
    assert.ok(error instanceof ExecutionError, String(error));
    assert.equal(error.errorCode, 'INTERRUPTED');
    assert.match(error.message, /alone/);
  });
});
