import * as assert from 'node:assert/strict';
import { MessageQueue, type DeadLetter, type MessageQueueOptions } from '../../src/core/queue/messageQueue';
import { ManualClock, settle } from '../support/manualClock';
import type { Message } from '../../src/core/queue/queueTypes';
import { ValidationError } from '../../src/core/model/errors';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

function setup(options: MessageQueueOptions = {}): { q: MessageQueue; clock: ManualClock; errors: unknown[] } {
  const clock = new ManualClock();
  const errors: unknown[] = [];
  const q = new MessageQueue({ clock, redeliveryDelayMs: 100, onError: (e) => errors.push(e), ...options });
  return { q, clock, errors };
}

/** A durable subscription with no subscriber attached: it holds every message published to `topic`. */
function parkedDurable(q: MessageQueue, topic: string, name: string, options: Record<string, unknown> = {}): void {
  q.subscribe(topic, () => {}, { name, ...options }).dispose();
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  return assert.fail('expected a rejection');
}

function cycle(): Record<string, unknown> {
  const a: Record<string, unknown> = { ok: 1 };
  a.self = a;
  return a;
}

describe('messageQueue reliability', () => {
  describe('payloads are copied to JSON at publish', () => {
    it('refuses a payload whose toJSON returns a cycle, enqueues nothing, and the snapshot still serialises', async () => {
      const { q } = setup();
      parkedDurable(q, 't', 'audit');
      await q.publish({ topic: 't', payload: { n: 1 } });
      const err = await rejection(q.publish({ topic: 't', payload: { bad: { toJSON: cycle } } }));
      assert.ok(err instanceof ValidationError, `a ValidationError, got ${String(err)}`);
      assert.match(err.message, /`payload\.bad\.self` is a cycle/);
      assert.match(err.message, /JSON/);
      assert.equal(q.getQueueStats().topics.t.pending, 1, 'nothing enqueued');
      const json = JSON.stringify(q.snapshot());
      assert.equal((JSON.parse(json) as { subscriptions: { messages: unknown[] }[] }).subscriptions[0].messages.length, 1);
    });

    it('refuses a payload whose toJSON returns a bigint or throws, or whose getter throws, with a ValidationError', async () => {
      const { q } = setup();
      parkedDurable(q, 't', 'audit');
      const payloads: unknown[] = [
        { toJSON: () => 10n },
        {
          toJSON: () => {
            throw new Error('no');
          },
        },
        {
          get x(): number {
            throw new Error('getter');
          },
        },
        new Proxy(
          {},
          {
            ownKeys: () => {
              throw new Error('proxy');
            },
          },
        ),
      ];
      for (const payload of payloads) {
        const err = await rejection(q.publish({ topic: 't', payload }));
        assert.ok(err instanceof ValidationError, `a ValidationError, got ${String(err)}`);
        assert.match(err.message, /Expected `payload/);
      }
      assert.equal(q.getQueueStats().topics.t?.pending ?? 0, 0);
      assert.doesNotThrow(() => JSON.stringify(q.snapshot()));
    });

    it('keeps the message as published when the caller mutates the payload afterwards', async () => {
      const { q } = setup();
      const got: unknown[] = [];
      parkedDurable(q, 't', 'audit');
      const payload: Record<string, unknown> = { n: 1, list: [1, 2], at: new Date(0) };
      const m = await q.publish({ topic: 't', payload });
      payload.n = 2;
      (payload.list as number[]).push(3);
      payload.self = payload;
      assert.deepEqual(m.payload, { n: 1, list: [1, 2], at: '1970-01-01T00:00:00.000Z' });
      const snap = JSON.parse(JSON.stringify(q.snapshot())) as { subscriptions: { messages: { payload: unknown }[] }[] };
      assert.deepEqual(snap.subscriptions[0].messages[0].payload, { n: 1, list: [1, 2], at: '1970-01-01T00:00:00.000Z' });
      q.subscribe('t', (msg) => void got.push(msg.payload), { name: 'audit' });
      await q.whenIdle();
      assert.deepEqual(got, [{ n: 1, list: [1, 2], at: '1970-01-01T00:00:00.000Z' }]);
    });

    it('does not let a handler change the payload another subscriber or the snapshot sees', async () => {
      const { q } = setup();
      const seen: unknown[] = [];
      parkedDurable(q, 't', 'audit');
      q.subscribe<{ list: number[] }>('t', (m) => {
        try {
          m.payload.list.push(99);
        } catch {
          // Frozen: the attempt is refused.
        }
        seen.push(structuredClone(m.payload));
      });
      q.subscribe('t', (m) => void seen.push(structuredClone(m.payload)));
      await q.publish({ topic: 't', payload: { list: [1] } });
      await q.whenIdle();
      assert.deepEqual(seen, [{ list: [1] }, { list: [1] }]);
      const snap = JSON.parse(JSON.stringify(q.snapshot())) as { subscriptions: { messages: { payload: unknown }[] }[] };
      assert.deepEqual(snap.subscriptions[0].messages[0].payload, { list: [1] });
    });
  });

  describe('concurrency', () => {
    for (const burst of [false, true]) {
      it(`runs up to \`concurrency: 4\` handlers at once (${burst ? 'published in one burst' : 'each publish awaited'})`, async () => {
        const { q } = setup();
        let active = 0;
        let peak = 0;
        const gates = Array.from({ length: 6 }, () => deferred());
        q.subscribe<number>(
          't',
          async (m) => {
            active++;
            peak = Math.max(peak, active);
            await gates[m.payload].promise;
            active--;
          },
          { concurrency: 4 },
        );
        // Exactly as many messages as the concurrency: every one of them must be started.
        for (let i = 0; i < 4; i++) {
          const p = q.publish({ topic: 't', payload: i });
          if (!burst) await p;
        }
        await settle();
        assert.equal(active, 4, 'four handlers in flight');
        for (let i = 4; i < 6; i++) await q.publish({ topic: 't', payload: i });
        await settle();
        assert.equal(active, 4, 'no more than four');
        assert.equal(q.getQueueStats().topics.t.inFlight, 4);
        gates[0].resolve();
        await settle();
        assert.equal(active, 4, 'the next message takes the freed slot');
        for (const g of gates) g.resolve();
        await q.whenIdle();
        assert.equal(peak, 4);
        assert.equal(q.getQueueStats().topics.t.acknowledged, 6);
      });
    }
  });

  describe('receipts', () => {
    it('an ack by a caller id shaped like a receipt settles only the message with that id', async () => {
      const acked: string[] = [];
      const { q } = setup({ onAcknowledged: (id) => void acked.push(id) });
      const got: Message[] = [];
      q.subscribe('t', (m) => void got.push(m), { manualAck: true, concurrency: 2 });
      await Promise.all([q.publish({ topic: 't', id: 'job' }), q.publish({ topic: 't', id: 'job@1' })]);
      await settle();
      assert.equal(got.length, 2);
      await q.acknowledge('job@1');
      assert.deepEqual(acked, ['job@1']);
      assert.equal(q.getQueueStats().topics.t.inFlight, 1, '`job` is still in flight');
      for (const m of got) assert.ok(m.receipt !== undefined && m.receipt !== 'job@1' && m.receipt !== 'job');
      await q.acknowledge(got[0].receipt as string);
      assert.deepEqual(acked, ['job@1', 'job']);
    });

    it('refuses a caller id that could be taken for a receipt, naming what is allowed', async () => {
      const { q } = setup();
      q.subscribe('t', () => {});
      const err = await rejection(q.publish({ topic: 't', id: '@1:job' }));
      assert.ok(err instanceof ValidationError);
      assert.match(err.message, /Expected `id` to be .*not starting with `@`.*got `"@1:job"`/);
      assert.equal(q.getQueueStats().topics.t?.published ?? 0, 0);
    });
  });

  describe('backpressure', () => {
    it('refuses a publish with QUEUE_FULL while a subscription holds maxPending messages, enqueues it nowhere, and counts it', async () => {
      const { q } = setup();
      parkedDurable(q, 't', 'audit', { maxPending: 3 });
      const other: unknown[] = [];
      q.subscribe('t', (m) => void other.push(m.payload));
      for (let i = 0; i < 3; i++) await q.publish({ topic: 't', payload: i });
      const err = await rejection(q.publish({ topic: 't', payload: 3 }));
      assert.equal(err.name, 'BackpressureError');
      assert.equal(err.code, 'QUEUE_FULL');
      assert.match(err.message, /`audit`/);
      assert.match(err.message, /3/);
      await q.whenIdle();
      assert.deepEqual(other, [0, 1, 2], 'the refused message reached no subscription');
      const s = q.getQueueStats().topics.t;
      assert.equal(s.published, 3);
      assert.equal((s as unknown as { rejected: number }).rejected, 1);
      assert.equal((q.getQueueStats().totals as unknown as { rejected: number }).rejected, 1);
      assert.equal(q.snapshot().subscriptions[0].messages.length, 3, 'the snapshot holds the bound, no more');
    });

    it('bounds every subscription to 10,000 pending messages by default', async () => {
      const { q } = setup();
      parkedDurable(q, 't', 'audit');
      for (let i = 0; i < 10_000; i++) await q.publish({ topic: 't', payload: i });
      const err = await rejection(q.publish({ topic: 't', payload: 'one more' }));
      assert.equal(err.code, 'QUEUE_FULL');
      assert.equal(q.snapshot().subscriptions[0].messages.length, 10_000);
    });

    it('accepts publishes again once the subscriber has acknowledged', async () => {
      const { q } = setup();
      const gate = deferred();
      const got: unknown[] = [];
      q.subscribe(
        't',
        async (m) => {
          await gate.promise;
          got.push(m.payload);
        },
        { maxPending: 2 },
      );
      await q.publish({ topic: 't', payload: 1 });
      await q.publish({ topic: 't', payload: 2 });
      assert.equal((await rejection(q.publish({ topic: 't', payload: 3 }))).code, 'QUEUE_FULL');
      gate.resolve();
      await q.whenIdle();
      await q.publish({ topic: 't', payload: 4 });
      await q.whenIdle();
      assert.deepEqual(got, [1, 2, 4]);
    });

    it('takes the queue-wide default from the options and lets a subscription choose its own', async () => {
      const { q } = setup({ maxPending: 1 } as MessageQueueOptions);
      parkedDurable(q, 'a', 'small');
      parkedDurable(q, 'b', 'large', { maxPending: 5 });
      await q.publish({ topic: 'a' });
      assert.equal((await rejection(q.publish({ topic: 'a' }))).code, 'QUEUE_FULL');
      for (let i = 0; i < 5; i++) await q.publish({ topic: 'b' });
      assert.equal((await rejection(q.publish({ topic: 'b' }))).code, 'QUEUE_FULL');
    });

    it('refuses a maxPending that is not a positive integer', () => {
      const { q } = setup();
      for (const bad of [0, -1, 1.5, Number.NaN, '10', Infinity]) {
        assert.throws(
          () => new MessageQueue({ maxPending: bad } as unknown as MessageQueueOptions),
          (e: unknown) => e instanceof ValidationError && /Expected `maxPending` to be a positive integer/.test(e.message),
        );
        assert.throws(
          () => q.subscribe('t', () => {}, { maxPending: bad } as unknown as Record<string, never>),
          (e: unknown) => e instanceof ValidationError && /Expected `maxPending` to be a positive integer/.test(e.message),
        );
      }
      assert.equal(q.getQueueStats().subscribers, 0, 'nothing subscribed');
    });

    it('restores a snapshot holding more than the bound whole, refuses publishes until it drains, and keeps `rejected`', async () => {
      const { q } = setup({ maxPending: 2 } as MessageQueueOptions);
      const payload = { n: [1] };
      const messages = [0, 1, 2].map((i) => ({ id: `m${i}`, topic: 't', publishedAt: 0, deliveries: 0, payload }));
      q.restore({
        version: 1,
        savedAt: 0,
        subscriptions: [{ name: 'audit', pattern: 't', messages }],
        counters: { t: { published: 3, delivered: 0, acknowledged: 0, redelivered: 0, deadLettered: 0, rejected: 4 } },
      });
      payload.n.push(2);
      assert.equal(q.snapshot().subscriptions[0].messages.length, 3, 'nothing saved is dropped');
      assert.deepEqual(q.snapshot().subscriptions[0].messages[0].payload, { n: [1] }, 'restored payloads are copies');
      assert.equal((await rejection(q.publish({ topic: 't' }))).code, 'QUEUE_FULL');
      assert.equal(q.snapshot().counters.t.rejected, 5);
      const got: string[] = [];
      q.subscribe('t', (m) => void got.push(m.id), { name: 'audit' });
      await q.whenIdle();
      assert.deepEqual(got, ['m0', 'm1', 'm2']);
      await q.publish({ topic: 't', id: 'after' });
    });

    it('refuses a saved message whose id starts with `@` or whose payload is not JSON, changing nothing', () => {
      const { q } = setup();
      const snap = (m: Record<string, unknown>): unknown => ({
        version: 1,
        savedAt: 0,
        subscriptions: [{ name: 'd', pattern: 't', messages: [{ id: 'm', topic: 't', publishedAt: 0, deliveries: 0, ...m }] }],
        counters: {},
      });
      assert.throws(() => q.restore(snap({ id: '@1:m' })), /Expected `snapshot\.subscriptions\[0\]\.messages\[0\]\.id` to be .*not starting with `@`/);
      assert.throws(
        () => q.restore(snap({ payload: { x: { toJSON: cycle } } })),
        /Expected `snapshot\.subscriptions\[0\]\.messages\[0\]\.payload` to be JSON-serialisable, but `snapshot\.subscriptions\[0\]\.messages\[0\]\.payload\.x\.self` is a cycle/,
      );
      assert.deepEqual(q.snapshot().subscriptions, []);
    });

    it('drops a dead letter a full dead-letter subscription cannot take, reports it and counts it', async () => {
      const { q, clock, errors } = setup({ maxDeliveries: 1 });
      parkedDurable(q, 'dead-letter', 'dlq', { maxPending: 1 });
      q.subscribe('t', () => {
        throw new Error('down');
      });
      await q.publish({ topic: 't', payload: 1 });
      await q.publish({ topic: 't', payload: 2 });
      await settle();
      await clock.advance(1000);
      await q.whenIdle();
      const held = q.snapshot().subscriptions[0].messages;
      assert.equal(held.length, 1);
      assert.equal((held[0].payload as DeadLetter).message.payload, 1);
      assert.equal(errors.length, 1);
      assert.match(String(errors[0]), /Dropped the dead letter of `.+` \(failed for `#2`\): subscription `dlq` of `dead-letter` is full \(`maxPending` 1\)/);
      assert.equal((q.getQueueStats().topics['dead-letter'] as unknown as { rejected: number }).rejected, 1);
    });
  });
});
