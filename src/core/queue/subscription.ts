// The queue's bookkeeping objects: a topic's counters, a subscription, and one subscriber's copy
// of one message (an Entry). Plain data; the queue's modules change them, this file only defines
// them and their invariants.
import type { MessageHandler } from './queueTypes';

export const PENDING = 0;
export const IN_FLIGHT = 1;
export const DONE = 2;
export type EntryState = typeof PENDING | typeof IN_FLIGHT | typeof DONE;

/** Seconds in the window `processingRate` is measured over. */
export const RATE_WINDOW_S = 60;

/** Counters and gauges of one published topic (not of a subscription pattern). */
export class TopicState {
  published = 0;
  delivered = 0;
  acknowledged = 0;
  /** Copies waiting for delivery (first or again), parked ones included. */
  pending = 0;
  inFlight = 0;
  redelivered = 0;
  deadLettered = 0;
  rejected = 0;
  /** The subscriptions matching this topic, valid while `matchGen` equals the router's `generation`. */
  matches: Subscription[] = [];
  matchGen = -1;
  // Acks per whole second, a ring of RATE_WINDOW_S slots; allocated on the first ack only, so
  // topics nobody consumes cost nothing.
  ackSecond: Float64Array | undefined;
  ackCount: Uint32Array | undefined;
}

export interface Subscription {
  readonly id: number;
  /** The durable name, or `#<id>` for an anonymous subscription; used in dead letters. */
  readonly key: string;
  readonly name: string | undefined;
  pattern: string;
  /** `undefined`: the pattern is an exact topic; '' matches every topic; else a topic prefix. */
  prefix: string | undefined;
  /** Absent while a durable subscription is detached (its messages are parked). */
  handler: MessageHandler<unknown> | undefined;
  manualAck: boolean;
  ackTimeoutMs: number;
  maxDeliveries: number;
  concurrency: number;
  /** Bound on `entries.size` that a publish may not exceed. */
  maxPending: number;
  /** Copies waiting for a worker, in arrival order: fifo[head], fifo[head + 1], ... */
  fifo: Entry[];
  head: number;
  /** Workers of the current attachment draining `fifo`; never more than `concurrency`. */
  workers: number;
  /**
   * Of those workers, the ones holding a copy (delivering it or waiting for its outcome); the
   * others are about to take from `fifo`. A new worker is needed only for copies the free ones
   * will not take.
   */
  busy: number;
  /** Bumped on every attach and detach: delivery loops of an older attachment stop. */
  attachment: number;
  /** Every copy not yet acknowledged or dead-lettered, in arrival order (Set keeps insertion order). */
  readonly entries: Set<Entry>;
}

/** What a new subscription starts with; the rest is set when a subscriber attaches. */
export interface SubscriptionInit {
  id: number;
  name: string | undefined;
  pattern: string;
  ackTimeoutMs: number;
  maxDeliveries: number;
  concurrency: number;
  maxPending: number;
}

/** A detached subscription holding nothing yet. */
export function createSubscription(init: SubscriptionInit): Subscription {
  return {
    id: init.id,
    key: init.name ?? `#${init.id}`,
    name: init.name,
    pattern: init.pattern,
    prefix: patternPrefix(init.pattern),
    handler: undefined,
    manualAck: false,
    ackTimeoutMs: init.ackTimeoutMs,
    maxDeliveries: init.maxDeliveries,
    concurrency: init.concurrency,
    maxPending: init.maxPending,
    fifo: [],
    head: 0,
    workers: 0,
    busy: 0,
    attachment: 0,
    entries: new Set(),
  };
}

/** One subscriber's copy of one message. */
export interface Entry {
  readonly sub: Subscription;
  readonly topic: TopicState;
  readonly id: string;
  readonly topicName: string;
  readonly payload: unknown;
  readonly publishedAt: number;
  deliveries: number;
  state: EntryState;
  /** Identifies the current delivery attempt; outcomes of older attempts are recognised as stale. */
  attempt: number;
  /** Wakes the delivery loop: true when acknowledged, false when it should look again. */
  wake: ((acked: boolean) => void) | undefined;
  /** The ack timer while in flight, the backoff timer while waiting to be redelivered. */
  timer: unknown;
  lastError: unknown;
  /** Set for manual-ack subscriptions: the key `acknowledge` accepts to settle this copy alone; starts with `@`. */
  receipt: string | undefined;
}

/** `task.*` -> `task.`, `*` -> '', an exact topic -> undefined. */
export function patternPrefix(pattern: string): string | undefined {
  return pattern.endsWith('*') ? pattern.slice(0, -1) : undefined;
}

export function matches(sub: Subscription, topic: string): boolean {
  return sub.prefix === undefined ? sub.pattern === topic : topic.startsWith(sub.prefix);
}
