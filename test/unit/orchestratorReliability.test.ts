// The orchestrator against misbehaving executors, listeners and callers: every accepted task reaches
// a final status, no slot is held forever, a pause is the user's alone, and nothing is silently
// accepted after dispose. The process-lifetime checks (whenIdle keeping a plain Node program alive)
// run a child process: test/support/whenIdleFixture.ts.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import { OrchestratorError, ValidationError } from '../../src/core/model/errors';
import type { OrchestratorOptions, OrchestratorWarning } from '../../src/core/orchestrator/orchestratorTypes';
import type { TaskRecord, TaskResult, TaskSpec } from '../../src/core/model/model';
import { MemoryStore, type ExecutionContext, type Executor } from '../../src/core/ports';
import { ManualClock, settle } from '../support/manualClock';

type Orch = OrchestratorImpl;

const orchestrators: Orch[] = [];
async function make(options: OrchestratorOptions = {}): Promise<Orch> {
  const o = await createOrchestrator({ concurrency: 1, agingMs: Infinity, clock: new ManualClock(), ...options });
  orchestrators.push(o);
  return o;
}
afterEach(async () => {
  for (const o of orchestrators.splice(0)) await o.dispose();
});

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res) => (resolve = res));
  return { promise, resolve };
}

function task(o: Orch, id: string): TaskRecord {
  const r = o.getTask(id);
  assert.ok(r, `task ${id} exists`);
  return r;
}

/** A kind whose execute() returns whatever the test says. */
function kind(execute: (ctx: ExecutionContext) => unknown): Executor {
  return { execute: execute as Executor['execute'] };
}

/** A value every property read of which throws (a hostile or revoked Proxy). */
function throwingProxy(): object {
  return new Proxy(
    { value: 1 },
    {
      get() {
        throw new Error('no property may be read');
      },
    },
  );
}

/** A value on which every trap throws, `instanceof` (its prototype lookup) included. */
function hostileProxy(): object {
  const trap = (): never => {
    throw new Error('hostile: do not touch');
  };
  return new Proxy({}, { get: trap, getPrototypeOf: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap });
}

/** A function task that runs until released. */
function held(name: string, extra: Partial<TaskSpec> = {}): { spec: TaskSpec; release(): void } {
  const d = deferred();
  return { spec: { name, kind: 'function', run: () => d.promise, ...extra }, release: () => d.resolve() };
}

describe('orchestrator reliability', () => {
  describe('executors that break their contract', () => {
    for (const missing of [undefined, null]) {
      it(`completes a task whose executor resolves \`${String(missing)}\`, with the result \`{}\`, and frees its slot`, async () => {
        const o = await make({ executors: { odd: kind(() => Promise.resolve(missing)) } });
        const id = await o.scheduleTask({ name: 'missing', kind: 'odd' });
        const next = await o.scheduleTask({ name: 'next', kind: 'function', run: () => 1 });
        await o.whenIdle();
        assert.equal(task(o, id).status, 'completed');
        assert.deepEqual(task(o, id).result, {});
        assert.equal(task(o, next).status, 'completed');
        assert.equal(o.getSystemStatus().concurrency.running, 0);
      });
    }

    it('keeps the snapshot buildable when a registered executor resolves a BigInt and a cycle', async () => {
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      const o = await make({ executors: { odd: kind(() => Promise.resolve({ value: 5n, cycle })) } });
      const id = await o.scheduleTask({ name: 'odd', kind: 'odd' });
      await o.whenIdle();
      assert.equal(task(o, id).status, 'completed');
      assert.equal(task(o, id).result?.value, '5n');
      assert.doesNotThrow(() => JSON.stringify(o.state.buildSnapshot()));
      await o.state.synchronizeState();
      assert.deepEqual(
        o.warnings.filter((w) => w.code === 'STORE_WRITE_FAILED'),
        [],
      );
    });

    const broken: [string, Executor | undefined, TaskSpec['run'] | undefined][] = [
      ['an executor returning a plain object instead of a promise', kind(() => ({ exitCode: 0 })), undefined],
      [
        'an executor throwing a Proxy whose `get` throws',
        kind(() => {
          throw throwingProxy();
        }),
        undefined,
      ],
      [
        'a run throwing a Proxy whose `get` throws',
        undefined,
        () => {
          throw throwingProxy();
        },
      ],
      ['a run returning a Proxy whose `get` throws', undefined, () => throwingProxy() as unknown as TaskResult],
      [
        'an executor throwing a Proxy on which every trap throws',
        kind(() => {
          throw hostileProxy();
        }),
        undefined,
      ],
    ];
    for (const [what, executor, run] of broken) {
      it(`fails the attempt of ${what}: scheduleTask resolves, the slot is released, the next task runs`, async () => {
        const o = await make(executor ? { executors: { odd: executor } } : {});
        const spec: TaskSpec = executor ? { name: 'broken', kind: 'odd' } : { name: 'broken', kind: 'function', run };
        const id = await o.scheduleTask(spec);
        const next = await o.scheduleTask({ name: 'next', kind: 'function', run: () => 'ok' });
        await o.whenIdle();
        const r = task(o, id);
        assert.equal(r.status, 'failed');
        assert.ok(r.error && r.error.message.length > 0, 'a failure message');
        assert.equal(task(o, next).status, 'completed');
        assert.equal(o.getSystemStatus().concurrency.running, 0);
      });
    }

    it('names what execute() returned when it is not a promise', async () => {
      const o = await make({ executors: { odd: kind(() => ({ exitCode: 0 })) } });
      const id = await o.scheduleTask({ name: 'broken', kind: 'odd' });
      await o.whenIdle();
      assert.match(
        task(o, id).error?.message ?? '',
        /Expected the executor for kind `odd` to return a promise from execute\(\), got `\{"exitCode":0\}` \(object\)/,
      );
    });
  });

  describe('a cancel asked for by a listener as the task turns Running', () => {
    it('cancels a function task and aborts its signal', async () => {
      const o = await make({ startPaused: true });
      let signal: AbortSignal | undefined;
      const id = await o.scheduleTask({ name: 'late', kind: 'function', run: (ctx) => ((signal = ctx.signal), 42) });
      o.onDidChangeTask((r) => {
        if (r.id === id && r.status === 'running') void o.cancelTask(id, 'stop at once');
      });
      o.resume();
      await o.whenIdle();
      assert.equal(task(o, id).status, 'cancelled');
      assert.equal(task(o, id).history.at(-1)?.reason, 'stop at once');
      assert.equal(signal?.aborted, true);
    });

    it('cancels a registered kind that ignores its signal, and the signal is aborted', async () => {
      let seen: ExecutionContext | undefined;
      const o = await make({ executors: { odd: kind((ctx) => ((seen = ctx), Promise.resolve({ exitCode: 0 }))) }, startPaused: true });
      const id = await o.scheduleTask({ name: 'late', kind: 'odd' });
      o.onDidChangeTask((r) => {
        if (r.id === id && r.status === 'running') void o.cancelTask(id);
      });
      o.resume();
      await o.whenIdle();
      assert.equal(task(o, id).status, 'cancelled');
      assert.equal(seen?.signal.aborted, true);
    });
  });

  describe('a cancel still stopping when the host shuts down', () => {
    it('ends Cancelled in the final state, not Running to be retried by the next start', async () => {
      const store = new MemoryStore();
      const clock = new ManualClock();
      // Ignores its signal: the attempt settles only once the engine's abort bound has passed.
      const stubborn = kind(() => new Promise(() => undefined));
      const o = await createOrchestrator({ store, clock, executors: { stubborn } });
      const id = await o.scheduleTask({ name: 'stubborn', kind: 'stubborn', retries: 3 });
      await settle();
      assert.equal(task(o, id).status, 'running');
      void o.cancelTask(id, 'asked before the reload');
      const disposing = o.dispose();
      await clock.advance(10_000); // the engine's abort bound: the attempt settles, stopped
      await disposing;
      const again = await make({ store, clock, executors: { stubborn } });
      assert.equal(task(again, id).status, 'cancelled');
      assert.equal(task(again, id).history.at(-1)?.reason, 'asked before the reload');
    });
  });

  describe('cancelAll', () => {
    /** A kind that settles only when the test lets it, after its signal aborted: a slow process tree. */
    function slowStop(): { executor: Executor; stop(): void } {
      const stopped = deferred();
      return {
        executor: kind(
          (ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => void stopped.promise.then(() => reject(ctx.signal.reason)))),
        ),
        stop: () => stopped.resolve(),
      };
    }

    it('runs a task scheduled while it waits for running tasks to stop', async () => {
      const slow = slowStop();
      const o = await make({ executors: { slow: slow.executor } });
      const running = await o.scheduleTask({ name: 'slow', kind: 'slow' });
      await settle();
      assert.equal(task(o, running).status, 'running');
      const all = o.cancelAll();
      await settle();
      const late = await o.scheduleTask({ name: 'late', kind: 'function', run: () => 'ran' });
      slow.stop();
      assert.equal(await all, 1);
      await o.whenIdle();
      assert.equal(task(o, running).status, 'cancelled');
      assert.equal(task(o, late).status, 'completed');
    });

    it("keeps a user's pause made while it waits", async () => {
      const slow = slowStop();
      const o = await make({ executors: { slow: slow.executor } });
      await o.scheduleTask({ name: 'slow', kind: 'slow' });
      await settle();
      const all = o.cancelAll();
      await settle();
      o.pause();
      slow.stop();
      await all;
      assert.equal(o.paused, true);
      const later = await o.scheduleTask({ name: 'later', kind: 'function', run: () => 1 });
      await settle();
      assert.equal(task(o, later).status, 'created');
      o.resume();
      await o.whenIdle();
      assert.equal(task(o, later).status, 'completed');
    });

    it('does not start a waiting task in a slot a cancelled running task frees', async () => {
      const slow = slowStop();
      const o = await make({ executors: { slow: slow.executor } });
      await o.scheduleTask({ name: 'slow', kind: 'slow' });
      const waiting = await o.scheduleTask({ name: 'waiting', kind: 'function', run: () => 1 });
      await settle();
      const all = o.cancelAll();
      slow.stop();
      assert.equal(await all, 2);
      assert.equal(task(o, waiting).status, 'cancelled');
      assert.equal(task(o, waiting).startedAt, undefined);
    });
  });

  describe('setResources removing or shrinking a pool a waiting task needs', () => {
    it('cancels a task waiting for a dependency when the dependency completes, naming the pool', async () => {
      const o = await make({ resources: { gpu: 1 } });
      const first = held('first');
      const dep = await o.scheduleTask(first.spec);
      const id = await o.scheduleTask({ name: 'needs gpu', kind: 'function', run: () => 1, dependsOn: [dep], resources: { gpu: 1 } });
      o.setResources({});
      first.release();
      await o.whenIdle();
      assert.equal(task(o, id).status, 'cancelled');
      assert.match(task(o, id).history.at(-1)?.reason ?? '', /`gpu`/);
    });

    it('cancels a task in retry backoff when the backoff ends', async () => {
      const clock = new ManualClock();
      const o = await make({ clock, resources: { gpu: 1 } });
      let calls = 0;
      const id = await o.scheduleTask({
        name: 'flaky',
        kind: 'function',
        resources: { gpu: 1 },
        retries: 3,
        retryDelayMs: 100,
        run: () => {
          calls++;
          throw new Error('first attempt fails');
        },
      });
      await settle();
      assert.equal(task(o, id).status, 'scheduled');
      o.setResources({});
      await clock.advance(1000);
      assert.equal(calls, 1);
      assert.equal(task(o, id).status, 'cancelled');
      assert.match(task(o, id).history.at(-1)?.reason ?? '', /`gpu`/);
      await o.whenIdle();
    });

    it('cancels a task created while paused when it is resumed', async () => {
      const o = await make({ resources: { gpu: 1 }, startPaused: true });
      const id = await o.scheduleTask({ name: 'needs gpu', kind: 'function', run: () => 1, resources: { gpu: 1 } });
      o.setResources({ cpu: 2 });
      o.resume();
      await o.whenIdle();
      assert.equal(task(o, id).status, 'cancelled');
      assert.match(task(o, id).history.at(-1)?.reason ?? '', /Pool `gpu` no longer exists/);
    });

    it('cancels a waiting task whose demand no longer fits a shrunk pool', async () => {
      const o = await make({ resources: { gpu: 2 } });
      const first = held('first');
      const dep = await o.scheduleTask(first.spec);
      const id = await o.scheduleTask({ name: 'needs 2', kind: 'function', run: () => 1, dependsOn: [dep], resources: { gpu: 2 } });
      o.setResources({ gpu: 1 });
      first.release();
      await o.whenIdle();
      assert.equal(task(o, id).status, 'cancelled');
      assert.match(task(o, id).history.at(-1)?.reason ?? '', /needs 2 of `gpu` but the pool now holds 1/);
    });
  });

  describe('queries and input', () => {
    it('answers getTask with undefined for an id that is not a string', async () => {
      const o = await make();
      for (const id of [undefined, null, 42, {}]) assert.equal(o.getTask(id as unknown as string), undefined);
    });

    it('refuses a non-string id in retryTask and removeTask with a ValidationError', async () => {
      const o = await make();
      await assert.rejects(
        o.retryTask(undefined as unknown as string),
        (e: unknown) => e instanceof ValidationError && /Expected `id` to be a task id string, got `undefined`/.test(e.message),
      );
      await assert.rejects(o.removeTask(null as unknown as string), ValidationError);
    });

    for (const field of ['command', 'cwd'] as const) {
      it(`refuses a NUL character in \`${field}\` with a clear message, creating nothing`, async () => {
        const o = await make();
        const spec: TaskSpec = { name: 'nul', kind: 'shell', command: 'echo hi', [field]: field === 'command' ? 'echo a\0b' : '/tmp\0x' };
        await assert.rejects(o.scheduleTask(spec), (e: unknown) => e instanceof ValidationError && e.field === field && /NUL/.test(e.message));
        assert.equal(o.getTasks().length, 0);
      });
    }
  });

  describe('after dispose', () => {
    it('refuses every command with the DISPOSED error', async () => {
      const o = await make();
      const id = await o.scheduleTask({ name: 'done', kind: 'function', run: () => 1 });
      await o.whenIdle();
      await o.dispose();
      const isDisposed = (e: unknown): boolean => e instanceof OrchestratorError && e.code === 'DISPOSED';
      const sync: [string, () => unknown][] = [
        ['setConcurrency', () => o.setConcurrency(2)],
        ['setMaxFinished', () => o.setMaxFinished(5)],
        ['setResources', () => o.setResources({ gpu: 1 })],
        ['pause', () => o.pause()],
        ['resume', () => o.resume()],
        [
          'registerExecutor',
          () =>
            o.registerExecutor(
              'late',
              kind(() => Promise.resolve({})),
            ),
        ],
      ];
      for (const [name, call] of sync) assert.throws(call, isDisposed, name);
      const async: [string, () => Promise<unknown>][] = [
        ['scheduleTask', () => o.scheduleTask({ name: 'x', kind: 'function', run: () => 1 })],
        ['scheduleWorkflow', () => o.scheduleWorkflow([{ name: 'x', kind: 'function', run: () => 1 }])],
        ['cancelTask', () => o.cancelTask(id)],
        ['cancelAll', () => o.cancelAll()],
        ['retryTask', () => o.retryTask(id)],
        ['removeTask', () => o.removeTask(id)],
        ['clearFinished', () => o.clearFinished()],
      ];
      for (const [name, call] of async) await assert.rejects(call(), isDisposed, name);
      // Queries still answer.
      assert.equal(task(o, id).status, 'completed');
    });
  });

  describe('listener errors', () => {
    it('go to onDidWarn as LISTENER_FAILED, not to console.error', async () => {
      const o = await make();
      const warned: OrchestratorWarning[] = [];
      o.onDidWarn((w) => warned.push(w));
      o.onDidChangeTask(() => {
        throw new Error('change listener broke');
      });
      o.onDidChangeStatus(() => {
        throw new Error('status listener broke');
      });
      o.onDidOutput(() => {
        throw new Error('output listener broke');
      });
      const logged: unknown[] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => void logged.push(args);
      try {
        await o.scheduleTask({ name: 'x', kind: 'odd' }).catch(() => undefined);
        await o.scheduleTask({ name: 'y', kind: 'function', run: () => 1 });
        await o.whenIdle();
      } finally {
        console.error = original;
      }
      assert.deepEqual(logged, []);
      const messages = warned.filter((w) => w.code === 'LISTENER_FAILED').map((w) => w.message);
      assert.ok(
        messages.some((m) => m.includes('change listener broke')),
        messages.join('\n'),
      );
      assert.ok(
        messages.some((m) => m.includes('status listener broke')),
        messages.join('\n'),
      );
    });

    it('keeps a throwing onDidWarn listener from looping, recording its error as a warning', async () => {
      const o = await make();
      let calls = 0;
      o.onDidWarn(() => {
        calls++;
        throw new Error('warn listener broke');
      });
      o.onDidChangeTask(() => {
        throw new Error('change listener broke');
      });
      await o.scheduleTask({ name: 'y', kind: 'function', run: () => 1 });
      await o.whenIdle();
      assert.ok(calls > 0);
      assert.ok(o.warnings.some((w) => w.code === 'LISTENER_FAILED' && w.message.includes('warn listener broke')));
    });
  });

  describe('a subscriber too full to take lifecycle events', () => {
    it('drops the events for it with one QUEUE_FULL warning, not one per event, and the tasks run on', async () => {
      const o = await make({ concurrency: 4 });
      o.queue.subscribe('task.completed', () => undefined, { name: 'stalled', manualAck: true, maxPending: 2 });
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push(await o.scheduleTask({ name: `t${i}`, kind: 'function', run: () => i }));
      await o.whenIdle();
      await settle();
      assert.deepEqual(
        ids.map((id) => task(o, id).status),
        ids.map(() => 'completed'),
      );
      const full = o.warnings.filter((w) => w.code === 'QUEUE_FULL');
      assert.equal(full.length, 1, JSON.stringify(o.warnings));
      assert.match(full[0].message, /`stalled` of `task.completed`.*maxPending.*2/);
      assert.ok(!o.warnings.some((w) => w.code === 'LISTENER_FAILED'), JSON.stringify(o.warnings));
      assert.equal(o.queue.getQueueStats().topics['task.completed']?.rejected, 8);
    });
  });

  describe('process lifetime (a plain Node program, in a child process)', function () {
    this.timeout(30_000);
    const fixture = path.join(__dirname, '..', 'support', 'whenIdleFixture.ts');

    function runFixture(mode: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        // From the repository root, where `tsx` resolves.
        const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], { cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(kill);
          resolve({ code, stdout, stderr, ms: Date.now() - started });
        });
      });
    }

    for (const [mode, expected] of [
      ['retry', 'completed after 2 attempts'],
      ['timeout', 'failed: Timed out after 150 ms'],
      ['waiter', 'completed after 1 attempts'],
    ] as const) {
      it(`stays alive while whenIdle() waits and the only pending work is ${mode === 'waiter' ? 'a run on an unref’d timer' : `a ${mode}`}`, async () => {
        const { code, stdout, stderr } = await runFixture(mode);
        assert.equal(code, 0, stderr);
        assert.match(stdout, new RegExp(`^${expected}\\nidle\\n$`), `stdout: ${stdout}\nstderr: ${stderr}`);
      });
    }

    it('stays alive for a retry backoff nobody awaits, until the task finishes', async () => {
      const { code, stdout, stderr } = await runFixture('retry-unawaited');
      assert.equal(code, 0, stderr);
      assert.equal(stdout, 'completed after 2 attempts\n');
    });

    it('lets the process exit on its own when the orchestrator is idle (not disposed)', async () => {
      const { code, stdout, stderr, ms } = await runFixture('idle');
      assert.equal(code, 0, stderr);
      assert.equal(stdout, 'completed after 1 attempts\nidle\n');
      assert.ok(ms < 15_000, `exited after ${ms} ms`);
    });
  });
});
