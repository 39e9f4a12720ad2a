import * as assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/model/errors';
import { MemoryStore, systemClock } from '../../src/core/ports';
import { validateOrchestratorOptions } from '../../src/core/orchestrator/options';
import { validateResourceCapacities } from '../../src/core/model/resourceCapacities';
import { validateSpec, type SpecContext } from '../../src/core/model/specValidation';
import { validateWorkflow } from '../../src/core/model/workflowValidation';
import { LIMITS } from '../../src/core/model/limits';

const existing = new Set(['task-1', 'task-2']);
const ctx: SpecContext = {
  kinds: new Set(['shell', 'function', 'docker']),
  pools: { gpu: 1, network: 4 },
  taskExists: (id) => existing.has(id),
};
const noop = (): void => undefined;

function refusal(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  assert.fail('expected a ValidationError');
}

const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = { back: cyclic };
let deep: unknown = 1;
for (let i = 0; i < 300; i++) deep = [deep];

interface BadCase {
  what: string;
  spec: unknown;
  field: string | undefined;
  /** Fragments the message must contain: the offending value and what is allowed. */
  says: (string | RegExp)[];
}

const shell = { name: 'build', kind: 'shell', command: 'npm run build' };

const badSpecs: BadCase[] = [
  { what: 'a spec that is not an object', spec: 'npm test', field: undefined, says: ['plain object', '`"npm test"` (string)'] },
  { what: 'an array as spec', spec: [], field: undefined, says: ['plain object', '(array)'] },
  { what: 'a misspelt field', spec: { ...shell, priorty: 2 }, field: 'priorty', says: ['Unknown field `priorty`', 'did you mean `priority`', '`timeoutMs`'] },
  { what: 'a missing name', spec: { kind: 'shell', command: 'x' }, field: 'name', says: ['non-empty string of at most 200', '`undefined` (undefined)'] },
  { what: 'an empty name', spec: { ...shell, name: '' }, field: 'name', says: ['non-empty string', '`""` (string)'] },
  { what: 'an absurdly long name', spec: { ...shell, name: 'x'.repeat(201) }, field: 'name', says: ['at most 200 characters'] },
  { what: 'an unknown kind', spec: { ...shell, kind: 'pythn' }, field: 'kind', says: ['one of `shell`, `function`, `docker`', '`"pythn"` (string)'] },
  { what: 'a kind that is not a string', spec: { ...shell, kind: 3 }, field: 'kind', says: ['one of `shell`', '`3` (number)'] },
  {
    what: 'a shell task without a command',
    spec: { name: 'b', kind: 'shell' },
    field: 'command',
    says: ['non-empty shell command', '32768 bytes', '`undefined`'],
  },
  { what: 'a blank command', spec: { ...shell, command: '   ' }, field: 'command', says: ['non-empty shell command'] },
  { what: 'a command over 32 KiB', spec: { ...shell, command: 'x'.repeat(32 * 1024 + 1) }, field: 'command', says: ['at most 32768 bytes'] },
  {
    what: 'a shell task with run',
    spec: { ...shell, run: noop },
    field: 'run',
    says: ['absent for kind `shell`', 'only kind `function` takes `run`', '(function)'],
  },
  { what: 'a function task without run', spec: { name: 'f', kind: 'function' }, field: 'run', says: ['a function', '`undefined`'] },
  {
    what: 'a function task whose run is a string',
    spec: { name: 'f', kind: 'function', run: 'go()' },
    field: 'run',
    says: ['a function', '`"go()"` (string)'],
  },
  {
    what: 'a function task with a command',
    spec: { name: 'f', kind: 'function', run: noop, command: 'ls' },
    field: 'command',
    says: ['absent for kind `function`'],
  },
  { what: 'a registered kind with run', spec: { name: 'd', kind: 'docker', run: noop }, field: 'run', says: ['only kind `function` takes `run`'] },
  { what: 'a cwd that is not a string', spec: { ...shell, cwd: 42 }, field: 'cwd', says: ['directory path', '`42` (number)'] },
  { what: 'env as a string', spec: { ...shell, env: 'A=1' }, field: 'env', says: ['plain object of environment variable names to string values', '(string)'] },
  { what: 'an env value that is a number', spec: { ...shell, env: { PORT: 8080 } }, field: 'env.PORT', says: ['a string', '`8080` (number)'] },
  {
    what: 'too many env entries',
    spec: { ...shell, env: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`V${i}`, 'x'])) },
    field: 'env',
    says: ['at most 1000 variables'],
  },
  {
    what: 'a payload holding a function',
    spec: { name: 'd', kind: 'docker', payload: { image: 'node', hook: noop } },
    field: 'payload.hook',
    says: ['to be JSON-serialisable, but `payload.hook` is a function', 'allowed are plain objects'],
  },
  {
    what: 'a payload holding undefined',
    spec: { name: 'd', kind: 'docker', payload: { a: [1, undefined] } },
    field: 'payload.a[1]',
    says: ['JSON-serialisable', '`payload.a[1]` is undefined inside an array'],
  },
  { what: 'a payload holding NaN', spec: { name: 'd', kind: 'docker', payload: { n: NaN } }, field: 'payload.n', says: ['a non-finite number (NaN)'] },
  {
    what: 'a payload holding Infinity',
    spec: { name: 'd', kind: 'docker', payload: [Infinity] },
    field: 'payload[0]',
    says: ['a non-finite number (Infinity)'],
  },
  { what: 'a payload holding a bigint', spec: { name: 'd', kind: 'docker', payload: { big: 10n } }, field: 'payload.big', says: ['is a bigint'] },
  { what: 'a payload holding a symbol', spec: { name: 'd', kind: 'docker', payload: { s: Symbol('x') } }, field: 'payload.s', says: ['is a symbol'] },
  { what: 'a payload holding a Map', spec: { name: 'd', kind: 'docker', payload: { m: new Map() } }, field: 'payload.m', says: ['an instance of Map'] },
  { what: 'a cyclic payload', spec: { name: 'd', kind: 'docker', payload: cyclic }, field: 'payload.self.back', says: ['`payload.self.back` is a cycle'] },
  {
    what: 'a payload nested absurdly deep',
    spec: { name: 'd', kind: 'docker', payload: deep },
    field: /^payload(\[0\]){256}$/.source,
    says: ['nested deeper than 256 levels'],
  },
  {
    what: 'a payload over 1 MiB',
    spec: { name: 'd', kind: 'docker', payload: { blob: 'x'.repeat(1024 * 1024) } },
    field: 'payload',
    says: ['at most 1048576 bytes of JSON', 'got 1048587 bytes'],
  },
  {
    what: 'a priority that is a string',
    spec: { ...shell, priority: 'high' },
    field: 'priority',
    says: ['finite number from -1000000 to 1000000', '`"high"` (string)'],
  },
  { what: 'an infinite priority', spec: { ...shell, priority: Infinity }, field: 'priority', says: ['`Infinity` (number)'] },
  { what: 'an absurd priority', spec: { ...shell, priority: 1e9 }, field: 'priority', says: ['from -1000000 to 1000000', '`1000000000` (number)'] },
  { what: 'dependsOn as a string', spec: { ...shell, dependsOn: 'task-1' }, field: 'dependsOn', says: ['an array of task ids', '(string)'] },
  { what: 'an empty dependency id', spec: { ...shell, dependsOn: ['task-1', ''] }, field: 'dependsOn[1]', says: ['non-empty string'] },
  { what: 'a duplicated dependency', spec: { ...shell, dependsOn: ['task-1', 'task-2', 'task-1'] }, field: 'dependsOn[2]', says: ['unique', '`"task-1"`'] },
  {
    what: 'a dependency on a task that does not exist',
    spec: { ...shell, dependsOn: ['task-9'] },
    field: 'dependsOn[0]',
    says: ['the id of an existing task', '`"task-9"`'],
  },
  { what: 'a dependency on itself by key', spec: { ...shell, key: 'me', dependsOn: ['me'] }, field: 'dependsOn[0]', says: ['cannot depend on itself'] },
  {
    what: 'too many dependencies',
    spec: { ...shell, dependsOn: Array.from({ length: 10_001 }, (_, i) => `d${i}`) },
    field: 'dependsOn',
    says: ['at most 10000 dependencies', 'got 10001'],
  },
  { what: 'resources as an array', spec: { ...shell, resources: ['gpu'] }, field: 'resources', says: ['plain object of pool names to units', '(array)'] },
  {
    what: 'an unknown pool',
    spec: { ...shell, resources: { gpux: 1 } },
    field: 'resources.gpux',
    says: ['configured pools (`gpu`, `network`)', 'unknown pool `"gpux"`'],
  },
  { what: 'zero units', spec: { ...shell, resources: { network: 0 } }, field: 'resources.network', says: ['positive integer', '`0` (number)'] },
  { what: 'fractional units', spec: { ...shell, resources: { network: 1.5 } }, field: 'resources.network', says: ['positive integer', '`1.5`'] },
  {
    what: 'more units than the pool holds',
    spec: { ...shell, resources: { gpu: 3 } },
    field: 'resources.gpu',
    says: ['at most 1, the capacity of pool `gpu`', 'needs 3 of `gpu` but the pool holds 1', 'could never run'],
  },
  {
    what: 'a negative timeout',
    spec: { ...shell, timeoutMs: -5 },
    field: 'timeoutMs',
    says: ['Expected `timeoutMs` to be a positive number of ms no greater than 2147483647, got `-5` (number)'],
  },
  { what: 'an infinite timeout', spec: { ...shell, timeoutMs: Infinity }, field: 'timeoutMs', says: ['`Infinity` (number)'] },
  { what: 'a timeout too large for a timer', spec: { ...shell, timeoutMs: 2 ** 31 }, field: 'timeoutMs', says: ['no greater than 2147483647'] },
  { what: 'fractional retries', spec: { ...shell, retries: 1.5 }, field: 'retries', says: ['integer number of extra attempts from 0 to 100', '`1.5`'] },
  { what: 'too many retries', spec: { ...shell, retries: 101 }, field: 'retries', says: ['from 0 to 100', '`101`'] },
  { what: 'a negative retry delay', spec: { ...shell, retryDelayMs: -1 }, field: 'retryDelayMs', says: ['from 0 to 2147483647', '`-1`'] },
  { what: 'a NaN retry delay', spec: { ...shell, retryDelayMs: NaN }, field: 'retryDelayMs', says: ['`NaN` (number)'] },
  { what: 'an empty key', spec: { ...shell, key: '' }, field: 'key', says: ['non-empty string of at most 200'] },
];

describe('validation', () => {
  describe('validateSpec', () => {
    it('accepts a minimal shell spec and returns a copy with only the given fields', () => {
      const input = { name: 'build', kind: 'shell', command: 'npm run build' };
      const spec = validateSpec(input, ctx);
      assert.deepEqual({ ...spec }, input);
      assert.notEqual(spec, input);
    });

    it('accepts every field at its bounds', () => {
      const run = (): number => 1;
      const f = validateSpec(
        { name: 'n'.repeat(200), kind: 'function', run, priority: -1_000_000, retries: 100, retryDelayMs: 0, timeoutMs: 2 ** 31 - 1, key: 'k' },
        ctx,
      );
      assert.ok(!('run' in f), '`run` is code, not data: it stays with the caller');
      assert.equal(f.timeoutMs, 2 ** 31 - 1);
      const d = validateSpec(
        {
          name: 'd',
          kind: 'docker',
          command: 'x',
          cwd: '/tmp',
          env: { A: '1' },
          payload: { a: [1, 'b', null, true, { c: 2 }] },
          dependsOn: ['task-1', 'task-2'],
          resources: { gpu: 1, network: 4 },
        },
        ctx,
      );
      assert.deepEqual(d.payload, { a: [1, 'b', null, true, { c: 2 }] });
      assert.deepEqual(d.resources, { gpu: 1, network: 4 });
    });

    it('treats fields set to undefined as absent', () => {
      const spec = validateSpec({ ...shell, priority: undefined, timeoutMs: undefined }, ctx);
      assert.ok(!('priority' in spec) && !('timeoutMs' in spec));
    });

    it('copies what it keeps, so later changes by the caller do not leak in', () => {
      const input = { name: 'd', kind: 'docker', payload: { list: [1] }, dependsOn: ['task-1'], env: { A: '1' } };
      const spec = validateSpec(input, ctx);
      input.payload.list.push(2);
      input.dependsOn.push('task-2');
      input.env.A = '2';
      assert.deepEqual(spec.payload, { list: [1] });
      assert.deepEqual(spec.dependsOn, ['task-1']);
      assert.deepEqual(spec.env, { A: '1' });
    });

    it('accepts a payload that shares (not cycles) a value', () => {
      const shared = { x: 1 };
      assert.deepEqual(validateSpec({ name: 'd', kind: 'docker', payload: { a: shared, b: shared } }, ctx).payload, { a: { x: 1 }, b: { x: 1 } });
    });

    it(`refuses ${badSpecs.length} bad specs, naming the field, the value and what is allowed`, () => {
      assert.ok(badSpecs.length >= 25);
      for (const c of badSpecs) {
        const e = refusal(() => validateSpec(c.spec, ctx));
        if (c.field !== undefined && c.field.startsWith('^')) assert.match(e.field ?? '', new RegExp(c.field), c.what);
        else assert.equal(e.field, c.field, `${c.what}: field`);
        assert.equal(e.code, 'VALIDATION');
        if (c.field !== undefined && !c.field.startsWith('^'))
          assert.ok(e.message.includes(`\`${c.field}\``), `${c.what}: message names \`${c.field}\`: ${e.message}`);
        for (const s of c.says) {
          if (typeof s === 'string') assert.ok(e.message.includes(s), `${c.what}: expected ${JSON.stringify(s)} in: ${e.message}`);
          else assert.match(e.message, s, c.what);
        }
      }
    });

    it('says so when no pools are configured at all', () => {
      const e = refusal(() => validateSpec({ ...shell, resources: { gpu: 1 } }, { ...ctx, pools: {} }));
      assert.match(e.message, /none are \(set them with the `resources` option/);
    });
  });

  describe('validateWorkflow', () => {
    const step = (key: string, dependsOn?: string[]): Record<string, unknown> => ({ key, name: key, kind: 'shell', command: `echo ${key}`, dependsOn });

    it('returns the specs in topological order with dependencies resolved to keys, indexes and ids', () => {
      const wf = validateWorkflow([step('deploy', ['test', 'task-1']), step('test', ['build']), step('build'), step('lint')], ctx);
      assert.deepEqual(
        wf.entries.map((e) => e.key),
        ['build', 'lint', 'test', 'deploy'],
      );
      const deploy = wf.entries[3];
      assert.equal(deploy.index, 0);
      assert.deepEqual(deploy.dependsOnKeys, ['test']);
      assert.deepEqual(deploy.dependsOnIds, ['task-1']);
      assert.deepEqual(deploy.dependsOnIndexes, [2]);
      wf.entries.forEach((e, p) => e.dependsOnIndexes.forEach((d) => assert.ok(d < p)));
    });

    it('refuses a cycle, naming it in order', () => {
      const e = refusal(() => validateWorkflow([step('build', ['test']), step('test', ['build'])], ctx));
      assert.match(e.message, /^Workflow has a cycle: build -> test -> build; `dependsOn` must form a DAG/);
      assert.equal(e.field, '[0].dependsOn');
    });

    it('names only the cycle when other tasks lead into it', () => {
      const e = refusal(() => validateWorkflow([step('deploy', ['build']), step('build', ['test']), step('test', ['lint']), step('lint', ['build'])], ctx));
      assert.match(e.message, /cycle: build -> test -> lint -> build;/);
    });

    it('handles a 10,000-step chain without overflowing the stack', () => {
      const specs = Array.from({ length: 10_000 }, (_, i) => step(`s${i}`, i > 0 ? [`s${i - 1}`] : undefined));
      specs.reverse();
      const wf = validateWorkflow(specs, ctx);
      assert.equal(wf.entries[0].key, 's0');
      specs[specs.length - 1].dependsOn = ['s9999'];
      const message = refusal(() => validateWorkflow(specs, ctx)).message;
      assert.match(message, /^Workflow has a cycle: s9999 -> s9998 -> .* -> \(9981 more\) -> .* -> s0 -> s9999; /);
      assert.ok(message.length < 500, 'a long cycle is abbreviated');
    });

    const badWorkflows: BadCase[] = [
      { what: 'not an array', spec: { a: 1 }, field: undefined, says: ['non-empty array of at most 10000 task specs', '(object)'] },
      { what: 'an empty array', spec: [], field: undefined, says: ['non-empty array', 'an array of 0 specs'] },
      {
        what: 'too many specs',
        spec: Array.from({ length: 10_001 }, (_, i) => step(`s${i}`)),
        field: undefined,
        says: ['at most 10000', 'an array of 10001 specs'],
      },
      { what: 'a spec that is not an object', spec: [step('a'), null], field: '[1]', says: ['plain object', '`null` (null)'] },
      {
        what: 'a missing key',
        spec: [step('a'), { name: 'b', kind: 'shell', command: 'x' }],
        field: '[1].key',
        says: ['every workflow task needs a unique key'],
      },
      { what: 'a duplicate key', spec: [step('a'), step('b'), step('a')], field: '[2].key', says: ['unique in the workflow (`[0]` already has it)', '`"a"`'] },
      {
        what: 'a dependency on an unknown key',
        spec: [step('a'), step('b', ['c'])],
        field: '[1].dependsOn[0]',
        says: ['the key of a task in the same workflow', '`"c"`'],
      },
      {
        what: 'a bad field deep inside',
        spec: [step('a'), { ...step('b'), resources: { gpu: 2 } }],
        field: '[1].resources.gpu',
        says: ['needs 2 of `gpu` but the pool holds 1'],
      },
      {
        what: 'a misspelt field inside',
        spec: [{ ...step('a'), dependOn: ['b'] }],
        field: '[0].dependOn',
        says: ['Unknown field `[0].dependOn`', 'did you mean `dependsOn`'],
      },
      { what: 'a self-dependency', spec: [step('a', ['a'])], field: '[0].dependsOn[0]', says: ['cannot depend on itself'] },
    ];

    it(`refuses ${badWorkflows.length} bad workflows, naming the field by its index path`, () => {
      for (const c of badWorkflows) {
        const e = refusal(() => validateWorkflow(c.spec, ctx));
        assert.equal(e.field, c.field, `${c.what}: field`);
        for (const s of c.says) assert.ok(typeof s === 'string' && e.message.includes(s), `${c.what}: expected ${String(s)} in: ${e.message}`);
      }
    });
  });

  describe('validateOrchestratorOptions', () => {
    it('fills in defaults', () => {
      const o = validateOrchestratorOptions(undefined);
      assert.equal(o.concurrency, 0, "automatic: one per CPU, plus a remote fleet's slots");
      assert.deepEqual(o.resources, {});
      assert.deepEqual(o.executors, {});
      assert.equal(o.agingMs, 10_000);
    });

    it('accepts every option', () => {
      const executor = { execute: () => Promise.resolve({}) };
      const o = validateOrchestratorOptions({
        concurrency: 3,
        resources: { gpu: 1, 'net.io-2': 4 },
        store: new MemoryStore(),
        executors: { docker: executor },
        archive: { append: () => Promise.resolve() },
        clock: systemClock,
        agingMs: Infinity,
        maxFinished: 0,
        defaultTimeoutMs: 1000,
        defaultRetries: 2,
        killGraceMs: 0,
      });
      assert.equal(o.concurrency, 3);
      assert.equal(o.executors.docker, executor);
      assert.equal(o.agingMs, Infinity);
    });

    const badOptions: BadCase[] = [
      { what: 'options that are not an object', spec: 4, field: 'options', says: ['plain object'] },
      { what: 'a misspelt option', spec: { concurency: 2 }, field: 'concurency', says: ['did you mean `concurrency`', '`resources`'] },
      {
        what: 'a negative concurrency',
        spec: { concurrency: -1 },
        field: 'concurrency',
        says: ["integer number of tasks (0: automatic, one per CPU plus a remote fleet's slots) from 0 to 1000000", '`-1`'],
      },
      { what: 'fractional concurrency', spec: { concurrency: 2.5 }, field: 'concurrency', says: ['`2.5`'] },
      { what: 'a pool with a bad name', spec: { resources: { '1gpu': 1 } }, field: 'resources.1gpu', says: ['pool names of a letter then', '`"1gpu"`'] },
      { what: 'a pool with zero capacity', spec: { resources: { gpu: 0 } }, field: 'resources.gpu', says: ['integer capacity from 1 to 1000000', '`0`'] },
      {
        what: 'a store without update',
        spec: { store: { keys: noop, get: noop } },
        field: 'store',
        says: ['a Store shaped like vscode.Memento', '`update()`'],
      },
      { what: 'an executor without execute', spec: { executors: { docker: {} } }, field: 'executors.docker', says: ['an executor', '`execute()`'] },
      { what: 'a clock without timers', spec: { clock: { now: Date.now } }, field: 'clock', says: ['a Clock', '`setTimeout()`'] },
      { what: 'a negative agingMs', spec: { agingMs: -1 }, field: 'agingMs', says: ['positive number of ms', 'Infinity to disable aging', '`-1`'] },
      { what: 'a NaN agingMs', spec: { agingMs: NaN }, field: 'agingMs', says: ['`NaN`'] },
    ];

    it(`refuses ${badOptions.length} bad options, naming the field and what is allowed`, () => {
      for (const c of badOptions) {
        const e = refusal(() => validateOrchestratorOptions(c.spec));
        assert.equal(e.field, c.field, `${c.what}: field`);
        for (const s of c.says) assert.ok(typeof s === 'string' && e.message.includes(s), `${c.what}: expected ${String(s)} in: ${e.message}`);
      }
    });

    it('checks capacities on their own, for settings changed at run time', () => {
      assert.deepEqual(validateResourceCapacities({ gpu: 2 }), { gpu: 2 });
      assert.equal(refusal(() => validateResourceCapacities({ gpu: -1 }, 'orchestrator.resources')).field, 'orchestrator.resources.gpu');
    });
  });

  it('validates 100,000 specs quickly', () => {
    const started = Date.now();
    for (let i = 0; i < 100_000; i++)
      validateSpec({ name: `t${i}`, kind: 'shell', command: 'true', priority: i % 5, resources: { network: 1 }, dependsOn: ['task-1'] }, ctx);
    assert.ok(Date.now() - started < 1500, `${Date.now() - started} ms`);
    assert.equal(LIMITS.workflowSpecs, 10_000);
  });
});
