import * as assert from 'node:assert/strict';
import { ExecutionError, IllegalTransitionError, NotFoundError, TimeoutError, ValidationError } from '../../src/core/model/errors';
import { TaskLifecycleManager } from '../../src/core/lifecycle/lifecycle';
import type { TransitionEvent } from '../../src/core/lifecycle/lifecycleOptions';
import { toTaskError } from '../../src/core/lifecycle/taskErrors';
import { allowedEvents, canTransition, transition, type LifecycleEvent, type LifecycleEventType } from '../../src/core/lifecycle/transition';
import { ALL_STATUSES, type TaskRecord, type TaskStatus } from '../../src/core/model/model';
import { ManualClock } from '../support/manualClock';

function record(status: TaskStatus, over: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: 't1',
    name: 'build',
    kind: 'shell',
    status,
    priority: 0,
    attempts: status === 'running' ? 1 : 0,
    createdAt: 0,
    history: [{ status: 'created', at: 0 }],
    spec: { name: 'build', kind: 'shell', command: 'make' },
    dependsOn: [],
    ...over,
  };
}

const EVENTS: Record<LifecycleEventType, LifecycleEvent> = {
  schedule: { type: 'schedule' },
  start: { type: 'start' },
  complete: { type: 'complete', result: { exitCode: 0 } },
  fail: { type: 'fail', error: { message: 'exit 1', code: 'EXIT' } },
  retry: { type: 'retry', reason: 'attempt 1 failed: exit 1; retrying in 240 ms', error: { message: 'exit 1' } },
  cancel: { type: 'cancel', reason: 'user asked' },
  abandon: { type: 'abandon', error: { message: 'not resumable', code: 'NOT_RESUMABLE' } },
};

/** The whole legal graph of DESIGN.md "Task statuses": from -> event -> to. */
const LEGAL: [TaskStatus, LifecycleEventType, TaskStatus][] = [
  ['created', 'schedule', 'scheduled'],
  ['created', 'cancel', 'cancelled'],
  ['scheduled', 'start', 'running'],
  ['scheduled', 'cancel', 'cancelled'],
  ['running', 'complete', 'completed'],
  ['running', 'fail', 'failed'],
  ['running', 'retry', 'scheduled'],
  ['running', 'cancel', 'cancelled'],
  // A waiting task that can never run (a function task after a restart) fails without an attempt.
  ['created', 'abandon', 'failed'],
  ['scheduled', 'abandon', 'failed'],
];
const isLegal = (from: TaskStatus, ev: LifecycleEventType): boolean => LEGAL.some(([f, e]) => f === from && e === ev);

describe('lifecycle', () => {
  describe('transition', () => {
    for (const [from, ev, to] of LEGAL) {
      it(`moves ${from} -> ${to} on ${ev}, appending to the history`, () => {
        const r = record(from);
        const before = structuredClone(r);
        const patch = transition(r, EVENTS[ev], 5_000);
        assert.deepEqual(r, before, 'pure: the record is untouched');
        assert.equal(patch.status, to);
        assert.equal(patch.entry.status, to);
        assert.equal(patch.entry.at, 5_000);
        assert.ok(canTransition(from, ev));
      });
    }

    for (const from of ALL_STATUSES) {
      for (const ev of Object.keys(EVENTS) as LifecycleEventType[]) {
        if (isLegal(from, ev)) continue;
        it(`refuses ${ev} from ${from}, changing nothing`, () => {
          const r = record(from);
          const before = structuredClone(r);
          assert.throws(
            () => transition(r, EVENTS[ev], 5_000),
            (e: unknown) =>
              e instanceof IllegalTransitionError &&
              e.code === 'ILLEGAL_TRANSITION' &&
              e.from === from &&
              e.taskId === 't1' &&
              e.message.includes(`from \`${from}\``),
          );
          assert.deepEqual(r, before);
          assert.ok(!canTransition(from, ev));
        });
      }
    }

    it('counts an attempt and stamps startedAt on start', () => {
      const p = transition(record('scheduled', { attempts: 1 }), EVENTS.start, 7);
      assert.equal(p.attempts, 2);
      assert.equal(p.startedAt, 7);
      assert.equal(p.entry.reason, 'attempt 2');
    });

    it('keeps the result on complete and clears an earlier attempt error', () => {
      const p = transition(record('running', { error: { message: 'first try' } }), EVENTS.complete, 9);
      assert.deepEqual(p.result, { exitCode: 0 });
      assert.equal(p.finishedAt, 9);
      assert.equal(p.error, null);
    });

    it('records the error on fail, with its message as the reason', () => {
      const p = transition(record('running'), EVENTS.fail, 9);
      assert.deepEqual(p.error, { message: 'exit 1', code: 'EXIT' });
      assert.equal(p.entry.reason, 'exit 1');
      assert.equal(p.finishedAt, 9);
    });

    it('sends a failed attempt back to scheduled with the reason on retry, not finished', () => {
      const p = transition(record('running'), EVENTS.retry, 9);
      assert.equal(p.entry.reason, 'attempt 1 failed: exit 1; retrying in 240 ms');
      assert.equal(p.finishedAt, undefined);
    });

    it('says which events are allowed in the message, and that finished states are final', () => {
      assert.throws(
        () => transition(record('created'), EVENTS.start, 1),
        /`start` is allowed only from `scheduled`; from `created` the allowed events are `schedule`, `cancel`/,
      );
      assert.throws(() => transition(record('completed'), EVENTS.cancel, 1), /`completed` is final/);
      assert.deepEqual(allowedEvents('running'), ['complete', 'fail', 'retry', 'cancel']);
    });
  });

  describe('toTaskError', () => {
    it('keeps the message and a code when there is one', () => {
      assert.deepEqual(toTaskError(new Error('boom')), { message: 'boom' });
      assert.deepEqual(toTaskError(new TimeoutError(50)), { message: 'Timed out after 50 ms', code: 'TIMEOUT' });
      assert.deepEqual(toTaskError(new ExecutionError('exit 2', { exitCode: 2 }, 'ENOENT')), { message: 'exit 2', code: 'ENOENT' });
      assert.deepEqual(toTaskError(Object.assign(new Error('denied'), { code: 'EACCES' })), { message: 'denied', code: 'EACCES' });
      assert.deepEqual(toTaskError({ message: 'plain', code: 'X', extra: 1 }), { message: 'plain', code: 'X' });
      assert.deepEqual(toTaskError('a string'), { message: 'a string' });
    });
  });

  describe('TaskLifecycleManager', () => {
    let clock: ManualClock;
    let m: TaskLifecycleManager;
    let seen: TransitionEvent[];
    let n: number;

    beforeEach(() => {
      clock = new ManualClock(1_000);
      n = 0;
      m = new TaskLifecycleManager({ clock, generateId: () => `id${++n}` });
      seen = [];
      m.onDidTransition((e) => seen.push({ ...e, record: structuredClone(e.record) }));
    });

    it('walks a task through the seed methods, keeping every step in the history', async () => {
      const id = await m.createTask({ name: 'build', kind: 'shell', command: 'make', priority: 2 });
      clock.set(2_000);
      await m.startTask(id);
      clock.set(3_000);
      await m.completeTask(id, { exitCode: 0, output: 'ok' });
      const r = m.get(id);
      assert.ok(r);
      assert.equal(r.status, 'completed');
      assert.equal(r.priority, 2);
      assert.equal(r.attempts, 1);
      assert.equal(r.createdAt, 1_000);
      assert.equal(r.startedAt, 2_000);
      assert.equal(r.finishedAt, 3_000);
      assert.deepEqual(r.result, { exitCode: 0, output: 'ok' });
      assert.deepEqual(
        r.history.map((h) => [h.status, h.at]),
        [
          ['created', 1_000],
          ['scheduled', 2_000],
          ['running', 2_000],
          ['completed', 3_000],
        ],
      );
      assert.deepEqual(
        seen.map((e) => [e.from, e.to]),
        [
          [undefined, 'created'],
          ['created', 'scheduled'],
          ['scheduled', 'running'],
          ['running', 'completed'],
        ],
      );
    });

    it('fails and cancels through the seed methods', async () => {
      const a = await m.createTask({ name: 'a', kind: 'shell', command: 'x' });
      await m.startTask(a);
      await m.failTask(a, new ExecutionError('exit 3', { exitCode: 3 }));
      assert.deepEqual(m.get(a)?.error, { message: 'exit 3', code: 'EXECUTION_FAILED' });
      const b = await m.createTask({ name: 'b', kind: 'shell', command: 'x' });
      await m.cancelTask(b, 'not needed');
      assert.equal(m.get(b)?.status, 'cancelled');
      assert.equal(m.get(b)?.history.at(-1)?.reason, 'not needed');
      await assert.rejects(m.startTask(b), IllegalTransitionError);
      await assert.rejects(m.completeTask('nope'), NotFoundError);
      await assert.rejects(m.createTask(42), ValidationError);
    });

    it('fires onDidTransition after the record and the counts are updated', () => {
      const r = m.create({ name: 'a', kind: 'shell', command: 'x' });
      m.onDidTransition((e) => {
        assert.equal(e.record.status, e.to);
        assert.equal(m.countOf(e.to), 1);
        assert.equal(m.countOf('created'), 0);
      });
      m.apply(r.id, { type: 'schedule', reason: 'dependencies done' });
      assert.equal(seen.at(-1)?.reason, 'dependencies done');
    });

    it('retries: running -> scheduled -> running counts attempts and keeps the last error until it completes', () => {
      const { id } = m.create({ name: 'flaky', kind: 'shell', command: 'x', retries: 1 });
      m.apply(id, { type: 'schedule' });
      m.apply(id, { type: 'start' });
      m.apply(id, { type: 'retry', reason: 'attempt 1 failed: boom; retrying in 240 ms', error: { message: 'boom' } });
      assert.deepEqual(m.get(id)?.error, { message: 'boom' });
      m.apply(id, { type: 'start' });
      m.apply(id, { type: 'complete', result: { value: 42 } });
      const r = m.get(id);
      assert.equal(r?.attempts, 2);
      assert.equal(r?.error, undefined);
      assert.deepEqual(
        r?.history.map((h) => h.status),
        ['created', 'scheduled', 'running', 'scheduled', 'running', 'completed'],
      );
    });

    it('markWorker: names the worker of a Running attempt only, kept at its end, forgotten when the next starts', () => {
      const { id } = m.create({ name: 'remote', kind: 'shell', command: 'x', retries: 1 });
      const held = m.get(id)!;
      m.apply(id, { type: 'schedule' });
      assert.equal(m.markWorker(held, 'w1'), false, 'not Running yet');
      m.apply(id, { type: 'start' });
      const before = seen.length;
      assert.equal(m.markWorker(held, 'w1'), true);
      assert.equal(m.markWorker(held, 'w1'), false, 'already named');
      assert.equal(seen.length, before, 'no transition event');
      m.apply(id, { type: 'retry', reason: 'attempt 1 failed', error: { message: 'boom' } });
      assert.equal(m.get(id)?.worker, 'w1', 'the failed attempt still names where it ran');
      m.apply(id, { type: 'start' });
      assert.equal(m.get(id)?.worker, undefined, 'a new attempt runs wherever the backend puts it');
      assert.equal(m.markWorker(held, 'w2'), true);
      m.apply(id, { type: 'cancel', reason: 'stop' });
      assert.equal(m.get(id)?.worker, 'w2');
      assert.equal(m.markWorker(held, 'w3'), false, 'finished');
      assert.equal(JSON.parse(JSON.stringify(m.get(id))).worker, 'w2', 'saved with the record');
    });

    it('changes nothing and fires nothing on an illegal transition', () => {
      const { id } = m.create({ name: 'a', kind: 'shell', command: 'x' });
      const before = structuredClone(m.get(id));
      const counts = m.counts();
      const events = seen.length;
      assert.throws(() => m.apply(id, { type: 'complete' }), IllegalTransitionError);
      // Compared as data: structuredClone (like JSON) leaves out the manager's symbol-keyed slots.
      assert.deepEqual(structuredClone(m.get(id)), before);
      assert.deepEqual(m.counts(), counts);
      assert.equal(seen.length, events);
    });

    it('keeps counts per status incrementally', () => {
      const ids = [0, 1, 2, 3].map((i) => m.create({ name: `t${i}`, kind: 'shell', command: 'x' }).id);
      m.apply(ids[0], { type: 'schedule' });
      m.apply(ids[1], { type: 'schedule' });
      m.apply(ids[1], { type: 'start' });
      m.apply(ids[2], { type: 'cancel' });
      assert.deepEqual(m.counts(), { created: 1, scheduled: 1, running: 1, completed: 0, failed: 0, cancelled: 1 });
      assert.equal(m.size, 4);
    });

    it('does not keep a function task’s run, and takes resolved dependencies from init', () => {
      const r = m.create({ name: 'f', kind: 'function', run: () => 1, dependsOn: ['build'] }, { dependsOn: ['id9'], workflowId: 'wf1' });
      assert.ok(!('run' in r.spec));
      assert.deepEqual(r.dependsOn, ['id9']);
      assert.equal(r.workflowId, 'wf1');
      assert.throws(() => m.create({ name: 'g', kind: 'shell', command: 'x' }, { id: r.id }), /already exists/);
    });

    it('generates URL-safe ids, unique within a manager and across managers (as after a restart)', () => {
      const ids = new Set<string>();
      for (let k = 0; k < 50; k++) {
        const manager = new TaskLifecycleManager();
        for (let i = 0; i < 40; i++) ids.add(manager.create({ name: 'a', kind: 'shell', command: 'x' }).id);
      }
      assert.equal(ids.size, 50 * 40);
      for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{9,}$/);
    });

    it('deletes only finished records', () => {
      const a = m.create({ name: 'a', kind: 'shell', command: 'x' }).id;
      const b = m.create({ name: 'b', kind: 'shell', command: 'x' }).id;
      m.apply(b, { type: 'cancel' });
      const deleted: string[] = [];
      m.onDidDelete((r) => deleted.push(r.id));
      assert.throws(() => m.delete(a), IllegalTransitionError);
      assert.ok(m.has(a));
      assert.equal(m.delete(b), true);
      assert.equal(m.delete(b), false);
      assert.deepEqual(deleted, [b]);
      assert.equal(m.countOf('cancelled'), 0);
      assert.deepEqual(
        [...m.values()].map((r) => r.id),
        [a],
      );
    });

    it('restores records as persisted, all or nothing, without transitions', () => {
      const persisted = [record('running', { id: 'r1' }), record('completed', { id: 'r2' })];
      m.restore(persisted);
      assert.equal(seen.length, 0);
      assert.deepEqual(m.counts(), { created: 0, scheduled: 0, running: 1, completed: 1, failed: 0, cancelled: 0 });
      assert.notEqual(m.get('r1'), persisted[0], 'copied');
      m.apply('r1', { type: 'retry', reason: 'interrupted: the host stopped while it ran' });
      assert.equal(m.get('r1')?.status, 'scheduled');
      assert.throws(() => m.restore([record('created', { id: 'r3' }), record('created', { id: 'r1' })]), ValidationError);
      assert.ok(!m.has('r3'), 'nothing added');
      assert.throws(() => m.restore([{ ...record('created', { id: 'r4' }), status: 'weird' as TaskStatus }]), /known status/);
    });

    it('creates and moves 100,000 tasks quickly', () => {
      const fast = new TaskLifecycleManager({
        generateId: (() => {
          let i = 0;
          return () => `f${i++}`;
        })(),
      });
      const started = Date.now();
      for (let i = 0; i < 100_000; i++) {
        const { id } = fast.create({ name: 't', kind: 'shell', command: 'x' });
        fast.apply(id, { type: 'schedule' });
        fast.apply(id, { type: 'start' });
        fast.apply(id, { type: 'complete' });
      }
      assert.equal(fast.countOf('completed'), 100_000);
      assert.ok(Date.now() - started < 2_000, `${Date.now() - started} ms`);
    });
  });
});
