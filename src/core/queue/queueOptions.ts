// The queue's options and a subscription's, checked and with their defaults applied. A refused
// option throws a ValidationError before anything is created or changed.
import { fieldError } from '../model/errors';
import { systemClock, type Clock } from '../ports';
import { MAX_TOPIC_LENGTH, checkTopic, nonNegativeNumber, optionalFunction, positiveInteger, positiveNumber } from './queueInput';
import type { SubscribeOptions } from './queueTypes';

export interface MessageQueueOptions {
  clock?: Clock;
  /** Deliveries of one message to one subscriber before it is dead-lettered. Default 5. */
  maxDeliveries?: number;
  /** A delivery not acknowledged after this long is redelivered. Default 30 000 ms. */
  ackTimeoutMs?: number;
  /** Base of the exponential backoff: redelivery n waits base * 2^(n-1) ms, capped. Default 1000 ms. */
  redeliveryDelayMs?: number;
  /** Ceiling of any single backoff. Default 60 000 ms. */
  maxRedeliveryDelayMs?: number;
  /** Where messages go after their last failed delivery. Default 'dead-letter'. */
  deadLetterTopic?: string;
  /**
   * Unacknowledged messages one subscription may hold before publishes to it are refused with a
   * BackpressureError; a subscription may set its own. Default 10 000.
   */
  maxPending?: number;
  /** Errors nobody else can see: a dropped dead letter, a failing change listener. Default console.error. */
  onError?: (err: unknown) => void;
  /**
   * Called once per acknowledged copy with the time from publish to ack: the Performance Monitor's
   * `recordMessageProcessing` feed. Must not throw.
   */
  onAcknowledged?: (messageId: string, topic: string, latencyMs: number) => void;
}

export type AckListener = NonNullable<MessageQueueOptions['onAcknowledged']>;

/** The queue's options, checked, with every default applied. */
export interface QueueSettings {
  readonly clock: Clock;
  readonly maxDeliveries: number;
  readonly ackTimeoutMs: number;
  readonly redeliveryDelayMs: number;
  readonly maxRedeliveryDelayMs: number;
  readonly deadLetterTopic: string;
  readonly maxPending: number;
  readonly onError: (err: unknown) => void;
  readonly onAcknowledged: AckListener | undefined;
}

export const DEFAULT_MAX_PENDING = 10_000;

export function resolveQueueOptions(options: MessageQueueOptions): QueueSettings {
  if (typeof options !== 'object' || options === null) throw fieldError('options', 'an object', options);
  const clock = options.clock ?? systemClock;
  const maxDeliveries = positiveInteger(options.maxDeliveries, 'maxDeliveries', 5);
  const ackTimeoutMs = positiveNumber(options.ackTimeoutMs, 'ackTimeoutMs', 30_000);
  const redeliveryDelayMs = nonNegativeNumber(options.redeliveryDelayMs, 'redeliveryDelayMs', 1000);
  const maxRedeliveryDelayMs = nonNegativeNumber(options.maxRedeliveryDelayMs, 'maxRedeliveryDelayMs', 60_000);
  const maxPending = positiveInteger(options.maxPending, 'maxPending', DEFAULT_MAX_PENDING);
  const deadLetterTopic = options.deadLetterTopic ?? 'dead-letter';
  checkTopic(deadLetterTopic, false, 'deadLetterTopic');
  const onError = optionalFunction<(err: unknown) => void>(options.onError, 'onError') ?? ((err: unknown) => console.error(err));
  const onAcknowledged = optionalFunction<AckListener>(options.onAcknowledged, 'onAcknowledged');
  return { clock, maxDeliveries, ackTimeoutMs, redeliveryDelayMs, maxRedeliveryDelayMs, deadLetterTopic, maxPending, onError, onAcknowledged };
}

/** A subscription's options, checked, with the queue's defaults applied. */
export interface SubscriptionSettings {
  readonly name: string | undefined;
  readonly manualAck: boolean;
  readonly concurrency: number;
  readonly ackTimeoutMs: number;
  readonly maxDeliveries: number;
  readonly maxPending: number;
}

export function resolveSubscribeOptions(options: SubscribeOptions, queue: QueueSettings): SubscriptionSettings {
  if (typeof options !== 'object' || options === null) throw fieldError('options', 'an object', options);
  const name = options.name;
  if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > MAX_TOPIC_LENGTH)) {
    throw fieldError('name', `a non-empty string of at most ${MAX_TOPIC_LENGTH} characters`, name);
  }
  if (options.manualAck !== undefined && typeof options.manualAck !== 'boolean') {
    throw fieldError('manualAck', 'a boolean', options.manualAck);
  }
  return {
    name,
    manualAck: options.manualAck === true,
    concurrency: positiveInteger(options.concurrency, 'concurrency', 1),
    ackTimeoutMs: positiveNumber(options.ackTimeoutMs, 'ackTimeoutMs', queue.ackTimeoutMs),
    maxDeliveries: positiveInteger(options.maxDeliveries, 'maxDeliveries', queue.maxDeliveries),
    maxPending: positiveInteger(options.maxPending, 'maxPending', queue.maxPending),
  };
}
