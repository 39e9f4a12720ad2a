import * as assert from 'node:assert/strict';
import { ExecutionError } from '../../src/core/model/errors';
import { FunctionExecutor, toJsonSafe } from '../../src/core/executors/functionExecutor';
import type { TaskRecord, TaskRunContext } from '../../src/core/model/model';
import type { ExecutionContext } from '../../src/core/ports';

function record(id = 'f1'): TaskRecord {
  return {
    id,
    name: id,
    kind: 'function',
    status: 'running',
    priority: 0,
    attempts: 1,
    createdAt: 0,
    history: [],
    spec: { name: id, kind: 'function' },
    dependsOn: [],
  };
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
    await assert.rejects(
      exec.execute(ctx(() => Promise.reject(coded))),
      (e: unknown) => e instanceof ExecutionError && e.errorCode === 'EACCES' && e.cause === coded,
    );
  });

  it('fails as not resumable when there is no run function', async () => {
    await assert.rejects(exec.execute(ctx(undefined)), (e: unknown) => e instanceof ExecutionError && e.errorCode === 'NOT_RESUMABLE' && /f1/.test(e.message));
  });

  it('leaves settling on abort to the engine, and never creates the signal for a run that does not read it', async () => {
    assert.equal(exec.settleOnAbort, true);
    let reads = 0;
    const controller = new AbortController();
    const counting: ExecutionContext = {
      task: record(),
      attempt: 1,
      get signal() {
        reads++;
        return controller.signal;
      },
      run: () => 'x',
    };
    assert.deepEqual(await exec.execute(counting), { value: 'x' });
    assert.equal(reads, 0);
    await exec.execute({ ...counting, run: ({ signal }) => signal.aborted });
    assert.equal(reads, 1);
  });

  it('observes a late rejection of an abandoned run (no unhandled rejection)', async () => {
    let fail: ((e: Error) => void) | undefined;
    const p = exec.execute(ctx(() => new Promise<void>((_, reject) => (fail = reject))));
    fail?.(new Error('late'));
    await assert.rejects(p, { message: 'late' });
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
      assert.equal(
        toJsonSafe(function named() {}),
        '[function named]',
      );
      assert.equal(toJsonSafe(Symbol('s')), 'Symbol(s)');
      assert.match(String(toJsonSafe({ big: 1n })), /^\[unserialisable Object: /);
    });
  });
});
