// The Message Queue Service: in-process topics with at-least-once delivery, ack/nack, redelivery
// with exponential backoff, a dead-letter topic, per-topic statistics and durable subscriptions
// that survive a restart through snapshot()/restore().
import { nanoid } from 'nanoid';
import { BackpressureError, OrchestratorError, TimeoutError, ValidationError, describeValue } from '../model/errors';
import { Emitter, toDisposable, type Disposable, type Event } from '../util/events';
import { systemClock, type Clock } from '../ports';
import type { Message, MessageHandler, MessageQueueApi, PublishInput, QueueStats, SubscribeOptions, TopicStats } from './queueTypes';

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

export interface QueueSnapshotCounters {
  published: number;
  delivered: number;
  acknowledged: number;
  redelivered: number;
  deadLettered: number;
  /** Absent in snapshots written before the bound existed; read as 0. */
  rejected: number;
}

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

/** Dead-letter payload: the message as last delivered, why it failed, and to whom. */
export interface DeadLetter {
  message: Message;
  error: { name: string; message: string; code?: string };
  subscription: string;
}

const MAX_TOPIC_LENGTH = 200;
const DEFAULT_MAX_PENDING = 10_000;
const MAX_JSON_DEPTH = 64;
const RATE_WINDOW_S = 60;
/** Deliveries a worker makes before it lets the event loop run timers and I/O. */
const YIELD_EVERY = 256;

const PENDING = 0;
const IN_FLIGHT = 1;
const DONE = 2;
type EntryState = typeof PENDING | typeof IN_FLIGHT | typeof DONE;

/** Counters and gauges of one published topic (not of a subscription pattern). */
class TopicState {
  published = 0;
  delivered = 0;
  acknowledged = 0;
  pending = 0;
  inFlight = 0;
  redelivered = 0;
  deadLettered = 0;
  rejected = 0;
  /** The subscriptions matching this topic, valid while `matchGen` equals the queue's `subGen`. */
  matches: Subscription[] = [];
  matchGen = -1;
  // Acks per whole second, a ring of RATE_WINDOW_S slots; allocated on the first ack only, so
  // topics nobody consumes cost nothing.
  ackSecond: Float64Array | undefined;
  ackCount: Uint32Array | undefined;
}

interface Subscription {
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

/** One subscriber's copy of one message. */
interface Entry {
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
 *   dead-lettered. (Not p-limit: a limiter call costs three promises and two closures per
 *   message, which held delivery to ~70k/s; a worker handles a handler that returns
 *   synchronously without any promise at all.)
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
  private readonly clock: Clock;
  private readonly maxDeliveries: number;
  private readonly ackTimeoutMs: number;
  private readonly redeliveryDelayMs: number;
  private readonly maxRedeliveryDelayMs: number;
  private readonly deadLetterTopic: string;
  private readonly maxPending: number;
  private readonly onError: (err: unknown) => void;

  private readonly topics = new Map<string, TopicState>();
  /** Attached subscriptions and detached durable ones (which keep collecting messages). */
  private readonly subs = new Set<Subscription>();
  private readonly durables = new Map<string, Subscription>();
  /** Manual-ack copies not yet settled, by message id and by receipt. */
  private readonly manualById = new Map<string, Entry[]>();
  private readonly manualByReceipt = new Map<string, Entry>();
  private subGen = 0;
  private nextSubId = 1;
  private seq = 0;
  private readonly idPrefix = `${nanoid(10)}-`;
  private readonly startedAt: number;
  private readonly onAcknowledged: MessageQueueOptions['onAcknowledged'];
  /** Copies held by attached subscriptions (pending or in flight): zero means idle. */
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  private disposed = false;
  private changeQueued = false;
  private readonly changeEmitter: Emitter<void>;

  /** Something `snapshot()` holds changed. Fired at most once per microtask turn. */
  readonly onDidChange: Event<void>;

  constructor(options: MessageQueueOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new ValidationError(`Expected \`options\` to be an object, got ${describeValue(options)}`, 'options');
    this.clock = options.clock ?? systemClock;
    this.maxDeliveries = positiveInteger(options.maxDeliveries, 'maxDeliveries', 5);
    this.ackTimeoutMs = positiveNumber(options.ackTimeoutMs, 'ackTimeoutMs', 30_000);
    this.redeliveryDelayMs = nonNegativeNumber(options.redeliveryDelayMs, 'redeliveryDelayMs', 1000);
    this.maxRedeliveryDelayMs = nonNegativeNumber(options.maxRedeliveryDelayMs, 'maxRedeliveryDelayMs', 60_000);
    this.maxPending = positiveInteger(options.maxPending, 'maxPending', DEFAULT_MAX_PENDING);
    const dlt = options.deadLetterTopic ?? 'dead-letter';
    const problem = topicProblem(dlt, false);
    if (problem) throw new ValidationError(`Expected \`deadLetterTopic\` to be ${problem}, got ${describeValue(dlt)}`, 'deadLetterTopic');
    this.deadLetterTopic = dlt;
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw new ValidationError(`Expected \`onError\` to be a function, got ${describeValue(options.onError)}`, 'onError');
    }
    this.onError = options.onError ?? ((err) => console.error(err));
    if (options.onAcknowledged !== undefined && typeof options.onAcknowledged !== 'function') {
      throw new ValidationError(`Expected \`onAcknowledged\` to be a function, got ${describeValue(options.onAcknowledged)}`, 'onAcknowledged');
    }
    this.onAcknowledged = options.onAcknowledged;
    this.changeEmitter = new Emitter<void>(this.onError);
    this.onDidChange = this.changeEmitter.event;
    this.startedAt = this.clock.now();
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
      return Promise.reject(new ValidationError(`Expected \`message\` to be an object, got ${describeValue(input)}`, 'message'));
    }
    const topic = input.topic;
    const problem = topicProblem(topic, false);
    if (problem) return Promise.reject(new ValidationError(`Expected \`topic\` to be ${problem}, got ${describeValue(topic)}`, 'topic'));
    let id = input.id;
    if (id === undefined) {
      id = this.idPrefix + (this.seq++).toString(36);
    } else if (idProblem(id)) {
      return Promise.reject(new ValidationError(`Expected \`id\` to be ${WANT_ID}, got ${describeValue(id)}`, 'id'));
    }
    let payload: unknown;
    try {
      payload = frozenJsonCopy(input.payload);
    } catch (err) {
      return Promise.reject(payloadError(err, 'payload'));
    }
    const t = this.topicState(topic);
    const subs = this.matching(t, topic);
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i];
      if (s.entries.size >= s.maxPending) {
        t.rejected++;
        this.changed();
        return Promise.reject(new BackpressureError(topic, s.key, s.maxPending));
      }
    }
    return Promise.resolve(this.deliver(topic, id, payload) as Message<T>);
  }

  /**
   * Whether a message published to `topic` now would reach anyone: an attached subscriber, or a
   * detached durable one that collects it. O(1) while subscriptions do not change. Lets a
   * publisher skip building a payload nobody will read (then call `count`).
   */
  hasSubscribers(topic: string): boolean {
    if (typeof topic !== 'string') return false;
    return this.matching(this.topicState(topic), topic).length > 0;
  }

  /**
   * Counts a publish to a topic nobody subscribes to, without a message: the stats are those of a
   * `publish` there. Returns false and counts nothing when the topic has subscribers (publish to
   * them instead) or the queue is disposed; throws a ValidationError for a bad topic.
   */
  count(topic: string): boolean {
    const problem = topicProblem(topic, false);
    if (problem) throw new ValidationError(`Expected \`topic\` to be ${problem}, got ${describeValue(topic)}`, 'topic');
    if (!this.quietCounter(topic)()) return false;
    this.changed();
    return true;
  }

  /**
   * `count` for one topic the caller knows is valid and counts very often (the orchestrator's `task.*`): the topic's
   * state is looked up once, and the count does not fire onDidChange, because the caller marks its
   * own state dirty in the same call (a microtask per count was measurable at 100k tasks).
   */
  quietCounter(topic: string): () => boolean {
    const t = this.topicState(topic);
    return () => {
      if (this.disposed || this.matching(t, topic).length > 0) return false;
      t.published++;
      return true;
    };
  }

  /**
   * Stores and fans out an already validated, frozen message. `publish` has checked the bounds; for
   * a dead letter, a subscription at its bound loses its copy (reported), the others get theirs.
   */
  private deliver(topic: string, id: string, payload: unknown, deadLetterOf?: Entry): Message {
    const publishedAt = this.clock.now();
    const t = this.topicState(topic);
    t.published++;
    const subs = this.matching(t, topic);
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i];
      if (s.entries.size >= s.maxPending) {
        t.rejected++;
        const what = deadLetterOf ? `the dead letter of \`${deadLetterOf.id}\` (failed for \`${deadLetterOf.sub.key}\`)` : `message \`${id}\``;
        this.onError(new Error(`Dropped ${what}: subscription \`${s.key}\` of \`${topic}\` is full (\`maxPending\` ${s.maxPending})`));
        continue;
      }
      this.enqueue(s, t, topic, id, payload, publishedAt, 0);
    }
    this.changed();
    return { id, topic, payload, publishedAt };
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
    const problem = topicProblem(pattern, true);
    if (problem) throw new ValidationError(`Expected \`topic\` to be ${problem}, got ${describeValue(pattern)}`, 'topic');
    if (typeof handler !== 'function') throw new ValidationError(`Expected \`handler\` to be a function, got ${describeValue(handler)}`, 'handler');
    if (typeof options !== 'object' || options === null) throw new ValidationError(`Expected \`options\` to be an object, got ${describeValue(options)}`, 'options');
    const name = options.name;
    if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > MAX_TOPIC_LENGTH)) {
      throw new ValidationError(`Expected \`name\` to be a non-empty string of at most ${MAX_TOPIC_LENGTH} characters, got ${describeValue(name)}`, 'name');
    }
    if (options.manualAck !== undefined && typeof options.manualAck !== 'boolean') {
      throw new ValidationError(`Expected \`manualAck\` to be a boolean, got ${describeValue(options.manualAck)}`, 'manualAck');
    }
    const concurrency = positiveInteger(options.concurrency, 'concurrency', 1);
    const ackTimeoutMs = positiveNumber(options.ackTimeoutMs, 'ackTimeoutMs', this.ackTimeoutMs);
    const maxDeliveries = positiveInteger(options.maxDeliveries, 'maxDeliveries', this.maxDeliveries);
    const maxPending = positiveInteger(options.maxPending, 'maxPending', this.maxPending);

    let sub = name === undefined ? undefined : this.durables.get(name);
    if (sub?.handler) throw new ValidationError(`A subscriber named \`${name}\` is already subscribed`, 'name');
    if (!sub) {
      const id = this.nextSubId++;
      sub = {
        id, key: name ?? `#${id}`, name, pattern, prefix: undefined, handler: undefined, manualAck: false,
        ackTimeoutMs, maxDeliveries, concurrency, maxPending, fifo: [], head: 0, workers: 0, busy: 0, attachment: 0, entries: new Set(),
      };
      this.subs.add(sub);
      if (name !== undefined) this.durables.set(name, sub);
    }
    sub.pattern = pattern;
    sub.prefix = patternPrefix(pattern);
    sub.manualAck = options.manualAck === true;
    sub.ackTimeoutMs = ackTimeoutMs;
    sub.maxDeliveries = maxDeliveries;
    sub.handler = handler as MessageHandler<unknown>;
    sub.concurrency = concurrency;
    sub.maxPending = maxPending;
    sub.fifo = [];
    sub.head = 0;
    sub.workers = 0;
    sub.busy = 0;
    const attachment = ++sub.attachment;
    this.subGen++;
    this.active += sub.entries.size;
    // Parked messages (a returning durable subscriber) go first, in their original order.
    for (const e of sub.entries) sub.fifo.push(e);
    this.startWorkers(sub);
    if (name !== undefined) this.changed();
    const s = sub;
    return toDisposable(() => this.detach(s, attachment));
  }

  private detach(sub: Subscription, attachment: number): void {
    if (sub.attachment !== attachment) return;
    sub.attachment++;
    sub.fifo = [];
    sub.head = 0;
    sub.workers = 0;
    sub.busy = 0;
    sub.handler = undefined;
    this.active -= sub.entries.size;
    const durable = sub.name !== undefined;
    for (const e of sub.entries) {
      this.clearTimer(e);
      this.unindexManual(e);
      e.attempt++;
      if (e.state === IN_FLIGHT) {
        e.topic.inFlight--;
        e.topic.pending++;
        e.state = PENDING;
      }
      if (!durable) {
        // An anonymous subscriber's messages leave with it.
        e.topic.pending--;
        e.state = DONE;
      }
      this.wake(e, false);
    }
    if (!durable) {
      sub.entries.clear();
      this.subs.delete(sub);
      this.subGen++;
    } else {
      this.changed();
    }
    this.checkIdle();
  }

  /**
   * Forgets a durable subscription and its parked messages. Returns false when there is none by
   * that name; throws while a subscriber with that name is attached.
   */
  deleteDurable(name: string): boolean {
    const sub = this.durables.get(name);
    if (!sub) return false;
    if (sub.handler) throw new ValidationError(`Cannot delete durable subscription \`${name}\` while it is subscribed`, 'name');
    for (const e of sub.entries) {
      e.topic.pending--;
      e.state = DONE;
    }
    sub.entries.clear();
    this.subs.delete(sub);
    this.durables.delete(name);
    this.subGen++;
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
    if (typeof messageId !== 'string') return Promise.reject(new ValidationError(`Expected \`messageId\` to be a string, got ${describeValue(messageId)}`, 'messageId'));
    if (isReceipt(messageId)) {
      const one = this.manualByReceipt.get(messageId);
      if (one) this.ack(one);
    } else {
      const all = this.manualById.get(messageId);
      if (all) for (const e of [...all]) this.ack(e);
    }
    return Promise.resolve();
  }

  /**
   * Rejects a manual-ack delivery in flight (by message id or receipt, as for `acknowledge`): it is
   * redelivered after its backoff, or dead-lettered with `error` when it has had its deliveries.
   */
  nack(messageId: string, error?: unknown): Promise<void> {
    if (typeof messageId !== 'string') return Promise.reject(new ValidationError(`Expected \`messageId\` to be a string, got ${describeValue(messageId)}`, 'messageId'));
    const reason = error ?? new Error('Negatively acknowledged');
    let targets: Entry[];
    if (isReceipt(messageId)) {
      const one = this.manualByReceipt.get(messageId);
      targets = one ? [one] : [];
    } else {
      targets = [...(this.manualById.get(messageId) ?? [])];
    }
    for (const e of targets) this.fail(e, e.attempt, reason);
    return Promise.resolve();
  }

  // ---------------------------------------------------------------- delivery

  private enqueue(sub: Subscription, t: TopicState, topicName: string, id: string, payload: unknown, publishedAt: number, deliveries: number): void {
    const e: Entry = {
      sub, topic: t, id, topicName, payload, publishedAt, deliveries, state: PENDING, attempt: 0,
      wake: undefined, timer: undefined, lastError: undefined, receipt: undefined,
    };
    sub.entries.add(e);
    t.pending++;
    if (sub.handler) {
      this.active++;
      sub.fifo.push(e);
      if (sub.workers < sub.concurrency) this.startWorkers(sub);
    }
  }

  private startWorkers(sub: Subscription): void {
    const waiting = sub.fifo.length - sub.head;
    // Busy workers take nothing more until their copy is settled: only free ones count against
    // the waiting copies.
    while (sub.workers < sub.concurrency && sub.workers - sub.busy < waiting) {
      sub.workers++;
      void this.work(sub, sub.attachment);
    }
  }

  /** The next waiting copy, or undefined; compacts the FIFO once its consumed part dominates. */
  private take(sub: Subscription): Entry | undefined {
    if (sub.head >= sub.fifo.length) return undefined;
    const e = sub.fifo[sub.head++];
    if (sub.head === sub.fifo.length) {
      sub.fifo.length = 0;
      sub.head = 0;
    } else if (sub.head >= 1024 && sub.head * 2 >= sub.fifo.length) {
      sub.fifo = sub.fifo.slice(sub.head);
      sub.head = 0;
    }
    return e;
  }

  /**
   * A worker: takes copies from the subscription's FIFO until it is empty, the subscription is
   * detached or the queue disposed. Each copy keeps the worker through its redeliveries. Never
   * rejects.
   */
  private readonly work = async (sub: Subscription, attachment: number): Promise<void> => {
    try {
      // Handlers never run inside publish (or subscribe): the first delivery waits a microtask.
      await undefined;
      let inARow = 0;
      while (!this.disposed && sub.attachment === attachment) {
        const e = this.take(sub);
        if (!e) break;
        if (e.state !== PENDING) continue;
        sub.busy++;
        try {
          const waiting = this.run(e, attachment);
          if (waiting) await waiting;
        } finally {
          if (sub.attachment === attachment) sub.busy--;
        }
        // Handlers that return synchronously are delivered in a tight loop; let timers and I/O in
        // now and then so a burst of thousands of messages does not freeze the host.
        if (++inARow === YIELD_EVERY) {
          inARow = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    } catch (err) {
      this.onError(err);
    } finally {
      if (sub.attachment === attachment) sub.workers--;
    }
  };

  /**
   * One copy's life on its worker: deliver, wait for the outcome, back off and deliver again,
   * until acknowledged, dead-lettered, detached or disposed. Returns a promise only when it had to
   * wait, so a handler that returns synchronously costs no promise.
   */
  private run(e: Entry, attachment: number): Promise<void> | undefined {
    if (this.disposed || e.sub.attachment !== attachment || e.state !== PENDING) return undefined;
    const outcome = this.deliverOnce(e);
    if (outcome === true) return undefined;
    return this.retry(e, attachment, outcome);
  }

  private async retry(e: Entry, attachment: number, first: boolean | Promise<boolean>): Promise<void> {
    const sub = e.sub;
    let outcome = first;
    for (;;) {
      const acked = await outcome;
      // The await may have changed the state (a late ack), which TS's narrowing cannot see.
      if (acked || (e.state as EntryState) === DONE || this.disposed || sub.attachment !== attachment) return;
      if (e.deliveries >= sub.maxDeliveries) {
        this.deadLetter(e);
        return;
      }
      await this.backoff(e);
      if (this.disposed || sub.attachment !== attachment || e.state !== PENDING) return;
      outcome = this.deliverOnce(e);
    }
  }

  /** true: acknowledged at once; false: failed at once; a promise: settles with one of the two. */
  private deliverOnce(e: Entry): boolean | Promise<boolean> {
    const sub = e.sub;
    const handler = sub.handler as MessageHandler<unknown>;
    const t = e.topic;
    e.deliveries++;
    const attempt = ++e.attempt;
    e.state = IN_FLIGHT;
    t.pending--;
    t.inFlight++;
    t.delivered++;
    if (e.deliveries > 1) t.redelivered++;
    this.changed();
    // Indexed from its first delivery (not before: an ack by id must not settle a copy not yet
    // delivered) until it is settled or its subscriber leaves, so a late ack still finds it.
    if (sub.manualAck && (e.receipt === undefined || this.manualByReceipt.get(e.receipt) !== e)) this.indexManual(e);
    const copy: Message = { id: e.id, topic: e.topicName, payload: e.payload, publishedAt: e.publishedAt, delivery: e.deliveries };
    if (e.receipt !== undefined) copy.receipt = e.receipt;
    let returned: unknown;
    try {
      returned = handler(copy);
    } catch (err) {
      this.fail(e, attempt, err);
      return false;
    }
    const result = isThenable(returned) ? returned : undefined;
    if (!result && !sub.manualAck) {
      // Returned synchronously: acknowledged without a promise or a timer (the hot path).
      this.ack(e);
      return true;
    }
    // A manual-ack handler may have acknowledged (or nacked) before returning.
    if (e.state !== IN_FLIGHT || e.attempt !== attempt) return (e.state as EntryState) === DONE;
    const settled = new Promise<boolean>((resolve) => {
      e.wake = resolve;
    });
    if (sub.manualAck) {
      result?.then(undefined, (err: unknown) => this.fail(e, attempt, err));
    } else {
      result?.then(() => this.ack(e), (err: unknown) => this.fail(e, attempt, err));
    }
    e.timer = this.clock.setTimeout(() => {
      e.timer = undefined;
      this.fail(e, attempt, new TimeoutError(sub.ackTimeoutMs));
    }, sub.ackTimeoutMs);
    return settled;
  }

  /** Settles a copy as acknowledged, whatever attempt the ack comes from (a late ack still counts). */
  private ack(e: Entry): void {
    if (e.state === DONE) return;
    const t = e.topic;
    if (e.state === IN_FLIGHT) t.inFlight--;
    else t.pending--;
    t.acknowledged++;
    this.countAck(t);
    if (this.onAcknowledged) this.onAcknowledged(e.id, e.topicName, Math.max(0, this.clock.now() - e.publishedAt));
    this.finish(e);
    this.wake(e, true);
  }

  /** The current attempt failed; older attempts' failures are ignored (they were already handled). */
  private fail(e: Entry, attempt: number, err: unknown): void {
    if (e.state !== IN_FLIGHT || e.attempt !== attempt) return;
    this.clearTimer(e);
    e.state = PENDING;
    e.topic.inFlight--;
    e.topic.pending++;
    e.lastError = err;
    this.wake(e, false);
  }

  private backoff(e: Entry): Promise<boolean> {
    const delay = Math.min(this.maxRedeliveryDelayMs, this.redeliveryDelayMs * 2 ** (e.deliveries - 1));
    return new Promise<boolean>((resolve) => {
      e.wake = resolve;
      e.timer = this.clock.setTimeout(() => {
        e.timer = undefined;
        this.wake(e, false);
      }, delay);
    });
  }

  private deadLetter(e: Entry): void {
    const t = e.topic;
    t.pending--;
    t.deadLettered++;
    const err = e.lastError;
    // Publish before finishing, so whenIdle() never resolves between the two.
    if (e.topicName === this.deadLetterTopic) {
      // A dead letter that cannot be handled is reported, not dead-lettered again (no endless loop).
      this.onError(new Error(`Dropped dead letter \`${e.id}\` after ${e.deliveries} deliveries to \`${e.sub.key}\`: ${errorText(err)}`));
    } else {
      // Frozen like a published payload: made of the frozen payload and strings only.
      const letter: DeadLetter = Object.freeze({
        message: Object.freeze({ id: e.id, topic: e.topicName, payload: e.payload, publishedAt: e.publishedAt, delivery: e.deliveries }),
        error: Object.freeze(serialiseError(err)),
        subscription: e.sub.key,
      });
      this.deliver(this.deadLetterTopic, this.idPrefix + (this.seq++).toString(36), letter, e);
    }
    this.finish(e);
  }

  private finish(e: Entry): void {
    this.clearTimer(e);
    this.unindexManual(e);
    e.state = DONE;
    const sub = e.sub;
    if (sub.entries.delete(e) && sub.handler) {
      this.active--;
      this.checkIdle();
    }
    this.changed();
  }

  private wake(e: Entry, acked: boolean): void {
    const w = e.wake;
    if (w) {
      e.wake = undefined;
      w(acked);
    }
  }

  private clearTimer(e: Entry): void {
    if (e.timer !== undefined) {
      this.clock.clearTimeout(e.timer);
      e.timer = undefined;
    }
  }

  private indexManual(e: Entry): void {
    e.receipt ??= `@${e.sub.id}:${e.id}`;
    this.manualByReceipt.set(e.receipt, e);
    const list = this.manualById.get(e.id);
    if (list) list.push(e);
    else this.manualById.set(e.id, [e]);
  }

  private unindexManual(e: Entry): void {
    if (e.receipt === undefined || this.manualByReceipt.get(e.receipt) !== e) return;
    this.manualByReceipt.delete(e.receipt);
    const list = this.manualById.get(e.id);
    if (!list) return;
    const i = list.indexOf(e);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.manualById.delete(e.id);
  }

  // ---------------------------------------------------------------- topics and stats

  private topicState(topic: string): TopicState {
    let t = this.topics.get(topic);
    if (!t) {
      t = new TopicState();
      this.topics.set(topic, t);
    }
    return t;
  }

  private matching(t: TopicState, topic: string): Subscription[] {
    if (t.matchGen === this.subGen) return t.matches;
    const out: Subscription[] = [];
    for (const s of this.subs) if (matches(s, topic)) out.push(s);
    t.matches = out;
    t.matchGen = this.subGen;
    return out;
  }

  private countAck(t: TopicState): void {
    const sec = Math.floor(this.clock.now() / 1000);
    if (!t.ackSecond || !t.ackCount) {
      t.ackSecond = new Float64Array(RATE_WINDOW_S).fill(-1);
      t.ackCount = new Uint32Array(RATE_WINDOW_S);
    }
    const i = sec % RATE_WINDOW_S;
    if (t.ackSecond[i] !== sec) {
      t.ackSecond[i] = sec;
      t.ackCount[i] = 0;
    }
    t.ackCount[i]++;
  }

  /**
   * Per topic and in total. Counts are per subscriber copy: a message published once to a topic
   * with two subscribers is delivered and acknowledged twice. `pending` includes copies waiting
   * for a redelivery and those parked for a detached durable subscriber. `processingRate` is the
   * acknowledgements of the last 60 whole seconds divided by 60 s, or by the queue's age in
   * seconds (at least 1) while it is younger than that. `rejected` counts messages refused at a
   * subscription's `maxPending` bound.
   */
  getQueueStats(): QueueStats {
    const now = this.clock.now();
    const sec = Math.floor(now / 1000);
    const windowS = Math.min(RATE_WINDOW_S, Math.max(1, (now - this.startedAt) / 1000));
    const totals = emptyStats();
    let totalAcks = 0;
    const topics: Record<string, TopicStats> = {};
    for (const [name, t] of this.topics) {
      let acks = 0;
      if (t.ackSecond && t.ackCount) {
        for (let i = 0; i < RATE_WINDOW_S; i++) if (t.ackSecond[i] > sec - RATE_WINDOW_S) acks += t.ackCount[i];
      }
      const s: TopicStats = {
        published: t.published, delivered: t.delivered, acknowledged: t.acknowledged, pending: t.pending, inFlight: t.inFlight,
        redelivered: t.redelivered, deadLettered: t.deadLettered, rejected: t.rejected, processingRate: acks / windowS,
      };
      totalAcks += acks;
      topics[name] = s;
      totals.published += s.published;
      totals.delivered += s.delivered;
      totals.acknowledged += s.acknowledged;
      totals.pending += s.pending;
      totals.inFlight += s.inFlight;
      totals.redelivered += s.redelivered;
      totals.deadLettered += s.deadLettered;
      totals.rejected += s.rejected;
    }
    totals.processingRate = totalAcks / windowS;
    let subscribers = 0;
    for (const s of this.subs) if (s.handler) subscribers++;
    return { topics, totals, subscribers };
  }

  // ---------------------------------------------------------------- persistence and lifecycle

  /** The durable state, as JSON. Messages of anonymous subscriptions are not included. */
  snapshot(): QueueSnapshot {
    const subscriptions: QueueSnapshotSubscription[] = [];
    for (const sub of this.durables.values()) {
      const messages: QueueSnapshotMessage[] = [];
      for (const e of sub.entries) {
        const m: QueueSnapshotMessage = { id: e.id, topic: e.topicName, publishedAt: e.publishedAt, deliveries: e.deliveries };
        if (e.payload !== undefined) m.payload = e.payload;
        messages.push(m);
      }
      subscriptions.push({ name: sub.key, pattern: sub.pattern, messages });
    }
    const counters: Record<string, QueueSnapshotCounters> = {};
    for (const [name, t] of this.topics) {
      counters[name] = { published: t.published, delivered: t.delivered, acknowledged: t.acknowledged, redelivered: t.redelivered, deadLettered: t.deadLettered, rejected: t.rejected };
    }
    return { version: 1, savedAt: this.clock.now(), subscriptions, counters };
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
    const snap = validateSnapshot(snapshot);
    for (const [name, c] of Object.entries(snap.counters)) {
      const t = this.topicState(name);
      t.published += c.published;
      t.delivered += c.delivered;
      t.acknowledged += c.acknowledged;
      t.redelivered += c.redelivered;
      t.deadLettered += c.deadLettered;
      t.rejected += c.rejected;
    }
    for (const s of snap.subscriptions) {
      let sub = this.durables.get(s.name);
      if (!sub) {
        const id = this.nextSubId++;
        sub = {
          id, key: s.name, name: s.name, pattern: s.pattern, prefix: patternPrefix(s.pattern), handler: undefined, manualAck: false,
          ackTimeoutMs: this.ackTimeoutMs, maxDeliveries: this.maxDeliveries, concurrency: 1, maxPending: this.maxPending, fifo: [], head: 0, workers: 0, busy: 0, attachment: 0, entries: new Set(),
        };
        this.subs.add(sub);
        this.durables.set(s.name, sub);
        this.subGen++;
      }
      const held = new Set<string>();
      for (const e of sub.entries) held.add(e.id);
      for (const m of s.messages) {
        if (held.has(m.id)) continue;
        this.enqueue(sub, this.topicState(m.topic), m.topic, m.id, m.payload, m.publishedAt, m.deliveries);
      }
    }
    this.changed();
  }

  /** Resolves when no attached subscription has a message pending or in flight. Parked messages of detached durable subscriptions do not count. */
  whenIdle(): Promise<void> {
    if (this.active === 0 || this.disposed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private checkIdle(): void {
    if (this.active !== 0 || this.idleWaiters.length === 0) return;
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w();
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
    this.disposed = true;
    for (const sub of this.subs) {
      sub.fifo = [];
      sub.head = 0;
      for (const e of sub.entries) {
        this.clearTimer(e);
        this.wake(e, false);
      }
    }
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w();
    this.changeEmitter.dispose();
  }
}

// ------------------------------------------------------------------ helpers

function disposedError(): OrchestratorError {
  return new OrchestratorError('DISPOSED', 'The message queue has been disposed');
}

function emptyStats(): TopicStats {
  return { published: 0, delivered: 0, acknowledged: 0, pending: 0, inFlight: 0, redelivered: 0, deadLettered: 0, rejected: 0, processingRate: 0 };
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** What is wrong with a topic (or a subscription pattern), phrased to follow "Expected `topic` to be". */
// Built once: topicProblem runs on every publish, and a template per call was a string per message.
const WANT_PATTERN = `a non-empty string of at most ${MAX_TOPIC_LENGTH} characters, with \`*\` only as a whole segment at the end (\`task.*\`, \`*\`)`;
const WANT_TOPIC = `a non-empty string of at most ${MAX_TOPIC_LENGTH} characters without \`*\``;

function topicProblem(topic: unknown, pattern: boolean): string | undefined {
  const want = pattern ? WANT_PATTERN : WANT_TOPIC;
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_TOPIC_LENGTH) return want;
  const star = topic.indexOf('*');
  if (star < 0) return undefined;
  if (!pattern) return want;
  const ok = star === topic.length - 1 && (star === 0 || topic[star - 1] === '.');
  return ok ? undefined : want;
}

function patternPrefix(pattern: string): string | undefined {
  return pattern.endsWith('*') ? pattern.slice(0, -1) : undefined;
}

function matches(sub: Subscription, topic: string): boolean {
  return sub.prefix === undefined ? sub.pattern === topic : topic.startsWith(sub.prefix);
}

const WANT_ID = `a non-empty string of at most ${MAX_TOPIC_LENGTH} characters not starting with \`@\` (which marks a receipt)`;

/** Ids and receipts share `acknowledge`'s argument: ids never start with `@`, receipts always do. */
function idProblem(id: unknown): boolean {
  return typeof id !== 'string' || id.length === 0 || id.length > MAX_TOPIC_LENGTH || id.charCodeAt(0) === 64;
}

function isReceipt(key: string): boolean {
  return key.charCodeAt(0) === 64;
}

/** Why a value is not JSON, and where; thrown by the copy and turned into a ValidationError. */
class NotJson {
  constructor(public path: string, readonly what: string) {}
}

const WANT_JSON = `plain objects, arrays, strings, finite numbers, booleans and null (or objects whose \`toJSON\` returns those), nested at most ${MAX_JSON_DEPTH} levels, without cycles`;

function payloadError(err: unknown, field: string): ValidationError {
  const p = err instanceof NotJson ? err : new NotJson('', `unreadable (${errorText(err)})`);
  const where = p.path ? `\`${field}${p.path}\`` : 'it';
  return new ValidationError(`Expected \`${field}\` to be JSON-serialisable, but ${where} is ${p.what}; allowed are ${WANT_JSON}`, `${field}${p.path}`);
}

/**
 * A deep-frozen copy of `value` as JSON.stringify/parse would make it (`toJSON` applied, undefined
 * properties omitted), built in one walk; throws NotJson, with the path to the culprit, for what
 * JSON cannot hold or would silently change (functions, symbols, bigints, non-finite numbers,
 * undefined in arrays, class instances without `toJSON`, cycles, nesting deeper than
 * MAX_JSON_DEPTH) and for what a getter, proxy or `toJSON` throws. The copy is the queue's own:
 * nothing a publisher or a handler does afterwards can make it unserialisable.
 */
function frozenJsonCopy(value: unknown): unknown {
  try {
    return jsonCopy(value, '', 0);
  } finally {
    ancestors.length = 0;
  }
}

/** The objects being copied, outermost first: one met again below itself is a cycle. */
const ancestors: object[] = [];

function jsonCopy(value: unknown, key: string | number, depth: number): unknown {
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // JSON.stringify calls toJSON once, on the value itself; what it returns is then taken as is.
    value = (value as { toJSON: (key: string) => unknown }).toJSON(String(key));
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      throw new NotJson('', `a non-finite number (${value})`);
    case 'object': {
      if (value === null) return null;
      // Depth bounds the search: at most MAX_JSON_DEPTH ancestors, usually two or three.
      if (ancestors.lastIndexOf(value, depth - 1) >= 0) throw new NotJson('', 'a cycle (it contains itself)');
      if (depth >= MAX_JSON_DEPTH) throw new NotJson('', `nested deeper than ${MAX_JSON_DEPTH} levels`);
      ancestors[depth] = value;
      if (Array.isArray(value)) {
        const out: unknown[] = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = childCopy(value, i, depth);
          if (item === undefined) throw new NotJson(`[${i}]`, 'undefined inside an array');
          out[i] = item;
        }
        return Object.freeze(out);
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        const ctor = (proto as { constructor?: { name?: unknown } }).constructor?.name;
        throw new NotJson('', `an instance of ${typeof ctor === 'string' && ctor ? ctor : 'a class'}`);
      }
      const obj = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(obj)) {
        const v = childCopy(obj, k, depth);
        if (v === undefined) continue;
        // An own `__proto__` (as JSON.parse makes it), not the prototype.
        if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
        else out[k] = v;
      }
      return Object.freeze(out);
    }
    default:
      throw new NotJson('', `a ${typeof value}`);
  }
}

/** Copies `parent[key]`, prefixing its step to the path of whatever goes wrong below it. */
function childCopy(parent: object, key: string | number, depth: number): unknown {
  try {
    return jsonCopy((parent as Record<string | number, unknown>)[key], key, depth + 1);
  } catch (err) {
    // The path is built only on failure: a string per property was most of a copy's cost.
    const step = typeof key === 'number' ? `[${key}]` : `.${key}`;
    if (err instanceof NotJson) {
      err.path = step + err.path;
      throw err;
    }
    throw new NotJson(step, `unreadable (${errorText(err)})`);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Strings only, whatever a handler threw, so a dead letter is always JSON. */
function serialiseError(err: unknown): DeadLetter['error'] {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const name = String(err.name);
    const message = String(err.message);
    return typeof code === 'string' ? { name, message, code } : { name, message };
  }
  return { name: 'Error', message: String(err) };
}

function positiveInteger(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ValidationError(`Expected \`${name}\` to be a positive integer, got ${describeValue(v)}`, name);
  return v;
}

function positiveNumber(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ValidationError(`Expected \`${name}\` to be a positive finite number, got ${describeValue(v)}`, name);
  return v;
}

function nonNegativeNumber(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ValidationError(`Expected \`${name}\` to be a non-negative finite number, got ${describeValue(v)}`, name);
  return v;
}

// ------------------------------------------------------------------ snapshot validation

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fieldError(field: string, want: string, got: unknown): ValidationError {
  return new ValidationError(`Expected \`${field}\` to be ${want}, got ${describeValue(got)}`, field);
}

function count(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw fieldError(field, 'a non-negative integer', v);
  return v;
}

/** Checks an untrusted snapshot completely and returns it typed; throws a ValidationError naming the field. */
function validateSnapshot(raw: unknown): QueueSnapshot {
  if (!isRecord(raw)) throw fieldError('snapshot', 'an object', raw);
  if (raw.version !== 1) throw fieldError('snapshot.version', '1', raw.version);
  if (!Array.isArray(raw.subscriptions)) throw fieldError('snapshot.subscriptions', 'an array', raw.subscriptions);
  if (!isRecord(raw.counters)) throw fieldError('snapshot.counters', 'an object', raw.counters);
  const names = new Set<string>();
  const subscriptions: QueueSnapshotSubscription[] = raw.subscriptions.map((s: unknown, i: number) => {
    const at = `snapshot.subscriptions[${i}]`;
    if (!isRecord(s)) throw fieldError(at, 'an object', s);
    if (typeof s.name !== 'string' || s.name.length === 0 || s.name.length > MAX_TOPIC_LENGTH) throw fieldError(`${at}.name`, 'a non-empty string', s.name);
    if (names.has(s.name)) throw fieldError(`${at}.name`, 'a name not used by another subscription', s.name);
    names.add(s.name);
    const pp = topicProblem(s.pattern, true);
    if (pp) throw fieldError(`${at}.pattern`, pp, s.pattern);
    if (!Array.isArray(s.messages)) throw fieldError(`${at}.messages`, 'an array', s.messages);
    const messages = s.messages.map((m: unknown, j: number): QueueSnapshotMessage => {
      const mat = `${at}.messages[${j}]`;
      if (!isRecord(m)) throw fieldError(mat, 'an object', m);
      if (idProblem(m.id)) throw fieldError(`${mat}.id`, WANT_ID, m.id);
      const tp = topicProblem(m.topic, false);
      if (tp) throw fieldError(`${mat}.topic`, tp, m.topic);
      if (typeof m.publishedAt !== 'number' || !Number.isFinite(m.publishedAt)) throw fieldError(`${mat}.publishedAt`, 'a finite number', m.publishedAt);
      const deliveries = count(m.deliveries, `${mat}.deliveries`);
      let payload: unknown;
      try {
        payload = frozenJsonCopy(m.payload);
      } catch (err) {
        throw payloadError(err, `${mat}.payload`);
      }
      const out: QueueSnapshotMessage = { id: m.id as string, topic: m.topic as string, publishedAt: m.publishedAt, deliveries };
      if (payload !== undefined) out.payload = payload;
      return out;
    });
    return { name: s.name, pattern: s.pattern as string, messages };
  });
  const counters: Record<string, QueueSnapshotCounters> = {};
  for (const [topic, c] of Object.entries(raw.counters)) {
    const at = `snapshot.counters[${JSON.stringify(topic)}]`;
    const tp = topicProblem(topic, false);
    if (tp) throw new ValidationError(`Expected the topic \`${at}\` to be ${tp}`, at);
    if (!isRecord(c)) throw fieldError(at, 'an object', c);
    counters[topic] = {
      published: count(c.published, `${at}.published`),
      delivered: count(c.delivered, `${at}.delivered`),
      acknowledged: count(c.acknowledged, `${at}.acknowledged`),
      redelivered: count(c.redelivered, `${at}.redelivered`),
      deadLettered: count(c.deadLettered, `${at}.deadLettered`),
      rejected: c.rejected === undefined ? 0 : count(c.rejected, `${at}.rejected`),
    };
  }
  return { version: 1, savedAt: typeof raw.savedAt === 'number' ? raw.savedAt : 0, subscriptions, counters };
}
