// TaskEngine.startAttempt / cancelAttempt (the orchestrator's path, no index by id) alongside
// executeTask, on a controllable clock: no real timers anywhere.
import * as assert from 'node:assert/strict';
import { TaskEngine, type AttemptHandle } from '../../src/core/engine/engine';
import { CancelledError, IllegalTransitionError, OrchestratorError, TimeoutError } from '../../src/core/model/errors';
import type { TaskResult, TaskRunContext } from '../../src/core/model/model';
import type { ExecutionContext, Executor } from '../../src/core/ports';
import { never, task, tick } from '../support/engineFixtures';
import { ManualClock } from '../support/manualClock';

/** What `done` was called with, and how often. */
class Outcome {
  calls: { result: TaskResult | undefined; error: unknown }[] = [];
  readonly done = (result: TaskResult | undefined, error: unknown): void => {
    this.calls.push({ result, error });
  };
  get count(): number {
    return this.calls.length;
  }
  get error(): unknown {
    assert.equal(this.calls.length, 1, 'done was called exactly once');
    return this.calls[0].error;
  }
  get result(): TaskResult | undefined {
    assert.equal(this.calls.length, 1, 'done was called exactly once');
    return this.calls[0].result;
  }
}

/**
 * A registered kind that runs until aborted: it hands each context to the test, and rejects when its
 * signal aborts (if it has read the signal), or when the test says so.
 */
class SlowExecutor implements Executor {
  readonly contexts: ExecutionContext[] = [];
  readonly finish: ((r: TaskResult) => void)[] = [];
  readonly fail: ((e: unknown) => void)[] = [];
  constructor(private readonly readSignal: boolean) {}
  execute(ctx: ExecutionContext): Promise<TaskResult> {
    return new Promise((resolve, reject) => {
      this.contexts.push(ctx);
      this.finish.push(resolve);
      this.fail.push(reject);
      if (this.readSignal) ctx.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
    });
  }
}

describe('engine attempts (startAttempt / cancelAttempt)', () => {
  let clock: ManualClock;
  let slow: SlowExecutor;
  let lazy: SlowExecutor;
  let engine: TaskEngine;
  beforeEach(() => {
    clock = new ManualClock();
    slow = new SlowExecutor(true);
    lazy = new SlowExecutor(false);
    engine = new TaskEngine({ clock, killGraceMs: 100, executors: { slow, lazy } });
  });
  afterEach(async () => {
    const disposed = engine.dispose();
    // A lazy attempt waits for its executor or the abort bound: let the bound pass.
    clock.advanceSync(1_000_000);
    await disposed;
    assert.deepEqual(engine.running(), []);
    assert.equal(clock.timerCount, 0, 'no timer left behind');
  });

  describe('startAttempt', () => {
    it('returns a handle and calls done(result, undefined) once, never synchronously', async () => {
      const out = new Outcome();
      const t = task('a');
      const handle = engine.startAttempt(t, 1, undefined, () => 42, undefined, out.done);
      assert.ok(handle !== undefined);
      assert.equal(handle.task, t);
      assert.equal(out.count, 0, 'not called inside startAttempt');
      await tick();
      assert.equal(out.count, 1);
      assert.deepEqual(out.result, { value: 42 });
      assert.equal(out.error, undefined);
      assert.equal(out.calls[0].error, undefined);
      assert.deepEqual(engine.running(), []);
      await tick();
      assert.equal(out.count, 1, 'and only once');
    });

    it('reports a registered executor’s result and a failure once each, asynchronously', async () => {
      const ok = new Outcome();
      const bad = new Outcome();
      engine.startAttempt(task('ok', 'slow'), 1, undefined, undefined, undefined, ok.done);
      engine.startAttempt(task('bad', 'slow'), 1, undefined, undefined, undefined, bad.done);
      assert.equal(slow.contexts.length, 2);
      slow.finish[0]({ exitCode: 0, output: 'fine' });
      slow.fail[1](new Error('broke'));
      assert.equal(ok.count + bad.count, 0);
      await tick();
      assert.deepEqual(ok.result, { exitCode: 0, output: 'fine' });
      assert.equal(ok.error, undefined);
      assert.ok(bad.error instanceof OrchestratorError);
      assert.equal((bad.error as Error).message, 'broke');
      assert.equal(bad.result, undefined);
    });

    it('reports a synchronous throw of `run` in a later microtask, once', async () => {
      const out = new Outcome();
      engine.startAttempt(
        task('a'),
        1,
        undefined,
        () => {
          throw new Error('sync');
        },
        undefined,
        out.done,
      );
      assert.equal(out.count, 0);
      await tick();
      assert.equal((out.error as Error).message, 'sync');
    });

    it('passes the attempt number and output callback through to the executor', async () => {
      const chunks: string[] = [];
      const out = new Outcome();
      let seen: TaskRunContext | undefined;
      engine.startAttempt(task('f'), 3, undefined, (ctx) => void (seen = ctx), undefined, out.done);
      engine.startAttempt(
        task('s', 'slow'),
        2,
        undefined,
        undefined,
        (c) => chunks.push(c),
        () => undefined,
      );
      assert.equal(seen?.attempt, 3);
      assert.equal(slow.contexts[0].attempt, 2);
      slow.contexts[0].onOutput?.('hello');
      assert.deepEqual(chunks, ['hello']);
      slow.finish[0]({});
      await tick();
      assert.deepEqual(out.result, { value: undefined });
    });

    it('reports why it could not start (unknown kind), asynchronously, with no handle', async () => {
      const out = new Outcome();
      const handle = engine.startAttempt(task('x', 'nope'), 1, undefined, undefined, undefined, out.done);
      assert.equal(handle, undefined);
      assert.equal(out.count, 0);
      await tick();
      assert.equal((out.error as OrchestratorError).code, 'EXECUTION_FAILED');
      assert.deepEqual(engine.running(), []);
    });

    it('times out with TimeoutError and leaves no timer', async () => {
      const out = new Outcome();
      let signal: AbortSignal | undefined;
      engine.startAttempt(task('a'), 1, 50, (ctx) => ((signal = ctx.signal), never()), undefined, out.done);
      assert.equal(clock.timerCount, 1);
      clock.advanceSync(50);
      await tick();
      assert.ok(out.error instanceof TimeoutError);
      assert.ok(signal?.aborted);
      assert.equal(clock.timerCount, 0);
    });
  });

  describe('cancelAttempt', () => {
    it('gives done a CancelledError with the reason, and resolves after done ran (function kind)', async () => {
      const out = new Outcome();
      const handle = engine.startAttempt(task('a'), 1, undefined, () => never(), undefined, out.done) as AttemptHandle;
      let doneBeforeResolve: number | undefined;
      const cancelled = engine.cancelAttempt(handle, 'user stop').then(() => {
        doneBeforeResolve = out.count;
      });
      assert.equal(out.count, 0, 'not reported inside cancelAttempt');
      await cancelled;
      assert.equal(doneBeforeResolve, 1);
      assert.ok(out.error instanceof CancelledError);
      assert.equal((out.error as CancelledError).message, 'user stop');
      assert.equal((out.error as CancelledError).code, 'CANCELLED');
      assert.equal(out.result, undefined);
      assert.deepEqual(engine.running(), []);
      assert.equal(clock.timerCount, 0);
    });

    it('defaults the reason to Cancelled, and waits for a registered executor to settle', async () => {
      const out = new Outcome();
      const handle = engine.startAttempt(task('s', 'slow'), 1, undefined, undefined, undefined, out.done) as AttemptHandle;
      let resolved = false;
      const cancelled = engine.cancelAttempt(handle).then(() => {
        resolved = true;
      });
      await cancelled;
      assert.ok(resolved);
      assert.ok(out.error instanceof CancelledError);
      assert.equal((out.error as Error).message, 'Cancelled');
      assert.equal(clock.timerCount, 0, 'the abort bound was cleared when the executor settled');
    });

    it('settles an executor that ignores its signal after the abort bound', async () => {
      const out = new Outcome();
      const handle = engine.startAttempt(task('l', 'lazy'), 1, undefined, undefined, undefined, out.done) as AttemptHandle;
      let resolved = false;
      const cancelled = engine.cancelAttempt(handle, 'go').then(() => {
        resolved = true;
      });
      await tick();
      assert.equal(resolved, false, 'still waiting for the executor');
      assert.equal(out.count, 0);
      assert.deepEqual(engine.running(), ['l']);
      assert.equal(clock.timerCount, 1);
      clock.advanceSync(100 + 3000);
      await cancelled;
      assert.ok(out.error instanceof CancelledError);
      assert.deepEqual(engine.running(), []);
      // The executor settling late changes nothing.
      lazy.finish[0]({ exitCode: 0 });
      await tick();
      assert.equal(out.count, 1);
    });

    it('does nothing more for an attempt that already settled, and resolves', async () => {
      const out = new Outcome();
      const handle = engine.startAttempt(task('a'), 1, undefined, () => 'v', undefined, out.done) as AttemptHandle;
      await tick();
      assert.deepEqual(out.result, { value: 'v' });
      await engine.cancelAttempt(handle, 'late');
      assert.equal(out.count, 1);
      assert.equal(out.error, undefined);
    });

    it('cancelling twice reports once, and both promises resolve', async () => {
      const out = new Outcome();
      const handle = engine.startAttempt(task('s', 'slow'), 1, undefined, undefined, undefined, out.done) as AttemptHandle;
      await Promise.all([engine.cancelAttempt(handle, 'one'), engine.cancelAttempt(handle, 'two')]);
      assert.equal(out.count, 1);
      assert.equal((out.error as Error).message, 'one');
    });
  });

  describe('found by id alongside executeTask', () => {
    it('running() lists both kinds in start order; isRunning and getTaskStatus find them', async () => {
      const outs = [new Outcome(), new Outcome(), new Outcome()];
      const h1 = engine.startAttempt(task('s1', 'slow'), 1, undefined, undefined, undefined, outs[0].done) as AttemptHandle;
      const p2 = engine.executeTask(task('e2', 'slow'));
      engine.startAttempt(task('f3'), 1, undefined, () => never(), undefined, outs[1].done);
      const p4 = engine.executeTask(task('e4'), { run: () => never() });
      engine.startAttempt(task('s5', 'slow'), 1, undefined, undefined, undefined, outs[2].done);
      assert.deepEqual(engine.running(), ['s1', 'e2', 'f3', 'e4', 's5']);
      for (const id of ['s1', 'e2', 'f3', 'e4', 's5']) {
        assert.ok(engine.isRunning(id), `isRunning(${id})`);
        assert.equal(engine.getTaskStatus(id), 'running', `getTaskStatus(${id})`);
      }
      assert.equal(engine.isRunning('other'), false);
      assert.equal(engine.getTaskStatus('other'), undefined);
      assert.deepEqual(engine.getTaskHistory('s1'), []);
      // One leaves from the middle and one from the front: the order of the rest holds.
      await engine.cancelTask('f3');
      await engine.cancelAttempt(h1);
      assert.deepEqual(engine.running(), ['e2', 'e4', 's5']);
      assert.equal(engine.isRunning('f3'), false);
      assert.equal(engine.getTaskStatus('s1'), undefined);
      const later = engine.startAttempt(task('s6', 'slow'), 1, undefined, undefined, undefined, () => undefined);
      assert.ok(later !== undefined);
      assert.deepEqual(engine.running(), ['e2', 'e4', 's5', 's6']);
      const rejected = [p2, p4].map((p) => p.catch((e: unknown) => e));
      await engine.dispose();
      for (const e of await Promise.all(rejected)) assert.ok(e instanceof CancelledError);
    });

    it('cancelTask(id) cancels an attempt started by startAttempt, with the reason', async () => {
      const out = new Outcome();
      let signal: AbortSignal | undefined;
      engine.startAttempt(task('a'), 1, undefined, (ctx) => ((signal = ctx.signal), never()), undefined, out.done);
      const cancelled = engine.cancelTask('a', 'by id');
      assert.ok(signal?.aborted, 'aborted at once');
      await cancelled;
      assert.ok(out.error instanceof CancelledError);
      assert.equal((out.error as Error).message, 'by id');
      assert.equal(engine.isRunning('a'), false);
      await engine.cancelTask('a');
      assert.equal(out.count, 1, 'a second cancel of a finished task is a no-op');
    });

    it('with a lookup, getTaskStatus asks the records first', async () => {
      const e2 = new TaskEngine({ clock, executors: { slow }, lookup: (id) => (id === 'known' ? task('known', 'slow', { status: 'scheduled' }) : undefined) });
      e2.startAttempt(task('known', 'slow'), 1, undefined, undefined, undefined, () => undefined);
      e2.startAttempt(task('loose', 'slow'), 1, undefined, undefined, undefined, () => undefined);
      assert.equal(e2.getTaskStatus('known'), 'scheduled');
      assert.equal(e2.getTaskStatus('loose'), 'running');
      await e2.dispose();
      assert.deepEqual(e2.running(), []);
    });

    it('executeTask of a task already running through startAttempt rejects with IllegalTransitionError', async () => {
      const out = new Outcome();
      const t = task('dup', 'slow');
      engine.startAttempt(t, 1, undefined, undefined, undefined, out.done);
      await assert.rejects(engine.executeTask(t), (e: unknown) => e instanceof IllegalTransitionError && e.taskId === 'dup');
      // Also for a different record object with the same id.
      await assert.rejects(engine.executeTask(task('dup', 'function'), { run: () => 1 }), IllegalTransitionError);
      assert.deepEqual(engine.running(), ['dup']);
      assert.equal(slow.contexts.length, 1, 'no second attempt was started');
      assert.equal(out.count, 0, 'the running attempt is untouched');
      slow.finish[0]({ exitCode: 0 });
      await tick();
      assert.deepEqual(out.result, { exitCode: 0 });
      // Once it has settled, the id is free again.
      assert.deepEqual(await engine.executeTask(task('dup', 'function'), { run: () => 2 }), { value: 2 });
    });

    it('dispose cancels attempts of both kinds and refuses new ones', async () => {
      const a = new Outcome();
      const b = new Outcome();
      engine.startAttempt(task('a', 'slow'), 1, undefined, undefined, undefined, a.done);
      engine.startAttempt(task('b'), 1, undefined, () => never(), undefined, b.done);
      const c = engine.executeTask(task('c', 'slow')).catch((e: unknown) => e);
      const d = engine.executeTask(task('d'), { run: () => never() }).catch((e: unknown) => e);
      await engine.dispose();
      assert.ok(a.error instanceof CancelledError);
      assert.ok(b.error instanceof CancelledError);
      assert.ok((await c) instanceof CancelledError);
      assert.ok((await d) instanceof CancelledError);
      assert.deepEqual(engine.running(), []);
      const late = new Outcome();
      assert.equal(
        engine.startAttempt(task('e'), 1, undefined, () => 1, undefined, late.done),
        undefined,
      );
      assert.equal(late.count, 0);
      await tick();
      assert.equal((late.error as OrchestratorError).code, 'DISPOSED');
    });
  });

  describe('the executor’s signal', () => {
    it('a registered executor: not aborted at first, aborted after cancel with the CancelledError', async () => {
      const out = new Outcome();
      const handle = engine.startAttempt(task('s', 'slow'), 1, undefined, undefined, undefined, out.done) as AttemptHandle;
      const signal = slow.contexts[0].signal;
      assert.equal(signal.aborted, false);
      const cancelled = engine.cancelAttempt(handle, 'enough');
      assert.equal(signal.aborted, true);
      assert.ok(signal.reason instanceof CancelledError);
      assert.equal((signal.reason as Error).message, 'enough');
      await cancelled;
      assert.equal(out.error, signal.reason, 'done gets the reason the signal carries');
      assert.equal(slow.contexts[0].signal, signal, 'the same signal on every read');
    });

    it('a registered executor that reads its signal only after the cancel finds it aborted, with the reason', async () => {
      const out = new Outcome();
      const handle = engine.startAttempt(task('l', 'lazy'), 1, undefined, undefined, undefined, out.done) as AttemptHandle;
      const ctx = lazy.contexts[0];
      const cancelled = engine.cancelAttempt(handle, 'late reader');
      const signal = ctx.signal;
      assert.equal(signal.aborted, true);
      assert.ok(signal.reason instanceof CancelledError);
      assert.equal((signal.reason as Error).message, 'late reader');
      // The executor notices and stops: the attempt settles now, without waiting for the bound.
      lazy.fail[0](new Error('stopped'));
      await cancelled;
      assert.ok(out.error instanceof CancelledError);
      assert.equal(clock.timerCount, 0);
    });

    it('a function task: run gets { signal, attempt }, not aborted at first, aborted after cancel', async () => {
      const out = new Outcome();
      let ctx: TaskRunContext | undefined;
      let signal: AbortSignal | undefined;
      const handle = engine.startAttempt(
        task('f'),
        2,
        undefined,
        (c) => {
          ctx = c;
          signal = c.signal;
          return never();
        },
        undefined,
        out.done,
      ) as AttemptHandle;
      assert.ok(ctx !== undefined);
      assert.equal(ctx.attempt, 2);
      assert.ok(signal instanceof AbortSignal);
      assert.equal(signal.aborted, false);
      const aborts: unknown[] = [];
      signal.addEventListener('abort', () => aborts.push((signal as AbortSignal).reason));
      await engine.cancelAttempt(handle, 'halt');
      assert.equal(signal.aborted, true);
      assert.ok(signal.reason instanceof CancelledError);
      assert.equal(aborts.length, 1);
      assert.equal(aborts[0], signal.reason);
      assert.equal(out.error, signal.reason);
    });

    it('a function task that reads its signal only after the cancel finds it aborted, with the reason', async () => {
      const out = new Outcome();
      let ctx: TaskRunContext | undefined;
      const handle = engine.startAttempt(task('f'), 1, undefined, (c) => ((ctx = c), never()), undefined, out.done) as AttemptHandle;
      await engine.cancelAttempt(handle, 'read me later');
      assert.ok(ctx !== undefined);
      const signal = ctx.signal;
      assert.equal(signal.aborted, true);
      assert.ok(signal.reason instanceof CancelledError);
      assert.equal((signal.reason as Error).message, 'read me later');
      assert.equal(out.error, signal.reason);
    });

    it('an executeTask attempt’s signal aborts on cancelTask too', async () => {
      const p = engine.executeTask(task('e', 'slow')).catch((e: unknown) => e);
      const signal = slow.contexts[0].signal;
      assert.equal(signal.aborted, false);
      await engine.cancelTask('e', 'bye');
      assert.equal(signal.aborted, true);
      const err = await p;
      assert.ok(err instanceof CancelledError);
      assert.equal(signal.reason, err);
    });
  });
});
