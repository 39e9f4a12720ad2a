import * as assert from 'node:assert/strict';
import { MessageQueue, type DeadLetter, type MessageQueueOptions } from '../../src/core/queue/messageQueue';
import { ManualClock, settle } from '../support/manualClock';
import type { Message } from '../../src/core/queue/queueTypes';
import { ValidationError } from '../../src/core/model/errors';
import { deferred } from '../support/heldTasks';

function setup(options: MessageQueueOptions = {}): { q: MessageQueue; clock: ManualClock; errors: unknown[] } {
  const clock = new ManualClock();
  const errors: unknown[] = [];
  const q = new MessageQueue({ clock, redeliveryDelayMs: 100, onError: (e) => errors.push(e), ...options });
  return { q, clock, errors };
}

describe('messageQueue', () => {
  it('matches exact topics, trailing `prefix.*` wildcards and `*`', async () => {
    const { q } = setup();
    const got: Record<string, string[]> = { exact: [], prefix: [], all: [] };
    q.subscribe('task.created', (m) => void got.exact.push(m.topic));
    q.subscribe('task.*', (m) => void got.prefix.push(m.topic));
    q.subscribe('*', (m) => void got.all.push(m.topic));
    for (const topic of ['task.created', 'task.failed', 'task.sub.deep', 'taskx', 'other']) await q.publish({ topic });
    await q.whenIdle();
    assert.deepEqual(got.exact, ['task.created']);
    assert.deepEqual(got.prefix, ['task.created', 'task.failed', 'task.sub.deep']);
    assert.deepEqual(got.all, ['task.created', 'task.failed', 'task.sub.deep', 'taskx', 'other']);
  });

  it('runs handlers after publish returns, never inside it', async () => {
    const { q } = setup();
    let publishing = false;
    let sawPublishing: boolean | undefined;
    q.subscribe('a', () => {
      sawPublishing = publishing;
    });
    publishing = true;
    const p = q.publish({ topic: 'a', payload: 1 });
    publishing = false;
    assert.equal(sawPublishing, undefined, 'not yet delivered when publish returned');
    const m = await p;
    await q.whenIdle();
    assert.equal(sawPublishing, false);
    assert.equal(typeof m.id, 'string');
    assert.equal(m.payload, 1);
  });

  it('gives ids that are unique and kept across redeliveries, or the caller-chosen id', async () => {
    const { q, clock } = setup();
    const seen: [string, number | undefined][] = [];
    let fail = true;
    q.subscribe('a', (m) => {
      seen.push([m.id, m.delivery]);
      if (fail) {
        fail = false;
        throw new Error('once');
      }
    });
    const a = await q.publish({ topic: 'a' });
    const b = await q.publish({ topic: 'a', id: 'mine' });
    assert.notEqual(a.id, b.id);
    assert.equal(b.id, 'mine');
    await settle();
    await clock.advance(100);
    await q.whenIdle();
    assert.deepEqual(seen, [
      [a.id, 1],
      [a.id, 2],
      ['mine', 1],
    ]);
  });

  it('delivers in publish order, one at a time, with concurrency 1 even when handlers finish out of order', async () => {
    const { q } = setup();
    const log: string[] = [];
    const gates = Array.from({ length: 5 }, () => deferred());
    q.subscribe<number>('t', async (m) => {
      log.push(`start ${m.payload}`);
      await gates[m.payload].promise;
      log.push(`end ${m.payload}`);
    });
    for (let i = 0; i < 5; i++) await q.publish({ topic: 't', payload: i });
    for (let i = 4; i >= 0; i--) gates[i].resolve();
    await q.whenIdle();
    assert.deepEqual(log, ['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3', 'start 4', 'end 4']);
  });

  it('never runs more handlers of a subscription at once than its concurrency, and starts them in order', async () => {
    const { q } = setup();
    let active = 0;
    let peak = 0;
    const started: number[] = [];
    const gates = Array.from({ length: 10 }, () => deferred());
    q.subscribe<number>(
      't',
      async (m) => {
        started.push(m.payload);
        active++;
        peak = Math.max(peak, active);
        await gates[m.payload].promise;
        active--;
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 10; i++) await q.publish({ topic: 't', payload: i });
    await settle();
    assert.equal(active, 3);
    assert.equal(q.getQueueStats().topics.t.inFlight, 3);
    assert.equal(q.getQueueStats().topics.t.pending, 7);
    for (const g of gates) g.resolve();
    await q.whenIdle();
    assert.equal(peak, 3);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(q.getQueueStats().topics.t.acknowledged, 10);
  });

  it('delivers a long burst in order and lets the event loop run in between', async () => {
    const { q } = setup();
    const got: number[] = [];
    let immediateRanDuringBurst = false;
    q.subscribe<number>('t', (m) => void got.push(m.payload));
    for (let i = 0; i < 2000; i++) void q.publish({ topic: 't', payload: i });
    setImmediate(() => (immediateRanDuringBurst = got.length > 0 && got.length < 2000));
    await q.whenIdle();
    assert.equal(got.length, 2000);
    assert.ok(got.every((v, i) => v === i));
    assert.equal(immediateRanDuringBurst, true);
  });

  it('with concurrency above 1, keeps delivering others while one waits for its redelivery', async () => {
    const { q, clock } = setup();
    const log: string[] = [];
    q.subscribe<string>(
      'a',
      (m) => {
        log.push(`${m.payload}${m.delivery}`);
        if (m.payload === 'x' && m.delivery === 1) throw new Error('once');
      },
      { concurrency: 2 },
    );
    for (const p of ['x', 'y', 'z']) await q.publish({ topic: 'a', payload: p });
    await settle();
    assert.deepEqual(log, ['x1', 'y1', 'z1']);
    await clock.advance(100);
    await q.whenIdle();
    assert.deepEqual(log, ['x1', 'y1', 'z1', 'x2']);
  });

  it('reports a dead letter that cannot be handled instead of dead-lettering it again', async () => {
    const { q, clock, errors } = setup({ maxDeliveries: 1 });
    q.subscribe('a', () => {
      throw new Error('first');
    });
    q.subscribe('dead-letter', () => {
      throw new Error('second');
    });
    await q.publish({ topic: 'a' });
    await clock.advance(1000);
    await q.whenIdle();
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /Dropped dead letter .* after 1 deliveries to `#2`: second/);
    assert.equal(q.getQueueStats().topics['dead-letter'].deadLettered, 1);
    assert.equal(q.getQueueStats().topics['dead-letter'].published, 1);
  });

  it('acknowledges when the handler returns or its promise resolves', async () => {
    const { q } = setup();
    q.subscribe('sync', () => 'ignored');
    q.subscribe('async', async () => undefined);
    await q.publish({ topic: 'sync' });
    await q.publish({ topic: 'async' });
    await q.whenIdle();
    const s = q.getQueueStats();
    assert.equal(s.topics.sync.acknowledged, 1);
    assert.equal(s.topics.async.acknowledged, 1);
    assert.equal(s.totals.inFlight, 0);
    assert.equal(s.totals.pending, 0);
  });

  it('with manualAck, holds the message in flight until acknowledge(id)', async () => {
    const { q } = setup();
    const got: Message[] = [];
    q.subscribe('a', (m) => void got.push(m), { manualAck: true });
    const m = await q.publish({ topic: 'a' });
    await settle();
    assert.equal(got.length, 1);
    assert.equal(q.getQueueStats().topics.a.inFlight, 1);
    let idle = false;
    void q.whenIdle().then(() => (idle = true));
    await settle();
    assert.equal(idle, false);
    await q.acknowledge(m.id);
    await settle();
    assert.equal(idle, true);
    const s = q.getQueueStats().topics.a;
    assert.deepEqual([s.inFlight, s.acknowledged], [0, 1]);
    await q.acknowledge(m.id); // a second ack of the same message is harmless
    await q.acknowledge('unknown');
    assert.equal(q.getQueueStats().topics.a.acknowledged, 1);
  });

  it('does not let an ack by id settle a copy that has not been delivered yet', async () => {
    const { q } = setup();
    const got: Message[] = [];
    q.subscribe(
      'a',
      (m) => {
        got.push(m);
        void q.acknowledge(m.id);
      },
      { manualAck: true },
    );
    await q.publish({ topic: 'a', id: 'same', payload: 1 });
    await q.publish({ topic: 'a', id: 'same', payload: 2 }); // a duplicate, as at-least-once allows
    await q.whenIdle();
    assert.deepEqual(
      got.map((m) => m.payload),
      [1, 2],
    );
    assert.equal(q.getQueueStats().topics.a.acknowledged, 2);
  });

  it('lets one of two manual-ack subscriptions acknowledge its copy alone by receipt', async () => {
    const { q } = setup();
    const got: Message[] = [];
    q.subscribe('a', (m) => void got.push(m), { manualAck: true });
    q.subscribe('a', (m) => void got.push(m), { manualAck: true });
    await q.publish({ topic: 'a' });
    await settle();
    assert.equal(got.length, 2);
    assert.notEqual(got[0].receipt, got[1].receipt);
    await q.acknowledge(got[0].receipt as string);
    assert.deepEqual([q.getQueueStats().topics.a.acknowledged, q.getQueueStats().topics.a.inFlight], [1, 1]);
    await q.acknowledge(got[1].id);
    assert.deepEqual([q.getQueueStats().topics.a.acknowledged, q.getQueueStats().topics.a.inFlight], [2, 0]);
  });

  it('redelivers a throwing handler with exponential backoff, then dead-letters with the last error', async () => {
    const { q, clock } = setup({ maxDeliveries: 4 });
    const times: number[] = [];
    q.subscribe(
      'a',
      (m) => {
        times.push(clock.now());
        throw new Error(`boom ${m.delivery}`);
      },
      { name: 'worker' },
    );
    const letters: DeadLetter[] = [];
    q.subscribe<DeadLetter>('dead-letter', (m) => void letters.push(m.payload));
    const m = await q.publish({ topic: 'a', payload: { n: 1 } });
    await settle();
    assert.deepEqual(times, [0]);
    await clock.advance(99);
    assert.deepEqual(times, [0], 'not before the backoff');
    await clock.advance(1);
    assert.deepEqual(times, [0, 100]);
    await clock.advance(200);
    assert.deepEqual(times, [0, 100, 300]);
    assert.equal(q.getQueueStats().topics.a.pending, 1, 'waiting for its redelivery counts as pending');
    await clock.advance(400);
    assert.deepEqual(times, [0, 100, 300, 700]);
    await q.whenIdle();
    assert.equal(letters.length, 1);
    assert.deepEqual(letters[0], {
      message: { id: m.id, topic: 'a', payload: { n: 1 }, publishedAt: 0, delivery: 4 },
      error: { name: 'Error', message: 'boom 4' },
      subscription: 'worker',
    });
    const s = q.getQueueStats().topics.a;
    assert.deepEqual([s.delivered, s.redelivered, s.deadLettered, s.acknowledged, s.pending, s.inFlight], [4, 3, 1, 0, 0, 0]);
    assert.equal(clock.timerCount, 0);
  });

  it('redelivers a rejected promise and acknowledges the redelivery that succeeds', async () => {
    const { q, clock } = setup();
    let calls = 0;
    q.subscribe('a', async () => {
      calls++;
      if (calls < 3) throw new Error('not yet');
    });
    await q.publish({ topic: 'a' });
    await settle();
    await clock.advance(100);
    await clock.advance(200);
    await q.whenIdle();
    const s = q.getQueueStats().topics.a;
    assert.deepEqual([calls, s.delivered, s.redelivered, s.acknowledged, s.deadLettered], [3, 3, 2, 1, 0]);
  });

  it('keeps a failing message in its place: with concurrency 1 the next waits until it is settled', async () => {
    const { q, clock } = setup();
    const log: string[] = [];
    q.subscribe<string>('a', (m) => {
      log.push(`${m.payload}${m.delivery}`);
      if (m.payload === 'x' && m.delivery === 1) throw new Error('once');
    });
    await q.publish({ topic: 'a', payload: 'x' });
    await q.publish({ topic: 'a', payload: 'y' });
    await settle();
    assert.deepEqual(log, ['x1']);
    await clock.advance(100);
    await q.whenIdle();
    assert.deepEqual(log, ['x1', 'x2', 'y1']);
  });

  it('redelivers a message not acknowledged within its ack timeout', async () => {
    const { q, clock } = setup();
    const got: Message[] = [];
    q.subscribe(
      'a',
      (m) => {
        got.push(m);
        if (m.delivery === 2) void q.acknowledge(m.id);
      },
      { manualAck: true, ackTimeoutMs: 1000 },
    );
    await q.publish({ topic: 'a' });
    await settle();
    await clock.advance(999);
    assert.equal(got.length, 1);
    await clock.advance(1);
    assert.equal(q.getQueueStats().topics.a.pending, 1);
    await clock.advance(100);
    await q.whenIdle();
    assert.deepEqual(
      got.map((m) => m.delivery),
      [1, 2],
    );
    assert.equal(q.getQueueStats().topics.a.acknowledged, 1);
  });

  it('times out a handler whose promise never settles, and counts a late resolution as the ack', async () => {
    const { q, clock } = setup();
    const gate = deferred();
    let calls = 0;
    q.subscribe(
      'a',
      () => {
        calls++;
        return gate.promise;
      },
      { ackTimeoutMs: 50 },
    );
    await q.publish({ topic: 'a' });
    await settle();
    await clock.advance(50); // times out; waits 100 ms for its redelivery
    assert.equal(calls, 1);
    gate.resolve(); // the first attempt finishes late: the work is done
    await settle();
    await clock.advance(1000);
    await q.whenIdle();
    const s = q.getQueueStats().topics.a;
    assert.deepEqual([calls, s.acknowledged, s.redelivered], [1, 1, 0]);
  });

  it('nack redelivers a manual-ack message, and dead-letters it after maxDeliveries', async () => {
    const { q, clock } = setup({ maxDeliveries: 2 });
    const letters: DeadLetter[] = [];
    q.subscribe<DeadLetter>('dead-letter', (m) => void letters.push(m.payload));
    q.subscribe('a', (m) => void q.nack(m.id, new Error(`no ${m.delivery}`)), { manualAck: true });
    await q.publish({ topic: 'a' });
    await settle();
    await clock.advance(100);
    await q.whenIdle();
    assert.equal(letters.length, 1);
    assert.equal(letters[0].error.message, 'no 2');
    assert.match(letters[0].subscription, /^#\d+$/);
  });

  it('gives two subscribers independent copies: one failing does not affect the other', async () => {
    const { q, clock } = setup({ maxDeliveries: 2 });
    const good: Message[] = [];
    const bad: Message[] = [];
    q.subscribe('a', (m) => void good.push(m));
    q.subscribe('a', (m) => {
      bad.push(m);
      throw new Error('no');
    });
    await q.publish({ topic: 'a', payload: { v: 1 } });
    await q.publish({ topic: 'a', payload: { v: 2 } });
    await settle();
    await clock.advance(100);
    await clock.advance(100);
    await q.whenIdle();
    assert.equal(good.length, 2);
    assert.equal(bad.length, 4);
    assert.notEqual(good[0], bad[0], 'each subscriber gets its own message object');
    const s = q.getQueueStats().topics.a;
    assert.deepEqual([s.published, s.delivered, s.acknowledged, s.redelivered, s.deadLettered], [2, 6, 2, 2, 2]);
  });

  it('stops delivering to a disposed subscription and drops its pending copies', async () => {
    const { q } = setup();
    const got: number[] = [];
    const gate = deferred();
    const sub = q.subscribe<number>('a', async (m) => {
      got.push(m.payload);
      await gate.promise;
    });
    await q.publish({ topic: 'a', payload: 1 });
    await q.publish({ topic: 'a', payload: 2 });
    await settle();
    sub.dispose();
    gate.resolve();
    await q.publish({ topic: 'a', payload: 3 });
    await q.whenIdle();
    assert.deepEqual(got, [1]);
    const s = q.getQueueStats();
    assert.deepEqual([s.topics.a.pending, s.topics.a.inFlight, s.subscribers], [0, 0, 0]);
  });

  it('keeps exact statistics per topic and in total, and an acks-per-second rate over the last minute', async () => {
    const { q, clock } = setup();
    q.subscribe('a', () => undefined);
    q.subscribe('*', () => undefined);
    for (let i = 0; i < 3; i++) await q.publish({ topic: 'a' });
    await q.publish({ topic: 'b' });
    await q.publish({ topic: 'nobody.listens' });
    await q.whenIdle();
    await clock.advance(10_000);
    let s = q.getQueueStats();
    assert.deepEqual(s.topics.a, {
      published: 3,
      delivered: 6,
      acknowledged: 6,
      pending: 0,
      inFlight: 0,
      redelivered: 0,
      deadLettered: 0,
      rejected: 0,
      processingRate: 0.6,
    });
    assert.equal(s.topics.b.acknowledged, 1);
    assert.deepEqual(s.totals, {
      published: 5,
      delivered: 8,
      acknowledged: 8,
      pending: 0,
      inFlight: 0,
      redelivered: 0,
      deadLettered: 0,
      rejected: 0,
      processingRate: 0.8,
    });
    assert.equal(s.subscribers, 2);
    await clock.advance(49_000);
    assert.equal(q.getQueueStats().topics.a.processingRate, 6 / 59, 'a queue younger than a minute divides by its age');
    await clock.advance(1_000);
    s = q.getQueueStats();
    assert.equal(s.topics.a.processingRate, 0, 'acks a minute old drop out');
    assert.equal(s.topics.a.acknowledged, 6, 'counters are cumulative');
  });

  it('counts a publish with no subscriber without keeping anything', async () => {
    const { q, clock } = setup();
    for (let i = 0; i < 1000; i++) await q.publish({ topic: 'task.created', payload: { i } });
    const s = q.getQueueStats().topics['task.created'];
    assert.deepEqual([s.published, s.pending, s.delivered], [1000, 0, 0]);
    assert.deepEqual(q.snapshot().subscriptions, []);
    assert.equal(clock.timerCount, 0);
    await q.whenIdle();
  });

  it('tells whether a topic has subscribers, and counts a publish to one that has none', async () => {
    const { q } = setup();
    assert.equal(q.hasSubscribers('task.created'), false);
    assert.equal(q.count('task.created'), true);
    const sub = q.subscribe('task.*', () => undefined, { name: 'd' });
    assert.equal(q.hasSubscribers('task.created'), true);
    assert.equal(q.hasSubscribers('other'), false);
    assert.equal(q.count('task.created'), false, 'publish instead');
    sub.dispose();
    assert.equal(q.hasSubscribers('task.created'), true, 'a detached durable subscription still collects');
    q.deleteDurable('d');
    assert.equal(q.count('task.created'), true);
    assert.deepEqual([q.getQueueStats().topics['task.created'].published, q.getQueueStats().topics['task.created'].pending], [2, 0]);
    assert.throws(() => q.count('task.*'), /Expected `topic`/);
  });

  it('after a restart, redelivers the unacknowledged messages of durable subscriptions in order', async () => {
    const { q } = setup();
    const first: number[] = [];
    q.subscribe<number>('job.*', (m) => void first.push(m.payload), { name: 'jobs', manualAck: true, concurrency: 2 });
    q.subscribe('job.*', () => undefined); // anonymous: not persisted
    for (let i = 0; i < 4; i++) await q.publish({ topic: 'job.run', payload: i });
    await settle();
    assert.deepEqual(first, [0, 1]);
    const snap0 = q.snapshot();
    await q.acknowledge(snap0.subscriptions[0].messages[0].id);
    const snap = JSON.parse(JSON.stringify(q.snapshot())) as unknown;
    q.dispose();

    const { q: q2, clock: clock2 } = setup();
    q2.restore(snap);
    const before = q2.getQueueStats().topics['job.run'];
    assert.deepEqual([before.published, before.pending, before.acknowledged], [4, 3, 5]);
    const second: [number, number | undefined][] = [];
    q2.subscribe<number>('job.*', (m) => void second.push([m.payload, m.delivery]), { name: 'jobs' });
    await q2.whenIdle();
    // 1 was in flight when the snapshot was taken: its next delivery is its second.
    assert.deepEqual(second, [
      [1, 2],
      [2, 1],
      [3, 1],
    ]);
    assert.equal(q2.snapshot().subscriptions[0].messages.length, 0);
    assert.equal(clock2.timerCount, 0);
  });

  it('parks the messages of a detached durable subscription until it subscribes again', async () => {
    const { q } = setup();
    const got: number[] = [];
    const sub = q.subscribe<number>('a', (m) => void got.push(m.payload), { name: 'd' });
    await q.publish({ topic: 'a', payload: 1 });
    await q.whenIdle();
    sub.dispose();
    await q.publish({ topic: 'a', payload: 2 });
    await q.publish({ topic: 'a', payload: 3 });
    await q.whenIdle(); // parked messages wait for a subscriber, not for work: idle
    assert.equal(q.getQueueStats().topics.a.pending, 2);
    q.subscribe<number>('a', (m) => void got.push(m.payload), { name: 'd' });
    await q.whenIdle();
    assert.deepEqual(got, [1, 2, 3]);
    assert.equal(q.getQueueStats().topics.a.pending, 0);
  });

  it('forgets a detached durable subscription and its parked messages on deleteDurable', async () => {
    const { q } = setup();
    const sub = q.subscribe('a', () => undefined, { name: 'd' });
    assert.throws(() => q.deleteDurable('d'), /while it is subscribed/);
    sub.dispose();
    await q.publish({ topic: 'a' });
    assert.equal(q.getQueueStats().topics.a.pending, 1);
    assert.equal(q.deleteDurable('d'), true);
    assert.equal(q.deleteDurable('d'), false);
    assert.equal(q.getQueueStats().topics.a.pending, 0);
    assert.deepEqual(q.snapshot().subscriptions, []);
  });

  it('fires onDidChange once per burst of changes', async () => {
    const { q } = setup();
    let fired = 0;
    q.onDidChange(() => fired++);
    for (let i = 0; i < 10; i++) void q.publish({ topic: 'a' });
    assert.equal(fired, 0);
    await settle();
    assert.equal(fired, 1);
  });

  it('rejects bad inputs with clear messages and changes nothing', async () => {
    const { q } = setup();
    const cases: [unknown, RegExp][] = [
      [{ topic: '' }, /Expected `topic` to be a non-empty string of at most 200 characters without `\*`, got `""` \(string\)/],
      [{ topic: 'task.*' }, /without `\*`, got `"task\.\*"` \(string\)/],
      [{ topic: 'x'.repeat(201) }, /Expected `topic`/],
      [{ topic: 7 }, /got `7` \(number\)/],
      [{ topic: 'a', payload: { run: () => 1 } }, /Expected `payload` to be JSON-serialisable, but `payload\.run` is a function/],
      [{ topic: 'a', payload: { n: [1, NaN] } }, /`payload\.n\[1\]` is a non-finite number/],
      [{ topic: 'a', payload: 10n }, /but it is a bigint/],
      [{ topic: 'a', payload: new Map() }, /an instance of Map/],
      [{ topic: 'a', id: '' }, /Expected `id` to be a non-empty string/],
      [null, /Expected `message` to be an object, got `null` \(null\)/],
    ];
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    cases.push([{ topic: 'a', payload: cyclic }, /`payload\.self` is a cycle/]);
    for (const [input, message] of cases) {
      await assert.rejects(q.publish(input as never), (e: unknown) => e instanceof ValidationError && message.test(e.message));
    }
    assert.deepEqual(q.getQueueStats().topics, {});
    assert.equal(new Date(0).toJSON(), '1970-01-01T00:00:00.000Z');
    await q.publish({ topic: 'ok', payload: { at: new Date(0), nothing: undefined, n: null } });

    assert.throws(() => q.subscribe('task*', () => undefined), /`\*` only as a whole segment at the end/);
    assert.throws(() => q.subscribe('a.*.b', () => undefined), ValidationError);
    assert.throws(() => q.subscribe('a', 'nope' as never), /Expected `handler` to be a function, got `"nope"` \(string\)/);
    assert.throws(() => q.subscribe('a', () => undefined, { concurrency: 0 }), /Expected `concurrency` to be a positive integer, got `0` \(number\)/);
    assert.throws(() => q.subscribe('a', () => undefined, { maxDeliveries: 1.5 }), /Expected `maxDeliveries` to be a positive integer, got `1.5` \(number\)/);
    assert.throws(() => q.subscribe('a', () => undefined, { ackTimeoutMs: -1 }), /Expected `ackTimeoutMs` to be a positive finite number/);
    assert.throws(() => q.subscribe('a', () => undefined, { name: '' }), /Expected `name`/);
    q.subscribe('a', () => undefined, { name: 'one' });
    assert.throws(() => q.subscribe('a', () => undefined, { name: 'one' }), /A subscriber named `one` is already subscribed/);
    assert.equal(q.getQueueStats().subscribers, 1);

    assert.throws(() => new MessageQueue({ maxDeliveries: 0 }), /Expected `maxDeliveries` to be a positive integer, got `0` \(number\)/);
    assert.throws(() => new MessageQueue({ ackTimeoutMs: Number.NaN }), /Expected `ackTimeoutMs` to be a positive finite number, got `NaN` \(number\)/);
    assert.throws(() => new MessageQueue({ redeliveryDelayMs: -1 }), /`redeliveryDelayMs` to be a non-negative/);
    assert.throws(() => new MessageQueue({ deadLetterTopic: 'dl.*' }), /Expected `deadLetterTopic`/);
    await assert.rejects(q.acknowledge(5 as never), /Expected `messageId` to be a string, got `5` \(number\)/);
  });

  it('refuses a malformed snapshot, naming the field, and changes nothing', () => {
    const { q } = setup();
    const good = {
      version: 1,
      savedAt: 0,
      subscriptions: [{ name: 'd', pattern: 'a', messages: [{ id: 'm1', topic: 'a', publishedAt: 0, deliveries: 0 }] }],
      counters: { a: { published: 1, delivered: 0, acknowledged: 0, redelivered: 0, deadLettered: 0 } },
    };
    const bad: [unknown, RegExp][] = [
      [null, /Expected `snapshot` to be an object/],
      [{ ...good, version: 2 }, /Expected `snapshot.version` to be 1, got `2`/],
      [
        { ...good, subscriptions: [{ ...good.subscriptions[0], messages: [{ id: 'm1', topic: 'a', publishedAt: 0, deliveries: -1 }] }] },
        /`snapshot.subscriptions\[0\].messages\[0\].deliveries` to be a non-negative integer, got `-1`/,
      ],
      [{ ...good, subscriptions: [{ ...good.subscriptions[0], pattern: '' }] }, /`snapshot.subscriptions\[0\].pattern`/],
      [{ ...good, counters: { a: { published: 'x' } } }, /`snapshot.counters\["a"\].published` to be a non-negative integer, got `"x"` \(string\)/],
    ];
    for (const [snap, message] of bad)
      assert.throws(
        () => q.restore(snap),
        (e: unknown) => e instanceof ValidationError && message.test(e.message),
      );
    assert.deepEqual(q.getQueueStats().topics, {});
    assert.deepEqual(q.snapshot().subscriptions, []);
    q.restore(good);
    assert.equal(q.getQueueStats().topics.a.pending, 1);
  });

  it('clears its timers on dispose and refuses new work', async () => {
    const { q, clock } = setup();
    q.subscribe('a', () => {
      throw new Error('x');
    });
    q.subscribe('b', () => new Promise(() => undefined));
    await q.publish({ topic: 'a' });
    await q.publish({ topic: 'b' });
    await settle();
    assert.equal(clock.timerCount, 2);
    q.dispose();
    assert.equal(clock.timerCount, 0);
    await q.whenIdle();
    await assert.rejects(q.publish({ topic: 'a' }), /disposed/);
    assert.throws(() => q.subscribe('a', () => undefined), /disposed/);
  });
});
