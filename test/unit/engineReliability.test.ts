// The engine against executors that break their contract: a missing result, a result JSON cannot
// hold, a non-promise from execute(), values whose every property read throws. Each attempt must
// settle exactly once, with a result a snapshot can hold or a clear failure, and nothing may throw
// out of startAttempt or surface as an unhandled rejection.
import * as assert from 'node:assert/strict';
import { TaskEngine } from '../../src/core/engine/engine';
import { ExecutionError } from '../../src/core/model/errors';
import type { TaskResult } from '../../src/core/model/model';
import type { ExecutionContext, Executor } from '../../src/core/ports';
import { task, tick } from '../support/engineFixtures';
import { ManualClock } from '../support/manualClock';

/** What `done` was called with, and how often. */
class Outcome {
  calls: { result: TaskResult | undefined; error: unknown }[] = [];
  readonly done = (result: TaskResult | undefined, error: unknown): void => {
    this.calls.push({ result, error });
  };
  get only(): { result: TaskResult | undefined; error: unknown } {
    assert.equal(this.calls.length, 1, 'done was called exactly once');
    return this.calls[0];
  }
}

/**
 * A value every property read of which throws (as a hostile or revoked Proxy does); with `thenable`
 * false, all but `then`, which reads as absent, so promise resolution passes it on as a value.
 */
function throwingProxy(thenable = true): object {
  return new Proxy(
    { value: 1 },
    {
      get(_target, key) {
        if (!thenable && key === 'then') return undefined;
        throw new Error('no property may be read');
      },
    },
  );
}

/** A value on which every trap throws: property reads, `instanceof` (its prototype), `in`, key listing. */
function hostileProxy(): object {
  const trap = (): never => {
    throw new Error('hostile: do not touch');
  };
  return new Proxy({}, { get: trap, getPrototypeOf: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap });
}

/** Unhandled rejections seen while a test runs. */
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

function engineWith(execute: Executor['execute']): TaskEngine {
  return new TaskEngine({ clock: new ManualClock(), executors: { odd: { execute } } });
}

async function runOdd(engine: TaskEngine): Promise<{ result: TaskResult | undefined; error: unknown }> {
  const out = new Outcome();
  engine.startAttempt(task('t', 'odd'), 1, undefined, undefined, undefined, out.done);
  await tick();
  await tick();
  return out.only;
}

describe('engine reliability', () => {
  describe('a registered executor resolving no result', () => {
    for (const missing of [undefined, null]) {
      it(`treats a resolved \`${String(missing)}\` as the empty result \`{}\``, async () => {
        const engine = engineWith(() => Promise.resolve(missing as unknown as TaskResult));
        const { result, error } = await runOdd(engine);
        assert.equal(error, undefined);
        assert.deepEqual(result, {});
        assert.deepEqual(unhandled, []);
        assert.deepEqual(engine.running(), []);
      });
    }

    it('fails an attempt that resolves a value that is not a result object, naming the kind', async () => {
      const engine = engineWith(() => Promise.resolve(7 as unknown as TaskResult));
      const { error } = await runOdd(engine);
      assert.ok(error instanceof ExecutionError);
      assert.match(error.message, /Expected the executor for kind `odd` to resolve a result object.*got `7` \(number\)/);
    });
  });

  describe('a registered executor resolving what JSON cannot hold', () => {
    it('keeps a BigInt as the string the function kind makes of it', async () => {
      const engine = engineWith(() => Promise.resolve({ exitCode: 0, value: 10n } as TaskResult));
      const { result, error } = await runOdd(engine);
      assert.equal(error, undefined);
      assert.deepEqual(result, { exitCode: 0, value: '10n' });
      assert.doesNotThrow(() => JSON.stringify(result));
    });

    it('replaces a cyclic value with a description and keeps the other fields', async () => {
      const cycle: Record<string, unknown> = { a: 1 };
      cycle.self = cycle;
      const engine = engineWith(() => Promise.resolve({ output: 'done', value: cycle }));
      const { result, error } = await runOdd(engine);
      assert.equal(error, undefined);
      assert.equal(result?.output, 'done');
      assert.match(String(result?.value), /^\[unserialisable Object: /);
      assert.doesNotThrow(() => JSON.stringify(result));
    });

    it('copies a plain result as its JSON round trip, so the live record and a restored one agree', async () => {
      const value = { when: new Date(0), list: [1, undefined] };
      const engine = engineWith(() => Promise.resolve({ value, extra: Number.NaN } as TaskResult));
      const { result } = await runOdd(engine);
      assert.deepEqual(result, { value: { when: '1970-01-01T00:00:00.000Z', list: [1, null] }, extra: 'NaN' });
    });

    it('makes the result carried by a rejected ExecutionError JSON-safe too, keeping message and code', async () => {
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      const engine = engineWith(() => Promise.reject(new ExecutionError('exit 3', { exitCode: 3, value: 2n, detail: cycle } as TaskResult, 'E_THREE')));
      const { error } = await runOdd(engine);
      assert.ok(error instanceof ExecutionError);
      assert.equal(error.message, 'exit 3');
      assert.equal(error.errorCode, 'E_THREE');
      assert.equal(error.result?.exitCode, 3);
      assert.equal(error.result?.value, '2n');
      assert.doesNotThrow(() => JSON.stringify(error.result));
    });

    it('fails cleanly when the result itself cannot be read', async () => {
      const engine = engineWith(() => Promise.resolve(throwingProxy(false) as TaskResult));
      const { error } = await runOdd(engine);
      assert.ok(error instanceof ExecutionError);
      assert.match(error.message, /result of the executor for kind `odd` could not be read: no property may be read/);
      assert.deepEqual(unhandled, []);
    });
  });

  describe('an executor that breaks the promise contract', () => {
    it('fails an attempt whose execute() returns a plain object, without throwing out of startAttempt', async () => {
      const engine = engineWith(() => ({ exitCode: 0 }) as unknown as Promise<TaskResult>);
      const { error } = await runOdd(engine);
      assert.ok(error instanceof ExecutionError);
      assert.match(error.message, /Expected the executor for kind `odd` to return a promise from execute\(\), got /);
      assert.deepEqual(engine.running(), []);
    });

    it('fails an attempt whose execute() returns a value whose `then` cannot be read', async () => {
      const engine = engineWith(() => throwingProxy() as Promise<TaskResult>);
      const { error } = await runOdd(engine);
      assert.ok(error instanceof ExecutionError);
      assert.deepEqual(engine.running(), []);
    });

    it('adopts a foreign thenable that calls back synchronously, reporting after startAttempt returns', async () => {
      let returned = false;
      let reportedBeforeReturn = false;
      const engine = engineWith(() => ({ then: (ok: (r: TaskResult) => void) => ok({ value: 1 }) }) as unknown as Promise<TaskResult>);
      const out = new Outcome();
      engine.startAttempt(task('t', 'odd'), 1, undefined, undefined, undefined, (r, e) => {
        reportedBeforeReturn = !returned;
        out.done(r, e);
      });
      returned = true;
      await tick();
      assert.equal(reportedBeforeReturn, false);
      assert.deepEqual(out.only.result, { value: 1 });
    });

    it('fails an attempt whose execute() throws a value whose every property read throws', async () => {
      const engine = engineWith(() => {
        throw throwingProxy();
      });
      const { error } = await runOdd(engine);
      assert.ok(error instanceof ExecutionError);
      assert.deepEqual(unhandled, []);
    });

    for (const how of ['throws', 'rejects with', 'returns', 'resolves']) {
      it(`fails a function task whose run ${how} a Proxy whose \`get\` throws`, async () => {
        const engine = new TaskEngine({ clock: new ManualClock() });
        const proxy = throwingProxy(how !== 'resolves');
        const run =
          how === 'throws'
            ? () => {
                throw proxy;
              }
            : how === 'rejects with'
              ? () => Promise.reject(proxy)
              : how === 'returns'
                ? () => proxy
                : () => Promise.resolve(proxy);
        const out = new Outcome();
        assert.doesNotThrow(() => engine.startAttempt(task('f'), 1, undefined, run, undefined, out.done));
        await tick();
        await tick();
        assert.deepEqual(engine.running(), []);
        assert.deepEqual(unhandled, []);
        if (how === 'resolves') {
          // A value, as any the function kind cannot serialise: described, the attempt completed.
          assert.deepEqual(out.only, { result: { value: '[unserialisable Object: no property may be read]' }, error: undefined });
          return;
        }
        const { error } = out.only;
        assert.ok(error instanceof ExecutionError, `an ExecutionError, got ${String(error)}`);
        assert.ok(error.message.length > 0);
        assert.deepEqual(engine.running(), []);
        assert.deepEqual(unhandled, []);
      });
    }
  });

  describe('a value on which every trap throws, `instanceof` included', () => {
    const cases: [string, Executor['execute'] | undefined, (() => unknown) | undefined][] = [
      [
        'thrown by execute()',
        () => {
          throw hostileProxy();
        },
        undefined,
      ],
      ['rejected by execute()', () => Promise.reject(hostileProxy()), undefined],
      ['resolved by execute()', () => Promise.resolve({ value: hostileProxy() }), undefined],
      [
        'thrown by run',
        undefined,
        () => {
          throw hostileProxy();
        },
      ],
      ['rejected by run', undefined, () => Promise.reject(hostileProxy())],
      ['returned by run', undefined, () => hostileProxy()],
    ];
    for (const [what, execute, run] of cases) {
      it(`settles the attempt once when ${what}, nothing thrown or unhandled`, async () => {
        const engine = execute ? engineWith(execute) : new TaskEngine({ clock: new ManualClock() });
        const out = new Outcome();
        assert.doesNotThrow(() => engine.startAttempt(task('t', execute ? 'odd' : 'function'), 1, undefined, run as never, undefined, out.done));
        await tick();
        await tick();
        const { result, error } = out.only;
        if (error === undefined) assert.doesNotThrow(() => JSON.stringify(result));
        else assert.ok(error instanceof ExecutionError && error.message.length > 0, String(error));
        assert.deepEqual(engine.running(), []);
        assert.deepEqual(unhandled, []);
      });
    }
  });

  it('fails the attempt of an executor revoked after registration (a revoked Proxy), without throwing out of startAttempt', async () => {
    const { proxy, revoke } = Proxy.revocable<Executor>({ execute: () => Promise.resolve({}) }, {});
    const engine = new TaskEngine({ clock: new ManualClock(), executors: { odd: proxy } });
    revoke();
    const out = new Outcome();
    assert.doesNotThrow(() => engine.startAttempt(task('t', 'odd'), 1, undefined, undefined, undefined, out.done));
    await tick();
    const { error } = out.only;
    assert.ok(error instanceof ExecutionError, String(error));
    assert.match(error.message, /revoked/);
    assert.deepEqual(engine.running(), []);
  });

  it('reads an executor context only through the contract: the result of a custom kind is never the live object', async () => {
    const live = { value: { n: 1 } };
    const engine = engineWith((_ctx: ExecutionContext) => Promise.resolve(live));
    const { result } = await runOdd(engine);
    live.value.n = 2;
    assert.deepEqual(result, { value: { n: 1 } });
  });
});
