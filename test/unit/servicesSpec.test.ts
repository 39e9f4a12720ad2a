import * as assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/model/errors';
import { validateSpec, type SpecContext } from '../../src/core/model/specValidation';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import { MemoryStore, type ExecutionContext } from '../../src/core/ports';
import { STATE_KEY, validateSnapshot, type Snapshot } from '../../src/core/state/snapshot';
import type { TaskSpec } from '../../src/core/model/model';
import { ManualClock, settle } from '../support/manualClock';

const ctx: SpecContext = { kinds: new Set(['shell', 'function', 'svc']), pools: {}, taskExists: () => true };
const base = { name: 'server', kind: 'shell', command: 'node server.js' };

function refusal(extra: Record<string, unknown>): ValidationError {
  try {
    validateSpec({ ...base, ...extra }, ctx);
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return err;
  }
  assert.fail(`accepted ${JSON.stringify(extra)}`);
}

describe('services: spec validation', () => {
  it('accepts each readyWhen shape and the service fields, and copies them', () => {
    const specs = [
      { readyWhen: { output: 'listening on \\d+' }, readyTimeoutMs: 5000, stopWhen: 'dependentsDone', restart: 'on-failure', shared: true },
      { readyWhen: { port: 3000 } },
      { readyWhen: { port: 5432, host: 'localhost' } },
      { readyWhen: { http: 'https://127.0.0.1:3000/health' } },
      // A background VS Code task becomes a service through reportReady, without readyWhen.
      { stopWhen: 'dependentsDone', restart: 'on-failure', shared: false, readyTimeoutMs: 1 },
    ];
    for (const extra of specs) {
      const input = { ...base, ...extra };
      const out = validateSpec(input, ctx);
      assert.deepEqual(out, input);
      if (extra.readyWhen) assert.notEqual(out.readyWhen, extra.readyWhen, 'a copy, not the caller object');
    }
  });

  const cases: [string, Record<string, unknown>, string, string][] = [
    [
      'a readyWhen that is not an object',
      { readyWhen: 'ready' },
      'readyWhen',
      'Expected `readyWhen` to be exactly one of `{ output: "regex" }`, `{ port: 3000, host?: "127.0.0.1" }` or `{ http: "http://127.0.0.1:3000/health" }`, got `"ready"` (string)',
    ],
    ['a readyWhen with none of its kinds', { readyWhen: {} }, 'readyWhen', 'got none of them: `{}` (object)'],
    ['a readyWhen with two kinds', { readyWhen: { port: 3000, http: 'http://x' } }, 'readyWhen', 'got `port`, `http` together'],
    [
      'an output regex that does not compile',
      { readyWhen: { output: '(' } },
      'readyWhen.output',
      'Expected `readyWhen.output` to be a regular expression that compiles, got `"("` (string) (Invalid regular expression: /(/: Unterminated group)',
    ],
    [
      'an empty output regex',
      { readyWhen: { output: '' } },
      'readyWhen.output',
      'Expected `readyWhen.output` to be a regular expression of at most 2048 characters',
    ],
    ['port 0', { readyWhen: { port: 0 } }, 'readyWhen.port', 'Expected `readyWhen.port` to be an integer TCP port from 1 to 65535, got `0` (number)'],
    ['port 65536', { readyWhen: { port: 65536 } }, 'readyWhen.port', 'got `65536` (number)'],
    ['a fractional port', { readyWhen: { port: 80.5 } }, 'readyWhen.port', 'got `80.5` (number)'],
    ['a port as a string', { readyWhen: { port: '3000' } }, 'readyWhen.port', 'got `"3000"` (string)'],
    ['an empty host', { readyWhen: { port: 3000, host: '' } }, 'readyWhen.host', 'Expected `readyWhen.host` to be a non-empty host name or address'],
    ['a host on an output probe', { readyWhen: { output: 'x', host: 'h' } }, 'readyWhen.host', 'Unknown field `readyWhen.host` in `readyWhen` with `output`'],
    [
      'an ftp URL',
      { readyWhen: { http: 'ftp://127.0.0.1/' } },
      'readyWhen.http',
      'Expected `readyWhen.http` to be an http:// or https:// URL, got `"ftp://127.0.0.1/"` (string)',
    ],
    ['a URL that does not parse', { readyWhen: { http: 'localhost:3000' } }, 'readyWhen.http', 'an http:// or https:// URL'],
    [
      'readyTimeoutMs 0',
      { readyTimeoutMs: 0 },
      'readyTimeoutMs',
      'Expected `readyTimeoutMs` to be a positive number of ms no greater than 2147483647, got `0` (number)',
    ],
    ['a negative readyTimeoutMs', { readyTimeoutMs: -5 }, 'readyTimeoutMs', 'got `-5` (number)'],
    ['a fractional readyTimeoutMs', { readyTimeoutMs: 1.5 }, 'readyTimeoutMs', 'Expected `readyTimeoutMs` to be a positive integer number of ms'],
    [
      'an unknown stopWhen',
      { stopWhen: 'never' },
      'stopWhen',
      'Expected `stopWhen` to be `dependentsDone` (stop the service once every task depending on it is final), got `"never"` (string)',
    ],
    [
      'an unknown restart',
      { restart: 'always' },
      'restart',
      'Expected `restart` to be `on-failure` (start the service again when it exits with a failure), got `"always"` (string)',
    ],
    ['shared as a string', { shared: 'yes' }, 'shared', 'Expected `shared` to be a boolean'],
    ['a service that is runAlways', { readyWhen: { port: 3000 }, runAlways: true }, 'runAlways', 'a service cannot be runAlways'],
  ];
  for (const [what, extra, field, message] of cases) {
    it(`refuses ${what}, naming the field`, () => {
      const err = refusal(extra);
      assert.equal(err.field, field);
      assert.ok(err.message.includes(message), err.message);
    });
  }

  it('refuses a bad service in a workflow and creates nothing', async () => {
    const o = await createOrchestrator({ executors: { svc: { execute: () => Promise.resolve({}) } } });
    try {
      await assert.rejects(
        o.scheduleWorkflow([
          { key: 'a', name: 'a', kind: 'svc' },
          { key: 'b', name: 'b', kind: 'svc', readyWhen: { port: 99999 } },
        ]),
        (err: unknown) => err instanceof ValidationError && err.field === '[1].readyWhen.port',
      );
      assert.equal(o.getTasks().length, 0);
    } finally {
      await o.dispose();
    }
  });
});

describe('services: persistence', () => {
  it('saves and restores the service fields, restarts and Ready', async () => {
    const clock = new ManualClock(1000);
    const store = new MemoryStore();
    let ctxOf: ExecutionContext | undefined;
    const svc = {
      execute: (c: ExecutionContext) =>
        new Promise<object>((_resolve, reject) => {
          ctxOf = c;
          c.signal.addEventListener('abort', () => reject(c.signal.reason));
        }),
    };
    const spec: TaskSpec = {
      name: 'server',
      kind: 'svc',
      readyWhen: { http: 'http://127.0.0.1:3000/health' },
      readyTimeoutMs: 90_000,
      stopWhen: 'dependentsDone',
      restart: 'on-failure',
      shared: true,
      key: 'server',
    };
    const first = await createOrchestrator({ store, clock, executors: { svc } });
    const [id] = await first.scheduleWorkflow([spec]);
    await settle();
    ctxOf?.reportReady?.({ problems: { errors: 2, warnings: 0 } });
    await first.state.synchronizeState();
    const saved = validateSnapshot(store.get<Snapshot>(STATE_KEY));
    const record = saved.tasks.find((t) => t.id === id);
    assert.deepEqual(record?.spec, spec);
    assert.deepEqual(record?.ready, { at: 1000, problems: { errors: 2, warnings: 0 } });
    await first.dispose();

    // A saved record with a restart count and Ready, as a host that died while it ran left it.
    const again = validateSnapshot(store.get<Snapshot>(STATE_KEY));
    (again.tasks[0] as { restarts?: number }).restarts = 3;
    await store.update(STATE_KEY, again);
    const second = await createOrchestrator({ store, clock, executors: { svc } });
    try {
      const restored = second.getTask(id);
      assert.deepEqual(restored?.spec, spec);
      assert.equal(restored?.restarts, 3);
      assert.equal(restored?.ready, undefined, 'a restored task runs again: it is not Ready until it says so');
    } finally {
      await second.dispose();
    }
  });

  it('after a restart, a restored stopWhen service still stops when its dependents end, and is still shared', async () => {
    const clock = new ManualClock(1000);
    const store = new MemoryStore();
    const attempts = new Map<string, { ctx: ExecutionContext; exit: () => void }>();
    const svc = {
      execute: (c: ExecutionContext) =>
        new Promise<object>((resolve, reject) => {
          attempts.set(c.task.name, { ctx: c, exit: () => resolve({}) });
          c.signal.addEventListener('abort', () => reject(c.signal.reason));
        }),
    };
    const service: TaskSpec = { key: 'db', name: 'db', kind: 'svc', stopWhen: 'dependentsDone', shared: true, retries: 1 };
    const first = await createOrchestrator({ store, clock, executors: { svc } });
    const [db, , d2] = await first.scheduleWorkflow([
      service,
      { key: 'd1', name: 'd1', kind: 'svc', dependsOn: ['db'] },
      { key: 'd2', name: 'd2', kind: 'svc', dependsOn: ['db'], retries: 1 },
    ]);
    await settle();
    attempts.get('db')?.ctx.reportReady?.();
    await settle();
    attempts.get('d1')?.exit();
    await settle();
    await first.dispose();

    const second = await createOrchestrator({ store, clock, executors: { svc } });
    try {
      await clock.advance(0);
      assert.equal(second.getTask(db)?.status, 'running', 'retried after the restart');
      assert.equal(second.getTask(d2)?.status, 'running');
      const [again] = await second.scheduleWorkflow([service]);
      assert.equal(again, db, 'the restored instance is shared');
      attempts.get('db')?.ctx.reportReady?.();
      await settle();
      attempts.get('d2')?.exit();
      await settle();
      assert.equal(second.getTask(db)?.status, 'completed');
      assert.equal(second.getTask(db)?.history.at(-1)?.reason, 'Stopped: every dependent finished');
    } finally {
      await second.dispose();
    }
  });

  it('refuses a saved Ready that is not `{ at, problems? }`', () => {
    const snapshot = (ready: unknown): unknown => ({
      version: 1,
      savedAt: 0,
      tasks: [{ id: 't1', name: 'n', kind: 'shell', status: 'running', priority: 0, attempts: 1, createdAt: 0, history: [], spec: {}, dependsOn: [], ready }],
    });
    assert.doesNotThrow(() => validateSnapshot(snapshot({ at: 5, problems: { errors: 0, warnings: 1 } })));
    assert.throws(() => validateSnapshot(snapshot('yes')), /Expected `tasks\[0\]\.ready` to be an object `\{ at, problems\? \}`/);
    assert.throws(() => validateSnapshot(snapshot({ at: 5, problems: { errors: -1, warnings: 0 } })), /tasks\[0\]\.ready\.problems\.errors/);
  });
});
