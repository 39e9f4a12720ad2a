// The engine's own logic runs on a controllable clock; real processes are in shellExecutor.test.ts.
import * as assert from 'node:assert/strict';
import { TaskEngine } from '../../src/core/engine/engine';
import { CancelledError, ExecutionError, IllegalTransitionError, OrchestratorError, TimeoutError, ValidationError } from '../../src/core/model/errors';
import type { TaskResult } from '../../src/core/model/model';
import type { ExecutionContext, Executor } from '../../src/core/ports';
import { never, task, tick } from '../support/engineFixtures';
import { ManualClock } from '../support/manualClock';

/** An executor that hands each context to the test and settles only when told. */
class ManualExecutor implements Executor {
  readonly calls: { ctx: ExecutionContext; resolve: (r: TaskResult) => void; reject: (e: unknown) => void }[] = [];
  constructor(private readonly rejectOnAbort: boolean) {}
  execute(ctx: ExecutionContext): Promise<TaskResult> {
    return new Promise((resolve, reject) => {
      this.calls.push({ ctx, resolve, reject });
      if (this.rejectOnAbort) ctx.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
    });
  }
}

describe('engine', () => {
  let clock: ManualClock;
  let engine: TaskEngine;
  beforeEach(() => {
    clock = new ManualClock();
    engine = new TaskEngine({ clock, killGraceMs: 100 });
  });
  afterEach(() => engine.dispose());

  it('runs a function task and resolves with its value, without setting any timer', async () => {
    const p = engine.executeTask(task('a'), { run: () => 'done' });
    assert.deepEqual(engine.running(), ['a']);
    assert.equal(clock.timerCount, 0);
    assert.deepEqual(await p, { value: 'done' });
    assert.deepEqual(engine.running(), []);
  });

  it('passes the attempt number, defaulting to the record’s attempts', async () => {
    const seen: number[] = [];
    await engine.executeTask(task('a', 'function', { attempts: 2 }), { run: ({ attempt }) => seen.push(attempt) });
    await engine.executeTask(task('a'), { attempt: 5, run: ({ attempt }) => seen.push(attempt) });
    assert.deepEqual(seen, [2, 5]);
  });

  it('rejects a failed attempt with ExecutionError carrying the message', async () => {
    await assert.rejects(
      engine.executeTask(task('a'), {
        run: () => {
          throw new Error('nope');
        },
      }),
      (e: unknown) => e instanceof ExecutionError && e.code === 'EXECUTION_FAILED' && e.message === 'nope',
    );
    assert.deepEqual(engine.running(), []);
  });

  it('times out: aborts the signal with a TimeoutError and settles even if the function ignores it', async () => {
    let signal: AbortSignal | undefined;
    const p = engine.executeTask(task('a'), { timeoutMs: 50, run: (c) => ((signal = c.signal), never()) });
    assert.equal(clock.timerCount, 1);
    clock.advanceSync(49);
    assert.equal(signal?.aborted, false);
    clock.advanceSync(1);
    await assert.rejects(p, (e: unknown) => e instanceof TimeoutError && e.code === 'TIMEOUT' && e.timeoutMs === 50);
    assert.ok(signal?.aborted);
    assert.ok(signal?.reason instanceof TimeoutError);
    assert.equal(clock.timerCount, 0, 'no timer left behind');
  });

  it('takes the timeout from the spec when not given, and treats 0 as none', async () => {
    const p = engine.executeTask(task('a', 'function', { spec: { name: 'a', kind: 'function', timeoutMs: 10 } }), { run: never });
    clock.advanceSync(10);
    await assert.rejects(p, TimeoutError);
    const q = engine.executeTask(task('b', 'function', { spec: { name: 'b', kind: 'function', timeoutMs: 10 } }), { timeoutMs: 0, run: () => 1 });
    assert.equal(clock.timerCount, 0);
    await q;
  });

  it('refuses a negative timeout with a ValidationError', async () => {
    await assert.rejects(
      engine.executeTask(task('a'), { timeoutMs: -5, run: () => 1 }),
      (e: unknown) => e instanceof ValidationError && e.message === 'Expected `timeoutMs` to be a positive number, got `-5` (number)',
    );
  });

  it('cancels: aborts with CancelledError, resolves cancelTask once the attempt has settled', async () => {
    let signal: AbortSignal | undefined;
    const p = engine.executeTask(task('a'), { run: (c) => ((signal = c.signal), never()) });
    const outcome = p.catch((e: unknown) => e);
    await engine.cancelTask('a', 'no longer needed');
    assert.deepEqual(engine.running(), []);
    const e = await outcome;
    assert.ok(e instanceof CancelledError);
    assert.equal(e.message, 'no longer needed');
    assert.ok(signal?.aborted);
  });

  it('treats cancelTask of a task that is not running as a no-op', async () => {
    await engine.cancelTask('nobody');
  });

  it('cancel wins over a timeout that would fire later, and clears its timer', async () => {
    const p = engine.executeTask(task('a'), { timeoutMs: 1000, run: never });
    const outcome = p.catch((e: unknown) => e);
    await engine.cancelTask('a');
    assert.ok((await outcome) instanceof CancelledError);
    assert.equal(clock.timerCount, 0);
  });

  it('refuses a second attempt of a task that is already running', async () => {
    const p = engine.executeTask(task('a'), { run: never });
    await assert.rejects(engine.executeTask(task('a'), { run: () => 1 }), IllegalTransitionError);
    const outcome = p.catch(() => undefined);
    await engine.cancelTask('a');
    await outcome;
  });

  it('rejects an unknown kind, naming the known ones', async () => {
    await assert.rejects(
      engine.executeTask(task('a', 'gpu')),
      (e: unknown) => e instanceof ExecutionError && e.errorCode === 'UNKNOWN_KIND' && /shell, function/.test(e.message),
    );
  });

  describe('registered executors', () => {
    it('receive task, attempt, signal and onOutput, end to end, and see the cancellation', async () => {
      const exec = new ManualExecutor(true);
      const reg = engine.registerExecutor('agent', exec);
      assert.ok(engine.hasExecutor('agent'));
      assert.deepEqual(engine.kinds(), ['shell', 'function', 'agent']);
      const out: string[] = [];
      const t = task('x', 'agent', { spec: { name: 'x', kind: 'agent', payload: { prompt: 'hi' } } });
      const first = engine.executeTask(t, { attempt: 1, onOutput: (c) => out.push(c) });
      const call = exec.calls[0];
      assert.equal(call.ctx.task, t);
      assert.equal(call.ctx.attempt, 1);
      assert.deepEqual(call.ctx.task.spec.payload, { prompt: 'hi' });
      call.ctx.onOutput?.('working');
      assert.deepEqual(out, ['working']);
      call.resolve({ value: 'ok' });
      assert.deepEqual(await first, { value: 'ok' });

      const second = engine.executeTask(t, { attempt: 2 }).catch((e: unknown) => e);
      const aborted = new Promise((r) => exec.calls[1].ctx.signal.addEventListener('abort', r));
      await engine.cancelTask('x', 'stop it');
      await aborted;
      const e = await second;
      assert.ok(e instanceof CancelledError && e.message === 'stop it');
      assert.equal(clock.timerCount, 0, 'settled by the executor, not by the abort bound');
      reg.dispose();
      assert.equal(engine.hasExecutor('agent'), false);
    });

    it('an executor that ignores the abort is given up on after the abort bound', async () => {
      engine.registerExecutor('stubborn', new ManualExecutor(false));
      const p = engine.executeTask(task('s', 'stubborn')).catch((e: unknown) => e);
      let cancelled = false;
      const c = engine.cancelTask('s').then(() => (cancelled = true));
      await tick();
      assert.equal(cancelled, false, 'waits for the executor first');
      clock.advanceSync(100 + 3000); // killGraceMs + 3000 by default
      await c;
      assert.ok((await p) instanceof CancelledError);
    });

    it('a resolved non-zero exit code, a synchronous throw and a plain rejection are all ExecutionErrors', async () => {
      engine.registerExecutor('exit', { execute: () => Promise.resolve({ exitCode: 2, output: 'x' }) });
      engine.registerExecutor('throws', {
        execute: () => {
          throw new Error('sync');
        },
      });
      engine.registerExecutor('rejects', { execute: () => Promise.reject(new TypeError('async')) });
      await assert.rejects(
        engine.executeTask(task('1', 'exit')),
        (e: unknown) => e instanceof ExecutionError && e.result?.exitCode === 2 && e.result.output === 'x',
      );
      await assert.rejects(engine.executeTask(task('2', 'throws')), (e: unknown) => e instanceof ExecutionError && e.message === 'sync');
      await assert.rejects(engine.executeTask(task('3', 'rejects')), (e: unknown) => e instanceof ExecutionError && e.message === 'async');
      assert.deepEqual(engine.running(), []);
    });

    it('refuses a taken kind or an executor without execute; constructor entries may replace built-ins', () => {
      assert.throws(() => engine.registerExecutor('shell', { execute: () => Promise.resolve({}) }), ValidationError);
      assert.throws(() => engine.registerExecutor('bad', {} as Executor), ValidationError);
      const fake: Executor = { execute: () => Promise.resolve({ exitCode: 0 }) };
      const custom = new TaskEngine({ executors: { shell: fake, extra: fake } });
      assert.deepEqual(custom.kinds(), ['shell', 'function', 'extra']);
    });
  });

  it('answers status and history through lookup, and running for an attempt no record knows', async () => {
    const rec = task('r', 'function', { status: 'completed', history: [{ status: 'created', at: 1 }] });
    const withLookup = new TaskEngine({ clock, lookup: (id) => (id === 'r' ? rec : undefined) });
    assert.equal(withLookup.getTaskStatus('r'), 'completed');
    assert.deepEqual(withLookup.getTaskHistory('r'), [{ status: 'created', at: 1 }]);
    assert.notEqual(withLookup.getTaskHistory('r'), rec.history, 'a copy');
    assert.equal(withLookup.getTaskStatus('nope'), undefined);
    assert.deepEqual(withLookup.getTaskHistory('nope'), []);
    const p = withLookup.executeTask(task('z'), { run: never }).catch(() => undefined);
    assert.equal(withLookup.getTaskStatus('z'), 'running');
    await withLookup.dispose();
    await p;
  });

  it('dispose aborts everything running, waits for it, and refuses new work', async () => {
    const signals: AbortSignal[] = [];
    const a = engine.executeTask(task('a'), { run: (c) => (signals.push(c.signal), never()) }).catch((e: unknown) => e);
    const b = engine.executeTask(task('b'), { run: (c) => (signals.push(c.signal), never()) }).catch((e: unknown) => e);
    await engine.dispose();
    assert.deepEqual(engine.running(), []);
    assert.ok(signals.every((s) => s.aborted));
    assert.ok((await a) instanceof CancelledError);
    assert.ok((await b) instanceof CancelledError);
    await assert.rejects(engine.executeTask(task('c'), { run: () => 1 }), (e: unknown) => e instanceof OrchestratorError && e.code === 'DISPOSED');
  });

  it('reports a function task without run as not resumable', async () => {
    await assert.rejects(engine.executeTask(task('a')), (e: unknown) => e instanceof ExecutionError && e.errorCode === 'NOT_RESUMABLE');
  });
});
