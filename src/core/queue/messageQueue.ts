// The Message Queue Service: in-process topics with at-least-once delivery, ack/nack, redelivery
// with exponential backoff, a dead-letter topic, per-topic statistics and durable subscriptions
// that survive a restart through snapshot()/restore(). This class is the facade; each job lives in
// its own module of this folder:
//   queueInput / queueOptions   checks of what callers hand the queue, and the defaults
//   jsonCopy                    the frozen JSON copy of a payload
//   subscription / topicRouter  the bookkeeping objects, and which subscriptions a topic reaches
//   workers / delivery          a subscription's workers; a copy's delivery, redelivery, dead letter
//   manualAcks / deadLetter     copies awaiting a manual ack; the dead letter's shape
//   queueStats                  the rate window and `getQueueStats`
//   queueSnapshot(Check)        what survives a restart, and the check of an untrusted snapshot
import { nanoid } from 'nanoid';
import { BackpressureError, OrchestratorError, ValidationError, fieldError } from '../model/errors';
import { Emitter, toDisposable, type Disposable, type Event } from '../util/events';
import type { Message, MessageHandler, MessageQueueApi, PublishInput, QueueStats, SubscribeOptions } from './queueTypes';
import { Delivery } from './delivery';
import { frozenJsonCopy, payloadError } from '../model/jsonValue';
import { WANT_ID, checkTopic, idProblem, isReceipt, topicProblem } from './queueInput';
import { resolveQueueOptions, resolveSubscribeOptions, type MessageQueueOptions, type QueueSettings } from './queueOptions';
import { buildQueueStats } from './queueStats';
import { restoreQueueSnapshot, takeQueueSnapshot, type QueueSnapshot } from './queueSnapshot';
import { validateQueueSnapshot } from './queueSnapshotCheck';
import { DONE, createSubscription, patternPrefix, type Subscription } from './subscription';
import { TopicRouter } from './topicRouter';

export type { DeadLetter } from './deadLetter';
export type { MessageQueueOptions } from './queueOptions';
export type { QueueSnapshot, QueueSnapshotCounters, QueueSnapshotMessage, QueueSnapshotSubscription } from './queueSnapshot';

/**
 * In-process publish/subscribe with at-least-once delivery.
 *
 * - Topics are exact strings; a subscription pattern is a topic, `prefix.*` (every topic starting
 *   with `prefix.`) or `*` (every topic).
 * - Every subscription gets its own copy of every matching message. Handlers run asynchronously,
 *   never inside `publish`. A handler that returns (or whose promise resolves) acknowledges; with
 *   `manualAck` it calls `acknowledge(message.id)` (or `nack`) itself.
 * - A handler that throws, rejects, is nacked, or does not acknowledge within its ack timeout gets
 *   the message again after base * 2^(n-1) ms; after `maxDeliveries` deliveries it goes to the
 *   dead-letter topic as a {@link DeadLetter}. A message may therefore be handled more than once:
 *   its `id` is stable across redeliveries so handlers can drop duplicates.
 * - Order: per subscription, messages are started in publish order, at most `concurrency` at a
 *   time: `concurrency` workers take copies from one FIFO. A message waiting for its redelivery
 *   keeps its worker, so with concurrency 1 a subscription sees its messages strictly in order,
 *   and a failing message holds back the ones behind it until it is acknowledged or
 *   dead-lettered (see workers.ts).
 * - Publishing to a topic nobody subscribes to only counts the message: nothing is kept.
 * - A payload is copied to JSON at publish (toJSON applied, as JSON.stringify would) and the copy is
 *   deep-frozen: changes to the published object afterwards, or by one handler, reach no
 *   subscriber and no snapshot. A payload that cannot be copied is refused at publish.
 * - Backpressure: a subscription holds at most `maxPending` unacknowledged copies. A publish
 *   that would exceed that bound for any matching subscription is refused whole with a
 *   BackpressureError (`QUEUE_FULL`) and counted as `rejected`; a dead letter that a full
 *   dead-letter subscription cannot take is dropped, reported to `onError` and counted.
 */
export class MessageQueue implements MessageQueueApi, Disposable {
  private readonly settings: QueueSettings;
  private readonly router = new TopicRouter();
  private readonly delivery: Delivery;
  private seq = 0;
  private readonly idPrefix = `${nanoid(10)}-`;
  private readonly startedAt: number;
  private changeQueued = false;
  private readonly changeEmitter: Emitter<void>;

  /** Something `snapshot()` holds changed. Fired at most once per microtask turn. */
  readonly onDidChange: Event<void>;

  constructor(options: MessageQueueOptions = {}) {
    this.settings = resolveQueueOptions(options);
    this.delivery = new Delivery(
      this.settings,
      this.router,
      () => this.changed(),
      () => this.newId(),
    );
    this.changeEmitter = new Emitter<void>(this.settings.onError);
    this.onDidChange = this.changeEmitter.event;
    this.startedAt = this.settings.clock.now();
  }

  private get disposed(): boolean {
    return this.delivery.stopped;
  }

  private newId(): string {
    return this.idPrefix + (this.seq++).toString(36);
  }

  // ---------------------------------------------------------------- publish

  /**
   * Publishes to every matching subscription and resolves with the message as stored (its payload
   * the frozen JSON copy). Rejects, changing nothing, with a ValidationError for an empty, over-long
   * or wildcard topic, an id that is not a non-empty string or starts with `@`, or a payload that is
   * not JSON (functions, symbols, bigints, NaN, class instances without `toJSON`, cycles, also
   * through `toJSON`, or a getter or proxy that throws); with a BackpressureError (`QUEUE_FULL`)
   * when a matching subscription already holds its `maxPending` unacknowledged messages.
   */
  publish<T>(input: PublishInput<T>): Promise<Message<T>> {
    if (this.disposed) return Promise.reject(disposedError());
    if (typeof input !== 'object' || input === null) {
      return Promise.reject(fieldError('message', 'an object', input));
    }
    const topic = input.topic;
    const problem = topicProblem(topic, false);
    if (problem) return Promise.reject(fieldError('topic', problem, topic));
    let id = input.id;
    if (id === undefined) {
      id = this.newId();
    } else if (idProblem(id)) {
      return Promise.reject(fieldError('id', WANT_ID, id));
    }
    let payload: unknown;
    try {
      payload = frozenJsonCopy(input.payload);
    } catch (err) {
      return Promise.reject(payloadError(err, 'payload'));
    }
    const t = this.router.topicState(topic);
    const subs = this.router.matching(t, topic);
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i]!;
      if (s.entries.size >= s.maxPending) {
        t.rejected++;
        this.changed();
        return Promise.reject(new BackpressureError(topic, s.key, s.maxPending));
      }
    }
    return Promise.resolve(this.delivery.fanOut(topic, id, payload) as Message<T>);
  }

  /**
   * Whether a message published to `topic` now would reach anyone: an attached subscriber, or a
   * detached durable one that collects it. O(1) while subscriptions do not change. Lets a
   * publisher skip building a payload nobody will read (then call `count`).
   */
  hasSubscribers(topic: string): boolean {
    if (typeof topic !== 'string') return false;
    return this.router.matching(this.router.topicState(topic), topic).length > 0;
  }

  /**
   * Counts a publish to a topic nobody subscribes to, without a message: the stats are those of a
   * `publish` there. Returns false and counts nothing when the topic has subscribers (publish to
   * them instead) or the queue is disposed; throws a ValidationError for a bad topic.
   */
  count(topic: string): boolean {
    checkTopic(topic, false, 'topic');
    if (!this.quietCounter(topic)()) return false;
    this.changed();
    return true;
  }

  /**
   * `count` for one topic the caller knows is valid and counts very often (the orchestrator's
   * `task.*`): the topic's state is looked up once, and the count does not fire onDidChange,
   * because the caller marks its own state dirty in the same call.
   */
  quietCounter(topic: string): () => boolean {
    const t = this.router.topicState(topic);
    const router = this.router;
    const delivery = this.delivery;
    return () => {
      if (delivery.stopped || router.matching(t, topic).length > 0) return false;
      t.published++;
      return true;
    };
  }

  // ---------------------------------------------------------------- subscribe

  /**
   * Delivers every message published from now on to a topic matching `pattern` (`a.b`, `a.*`, `*`).
   * With `options.name` the subscription is durable: disposing it parks its unacknowledged
   * messages (and keeps collecting new ones) until a subscriber with the same name comes back, in
   * this queue or in one restored from its snapshot. Only one subscriber per name at a time.
   */
  subscribe<T>(pattern: string, handler: MessageHandler<T>, options: SubscribeOptions = {}): Disposable {
    if (this.disposed) throw disposedError();
    checkTopic(pattern, true, 'topic');
    if (typeof handler !== 'function') throw fieldError('handler', 'a function', handler);
    const o = resolveSubscribeOptions(options, this.settings);
    const name = o.name;
    let sub = name === undefined ? undefined : this.router.durables.get(name);
    if (sub?.handler) throw new ValidationError(`A subscriber named \`${name}\` is already subscribed`, 'name');
    if (!sub) {
      sub = createSubscription({
        id: this.router.newSubscriptionId(),
        name,
        pattern,
        ackTimeoutMs: o.ackTimeoutMs,
        maxDeliveries: o.maxDeliveries,
        concurrency: o.concurrency,
        maxPending: o.maxPending,
      });
      this.router.add(sub);
    }
    sub.pattern = pattern;
    sub.prefix = patternPrefix(pattern);
    sub.manualAck = o.manualAck;
    sub.ackTimeoutMs = o.ackTimeoutMs;
    sub.maxDeliveries = o.maxDeliveries;
    sub.handler = handler as MessageHandler<unknown>;
    sub.concurrency = o.concurrency;
    sub.maxPending = o.maxPending;
    sub.fifo = [];
    sub.head = 0;
    sub.workers = 0;
    sub.busy = 0;
    const attachment = ++sub.attachment;
    // A returning durable subscriber may bring another pattern: cached routes expire.
    this.router.generation++;
    this.delivery.attach(sub);
    if (name !== undefined) this.changed();
    const s: Subscription = sub;
    return toDisposable(() => {
      if (s.attachment === attachment) this.delivery.detach(s);
    });
  }

  /**
   * Forgets a durable subscription and its parked messages. Returns false when there is none by
   * that name; throws while a subscriber with that name is attached.
   */
  deleteDurable(name: string): boolean {
    const sub = this.router.durables.get(name);
    if (!sub) return false;
    if (sub.handler) throw new ValidationError(`Cannot delete durable subscription \`${name}\` while it is subscribed`, 'name');
    for (const e of sub.entries) {
      e.topic.pending--;
      e.state = DONE;
    }
    sub.entries.clear();
    this.router.remove(sub);
    this.changed();
    return true;
  }

  // ---------------------------------------------------------------- ack / nack

  /**
   * Acknowledges a manual-ack delivery. Accepts `message.id`, which settles every copy of that
   * message awaiting a manual acknowledgement, or `message.receipt`, which settles that one copy
   * (use it when two manual-ack subscriptions receive the same message). Receipts start with `@`
   * and ids never do, so neither can be taken for the other. A late ack, arriving
   * while the message waits for its redelivery, still counts. Unknown ids are ignored: with
   * at-least-once delivery a second ack of the same message is normal.
   */
  acknowledge(messageId: string): Promise<void> {
    if (typeof messageId !== 'string') return Promise.reject(fieldError('messageId', 'a string', messageId));
    for (const e of this.delivery.manual.lookup(messageId, isReceipt(messageId))) this.delivery.ack(e);
    return Promise.resolve();
  }

  /**
   * Rejects a manual-ack delivery in flight (by message id or receipt, as for `acknowledge`): it is
   * redelivered after its backoff, or dead-lettered with `error` when it has had its deliveries.
   */
  nack(messageId: string, error?: unknown): Promise<void> {
    if (typeof messageId !== 'string') return Promise.reject(fieldError('messageId', 'a string', messageId));
    const reason = error ?? new Error('Negatively acknowledged');
    for (const e of this.delivery.manual.lookup(messageId, isReceipt(messageId))) this.delivery.fail(e, e.attempt, reason);
    return Promise.resolve();
  }

  // ---------------------------------------------------------------- stats

  /**
   * Per topic and in total. Counts are per subscriber copy: a message published once to a topic
   * with two subscribers is delivered and acknowledged twice. `pending` includes copies waiting
   * for a redelivery and those parked for a detached durable subscriber. `processingRate` is the
   * acknowledgements of the last 60 whole seconds divided by 60 s, or by the queue's age in
   * seconds (at least 1) while it is younger than that. `rejected` counts messages refused at a
   * subscription's `maxPending` bound.
   */
  getQueueStats(): QueueStats {
    return buildQueueStats(this.router.topics, this.router.attachedCount(), this.settings.clock.now(), this.startedAt);
  }

  // ---------------------------------------------------------------- persistence and lifecycle

  /** The durable state, as JSON. Messages of anonymous subscriptions are not included. */
  snapshot(): QueueSnapshot {
    return takeQueueSnapshot(this.router, this.settings.clock);
  }

  /**
   * Loads a snapshot (typically into a fresh queue, before subscribers come). Validates all of it
   * first: on a ValidationError nothing has changed. Counters are added to this queue's; each
   * durable subscription's messages (those whose id it does not already hold) are parked for it
   * and delivered, in their original order, when a subscriber with that name subscribes (at once
   * if one already has). Delivery counts carry over, so a poison message still reaches the dead
   * letter topic after `maxDeliveries` in all. Payloads are copied and frozen as at publish. The
   * `maxPending` bound is not applied: a snapshot holding more than it is restored whole (nothing
   * saved is dropped) and publishes to that subscription are refused until it is below its bound.
   */
  restore(snapshot: unknown): void {
    if (this.disposed) throw disposedError();
    restoreQueueSnapshot(validateQueueSnapshot(snapshot), this.router, this.delivery, this.settings);
    this.changed();
  }

  /** Resolves when no attached subscription has a message pending or in flight. Parked messages of detached durable subscriptions do not count. */
  whenIdle(): Promise<void> {
    return this.delivery.whenIdle();
  }

  private changed(): void {
    if (this.changeQueued || !this.changeEmitter.hasListeners) return;
    this.changeQueued = true;
    queueMicrotask(this.fireChange);
  }

  private readonly fireChange = (): void => {
    this.changeQueued = false;
    if (!this.disposed) this.changeEmitter.fire();
  };

  /**
   * Stops all deliveries and clears every timer. Unacknowledged messages stay where they are, so a
   * final `snapshot()` still holds them; acks that arrive afterwards are still counted.
   */
  dispose(): void {
    if (this.disposed) return;
    this.delivery.stop();
    this.changeEmitter.dispose();
  }
}

function disposedError(): OrchestratorError {
  return new OrchestratorError('DISPOSED', 'The message queue has been disposed');
}
