// The API other extensions get from `activate`: what a consumer does, validated like any other input.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { TaskRecord } from '../../src/core/model/model';
import type { ExecutionContext } from '../../src/core/ports';
import type { Message } from '../../src/core/queue/queueTypes';
import { EXTENSION_ID } from '../../src/extension/ids';
import { getApi, rejection, reset, waitFor, waitForStatus } from './helpers';

describe('API for other extensions', () => {
  before(async () => reset(await getApi()));
  afterEach(async () => reset(await getApi()));

  it('is versioned and reached through vscode.extensions', async () => {
    const ext = vscode.extensions.getExtension<Record<string, unknown>>(EXTENSION_ID);
    const api = (await ext?.activate()) ?? {};
    assert.strictEqual(api.version, 1);
    for (const m of ['scheduleTask', 'scheduleWorkflow', 'cancelTask', 'getTask', 'onDidChangeTask', 'registerExecutor', 'publish', 'subscribe']) {
      assert.strictEqual(typeof api[m], 'function', m);
    }
  });

  it('schedules, reports changes, and hands out copies of records', async () => {
    const api = await getApi();
    const seen: string[] = [];
    const sub = api.onDidChangeTask((r: TaskRecord) => seen.push(r.status));
    try {
      const id = await api.scheduleTask({ name: 'from api', kind: 'shell', command: 'echo api' });
      await waitForStatus(api, id, 'completed');
      await waitFor(() => seen.includes('completed'), 'the completed event');
      assert.ok(seen.includes('running'));
      const copy = api.getTask(id) as TaskRecord;
      // A plain copy with the whole history (the live record keeps its history compact, behind a getter).
      assert.strictEqual(Object.getPrototypeOf(copy), Object.prototype);
      assert.deepStrictEqual(
        copy.history.map((h) => h.status),
        ['created', 'scheduled', 'running', 'completed'],
      );
      assert.strictEqual(copy.history[2].reason, 'attempt 1');
      assert.strictEqual(copy.history[3].at, copy.finishedAt);
      assert.deepStrictEqual(JSON.parse(JSON.stringify(api.testing.orchestrator.getTask(id))), JSON.parse(JSON.stringify(copy)));
      copy.name = 'mutated';
      assert.strictEqual(api.getTask(id)?.name, 'from api');
      assert.strictEqual(api.getTask(42 as unknown as string), undefined);
    } finally {
      sub.dispose();
    }
  });

  it('refuses invalid input, naming the field, and creates nothing', async () => {
    const api = await getApi();
    const before = api.testing.orchestrator.getTasks().length;
    assert.match((await rejection(api.scheduleTask(null as never))).message, /Expected `spec` to be a task spec object/);
    assert.match((await rejection(api.scheduleTask({ name: 'x', kind: 'shell', command: 'true', timeoutMs: -5 }))).message, /timeoutMs/);
    assert.match((await rejection(api.scheduleTask({ name: 'x', kind: 'nope' }))).message, /kind/);
    assert.match((await rejection(api.scheduleWorkflow('x' as never))).message, /Expected `specs` to be an array/);
    assert.match((await rejection(api.cancelTask(7 as never))).message, /Expected `id` to be a non-empty string/);
    assert.throws(() => api.registerExecutor('shell', { execute: async () => ({}) }), /built-in/);
    assert.throws(() => api.registerExecutor('bad kind!', { execute: async () => ({}) }), /Expected `kind`/);
    assert.throws(() => api.registerExecutor('ok', {} as never), /Expected `executor.execute` to be a function/);
    assert.throws(() => api.subscribe('', () => undefined), /Expected `topic`/);
    assert.strictEqual(api.testing.orchestrator.getTasks().length, before);
  });

  it('runs tasks of a kind another extension registers, until it is disposed', async () => {
    const api = await getApi();
    const calls: unknown[] = [];
    const registration = api.registerExecutor('test.echo', {
      async execute(ctx: ExecutionContext) {
        calls.push(ctx.task.spec.payload);
        return { value: { echoed: ctx.task.spec.payload }, output: 'echoed\n' };
      },
    });
    const id = await api.scheduleTask({ name: 'echo', kind: 'test.echo', payload: { n: 1 } });
    const r = await waitForStatus(api, id, 'completed');
    assert.deepStrictEqual(r.result?.value, { echoed: { n: 1 } });
    assert.deepStrictEqual(calls, [{ n: 1 }]);
    // An executor returning something that is not a result fails its task, not the host.
    const bad = api.registerExecutor('test.bad', { execute: async () => 'not an object' as never });
    const badId = await api.scheduleTask({ name: 'bad', kind: 'test.bad' });
    assert.match((await waitForStatus(api, badId, 'failed')).error?.message ?? '', /Expected `result of executor `test.bad``|result/);
    bad.dispose();
    registration.dispose();
  });

  it('schedules a workflow whose specs name each other by key', async () => {
    const api = await getApi();
    const ids = await api.scheduleWorkflow([
      { key: 'one', name: 'one', kind: 'shell', command: 'true' },
      { key: 'two', name: 'two', kind: 'shell', command: 'true', dependsOn: ['one'] },
    ]);
    assert.deepStrictEqual(api.getTask(ids[1])?.dependsOn, [ids[0]]);
    await waitForStatus(api, ids[1], 'completed');
  });

  it('publishes and subscribes on the queue, lifecycle topics included', async () => {
    const api = await getApi();
    const got: Message<unknown>[] = [];
    const lifecycle: string[] = [];
    const a = api.subscribe('test.topic', (m) => {
      got.push(m);
    });
    const b = api.subscribe('task.completed', (m: Message<unknown>) => {
      lifecycle.push(m.topic);
    });
    try {
      await api.publish({ topic: 'test.topic', payload: { hello: 'world' } });
      await waitFor(() => got.length === 1, 'the message');
      assert.deepStrictEqual(got[0].payload, { hello: 'world' });
      const id = await api.scheduleTask({ name: 'q', kind: 'shell', command: 'true' });
      await waitForStatus(api, id, 'completed');
      await waitFor(() => lifecycle.includes('task.completed'), 'the task.completed message');
      await assert.rejects(api.publish({ topic: '' }), /topic/);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
