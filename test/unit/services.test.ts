import * as assert from 'node:assert/strict';
import { createOrchestrator, type OrchestratorImpl, type TaskEventPayload } from '../../src/core/orchestrator/orchestrator';
import type { OrchestratorOptions } from '../../src/core/orchestrator/orchestratorTypes';
import type { Message } from '../../src/core/queue/queueTypes';
import type { TaskSpec, TaskStatus } from '../../src/core/model/model';
import { ManualClock, settle } from '../support/manualClock';
import { ServiceExecutor } from '../support/serviceExecutor';

const opened: OrchestratorImpl[] = [];
async function make(options: OrchestratorOptions = {}): Promise<{ o: OrchestratorImpl; svc: ServiceExecutor }> {
  const svc = new ServiceExecutor();
  const o = await createOrchestrator({ concurrency: 8, agingMs: Infinity, executors: { svc }, ...options });
  opened.push(o);
  return { o, svc };
}
afterEach(async () => {
  for (const o of opened.splice(0)) await o.dispose();
});

function status(o: OrchestratorImpl, id: string): TaskStatus | undefined {
  return o.getTask(id)?.status;
}

const service = (name: string, spec: Partial<TaskSpec> = {}): TaskSpec => ({ key: name, name, kind: 'svc', ...spec });
const job = (name: string, dependsOn: string[], spec: Partial<TaskSpec> = {}): TaskSpec => ({ key: name, name, kind: 'svc', dependsOn, ...spec });

describe('services: Ready', () => {
  it('releases its dependents when it reports ready, not when it exits, and stays Running', async () => {
    const { o, svc } = await make();
    const [server, smoke] = await o.scheduleWorkflow([service('server'), job('smoke', ['server'])]);
    await settle();
    assert.equal(status(o, server), 'running');
    assert.equal(status(o, smoke), 'created', 'waits while the service is not ready');
    svc.get('server').ctx.reportReady?.();
    await settle();
    assert.equal(status(o, server), 'running', 'Ready is a sub-state of Running');
    assert.equal(typeof o.getTask(server)?.ready?.at, 'number');
    assert.equal(status(o, smoke), 'running', 'the dependent started on Ready');
    svc.get('smoke').exit(0);
    await settle();
    assert.equal(status(o, smoke), 'completed');
    assert.equal(status(o, server), 'running', 'a service without stopWhen runs on');
  });

  it('starts a dependent scheduled after it is Ready at once, and notifies listeners of Ready', async () => {
    const { o, svc } = await make();
    const server = await o.scheduleTask(service('server'));
    await settle();
    const changes: (string | undefined)[] = [];
    o.onDidChangeTask((r) => {
      if (r.id === server) changes.push(r.ready === undefined ? r.status : `${r.status}+ready`);
    });
    svc.get('server').ctx.reportReady?.();
    assert.deepEqual(changes, ['running+ready']);
    const later = await o.scheduleTask({ name: 'later', kind: 'svc', dependsOn: [server] });
    await settle();
    assert.equal(status(o, later), 'running');
  });

  it('publishes task.ready with the problem counts, again on a later cycle', async () => {
    const { o, svc } = await make();
    const seen: TaskEventPayload[] = [];
    o.queue.subscribe('task.ready', (m: Message) => void seen.push(m.payload as TaskEventPayload));
    const id = await o.scheduleTask(service('watch'));
    await settle();
    const ctx = svc.get('watch').ctx;
    ctx.reportReady?.({ problems: { errors: 3, warnings: 1 } });
    ctx.reportReady?.({ problems: { errors: 0, warnings: 0 } });
    await o.queue.whenIdle();
    assert.deepEqual(
      seen.map((p) => [p.taskId, p.status, p.problems]),
      [
        [id, 'running', { errors: 3, warnings: 1 }],
        [id, 'running', { errors: 0, warnings: 0 }],
      ],
    );
    assert.deepEqual(o.getTask(id)?.ready?.problems, { errors: 0, warnings: 0 });
  });

  it('ignores reportReady after the attempt settled; Ready ends with Running', async () => {
    const { o, svc } = await make();
    const id = await o.scheduleTask(service('once'));
    await settle();
    const run = svc.get('once');
    run.ctx.reportReady?.();
    assert.notEqual(o.getTask(id)?.ready, undefined);
    run.exit(0);
    await settle();
    assert.equal(o.getTask(id)?.ready, undefined, 'cleared when it left Running');
    const changes: string[] = [];
    o.onDidChangeTask((r) => void changes.push(r.status));
    run.ctx.reportReady?.();
    assert.equal(status(o, id), 'completed');
    assert.equal(o.getTask(id)?.ready, undefined);
    assert.deepEqual(changes, []);
  });

  it('fails when it exits before Ready, and cancels its dependents', async () => {
    const { o, svc } = await make();
    const [server, smoke] = await o.scheduleWorkflow([service('server', { readyWhen: { output: 'ready' } }), job('smoke', ['server'])]);
    await settle();
    svc.get('server').exit(2);
    await settle();
    assert.equal(status(o, server), 'failed');
    assert.equal(status(o, smoke), 'cancelled');
    assert.match(o.getTask(smoke)?.history.at(-1)?.reason ?? '', /Dependency `server`/);
  });

  it('keeps a runAlways dependent waiting until the service is final', async () => {
    const { o, svc } = await make();
    const [server, smoke, cleanup] = await o.scheduleWorkflow([service('server'), job('smoke', ['server']), job('cleanup', ['server'], { runAlways: true })]);
    await settle();
    svc.get('server').ctx.reportReady?.();
    await settle();
    assert.equal(status(o, smoke), 'running');
    assert.equal(status(o, cleanup), 'created');
    await o.cancelTask(server);
    await settle();
    assert.equal(status(o, cleanup), 'running');
  });
});

describe('services: readyWhen', () => {
  it('becomes Ready when a line of its output matches, across chunks', async () => {
    const { o, svc } = await make();
    const [server, smoke] = await o.scheduleWorkflow([service('server', { readyWhen: { output: 'listening on \\d+' } }), job('smoke', ['server'])]);
    await settle();
    const ctx = svc.get('server').ctx;
    ctx.onOutput?.('starting\nlisten');
    await settle();
    assert.equal(status(o, smoke), 'created');
    ctx.onOutput?.('ing on 3000\n');
    await settle();
    assert.notEqual(o.getTask(server)?.ready, undefined);
    assert.equal(status(o, smoke), 'running');
  });

  it('fails with TIMEOUT when not ready within readyTimeoutMs, its attempt stopped, the output tail in the message', async () => {
    const clock = new ManualClock(1000);
    const { o, svc } = await make({ clock });
    const [server, smoke] = await o.scheduleWorkflow([service('server', { readyWhen: { output: 'never' }, readyTimeoutMs: 5000 }), job('smoke', ['server'])]);
    await settle();
    svc.get('server').ctx.onOutput?.('compiling...\n');
    await clock.advance(4999);
    assert.equal(status(o, server), 'running');
    await clock.advance(1);
    assert.equal(svc.get('server').stopped, true, 'the attempt was stopped');
    assert.equal(status(o, server), 'failed');
    assert.equal(o.getTask(server)?.error?.code, 'TIMEOUT');
    assert.match(
      o.getTask(server)?.error?.message ?? '',
      /^Service `server` was not ready within 5000 ms \(readyWhen: output \/never\/\); last output:\ncompiling\.\.\./,
    );
    assert.equal(status(o, smoke), 'cancelled');
  });

  it('does not time out once Ready', async () => {
    const clock = new ManualClock(1000);
    const { o, svc } = await make({ clock });
    const id = await o.scheduleTask(service('server', { readyWhen: { output: 'up' }, readyTimeoutMs: 100 }));
    await settle();
    svc.get('server').ctx.onOutput?.('up\n');
    await clock.advance(1000);
    assert.equal(status(o, id), 'running');
    assert.equal(clock.timerCount, 0, 'the readiness timer is cleared');
  });
});

describe('services: stopWhen', () => {
  it('stops the service once every dependent is final and records it Completed', async () => {
    const { o, svc } = await make();
    const [server, a, b] = await o.scheduleWorkflow([service('server', { stopWhen: 'dependentsDone' }), job('a', ['server']), job('b', ['server'])]);
    await settle();
    svc.get('server').ctx.reportReady?.();
    await settle();
    svc.get('a').exit(0);
    await settle();
    assert.equal(status(o, server), 'running', 'b still runs');
    svc.get('b').exit(3);
    await settle();
    assert.equal(status(o, b), 'failed');
    assert.equal(svc.get('server').stopped, true);
    assert.equal(status(o, server), 'completed');
    assert.equal(o.getTask(server)?.history.at(-1)?.reason, 'Stopped: every dependent finished');
    assert.equal(status(o, a), 'completed');
  });

  it('waits for a dependent added while it runs', async () => {
    const { o, svc } = await make();
    const [server, a] = await o.scheduleWorkflow([service('server', { stopWhen: 'dependentsDone' }), job('a', ['server'])]);
    await settle();
    svc.get('server').ctx.reportReady?.();
    await settle();
    await o.scheduleTask({ name: 'late', kind: 'svc', dependsOn: [server] });
    await settle();
    svc.get('a').exit(0);
    await settle();
    assert.equal(status(o, a), 'completed');
    assert.equal(status(o, server), 'running', 'the late dependent still runs');
    svc.get('late').exit(0);
    await settle();
    assert.equal(status(o, server), 'completed');
  });

  it('runs until cancelled when nothing depends on it', async () => {
    const { o } = await make();
    const server = await o.scheduleTask(service('server', { stopWhen: 'dependentsDone' }));
    await settle();
    assert.equal(status(o, server), 'running');
    await o.cancelTask(server);
    assert.equal(status(o, server), 'cancelled');
  });
});

describe('services: shared', () => {
  it('maps a second run to the running instance, and stopWhen waits for both runs', async () => {
    const { o, svc } = await make();
    const spec = service('db', { shared: true, stopWhen: 'dependentsDone', cwd: '/repo' });
    const [db1] = await o.scheduleWorkflow([spec, job('a', ['db'])]);
    await settle();
    svc.get('db').ctx.reportReady?.();
    await settle();
    const [db2, b] = await o.scheduleWorkflow([spec, job('b', ['db'])]);
    assert.equal(db2, db1, 'the second run names the running instance');
    assert.deepEqual(o.getTask(b)?.dependsOn, [db1]);
    await settle();
    assert.equal(status(o, b), 'running', 'its dependent starts at once: the service is Ready');
    assert.equal(o.getTasks().filter((t) => t.name === 'db').length, 1);
    svc.get('a').exit(0);
    await settle();
    assert.equal(status(o, db1), 'running', 'the second run still needs it');
    svc.get('b').exit(0);
    await settle();
    assert.equal(status(o, db1), 'completed');
  });

  it('starts a new instance in another cwd, and after the first one ended', async () => {
    const { o, svc } = await make();
    const [db1] = await o.scheduleWorkflow([service('db', { shared: true, cwd: '/a' })]);
    const [db2] = await o.scheduleWorkflow([service('db', { shared: true, cwd: '/b' })]);
    assert.notEqual(db2, db1);
    await settle();
    await o.cancelTask(db1);
    const [db3] = await o.scheduleWorkflow([service('db', { shared: true, cwd: '/a' })]);
    assert.notEqual(db3, db1);
    assert.equal(status(o, db3), 'running');
    assert.equal(svc.attempts.size, 1, 'keyed by name: the last attempt of `db`');
  });
});
