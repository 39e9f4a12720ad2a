// The shapes of the Message Queue Service (the seed's `MessageQueue`). Implemented in messageQueue.ts.
import type { Disposable } from '../util/events';

export interface Message<T = unknown> {
  /** Unique per message; redeliveries keep it, so handlers can drop duplicates (at-least-once). */
  id: string;
  topic: string;
  /** A deep-frozen JSON copy made at publish: later changes to the published object do not reach it. */
  payload: T;
  publishedAt: number;
  /** 1 on first delivery to a subscriber, then 2, 3... */
  delivery?: number;
  /**
   * On copies delivered to a manual-ack subscription: identifies this one copy, for
   * `acknowledge`/`nack` when several manual-ack subscriptions hold the same message. Always
   * starts with `@`, which message ids never do.
   */
  receipt?: string;
}

export interface PublishInput<T = unknown> {
  topic: string;
  payload?: T;
  /**
   * Optional caller-chosen id; generated when absent. It may not start with `@`: that marks a
   * receipt, so `acknowledge` can never take one for the other.
   */
  id?: string;
}

export type MessageHandler<T = unknown> = (message: Message<T>) => unknown;

export interface SubscribeOptions {
  /**
   * A durable subscription: its unacknowledged messages are persisted and delivered again when a
   * subscriber with the same name subscribes after a restart. Anonymous subscriptions are not persisted.
   */
  name?: string;
  /** The handler calls `acknowledge(message.id)` itself instead of acknowledging by returning. */
  manualAck?: boolean;
  /** Messages of this subscription handled at once; in order when 1 (the default). */
  concurrency?: number;
  /** Unacknowledged after this long, the message is redelivered. Default 30 s. */
  ackTimeoutMs?: number;
  /** After this many deliveries the message goes to the dead-letter topic. Default 5. */
  maxDeliveries?: number;
  /**
   * Unacknowledged messages (pending, in flight or parked) this subscription may hold. A publish
   * that would exceed it is refused with a `BackpressureError` (`QUEUE_FULL`) and reaches no
   * subscription. Default: the queue's `maxPending` (10 000).
   */
  maxPending?: number;
}

export interface TopicStats {
  published: number;
  delivered: number;
  acknowledged: number;
  /** Waiting for delivery to some subscriber. */
  pending: number;
  /** Delivered and not yet acknowledged. */
  inFlight: number;
  redelivered: number;
  deadLettered: number;
  /** Messages refused because a subscription was at its `maxPending` bound (publishes and dead letters). */
  rejected: number;
  /** Acknowledged messages per second over the last minute. */
  processingRate: number;
}

export interface QueueStats {
  topics: Record<string, TopicStats>;
  totals: TopicStats;
  subscribers: number;
}

export interface MessageQueueApi {
  publish<T>(message: PublishInput<T>): Promise<Message<T>>;
  subscribe<T>(topic: string, handler: MessageHandler<T>, options?: SubscribeOptions): Disposable;
  acknowledge(messageId: string): Promise<void>;
  getQueueStats(): QueueStats;
}
