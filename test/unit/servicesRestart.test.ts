import * as assert from 'node:assert/strict';
import { createOrchestrator, type OrchestratorImpl } from '../../src/core/orchestrator/orchestrator';
import type { TaskSpec, TaskStatus } from '../../src/core/model/model';
import { RESTART_LIMIT, RESTART_WINDOW_MS, RestartHistory } from '../../src/core/services/restartPolicy';
import { ManualClock, settle } from '../support/manualClock';
import { ServiceExecutor } from '../support/serviceExecutor';

const opened: OrchestratorImpl[] = [];
async function make(clock: ManualClock): Promise<{ o: OrchestratorImpl; svc: ServiceExecutor }> {
  const svc = new ServiceExecutor();
  const o = await createOrchestrator({ concurrency: 8, agingMs: Infinity, clock, executors: { svc } });
  opened.push(o);
  return { o, svc };
}
afterEach(async () => {
  for (const o of opened.splice(0)) await o.dispose();
});

function status(o: OrchestratorImpl, id: string): TaskStatus | undefined {
  return o.getTask(id)?.status;
}

const server: TaskSpec = { key: 'server', name: 'server', kind: 'svc', restart: 'on-failure' };

describe('services: restart on failure', () => {
  it('starts a failed service again after a backoff, counting restarts and clearing Ready, without using retries', async () => {
    const clock = new ManualClock(1000);
    const { o, svc } = await make(clock);
    const [id, smoke] = await o.scheduleWorkflow([server, { key: 'smoke', name: 'smoke', kind: 'svc', dependsOn: ['server'] }]);
    await settle();
    svc.get('server').ctx.reportReady?.();
    await settle();
    assert.equal(status(o, smoke), 'running');
    svc.get('server').exit(1);
    await settle();
    const r = o.getTask(id);
    assert.equal(r?.status, 'scheduled');
    assert.equal(r?.restarts, 1);
    assert.equal(r?.ready, undefined);
    assert.match(r?.history.at(-1)?.reason ?? '', /^Service exited \(code 1\); restart 1 in \d+ ms$/);
    assert.equal(status(o, smoke), 'running', 'a dependent released on Ready goes on');
    await clock.advance(1000);
    assert.equal(status(o, id), 'running');
    assert.equal(svc.started, 3, 'server twice, smoke once');
    assert.equal(o.getTask(id)?.attempts, 2);
  });

  it('holds a dependent added while it restarts until it is Ready again', async () => {
    const clock = new ManualClock(1000);
    const { o, svc } = await make(clock);
    const id = await o.scheduleTask(server);
    await settle();
    svc.get('server').ctx.reportReady?.();
    svc.get('server').exit(1);
    await settle();
    const later = await o.scheduleTask({ name: 'later', kind: 'svc', dependsOn: [id] });
    await clock.advance(1000);
    assert.equal(status(o, id), 'running');
    assert.equal(status(o, later), 'created');
    svc.get('server').ctx.reportReady?.();
    await settle();
    assert.equal(status(o, later), 'running');
  });

  it('fails with CRASH_LOOP and the last output tail after RESTART_LIMIT restarts within the window', async () => {
    const clock = new ManualClock(1000);
    const { o, svc } = await make(clock);
    // retryDelayMs 100: restart k waits under 100 * 2^(k-1) ms, so 2000 ms covers each of the five.
    const id = await o.scheduleTask({ ...server, retryDelayMs: 100 });
    for (let n = 1; n <= RESTART_LIMIT + 1; n++) {
      await settle();
      assert.equal(status(o, id), 'running', `attempt ${n} runs`);
      svc.get('server').ctx.onOutput?.(`${'x'.repeat(5000)}\nboom ${n}\n`);
      svc.get('server').exit(1);
      await settle();
      if (n <= RESTART_LIMIT) {
        assert.equal(o.getTask(id)?.restarts, n);
        await clock.advance(2000);
      }
    }
    const r = o.getTask(id);
    assert.equal(r?.status, 'failed');
    assert.equal(r?.error?.code, 'CRASH_LOOP');
    assert.match(
      r?.error?.message ?? '',
      /^Service `server` exited \(code 1\) after 5 restarts within 60000 ms: a crash loop, not restarted again; last output:\n/,
    );
    assert.match(r?.error?.message ?? '', /boom 6\n$/);
    assert.ok((r?.error?.message.length ?? 0) < 2300, 'the tail is bounded');
    assert.equal(clock.timerCount, 0, 'no restart pending');
  });

  it('keeps restarting a service whose failures are spread beyond the window', async () => {
    const clock = new ManualClock(1000);
    const { o, svc } = await make(clock);
    const id = await o.scheduleTask(server);
    for (let n = 1; n <= RESTART_LIMIT + 3; n++) {
      await settle();
      svc.get('server').exit(1);
      await settle();
      await clock.advance(RESTART_WINDOW_MS / 2);
    }
    assert.equal(status(o, id), 'running');
    assert.equal(o.getTask(id)?.restarts, RESTART_LIMIT + 3);
  });

  it('does not restart after a cancel, a clean exit, or a readiness timeout', async () => {
    const clock = new ManualClock(1000);
    const { o, svc } = await make(clock);
    const a = await o.scheduleTask({ ...server, key: undefined, name: 'a' });
    const b = await o.scheduleTask({ ...server, key: undefined, name: 'b' });
    const c = await o.scheduleTask({ ...server, key: undefined, name: 'c', readyWhen: { output: 'up' }, readyTimeoutMs: 500 });
    await settle();
    await o.cancelTask(a);
    svc.get('b').exit(0);
    await clock.advance(500);
    assert.deepEqual([status(o, a), status(o, b), status(o, c)], ['cancelled', 'completed', 'failed']);
    assert.equal(o.getTask(c)?.error?.code, 'TIMEOUT');
    assert.equal(o.getTask(a)?.restarts, undefined);
  });
});

describe('restartPolicy', () => {
  it('backs off exponentially under a 30 s cap, and trips after RESTART_LIMIT restarts in the window', () => {
    const h = new RestartHistory();
    const delays: number[] = [];
    for (let i = 0; i < RESTART_LIMIT; i++) {
      const d = h.onFailure(i * 1000, 10_000, () => 0.999999);
      assert.equal(d.restart, true);
      if (d.restart) delays.push(d.delayMs);
    }
    assert.deepEqual(delays, [9999, 19999, 29999, 29999, 29999]);
    assert.deepEqual(h.onFailure(10_000, 10_000), { restart: false, restartsInWindow: RESTART_LIMIT });
    // The first restart leaves the window: one more is allowed.
    assert.equal(h.onFailure(RESTART_WINDOW_MS + 1, 10_000).restart, true);
  });
});
