import * as assert from 'node:assert/strict';
import { CancelledError, ExecutionError, TimeoutError } from '../../src/core/errors';
import { FunctionExecutor, toJsonSafe } from '../../src/core/executors/functionExecutor';
import type { TaskRecord, TaskRunContext } from '../../src/core/model';
import type { ExecutionContext } from '../../src/core/ports';

function record(id = 'f1'): TaskRecord {
  return { id, name: id, kind: 'function', status: 'running', priority: 0, attempts: 1, createdAt: 0, history: [], spec: { name: id, kind: 'function' }, dependsOn: [] };
}

function ctx(run: ExecutionContext['run'], controller = new AbortController(), attempt = 1): ExecutionContext {
  return { task: record(), attempt, signal: controller.signal, run };
}

const exec = new FunctionExecutor();

describe('functionExecutor', () => {
  it('passes the signal and the attempt number to run, and keeps a returned value', async () => {
    const controller = new AbortController();
    let seen: TaskRunContext | undefined;
    const r = await exec.execute(ctx((c) => ((seen = c), 42), controller, 3));
    assert.deepEqual(r, { value: 42 });
    assert.equal(seen?.signal, controller.signal);
    assert.equal(seen?.attempt, 3);
  });

  it('keeps the value of a resolved promise', async () => {
    assert.deepEqual(await exec.execute(ctx(async () => ({ a: [1, 'x'] }))), { value: { a: [1, 'x'] } });
  });

  it('fails with the thrown message, for a throw and for a rejection', async () => {
    await assert.rejects(
      exec.execute(
        ctx(() => {
          throw new Error('boom');
        }),
      ),
      (e: unknown) => e instanceof ExecutionError && e.code === 'EXECUTION_FAILED' && e.message === 'boom',
    );
    await assert.rejects(exec.execute(ctx(() => Promise.reject(new Error('later')))), { code: 'EXECUTION_FAILED', message: 'later' });
    await assert.rejects(exec.execute(ctx(() => Promise.reject('plain string'))), { message: 'plain string' });
    const coded = Object.assign(new Error('no access'), { code: 'EACCES' });
    await assert.rejects(exec.execute(ctx(() => Promise.reject(coded))), (e: unknown) => e instanceof ExecutionError && e.errorCode === 'EACCES' && e.cause === coded);
  });

  it('fails as not resumable when there is no run function', async () => {
    await assert.rejects(exec.execute(ctx(undefined)), (e: unknown) => e instanceof ExecutionError && e.errorCode === 'NOT_RESUMABLE' && /f1/.test(e.message));
  });

  it('settles on abort with the abort reason even if run ignores its signal', async () => {
    const controller = new AbortController();
    let release: (() => void) | undefined;
    const p = exec.execute(ctx(() => new Promise<void>((resolve) => (release = resolve)), controller));
    const reason = new CancelledError('stop');
    controller.abort(reason);
    await assert.rejects(p, (e: unknown) => e === reason);
    release?.(); // the late resolution is ignored, not an unhandled error
  });

  it('does not call run when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new TimeoutError(5));
    let called = false;
    await assert.rejects(
      exec.execute(ctx(() => (called = true), controller)),
      (e: unknown) => e instanceof TimeoutError,
    );
    assert.equal(called, false);
  });

  describe('toJsonSafe', () => {
    it('keeps JSON values, objects as their JSON round trip', () => {
      assert.equal(toJsonSafe(undefined), undefined);
      assert.equal(toJsonSafe(null), null);
      assert.equal(toJsonSafe('s'), 's');
      assert.equal(toJsonSafe(1.5), 1.5);
      const d = new Date(0);
      assert.deepEqual(toJsonSafe({ d, f: () => 1, n: [1, undefined] }), { d: '1970-01-01T00:00:00.000Z', n: [1, null] });
    });

    it('describes what JSON cannot hold as a string', () => {
      const cyclic: { self?: unknown } = {};
      cyclic.self = cyclic;
      assert.match(String(toJsonSafe(cyclic)), /^\[unserialisable Object: Converting circular structure/);
      assert.equal(toJsonSafe(10n), '10n');
      assert.equal(toJsonSafe(Number.NaN), 'NaN');
      assert.equal(toJsonSafe(function named() {}), '[function named]');
      assert.equal(toJsonSafe(Symbol('s')), 'Symbol(s)');
      assert.match(String(toJsonSafe({ big: 1n })), /^\[unserialisable Object: /);
    });
  });
});
