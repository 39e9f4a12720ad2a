// planRecovery: what a restored snapshot's unfinished tasks become, decided without an orchestrator.
import * as assert from 'node:assert/strict';
import type { TaskError, TaskRecord, TaskStatus } from '../../src/core/model/model';
import { planRecovery, type RecoveryContext } from '../../src/core/orchestrator/recovery';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import { MemoryStore } from '../../src/core/ports';
import { STATE_KEY } from '../../src/core/state/snapshot';

function rec(
  id: string,
  status: TaskStatus,
  extra: {
    kind?: string;
    attempts?: number;
    retries?: number;
    dependsOn?: string[];
    runAlways?: boolean;
    resources?: Record<string, number>;
    restart?: 'on-failure';
  } = {},
): TaskRecord {
  const kind = extra.kind ?? 'shell';
  const spec: TaskRecord['spec'] = { name: id, kind, command: 'true' };
  if (extra.retries !== undefined) spec.retries = extra.retries;
  if (extra.runAlways) spec.runAlways = true;
  if (extra.resources) spec.resources = extra.resources;
  if (extra.restart) spec.restart = extra.restart;
  return { id, name: id, kind, status, priority: 0, attempts: extra.attempts ?? 0, createdAt: 0, history: [], spec, dependsOn: extra.dependsOn ?? [] };
}

function context(extra: Partial<RecoveryContext> = {}): RecoveryContext {
  return { checkFits: () => undefined, runs: () => true, paused: false, ...extra };
}

describe('planRecovery', () => {
  it('leaves finished tasks alone and counts nothing', () => {
    const plan = planRecovery([rec('a', 'completed'), rec('b', 'failed'), rec('c', 'cancelled')], context());
    assert.deepEqual(plan, { decisions: [], resumed: 0, failed: 0 });
  });

  it('retries a task interrupted while running with retries left, then queues it', () => {
    const plan = planRecovery([rec('a', 'running', { attempts: 1, retries: 2 })], context());
    assert.deepEqual(plan.decisions, [
      { id: 'a', action: 'retry', reason: 'Interrupted by a restart during attempt 1; retrying', error: { message: 'interrupted', code: 'INTERRUPTED' } },
      { id: 'a', action: 'queue' },
    ]);
    assert.equal(plan.resumed, 1);
    assert.equal(plan.failed, 0);
  });

  it('fails a task interrupted during its last attempt', () => {
    const plan = planRecovery([rec('a', 'running', { attempts: 1 })], context());
    assert.deepEqual(plan.decisions, [{ id: 'a', action: 'fail', reason: 'interrupted', error: { message: 'interrupted', code: 'INTERRUPTED' } }]);
    assert.equal(plan.failed, 1);
  });

  it('restarts a `restart: on-failure` service interrupted while running, whatever its retries', () => {
    const plan = planRecovery([rec('svc', 'running', { attempts: 3, restart: 'on-failure' })], context());
    assert.deepEqual(plan.decisions, [
      {
        id: 'svc',
        action: 'retry',
        reason: 'Interrupted by a restart during attempt 3; restarting the service (restart: on-failure)',
        error: { message: 'interrupted', code: 'INTERRUPTED' },
      },
      { id: 'svc', action: 'queue' },
    ]);
    assert.equal(plan.resumed, 1);
    assert.equal(plan.failed, 0);
  });

  it('fails a function task (its code is not persisted) and one the restore check rejected', () => {
    const rejected = new Map<string, TaskError>([['bad', { message: 'Expected `timeoutMs` to be a positive number', code: 'VALIDATION' }]]);
    const plan = planRecovery([rec('fn', 'scheduled', { kind: 'function' }), rec('bad', 'created')], context({ rejected }));
    assert.deepEqual(
      plan.decisions.map((d) => [d.id, d.action, d.error?.code]),
      [
        ['fn', 'fail', 'NOT_RESUMABLE'],
        ['bad', 'fail', 'VALIDATION'],
      ],
    );
    assert.equal(plan.decisions[1]?.reason, 'Expected `timeoutMs` to be a positive number');
    assert.equal(plan.failed, 2);
  });

  it('gates Created tasks and queues Scheduled ones, in snapshot order, after every step-1 decision', () => {
    const plan = planRecovery([rec('w', 'created'), rec('q', 'scheduled'), rec('r', 'running', { attempts: 1, retries: 1 })], context());
    assert.deepEqual(
      plan.decisions.map((d) => `${d.action}:${d.id}`),
      ['retry:r', 'wait:w', 'queue:q', 'queue:r'],
    );
    assert.equal(plan.resumed, 3);
  });

  it('cancels a Created task whose dependency failed or was cancelled, naming it; runAlways waits', () => {
    const plan = planRecovery(
      [
        rec('dep', 'failed'),
        rec('gone', 'cancelled'),
        rec('a', 'created', { dependsOn: ['dep'] }),
        rec('b', 'created', { dependsOn: ['gone'] }),
        rec('c', 'created', { dependsOn: ['dep'], runAlways: true }),
      ],
      context(),
    );
    assert.deepEqual(plan.decisions, [
      { id: 'a', action: 'cancel', reason: 'Dependency `dep` (dep) failed' },
      { id: 'b', action: 'cancel', reason: 'Dependency `gone` (gone) was cancelled' },
      { id: 'c', action: 'wait' },
    ]);
  });

  it('sees a dependency failed in step 1: its dependents are cancelled in step 2', () => {
    const plan = planRecovery([rec('a', 'created', { dependsOn: ['fn'] }), rec('fn', 'created', { kind: 'function' })], context());
    assert.deepEqual(
      plan.decisions.map((d) => `${d.action}:${d.id}`),
      ['fail:fn', 'cancel:a'],
    );
  });

  it("cancels a Scheduled task whose demand no longer fits, with the pools' reason", () => {
    const plan = planRecovery([rec('gpu', 'scheduled', { resources: { gpu: 2 } })], context({ checkFits: (d) => (d?.gpu ? 'no pool `gpu`' : undefined) }));
    assert.deepEqual(plan.decisions, [{ id: 'gpu', action: 'cancel', reason: 'Cannot run any more: no pool `gpu`' }]);
  });

  it('follows the cascade of a cancel to tasks already waiting, so later decisions see it', () => {
    // a waits for b; b is cancelled (its dependency failed), which cancels a when applied; d, after
    // both in snapshot order, depends on a and must be cancelled too, not left waiting for ever.
    const plan = planRecovery(
      [rec('a', 'created', { dependsOn: ['b'] }), rec('b', 'created', { dependsOn: ['c'] }), rec('c', 'failed'), rec('d', 'created', { dependsOn: ['a'] })],
      context(),
    );
    assert.deepEqual(
      plan.decisions.map((d) => `${d.action}:${d.id}`),
      ['wait:a', 'cancel:b', 'cancel:d'],
    );
    assert.equal(plan.decisions[2]?.reason, 'Dependency `a` (a) was cancelled');
  });

  it('a Created task with nothing to wait for is scheduled at once, and cancelled then if its demand does not fit', () => {
    const fits: RecoveryContext['checkFits'] = (d) => (d?.gpu ? 'no pool `gpu`' : undefined);
    const ready = planRecovery([rec('x', 'created', { resources: { gpu: 1 } }), rec('y', 'created', { dependsOn: ['x'] })], context({ checkFits: fits }));
    assert.deepEqual(
      ready.decisions.map((d) => `${d.action}:${d.id}`),
      ['wait:x', 'cancel:y'],
    );
    // Paused, or with no executor for its kind, it stays Created: nothing is cancelled.
    for (const ctx of [context({ checkFits: fits, paused: true }), context({ checkFits: fits, runs: () => false })]) {
      const held = planRecovery([rec('x', 'created', { resources: { gpu: 1 } }), rec('y', 'created', { dependsOn: ['x'] })], ctx);
      assert.deepEqual(
        held.decisions.map((d) => `${d.action}:${d.id}`),
        ['wait:x', 'wait:y'],
      );
    }
  });

  it('is what the orchestrator applies on restore: the cascade leaves nothing waiting for ever', async () => {
    const tasks = [
      rec('a', 'created', { dependsOn: ['b'] }),
      rec('b', 'created', { dependsOn: ['c'] }),
      rec('c', 'failed'),
      rec('d', 'created', { dependsOn: ['a'] }),
    ].map((r) => ({
      ...r,
      createdAt: 1,
      history: [{ status: r.status, at: 1 }],
      ...(r.status === 'failed' ? { finishedAt: 1, error: { message: 'boom' } } : {}),
    }));
    const store = new MemoryStore();
    await store.update(STATE_KEY, { version: 1, savedAt: 1, tasks });
    const o = await createOrchestrator({ store });
    try {
      assert.deepEqual(
        ['a', 'b', 'c', 'd'].map((id) => o.getTask(id)?.status),
        ['cancelled', 'cancelled', 'failed', 'cancelled'],
      );
      assert.equal(o.getTask('b')?.history.at(-1)?.reason, 'Dependency `c` (c) failed');
      await o.whenIdle();
    } finally {
      await o.dispose();
    }
  });
});
