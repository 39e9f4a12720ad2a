// Readiness of a service that runs on a remote port (a fleet's worker): a port or HTTP probe runs
// where the service runs, never in the coordinator, and its signal arrives through the port's
// onReady; an output probe still runs in the coordinator, on the streamed output.
import * as assert from 'node:assert/strict';
import { createServer as createHttpServer, get as httpGet } from 'node:http';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import type { ExecutionHandle, OutcomeCallback, OutputCallback } from '../../src/core/execution/executionPort';
import type { RemoteExecution } from '../../src/core/execution/routedExecution';
import { CancelledError } from '../../src/core/model/errors';
import type { TaskRecord } from '../../src/core/model/model';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import { DeferredRemote } from '../../src/extension/backend/deferredRemote';
import { until } from '../support/until';

/** A remote port in memory: its attempts run until cancelled; the test plays the worker. */
class HoldingRemote implements RemoteExecution {
  readonly kinds = new Set(['remote']);
  /** Set by the orchestrator: the test calls it as a worker's probe would. */
  onReady: RemoteExecution['onReady'];
  readonly running = new Map<string, { handle: ExecutionHandle; onOutput: OutputCallback | undefined; done: OutcomeCallback }>();
  start(task: TaskRecord, _attempt: number, _timeoutMs: number | undefined, _run: unknown, onOutput: OutputCallback | undefined, done: OutcomeCallback) {
    const handle = { task };
    this.running.set(task.id, { handle, onOutput, done });
    return handle;
  }
  async cancel(handle: ExecutionHandle): Promise<void> {
    const run = this.running.get(handle.task.id);
    if (run?.handle !== handle) return;
    this.running.delete(handle.task.id);
    run.done(undefined, new CancelledError('cancelled'), handle.task);
  }
  async dispose(): Promise<void> {
    for (const { handle } of [...this.running.values()]) await this.cancel(handle);
  }
}

/** A server on a free 127.0.0.1 port that counts the connections it accepts. */
async function countingServer(): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { server, port: (server.address() as AddressInfo).port, connections: () => count };
}

/** Connects once and resolves when the connection is closed: every connect begun before it has been accepted. */
function roundTrip(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('error', reject);
    socket.once('close', () => resolve());
  });
}

describe('services on a remote port: where readiness is probed', () => {
  let o: OrchestratorImpl | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await o?.dispose();
    o = undefined;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('a remote `readyWhen: { port }` service opens no probe here and is Ready when the port reports it', async () => {
    const remote = new HoldingRemote();
    const counting = await countingServer();
    server = counting.server;
    o = await createOrchestrator({ remote });
    let dependentRan = false;
    const [svc, dep] = await o.scheduleWorkflow([
      { key: 'svc', name: 'svc', kind: 'remote', readyWhen: { port: counting.port }, readyTimeoutMs: 30_000, stopWhen: 'dependentsDone' },
      { key: 'dep', name: 'dep', kind: 'function', dependsOn: ['svc'], run: () => void (dependentRan = true) },
    ]);
    await until(() => remote.running.has(svc as string), 2000, 'the service starting on the remote port');
    // A probe here would have connected when the attempt started: a connect of our own, accepted
    // after it, shows it would have been counted by now.
    await roundTrip(counting.port);
    assert.equal(counting.connections(), 1, 'only the test connected: the coordinator probed nothing');
    assert.equal(o.getTask(svc as string)?.ready, undefined);
    assert.equal(o.getTask(dep as string)?.status, 'created');

    assert.equal(typeof remote.onReady, 'function', 'the orchestrator gives the remote port an onReady');
    const record = remote.running.get(svc as string)?.handle.task as TaskRecord;
    remote.onReady?.(record, { problems: { errors: 0, warnings: 2 } });
    assert.deepEqual(o.getTask(svc as string)?.ready?.problems, { errors: 0, warnings: 2 });
    await o.whenIdle();
    assert.equal(dependentRan, true);
    assert.equal(o.getTask(dep as string)?.status, 'completed');
    const service = o.getTask(svc as string);
    assert.equal(service?.status, 'completed', JSON.stringify(service?.error));
    assert.equal(counting.connections(), 1);
  });

  it('a remote `readyWhen: { http }` service sends no request from here', async () => {
    const remote = new HoldingRemote();
    let requests = 0;
    const web = createHttpServer((_req, res) => {
      requests++;
      res.end('ok');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    server = web;
    const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}/health`;
    o = await createOrchestrator({ remote });
    const [svc] = await o.scheduleWorkflow([{ key: 'svc', name: 'svc', kind: 'remote', readyWhen: { http: url }, readyTimeoutMs: 30_000 }]);
    await until(() => remote.running.has(svc as string), 2000, 'the service starting on the remote port');
    // A request of our own, answered: one a probe here sent when the attempt started would be counted by now.
    await new Promise<void>((resolve, reject) => httpGet(url, { agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject));
    assert.equal(requests, 1, 'only the test asked: the coordinator probed nothing');
    assert.equal(o.getTask(svc as string)?.ready, undefined);
    await o.cancelTask(svc as string);
  });

  it('a remote `readyWhen: { output }` service is still probed here, on the output the port streams', async () => {
    const remote = new HoldingRemote();
    o = await createOrchestrator({ remote });
    const [svc, dep] = await o.scheduleWorkflow([
      { key: 'svc', name: 'svc', kind: 'remote', readyWhen: { output: 'listening on \\d+' }, readyTimeoutMs: 30_000, stopWhen: 'dependentsDone' },
      { key: 'dep', name: 'dep', kind: 'function', dependsOn: ['svc'], run: () => undefined },
    ]);
    await until(() => remote.running.has(svc as string), 2000, 'the service starting on the remote port');
    remote.running.get(svc as string)?.onOutput?.('booting\n');
    assert.equal(o.getTask(svc as string)?.ready, undefined);
    remote.running.get(svc as string)?.onOutput?.('listening on 8080\n');
    assert.notEqual(o.getTask(svc as string)?.ready, undefined);
    await o.whenIdle();
    assert.equal(o.getTask(dep as string)?.status, 'completed');
    assert.equal(o.getTask(svc as string)?.status, 'completed');
  });

  it('a ready reported for a record the orchestrator does not hold (a stale attempt) changes nothing', async () => {
    const remote = new HoldingRemote();
    o = await createOrchestrator({ remote });
    const [svc] = await o.scheduleWorkflow([{ key: 'svc', name: 'svc', kind: 'remote', readyWhen: { port: 1 }, readyTimeoutMs: 30_000 }]);
    await until(() => remote.running.has(svc as string), 2000, 'the service starting on the remote port');
    const record = remote.running.get(svc as string)?.handle.task as TaskRecord;
    assert.equal(typeof remote.onReady, 'function');
    remote.onReady?.({ ...record }, undefined);
    assert.equal(o.getTask(svc as string)?.ready, undefined);
    await o.cancelTask(svc as string);
  });

  it("passes a backend's ready through the editor's DeferredRemote, attached after the orchestrator was made", async () => {
    const deferred = new DeferredRemote(['remote']);
    o = await createOrchestrator({ remote: deferred });
    const [svc, dep] = await o.scheduleWorkflow([
      { key: 'svc', name: 'svc', kind: 'remote', readyWhen: { port: 1 }, readyTimeoutMs: 30_000, stopWhen: 'dependentsDone' },
      { key: 'dep', name: 'dep', kind: 'function', dependsOn: ['svc'], run: () => undefined },
    ]);
    const backend = new HoldingRemote();
    deferred.attach(backend);
    await until(() => backend.running.has(svc as string), 2000, 'the service starting on the backend');
    assert.equal(typeof backend.onReady, 'function', 'the attached backend reports ready to the orchestrator');
    backend.onReady?.(backend.running.get(svc as string)?.handle.task as TaskRecord, undefined);
    assert.notEqual(o.getTask(svc as string)?.ready, undefined);
    await o.whenIdle();
    assert.equal(o.getTask(dep as string)?.status, 'completed');
    assert.equal(o.getTask(svc as string)?.status, 'completed');
  });
});
