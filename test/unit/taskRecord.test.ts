// HeldRecord's compact history, as TaskLifecycleManager drives it: the regular four transitions kept
// without entries, everything else written out, and both the same as the pure transition functions.
import * as assert from 'node:assert/strict';
import { TaskLifecycleManager } from '../../src/core/lifecycle/lifecycle';
import { applyPatch, transition, type LifecycleEvent } from '../../src/core/lifecycle/transition';
import type { HistoryEntry, TaskRecord, TaskStatus } from '../../src/core/model/model';
import { HOME } from '../../src/core/lifecycle/recordTable';
import { HeldRecord, lastTransitionAt, plainRecord } from '../../src/core/lifecycle/taskRecord';
import { ManualClock } from '../support/manualClock';

const SPEC = { name: 'build', kind: 'shell', command: 'make' };

function setup(): { clock: ManualClock; m: TaskLifecycleManager } {
  const clock = new ManualClock(1_000);
  return { clock, m: new TaskLifecycleManager({ clock }) };
}

/** The record's internal history slot, to tell whether the history has been written out. */
function writtenOut(r: object): HistoryEntry[] | undefined {
  const sym = Object.getOwnPropertySymbols(r).find((s) => s.description === 'orchestrator.history');
  assert.ok(sym !== undefined, 'a held record has a history slot');
  return (r as Record<symbol, HistoryEntry[] | undefined>)[sym];
}

/** A plain record as the manager would have created it, for the pure functions. */
function plainTwin(r: Readonly<TaskRecord>): TaskRecord {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    status: 'created',
    priority: r.priority,
    attempts: 0,
    createdAt: r.createdAt,
    history: [{ status: 'created', at: r.createdAt }],
    spec: r.spec,
    dependsOn: [],
  };
}

function assertSameState(held: Readonly<TaskRecord>, plain: TaskRecord, what: string): void {
  assert.equal(held.status, plain.status, `${what}: status`);
  assert.equal(held.attempts, plain.attempts, `${what}: attempts`);
  assert.equal(held.startedAt, plain.startedAt, `${what}: startedAt`);
  assert.equal(held.finishedAt, plain.finishedAt, `${what}: finishedAt`);
  assert.deepEqual(held.result, plain.result, `${what}: result`);
  assert.deepEqual(held.error, plain.error, `${what}: error`);
}

type Step = readonly [LifecycleEvent, number];

/**
 * Runs `steps` through the manager and, in parallel, through transition + applyPatch on a plain
 * record; checks lastTransitionAt after each step, reading the history only after `readAfter`
 * steps (never, by default), and returns both.
 */
function runBoth(steps: readonly Step[], readAfter = Infinity): { held: HeldRecord; plain: TaskRecord } {
  const { clock, m } = setup();
  clock.set(100);
  const held = m.create({ ...SPEC }) as HeldRecord;
  const plain = plainTwin(held);
  let read: HistoryEntry[] | undefined;
  assert.equal(held.lastTransitionAt, 100);
  steps.forEach(([event, at], i) => {
    if (i === readAfter) read = held.history;
    clock.set(at);
    m.apply(held.id, event);
    applyPatch(plain, transition(plain, event, at));
    assertSameState(held, plain, `after ${event.type} (step ${i})`);
    const last = plain.history[plain.history.length - 1].at;
    assert.equal(held.lastTransitionAt, last, `lastTransitionAt after ${event.type}`);
    assert.equal(lastTransitionAt(held), last);
  });
  if (steps.length === readAfter) read = held.history;
  assert.deepEqual(held.history, plain.history);
  if (read !== undefined) assert.equal(held.history, read, 'the array read first is the one that grew');
  return { held, plain };
}

const FAILURE = { message: 'boom', code: 'E1' };

const PATHS: Record<string, readonly Step[]> = {
  regular: [
    [{ type: 'schedule' }, 200],
    [{ type: 'start' }, 300],
    [{ type: 'complete', result: { exitCode: 0 } }, 400],
  ],
  'retry then start again': [
    [{ type: 'schedule' }, 200],
    [{ type: 'start' }, 300],
    [{ type: 'retry', reason: 'Retrying in 1 s', error: FAILURE }, 350],
    [{ type: 'start' }, 1350],
    [{ type: 'complete', result: { exitCode: 0, output: 'ok' } }, 1400],
  ],
  'two retries then fail': [
    [{ type: 'schedule' }, 200],
    [{ type: 'start' }, 300],
    [{ type: 'retry', reason: 'again' }, 310],
    [{ type: 'start' }, 320],
    [{ type: 'retry', reason: 'and again', error: FAILURE }, 330],
    [{ type: 'start' }, 340],
    [{ type: 'fail', error: FAILURE, result: { exitCode: 2 } }, 350],
  ],
  fail: [
    [{ type: 'schedule' }, 200],
    [{ type: 'start' }, 300],
    [{ type: 'fail', error: FAILURE }, 301],
  ],
  'fail with a reason': [
    [{ type: 'schedule' }, 200],
    [{ type: 'start' }, 300],
    [{ type: 'fail', error: FAILURE, reason: 'exit 2' }, 301],
  ],
  'cancel from created': [[{ type: 'cancel' }, 150]],
  'cancel from scheduled': [
    [{ type: 'schedule' }, 200],
    [{ type: 'cancel', reason: 'user' }, 250],
  ],
  'cancel from running': [
    [{ type: 'schedule' }, 200],
    [{ type: 'start' }, 300],
    [{ type: 'cancel', reason: 'stop' }, 500],
  ],
  'start with a custom reason': [
    [{ type: 'schedule' }, 200],
    [{ type: 'start', reason: 'manual run' }, 300],
    [{ type: 'complete' }, 400],
  ],
  'schedule with a reason': [
    [{ type: 'schedule', reason: 'Resumed' }, 200],
    [{ type: 'start' }, 300],
    [{ type: 'complete' }, 400],
  ],
  'complete with a reason': [
    [{ type: 'schedule' }, 200],
    [{ type: 'start' }, 300],
    [{ type: 'complete', reason: 'cached', result: { value: 1 } }, 400],
  ],
  'abandon from created': [[{ type: 'abandon', error: { message: 'no run', code: 'NOT_RESUMABLE' } }, 120]],
  'abandon from scheduled': [
    [{ type: 'schedule' }, 200],
    [{ type: 'abandon', error: { message: 'no run' }, reason: 'gone' }, 220],
  ],
  'all at the same instant': [
    [{ type: 'schedule' }, 100],
    [{ type: 'start' }, 100],
    [{ type: 'complete' }, 100],
  ],
};

describe('taskRecord (compact history)', () => {
  it('writes the regular history out as four entries with the right times', () => {
    const { clock, m } = setup();
    clock.set(10);
    const r = m.create({ ...SPEC });
    clock.set(25);
    m.apply(r.id, { type: 'schedule' });
    clock.set(40);
    m.apply(r.id, { type: 'start' });
    clock.set(95);
    m.apply(r.id, { type: 'complete' });
    assert.deepEqual(r.history, [
      { status: 'created', at: 10 },
      { status: 'scheduled', at: 25 },
      { status: 'running', at: 40, reason: 'attempt 1' },
      { status: 'completed', at: 95 },
    ]);
    assert.equal(r.createdAt, 10);
    assert.equal(r.startedAt, 40);
    assert.equal(r.finishedAt, 95);
    assert.equal(r.attempts, 1);
  });

  it('shows the regular history so far in every status before it is written out', () => {
    const { clock, m } = setup();
    clock.set(1);
    const statuses: TaskStatus[] = [];
    const histories: HistoryEntry[][] = [];
    const r = m.create({ ...SPEC });
    const look = (): void => {
      statuses.push(r.status);
      // toJSON does not write the history out, so each look sees the regular one.
      histories.push((JSON.parse(JSON.stringify(r)) as TaskRecord).history);
      assert.equal(writtenOut(r), undefined);
    };
    look();
    clock.set(2);
    m.apply(r.id, { type: 'schedule' });
    look();
    clock.set(3);
    m.apply(r.id, { type: 'start' });
    look();
    clock.set(4);
    m.apply(r.id, { type: 'complete' });
    look();
    assert.deepEqual(statuses, ['created', 'scheduled', 'running', 'completed']);
    assert.deepEqual(histories, [
      [{ status: 'created', at: 1 }],
      [
        { status: 'created', at: 1 },
        { status: 'scheduled', at: 2 },
      ],
      [
        { status: 'created', at: 1 },
        { status: 'scheduled', at: 2 },
        { status: 'running', at: 3, reason: 'attempt 1' },
      ],
      [
        { status: 'created', at: 1 },
        { status: 'scheduled', at: 2 },
        { status: 'running', at: 3, reason: 'attempt 1' },
        { status: 'completed', at: 4 },
      ],
    ]);
  });

  it('gives the same array on every read, and appends to it after the first read', () => {
    const { clock, m } = setup();
    clock.set(5);
    const r = m.create({ ...SPEC });
    clock.set(6);
    m.apply(r.id, { type: 'schedule' });
    const h = r.history;
    assert.equal(r.history, h);
    assert.equal(writtenOut(r), h, 'read once, the history is kept');
    assert.deepEqual(h, [
      { status: 'created', at: 5 },
      { status: 'scheduled', at: 6 },
    ]);
    clock.set(7);
    m.apply(r.id, { type: 'start' });
    clock.set(8);
    m.apply(r.id, { type: 'complete' });
    assert.equal(r.history, h);
    assert.deepEqual(h, [
      { status: 'created', at: 5 },
      { status: 'scheduled', at: 6 },
      { status: 'running', at: 7, reason: 'attempt 1' },
      { status: 'completed', at: 8 },
    ]);
  });

  it('keeps the reason of a schedule (Resumed)', () => {
    const { clock, m } = setup();
    clock.set(1);
    const r = m.create({ ...SPEC });
    clock.set(2);
    m.apply(r.id, { type: 'schedule', reason: 'Resumed' });
    assert.deepEqual(JSON.parse(JSON.stringify(r)).history, [
      { status: 'created', at: 1 },
      { status: 'scheduled', at: 2, reason: 'Resumed' },
    ]);
    clock.set(3);
    m.apply(r.id, { type: 'start' });
    clock.set(4);
    m.apply(r.id, { type: 'complete' });
    assert.deepEqual(r.history, [
      { status: 'created', at: 1 },
      { status: 'scheduled', at: 2, reason: 'Resumed' },
      { status: 'running', at: 3, reason: 'attempt 1' },
      { status: 'completed', at: 4 },
    ]);
  });

  it('leaves out an absent reason (no `reason: undefined` key) in every entry of the regular history', () => {
    const { held } = runBoth(PATHS.regular);
    for (const e of held.history) {
      if (e.status !== 'running') assert.ok(!('reason' in e), `${e.status} has no reason key`);
    }
  });

  describe('matches transition + applyPatch on a plain record', () => {
    for (const [name, steps] of Object.entries(PATHS)) {
      it(`${name}, history read only at the end`, () => {
        runBoth(steps);
      });
      it(`${name}, history read after each possible step`, () => {
        for (let k = 0; k <= steps.length; k++) runBoth(steps, k);
      });
    }

    it('through a transition listener that reads the history as each transition happens', () => {
      const { clock, m } = setup();
      const seen: HistoryEntry[][] = [];
      m.onDidTransition((e) => seen.push(e.record.history.slice()));
      clock.set(100);
      const r = m.create({ ...SPEC });
      const plain = plainTwin(r);
      const expected: HistoryEntry[][] = [plain.history.slice()];
      for (const [event, at] of PATHS['retry then start again']) {
        clock.set(at);
        m.apply(r.id, event);
        applyPatch(plain, transition(plain, event, at));
        expected.push(plain.history.slice());
      }
      assert.deepEqual(seen, expected);
      m.dispose();
    });
  });

  it('refuses an illegal event without touching the history', () => {
    const { clock, m } = setup();
    clock.set(1);
    const r = m.create({ ...SPEC });
    clock.set(2);
    m.apply(r.id, { type: 'schedule' });
    assert.throws(() => m.apply(r.id, { type: 'complete' }));
    assert.throws(() => m.apply(r.id, { type: 'schedule' }));
    assert.equal(writtenOut(r), undefined, 'a refused event writes nothing out');
    assert.equal(r.status, 'scheduled');
    assert.deepEqual(r.history, [
      { status: 'created', at: 1 },
      { status: 'scheduled', at: 2 },
    ]);
  });

  describe('lastTransitionAt', () => {
    it('is the time of the last history entry in every status, regular or written out', () => {
      const cases: readonly Step[][] = [
        [],
        PATHS.regular.slice(0, 1),
        PATHS.regular.slice(0, 2),
        [...PATHS.regular],
        [...PATHS.fail],
        [...PATHS['cancel from created']],
        [...PATHS['cancel from scheduled']],
        [...PATHS['cancel from running']],
        [...PATHS['retry then start again']].slice(0, 3),
        [...PATHS['retry then start again']].slice(0, 4),
        [...PATHS['abandon from scheduled']],
      ];
      const statuses = new Set<TaskStatus>();
      for (const steps of cases) {
        const { held } = runBoth(steps);
        statuses.add(held.status);
        const h = held.history;
        assert.equal(held.lastTransitionAt, h[h.length - 1].at);
        assert.equal(lastTransitionAt(held), h[h.length - 1].at);
      }
      assert.deepEqual([...statuses].sort(), ['cancelled', 'completed', 'created', 'failed', 'running', 'scheduled']);
    });

    it('for a plain record: its last entry, or createdAt with no history', () => {
      const p: TaskRecord = {
        id: 'p',
        name: 'p',
        kind: 'shell',
        status: 'running',
        priority: 0,
        attempts: 1,
        createdAt: 3,
        history: [
          { status: 'created', at: 3 },
          { status: 'scheduled', at: 9 },
        ],
        spec: { name: 'p', kind: 'shell' },
        dependsOn: [],
      };
      assert.equal(lastTransitionAt(p), 9);
      assert.equal(lastTransitionAt({ ...p, history: [] }), 3);
    });
  });

  describe('JSON and plain copies', () => {
    const KEYS = [
      'attempts',
      'createdAt',
      'dependsOn',
      'finishedAt',
      'history',
      'id',
      'kind',
      'name',
      'priority',
      'result',
      'spec',
      'startedAt',
      'status',
      'workflowId',
    ];

    it('stringifies to the whole record with its history and nothing internal', () => {
      const { clock, m } = setup();
      clock.set(10);
      const dep = m.create({ name: 'dep', kind: 'shell' });
      const r = m.create({ name: 'build', kind: 'shell', command: 'make', priority: 3 }, { workflowId: 'wf-1', dependsOn: [dep.id] });
      clock.set(20);
      m.apply(r.id, { type: 'schedule' });
      clock.set(30);
      m.apply(r.id, { type: 'start' });
      clock.set(40);
      m.apply(r.id, { type: 'complete', result: { exitCode: 0, output: 'built' } });
      const parsed = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(parsed).sort(), KEYS);
      assert.deepEqual(parsed, {
        id: r.id,
        name: 'build',
        kind: 'shell',
        status: 'completed',
        priority: 3,
        attempts: 1,
        createdAt: 10,
        startedAt: 30,
        finishedAt: 40,
        history: [
          { status: 'created', at: 10 },
          { status: 'scheduled', at: 20 },
          { status: 'running', at: 30, reason: 'attempt 1' },
          { status: 'completed', at: 40 },
        ],
        result: { exitCode: 0, output: 'built' },
        spec: { name: 'build', kind: 'shell', command: 'make', priority: 3 },
        dependsOn: [dep.id],
        workflowId: 'wf-1',
      });
      assert.equal(Object.getOwnPropertySymbols(parsed).length, 0);
    });

    it('leaves undefined fields out and has an error once failed', () => {
      const { held } = runBoth(PATHS.fail);
      const parsed = JSON.parse(JSON.stringify(held)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(parsed).sort(), [
        'attempts',
        'createdAt',
        'dependsOn',
        'error',
        'finishedAt',
        'history',
        'id',
        'kind',
        'name',
        'priority',
        'spec',
        'startedAt',
        'status',
      ]);
      assert.deepEqual(parsed.error, FAILURE);
      assert.deepEqual(parsed.history, held.history);
    });

    it('does not write the history out: JSON first, then transitions and the getter still right', () => {
      const { clock, m } = setup();
      clock.set(1);
      const r = m.create({ ...SPEC });
      clock.set(2);
      m.apply(r.id, { type: 'schedule' });
      const first = JSON.parse(JSON.stringify(r)) as TaskRecord;
      assert.equal(writtenOut(r), undefined);
      assert.deepEqual(plainRecord(r).history, first.history);
      assert.equal(writtenOut(r), undefined, 'plainRecord does not write it out either');
      clock.set(3);
      m.apply(r.id, { type: 'start' });
      clock.set(4);
      m.apply(r.id, { type: 'complete' });
      assert.equal(writtenOut(r), undefined);
      assert.deepEqual(first.history, [
        { status: 'created', at: 1 },
        { status: 'scheduled', at: 2 },
      ]);
      assert.deepEqual(r.history, [
        { status: 'created', at: 1 },
        { status: 'scheduled', at: 2 },
        { status: 'running', at: 3, reason: 'attempt 1' },
        { status: 'completed', at: 4 },
      ]);
      assert.deepEqual((JSON.parse(JSON.stringify(r)) as TaskRecord).history, r.history);
    });

    it('JSON of a written-out history is the same as of a regular one', () => {
      const a = runBoth(PATHS.regular).held;
      const b = runBoth(PATHS.regular, 0).held;
      const ja = JSON.parse(JSON.stringify(a)) as TaskRecord;
      const jb = JSON.parse(JSON.stringify(b)) as TaskRecord;
      assert.deepEqual({ ...ja, id: '', spec: {} }, { ...jb, id: '', spec: {} });
    });

    it('plainRecord: a plain object that structuredClone copies whole, history included', () => {
      const { clock, m } = setup();
      clock.set(1);
      const r = m.create({ ...SPEC }, { workflowId: 'wf' });
      clock.set(2);
      m.apply(r.id, { type: 'schedule' });
      clock.set(3);
      m.apply(r.id, { type: 'start' });
      clock.set(4);
      m.apply(r.id, { type: 'retry', reason: 'later', error: FAILURE });
      const p = plainRecord(r);
      assert.equal(Object.getPrototypeOf(p), Object.prototype);
      assert.ok(!(p instanceof HeldRecord));
      assert.equal(Object.getOwnPropertySymbols(p).length, 0);
      assert.ok(!(HOME in p));
      const copy = structuredClone(p);
      assert.deepEqual(copy.history, [
        { status: 'created', at: 1 },
        { status: 'scheduled', at: 2 },
        { status: 'running', at: 3, reason: 'attempt 1' },
        { status: 'scheduled', at: 4, reason: 'later' },
      ]);
      assert.deepEqual(copy, p);
      assert.equal(copy.status, 'scheduled');
      assert.equal(copy.attempts, 1);
      assert.deepEqual(copy.error, FAILURE);
      assert.equal(copy.workflowId, 'wf');
      assert.notEqual(copy.history, r.history);
    });

    it('plainRecord of a regular record copies its history too', () => {
      const { held } = runBoth(PATHS.regular);
      const copy = structuredClone(plainRecord(held));
      assert.equal(Object.getPrototypeOf(copy), Object.prototype);
      assert.equal(copy.history.length, 4);
      assert.deepEqual(copy.history, held.history);
    });

    it('plainRecord returns a plain record as it is', () => {
      const p: TaskRecord = {
        id: 'p',
        name: 'p',
        kind: 'shell',
        status: 'created',
        priority: 0,
        attempts: 0,
        createdAt: 0,
        history: [{ status: 'created', at: 0 }],
        spec: { name: 'p', kind: 'shell' },
        dependsOn: [],
      };
      assert.equal(plainRecord(p), p);
    });
  });

  describe('restore', () => {
    const restoredRecords = (): TaskRecord[] => [
      {
        id: 'done-1',
        name: 'a',
        kind: 'shell',
        status: 'completed',
        priority: 1,
        attempts: 1,
        createdAt: 1,
        startedAt: 3,
        finishedAt: 4,
        history: [
          { status: 'created', at: 1 },
          { status: 'scheduled', at: 2 },
          { status: 'running', at: 3, reason: 'attempt 1' },
          { status: 'completed', at: 4 },
        ],
        result: { exitCode: 0 },
        spec: { name: 'a', kind: 'shell', command: 'true' },
        dependsOn: [],
      },
      {
        id: 'waiting-2',
        name: 'b',
        kind: 'shell',
        status: 'scheduled',
        priority: 0,
        attempts: 1,
        createdAt: 5,
        startedAt: 7,
        history: [
          { status: 'created', at: 5 },
          { status: 'scheduled', at: 6 },
          { status: 'running', at: 7, reason: 'attempt 1' },
          { status: 'scheduled', at: 8, reason: 'Retrying' },
        ],
        error: { message: 'flaky' },
        spec: { name: 'b', kind: 'shell', command: 'flaky' },
        dependsOn: ['done-1'],
        workflowId: 'wf',
      },
      {
        id: 'new-3',
        name: 'c',
        kind: 'shell',
        status: 'created',
        priority: 0,
        attempts: 0,
        createdAt: 9,
        history: [{ status: 'created', at: 9 }],
        spec: { name: 'c', kind: 'shell' },
        dependsOn: [],
      },
    ];

    it('gives held records whose history is the given one (copied), in order', () => {
      const { m } = setup();
      const given = restoredRecords();
      const snapshot = structuredClone(given);
      m.restore(given);
      assert.deepEqual(
        [...m.values()].map((r) => r.id),
        ['done-1', 'waiting-2', 'new-3'],
      );
      for (const g of snapshot) {
        const r = m.get(g.id) as HeldRecord;
        assert.ok(r instanceof HeldRecord);
        assert.deepEqual(r.history, g.history);
        assert.equal(r.history, r.history);
        assert.notEqual(r.history, given.find((x) => x.id === g.id)?.history, 'the history is copied');
        assert.equal(r.lastTransitionAt, g.history[g.history.length - 1].at);
        assert.deepEqual(JSON.parse(JSON.stringify(plainRecord(r))), g);
        assert.deepEqual(JSON.parse(JSON.stringify(r)), g);
      }
    });

    it('appends later transitions to a restored history, as the pure functions would, leaving the input alone', () => {
      const { clock, m } = setup();
      const given = restoredRecords();
      const snapshot = structuredClone(given);
      m.restore(given);
      const steps: Record<string, readonly Step[]> = {
        'waiting-2': [
          [{ type: 'start' }, 20],
          [{ type: 'complete' }, 30],
        ],
        'new-3': [
          [{ type: 'schedule' }, 21],
          [{ type: 'start' }, 22],
          [{ type: 'complete' }, 23],
        ],
      };
      for (const [id, list] of Object.entries(steps)) {
        const plain = structuredClone(snapshot.find((g) => g.id === id) as TaskRecord);
        for (const [event, at] of list) {
          clock.set(at);
          m.apply(id, event);
          applyPatch(plain, transition(plain, event, at));
        }
        const r = m.get(id) as HeldRecord;
        assert.deepEqual(r.history, plain.history);
        assertSameState(r, plain, id);
        assert.equal(r.lastTransitionAt, plain.history[plain.history.length - 1].at);
      }
      assert.deepEqual(given, snapshot, 'the records given to restore are not changed');
      assert.equal((m.get('waiting-2') as TaskRecord).history[4].reason, 'attempt 2');
    });
  });

  describe('recordClass', () => {
    class Tracked extends HeldRecord {
      marker = 'mine';
      queueNode: unknown = undefined;
      touched = 0;
    }

    it('creates and restores records of the given subclass', () => {
      const clock = new ManualClock(1_000);
      const m = new TaskLifecycleManager({ clock, recordClass: Tracked });
      clock.set(1);
      const r = m.create({ ...SPEC });
      assert.ok(r instanceof Tracked);
      assert.ok(r instanceof HeldRecord);
      assert.equal((r as Tracked).marker, 'mine');
      m.restore([
        {
          id: 'old',
          name: 'old',
          kind: 'shell',
          status: 'failed',
          priority: 0,
          attempts: 1,
          createdAt: 0,
          startedAt: 0,
          finishedAt: 0,
          history: [
            { status: 'created', at: 0 },
            { status: 'failed', at: 0, reason: 'x' },
          ],
          error: { message: 'x' },
          spec: { name: 'old', kind: 'shell' },
          dependsOn: [],
        },
      ]);
      const old = m.get('old');
      assert.ok(old instanceof Tracked);
      assert.equal(old.status, 'failed');
      assert.deepEqual(old.error, { message: 'x' });
      assert.equal(old.lastTransitionAt, 0);
      assert.equal(m.get(r.id), r);
    });

    it('a subclass keeps the compact history, and its own fields stay out of JSON and plain copies', () => {
      const clock = new ManualClock(1_000);
      const m = new TaskLifecycleManager({ clock, recordClass: Tracked });
      clock.set(1);
      const r = m.create({ ...SPEC }) as Tracked;
      r.touched = 5;
      r.queueNode = { some: 'node' };
      clock.set(2);
      m.apply(r.id, { type: 'schedule' });
      clock.set(3);
      m.apply(r.id, { type: 'start' });
      clock.set(4);
      m.apply(r.id, { type: 'complete' });
      assert.equal(writtenOut(r), undefined);
      const parsed = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
      for (const k of ['marker', 'queueNode', 'touched']) {
        assert.ok(!(k in parsed), `JSON has no ${k}`);
        assert.ok(!(k in plainRecord(r)), `plainRecord has no ${k}`);
      }
      assert.deepEqual(r.history, [
        { status: 'created', at: 1 },
        { status: 'scheduled', at: 2 },
        { status: 'running', at: 3, reason: 'attempt 1' },
        { status: 'completed', at: 4 },
      ]);
    });
  });
});
