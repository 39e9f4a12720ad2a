// The cache as an execution port (src/core/cache/cachingExecution.ts): keys, hits, misses, noCache,
// unreadable inputs, cancel before the work starts, flaky keys; the `cache` field's checks; and the
// orchestrator wired with `cache` (a workflow run twice, noCache, the task.completed payload).
import * as assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TaskEngine } from '../../src/core/engine/engine';
import { LocalExecution } from '../../src/core/execution/localExecution';
import { CachingExecution, type CachingExecutionOptions } from '../../src/core/cache/cachingExecution';
import { CacheStore } from '../../src/core/cache/cacheStore';
import { InputIndex } from '../../src/core/cache/inputIndex';
import { CancelledError, ExecutionError, ValidationError } from '../../src/core/model/errors';
import type { CacheSpec, TaskRecord, TaskResult } from '../../src/core/model/model';
import type { OrchestratorWarning } from '../../src/core/model/warnings';
import type { ExecutionContext, Executor } from '../../src/core/ports';
import { validateSpec } from '../../src/core/model/specValidation';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import type { TaskEventPayload } from '../../src/core/orchestrator/taskEvents';
import { executionConformance } from '../support/executionConformance';
import { toSafeResult } from '../../src/core/engine/executorContract';

// Tasks without `cache` go straight through: the decorator keeps the port's contract for them.
const conformanceDirs: string[] = [];
after(() => Promise.all(conformanceDirs.map((d) => rm(d, { recursive: true, force: true }))));
executionConformance('CachingExecution (tasks without cache)', {
  makePort: async (executors, abortSettleMs) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'orch-cache-conf-'));
    conformanceDirs.push(dir);
    return new CachingExecution(new LocalExecution(new TaskEngine({ executors, abortSettleMs })), {
      store: new CacheStore(path.join(dir, 'cache')),
      index: new InputIndex(path.join(dir, 'cache', 'index.json')),
      root: dir,
      lookup: () => undefined,
      onWarn: () => undefined,
    });
  },
});

interface Outcome {
  result: TaskResult | undefined;
  error: unknown;
  output: string;
  ms: number;
}

const CACHE: CacheSpec = { inputs: ['src/**'], outputs: ['dist/**'] };

describe('CachingExecution', () => {
  let root: string;
  let runs: number;
  let wallMs: number;
  let failNext: boolean;
  let warnings: OrchestratorWarning[];
  let records: Map<string, TaskRecord>;
  let port: CachingExecution;
  let store: CacheStore;

  /** A build: writes dist/out.txt from src/a.txt, says so, and takes 5 s of the test's wall clock. */
  const build: Executor = {
    execute: async (ctx: ExecutionContext) => {
      runs++;
      const src = await readFile(path.join(root, 'src', 'a.txt'), 'utf8');
      await mkdir(path.join(root, 'dist'), { recursive: true });
      await writeFile(path.join(root, 'dist', 'out.txt'), `built ${src}`);
      wallMs += 5000;
      ctx.onOutput?.('building\n');
      if (failNext) return { exitCode: 1, output: 'building\nfailed\n' };
      return { exitCode: 0, output: 'building\ndone\n' };
    },
  };

  function makePort(overrides: Partial<CachingExecutionOptions> = {}): CachingExecution {
    store = new CacheStore(path.join(root, '.orchestrator', 'cache'));
    return new CachingExecution(new LocalExecution(new TaskEngine({ executors: { build } })), {
      store,
      index: new InputIndex(path.join(root, '.orchestrator', 'cache', 'index.json')),
      root,
      lookup: (id) => records.get(id),
      onWarn: (w) => warnings.push(w),
      now: () => wallMs,
      ...overrides,
    });
  }

  let nextId = 0;
  function task(extra: Partial<TaskRecord> = {}, cache: CacheSpec = CACHE): TaskRecord {
    const id = `t${++nextId}`;
    return {
      id,
      name: 'build',
      kind: 'build',
      status: 'running',
      priority: 0,
      attempts: 1,
      createdAt: 0,
      history: [],
      spec: { name: 'build', kind: 'build', command: 'make', cache },
      dependsOn: [],
      ...extra,
    };
  }

  function run(record: TaskRecord, p: CachingExecution = port): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      let output = '';
      let calls = 0;
      let inside = true;
      const t0 = performance.now();
      p.start(
        record,
        1,
        undefined,
        undefined,
        (chunk) => (output += chunk),
        (result, error) => {
          if (inside) reject(new Error('done was called inside start'));
          if (++calls > 1) reject(new Error('done was called twice'));
          resolve({ result, error, output, ms: performance.now() - t0 });
        },
      );
      inside = false;
    });
  }

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'orch-cache-'));
    await mkdir(path.join(root, 'src'));
    await writeFile(path.join(root, 'src', 'a.txt'), 'one');
    runs = 0;
    wallMs = 1_000_000;
    failNext = false;
    warnings = [];
    records = new Map();
    port = makePort();
  });

  afterEach(async () => {
    await port.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('a miss runs the task and stores its outputs and result under its key', async () => {
    const first = await run(task());
    assert.equal(first.error, undefined);
    assert.equal(runs, 1);
    assert.match(first.result?.cacheKey ?? '', /^[0-9a-f]{64}$/);
    assert.equal(first.result?.cached, undefined);
    const entry = await store.get(first.result!.cacheKey!);
    assert.ok(entry, 'the entry is stored');
    assert.equal(entry.output, 'building\ndone\n');
    assert.equal(entry.durationMs, 5000);
    assert.deepEqual(
      entry.outputs.map((o) => o.path),
      ['dist/out.txt'],
    );
  });

  it('a hit restores the outputs and the output log and completes in milliseconds, with cached and savedMs', async () => {
    const first = await run(task());
    await rm(path.join(root, 'dist'), { recursive: true });
    const second = await run(task());
    assert.equal(runs, 1, 'the task did not run again');
    assert.equal(second.error, undefined);
    const key = first.result!.cacheKey!;
    assert.deepEqual(second.result, { exitCode: 0, output: 'building\ndone\n', cached: { key, savedMs: 5000 }, cacheKey: key });
    assert.equal(second.output, 'building\ndone\n', 'the cached output is streamed');
    assert.equal(await readFile(path.join(root, 'dist', 'out.txt'), 'utf8'), 'built one');
    assert.ok(second.ms < 500, `restored in ${second.ms.toFixed(1)} ms`);
  });

  it('a changed input makes a new key: the task runs again', async () => {
    const first = await run(task());
    await writeFile(path.join(root, 'src', 'a.txt'), 'two, longer');
    const second = await run(task());
    assert.equal(runs, 2);
    assert.equal(second.result?.cached, undefined);
    assert.notEqual(second.result?.cacheKey, first.result?.cacheKey);
    assert.equal(await readFile(path.join(root, 'dist', 'out.txt'), 'utf8'), 'built two, longer');
  });

  it("a dependency's key is part of its dependent's key", async () => {
    const dep = task();
    records.set(dep.id, { ...dep, status: 'completed', result: { cacheKey: 'a'.repeat(64) } });
    const first = await run(task({ dependsOn: [dep.id] }));
    const same = await run(task({ dependsOn: [dep.id] }));
    assert.equal(same.result?.cached?.key, first.result?.cacheKey, 'the same dependency key hits');
    records.set(dep.id, { ...dep, status: 'completed', result: { cacheKey: 'b'.repeat(64) } });
    const changed = await run(task({ dependsOn: [dep.id] }));
    assert.equal(runs, 2);
    assert.equal(changed.result?.cached, undefined);
    assert.notEqual(changed.result?.cacheKey, first.result?.cacheKey);
  });

  it('the named environment values are part of the key; others are not', async () => {
    const env: Record<string, string | undefined> = { MODE: 'dev', OTHER: 'x' };
    await port.dispose();
    port = makePort({ env });
    const cache = { ...CACHE, env: ['MODE'] };
    const first = await run(task({}, cache));
    env.OTHER = 'y';
    assert.equal((await run(task({}, cache))).result?.cached?.key, first.result?.cacheKey);
    env.MODE = 'prod';
    const changed = await run(task({}, cache));
    assert.equal(changed.result?.cached, undefined);
    assert.equal(runs, 2);
  });

  it('noCache runs the task although its key is stored, and stores its result again', async () => {
    const first = await run(task());
    const again = await run(task({ noCache: true }));
    assert.equal(runs, 2);
    assert.equal(again.result?.cached, undefined);
    assert.equal(again.result?.cacheKey, first.result?.cacheKey);
  });

  it('an input that cannot be read: the task runs uncached, with a warning naming the file', async () => {
    await port.dispose();
    port = makePort({
      index: { hashFiles: async () => ({ files: [], unreadable: 'src/secret.txt: EACCES: permission denied' }), save: async () => undefined },
    });
    const outcome = await run(task());
    assert.equal(outcome.error, undefined);
    assert.equal(runs, 1);
    assert.equal(outcome.result?.cacheKey, undefined, 'no key: nothing stored');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.code, 'CACHE_INPUT_UNREADABLE');
    assert.match(warnings[0]!.message, /`build` ran without the cache.*src\/secret\.txt/);
  });

  it('cancel while the inputs are hashed reports CancelledError at once; the task never runs', async () => {
    let release!: () => void;
    const hashing = new Promise<void>((resolve) => (release = resolve));
    await port.dispose();
    port = makePort({
      index: {
        hashFiles: async () => {
          await hashing;
          return { files: [['src/a.txt', '0'.repeat(64)]] };
        },
        save: async () => undefined,
      },
    });
    const record = task();
    let outcome: { result: TaskResult | undefined; error: unknown } | undefined;
    let calls = 0;
    const handle = port.start(record, 1, undefined, undefined, undefined, (result, error) => {
      calls++;
      outcome = { result, error };
    });
    assert.ok(handle);
    await port.cancel(handle, 'Stop');
    assert.ok(outcome?.error instanceof CancelledError);
    assert.equal((outcome.error as CancelledError).message, 'Stop');
    release();
    await hashing;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls, 1, 'reported once');
    assert.equal(runs, 0);
  });

  it('a key that once completed and once failed is flaky: the failure carries it', async () => {
    await run(task());
    failNext = true;
    const failed = await run(task({ noCache: true }));
    assert.ok(failed.error instanceof ExecutionError);
    assert.equal(failed.error.result?.flaky, true);
    assert.match(failed.error.result?.cacheKey ?? '', /^[0-9a-f]{64}$/);
    failNext = false;
    const ok = await run(task({ noCache: true }));
    assert.equal(ok.result?.flaky, true, 'the key stays flaky');
  });

  it('a failure is not stored: the next run runs again', async () => {
    failNext = true;
    const failed = await run(task());
    assert.ok(failed.error instanceof ExecutionError);
    assert.equal(failed.error.result?.flaky, undefined);
    failNext = false;
    const next = await run(task());
    assert.equal(runs, 2);
    assert.equal(next.result?.cached, undefined);
  });

  it('a task that runs elsewhere (a remote backend) goes straight to the inner port, uncached', async () => {
    await port.dispose();
    port = makePort({ runsElsewhere: (t) => t.kind === 'build' });
    await run(task());
    const second = await run(task());
    assert.equal(runs, 2);
    assert.equal(second.result?.cacheKey, undefined);
  });

  it('disabled: every task runs and nothing is stored', async () => {
    await port.dispose();
    port = makePort({ enabled: false });
    await run(task());
    const second = await run(task());
    assert.equal(runs, 2);
    assert.equal(second.result?.cacheKey, undefined);
  });
});

describe('the cache fields of a result', () => {
  it("survive the executor contract's JSON-safe copy and a record's JSON", () => {
    const result = { exitCode: 0, cached: { key: 'k'.repeat(64), savedMs: 1200 }, cacheKey: 'k'.repeat(64), flaky: true };
    assert.deepEqual(toSafeResult(result, 'shell'), result);
    assert.deepEqual(JSON.parse(JSON.stringify({ result })).result, result);
  });
});

describe('the cache field of a spec', () => {
  const ctx = { kinds: new Set(['shell', 'function']), pools: {}, taskExists: () => false };
  const spec = (cache: unknown, extra: Record<string, unknown> = {}): unknown => ({ name: 'b', kind: 'shell', command: 'make', cache, ...extra });
  const refused = (cache: unknown, field: string, message: RegExp, extra?: Record<string, unknown>): void => {
    assert.throws(
      () => validateSpec(spec(cache, extra), ctx),
      (err: unknown) => err instanceof ValidationError && err.field === field && message.test(err.message),
    );
  };

  it('keeps a checked copy', () => {
    const cache = { inputs: ['src/**', 'package.json'], outputs: ['dist/**'], env: ['NODE_ENV'] };
    const valid = validateSpec(spec(cache), ctx);
    assert.deepEqual(valid.cache, cache);
    assert.notEqual(valid.cache, cache);
  });

  it('refuses bad inputs, outputs and env, naming the field and what is allowed', () => {
    refused('src/**', 'cache', /Expected `cache` to be a plain object like/);
    refused({}, 'cache.inputs', /Expected `cache.inputs` to be a non-empty array of globs/);
    refused({ inputs: [] }, 'cache.inputs', /non-empty array of globs, got `\[\]`/);
    refused({ inputs: [3] }, 'cache.inputs[0]', /a non-empty glob string, got `3` \(number\)/);
    refused({ inputs: [''] }, 'cache.inputs[0]', /a non-empty glob string/);
    refused({ inputs: ['/etc/**'] }, 'cache.inputs[0]', /a relative glob/);
    refused({ inputs: ['src/**'], outputs: ['../elsewhere/**'] }, 'cache.outputs[0]', /without `\.\.` segments/);
    refused({ inputs: ['src/**'], outputs: ['C:\\out'] }, 'cache.outputs[0]', /a relative glob/);
    refused({ inputs: ['src/**'], env: 'NODE_ENV' }, 'cache.env', /non-empty array of environment variable names/);
    refused({ inputs: ['src/**'], env: ['A=B'] }, 'cache.env[0]', /an environment variable name/);
    refused(
      { input: ['src/**'] },
      'cache.input',
      /Unknown field `cache.input` in `cache` \(did you mean `inputs`\?\); allowed fields: `inputs`, `outputs`, `env`/,
    );
  });

  it('refuses cache on a function task and on a service', () => {
    assert.throws(
      () => validateSpec({ name: 'f', kind: 'function', run: () => 1, cache: { inputs: ['a'] } }, ctx),
      /Expected `cache` to be absent for kind `function`/,
    );
    refused({ inputs: ['a'] }, 'cache', /absent when `readyWhen` is set/, { readyWhen: { output: 'ready' } });
  });
});

describe('the orchestrator with a cache', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'orch-cache-orch-'));
    await mkdir(path.join(root, 'src'));
    await writeFile(path.join(root, 'src', 'a.txt'), 'one');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const specs = () => [
    {
      key: 'gen',
      name: 'gen',
      kind: 'shell',
      command: 'mkdir -p dist && cat src/a.txt > dist/a.txt && echo generated',
      cache: { inputs: ['src/**'], outputs: ['dist/**'] },
    },
    {
      key: 'pack',
      name: 'pack',
      kind: 'shell',
      command: 'cat dist/a.txt > dist/b.txt && echo packed',
      dependsOn: ['gen'],
      cache: { inputs: ['dist/a.txt'], outputs: ['dist/b.txt'] },
    },
  ];

  it('a workflow run again is restored from the cache: task.completed says cached and savedMs; noCache runs it', async () => {
    const o = await createOrchestrator({ cache: { dir: path.join(root, '.orchestrator', 'cache'), root } });
    try {
      const payloads: TaskEventPayload[] = [];
      o.queue.subscribe('task.completed', (m) => void payloads.push(m.payload as TaskEventPayload));
      const first = await o.scheduleWorkflow(specs().map((s) => ({ ...s, cwd: root })));
      await o.whenIdle();
      assert.deepEqual(
        first.map((id) => o.getTask(id)?.status),
        ['completed', 'completed'],
      );
      assert.equal(o.getTask(first[0]!)?.result?.cached, undefined);
      await rm(path.join(root, 'dist'), { recursive: true });
      const second = await o.scheduleWorkflow(specs().map((s) => ({ ...s, cwd: root })));
      await o.whenIdle();
      for (const id of second) {
        const r = o.getTask(id)!;
        assert.equal(r.status, 'completed');
        assert.ok(r.result?.cached, `${r.name} is cached`);
        assert.deepEqual(
          r.history.map((h) => h.status),
          ['created', 'scheduled', 'running', 'completed'],
        );
      }
      assert.equal(o.getTask(second[0]!)?.result?.output?.trim(), 'generated');
      assert.equal(await readFile(path.join(root, 'dist', 'b.txt'), 'utf8'), 'one');
      await new Promise((resolve) => setImmediate(resolve));
      const cachedPayloads = payloads.filter((p) => second.includes(p.taskId));
      assert.equal(cachedPayloads.length, 2);
      for (const p of cachedPayloads) {
        assert.equal(p.cached, true);
        assert.equal(typeof p.savedMs, 'number');
      }
      assert.equal(payloads.filter((p) => first.includes(p.taskId) && p.cached !== undefined).length, 0);

      const third = await o.scheduleWorkflow(
        specs().map((s) => ({ ...s, cwd: root })),
        { noCache: true },
      );
      await o.whenIdle();
      for (const id of third) {
        const r = o.getTask(id)!;
        assert.equal(r.noCache, true);
        assert.equal(r.result?.cached, undefined);
        assert.equal(JSON.parse(JSON.stringify(r)).noCache, true, 'persisted');
      }
      const rerun = await o.retryTask(second[0]!, { noCache: true });
      await o.whenIdle();
      assert.equal(o.getTask(rerun)?.status, 'completed');
      assert.equal(o.getTask(rerun)?.result?.cached, undefined);
      assert.equal(o.getTask(rerun)?.noCache, true);
    } finally {
      await o.dispose();
    }
  });

  it('a dependent run again without the cache stores under the key its workflow run finds', async () => {
    const o = await createOrchestrator({ cache: { dir: path.join(root, '.orchestrator', 'cache'), root } });
    try {
      const first = await o.scheduleWorkflow(specs().map((s) => ({ ...s, cwd: root })));
      await o.whenIdle();
      const key = o.getTask(first[1]!)?.result?.cacheKey;
      assert.ok(key);
      // The rerun's completed dependency is still part of what its key hashes.
      const rerun = await o.retryTask(first[1]!, { noCache: true });
      await o.whenIdle();
      assert.deepEqual(o.getTask(rerun)?.dependsOn, [first[0]]);
      assert.equal(o.getTask(rerun)?.result?.cacheKey, key);
    } finally {
      await o.dispose();
    }
  });

  it('refuses bad cache options and run options, naming the field', async () => {
    await assert.rejects(createOrchestrator({ cache: { dir: '' } }), /Expected `cache.dir` to be a non-empty directory path/);
    await assert.rejects(createOrchestrator({ cache: { dir: root, maxBytes: -1 } }), /Expected `cache.maxBytes` to be a positive integer/);
    await assert.rejects(createOrchestrator({ cache: { dir: root, dri: 1 } as never }), /Unknown field `cache.dri`/);
    const o = await createOrchestrator();
    try {
      await assert.rejects(o.scheduleWorkflow([], { noCache: 'yes' } as never), /Expected `options.noCache` to be a boolean/);
      const id = await o.scheduleTask({ name: 'x', kind: 'function', run: () => 1 });
      await o.whenIdle();
      await assert.rejects(o.retryTask(id, { nocache: true } as never), /Unknown field `options.nocache`.*did you mean `noCache`/);
      await assert.rejects(o.retryTask(id), /only a failed or cancelled task can be retried/);
    } finally {
      await o.dispose();
    }
  });
});
