// The queue's persistence: what survives a restart (the unacknowledged copies of durable
// subscriptions and the cumulative counters), how it is taken and how it is put back.
import type { Clock } from '../ports';
import type { Delivery } from './delivery';
import type { QueueSettings } from './queueOptions';
import { createSubscription } from './subscription';
import type { TopicRouter } from './topicRouter';
import { addCounts, PERSISTED_COUNTS, pickCounts } from './topicCounters';

/** A message held for a durable subscription, as persisted. */
export interface QueueSnapshotMessage {
  id: string;
  topic: string;
  payload?: unknown;
  publishedAt: number;
  /** Deliveries already made; the next one is numbered deliveries + 1. */
  deliveries: number;
}

export interface QueueSnapshotSubscription {
  name: string;
  pattern: string;
  /** Unacknowledged messages in the order they were published to the subscription. */
  messages: QueueSnapshotMessage[];
}

/** A topic's cumulative counts. `rejected` is absent in snapshots written before the bound existed; read as 0. */
export type QueueSnapshotCounters = Record<(typeof PERSISTED_COUNTS)[number], number>;

/**
 * What survives a restart: the unacknowledged messages of durable (named) subscriptions and the
 * cumulative counters. JSON, always: payloads are deep-frozen JSON copies made at publish (or at
 * restore), so building and serialising a snapshot cannot throw. Bounded: each subscription holds
 * at most its `maxPending` messages (more only when restored from a snapshot that held more).
 */
export interface QueueSnapshot {
  version: 1;
  savedAt: number;
  subscriptions: QueueSnapshotSubscription[];
  counters: Record<string, QueueSnapshotCounters>;
}

/** The durable state of `router`'s subscriptions and topics. Anonymous subscriptions are left out. */
export function takeQueueSnapshot(router: TopicRouter, clock: Clock): QueueSnapshot {
  const subscriptions: QueueSnapshotSubscription[] = [];
  for (const sub of router.durables.values()) {
    const messages: QueueSnapshotMessage[] = [];
    for (const e of sub.entries) {
      const m: QueueSnapshotMessage = { id: e.id, topic: e.topicName, publishedAt: e.publishedAt, deliveries: e.deliveries };
      if (e.payload !== undefined) m.payload = e.payload;
      messages.push(m);
    }
    subscriptions.push({ name: sub.key, pattern: sub.pattern, messages });
  }
  const counters: Record<string, QueueSnapshotCounters> = {};
  for (const [name, t] of router.topics) {
    counters[name] = pickCounts(t, PERSISTED_COUNTS);
  }
  return { version: 1, savedAt: clock.now(), subscriptions, counters };
}

/**
 * Adds a validated snapshot to the queue: counters are added to the topics'; each durable
 * subscription (created detached when the queue has none by that name) gets the messages whose id
 * it does not already hold, in their order, with their delivery counts.
 */
export function restoreQueueSnapshot(snap: QueueSnapshot, router: TopicRouter, delivery: Delivery, settings: QueueSettings): void {
  for (const [name, c] of Object.entries(snap.counters)) {
    addCounts(router.topicState(name), c, PERSISTED_COUNTS);
  }
  for (const s of snap.subscriptions) {
    let sub = router.durables.get(s.name);
    if (!sub) {
      sub = createSubscription({
        id: router.newSubscriptionId(),
        name: s.name,
        pattern: s.pattern,
        ackTimeoutMs: settings.ackTimeoutMs,
        maxDeliveries: settings.maxDeliveries,
        concurrency: 1,
        maxPending: settings.maxPending,
      });
      router.add(sub);
    }
    const held = new Set<string>();
    for (const e of sub.entries) held.add(e.id);
    for (const m of s.messages) {
      if (held.has(m.id)) continue;
      delivery.enqueue(sub, router.topicState(m.topic), m.topic, m.id, m.payload, m.publishedAt, m.deliveries);
    }
  }
}
