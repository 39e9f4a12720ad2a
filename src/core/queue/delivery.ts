// Delivery and redelivery: a copy is stored for each matching subscription, handed to its handler
// by a worker, and acknowledged, failed (thrown, rejected, nacked, or not acknowledged within the
// ack timeout), redelivered after base * 2^(n-1) ms, or dead-lettered after `maxDeliveries`.
//
// Invariants: a copy is in exactly one of PENDING, IN_FLIGHT, DONE, and its topic's `pending` and
// `inFlight` gauges count it in the first two; `attempt` changes on every delivery and detach, so
// the outcome of an older attempt is ignored; `active` counts the copies of attached subscriptions
// that are not DONE (zero means idle).
import { errorMessage, TimeoutError } from '../model/errors';
import type { Message, MessageHandler } from './queueTypes';
import type { QueueSettings } from './queueOptions';
import { countAck } from './queueStats';
import { deadLetterOf } from './deadLetter';
import { ManualAckIndex } from './manualAcks';
import { DONE, IN_FLIGHT, PENDING, type Entry, type EntryState, type Subscription, type TopicState } from './subscription';
import type { TopicRouter } from './topicRouter';
import { startWorkers, type CopyRunner } from './workers';

export class Delivery implements CopyRunner {
  /** The queue is disposed: nothing is delivered any more. */
  stopped = false;
  readonly manual = new ManualAckIndex();
  /** Copies held by attached subscriptions (pending or in flight): zero means idle. */
  private active = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly settings: QueueSettings,
    private readonly router: TopicRouter,
    /** Marks the queue's persisted state changed. */
    private readonly changed: () => void,
    /** A fresh message id, for dead letters. */
    private readonly newId: () => string,
  ) {}

  readonly onError = (err: unknown): void => this.settings.onError(err);

  /**
   * Stores and fans out an already validated, frozen message. `publish` has checked the bounds; for
   * a dead letter, a subscription at its bound loses its copy (reported), the others get theirs.
   */
  fanOut(topic: string, id: string, payload: unknown, deadLetterFrom?: Entry): Message {
    const publishedAt = this.settings.clock.now();
    const t = this.router.topicState(topic);
    t.published++;
    const subs = this.router.matching(t, topic);
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i]!;
      if (s.entries.size >= s.maxPending) {
        t.rejected++;
        const what = deadLetterFrom ? `the dead letter of \`${deadLetterFrom.id}\` (failed for \`${deadLetterFrom.sub.key}\`)` : `message \`${id}\``;
        this.settings.onError(new Error(`Dropped ${what}: subscription \`${s.key}\` of \`${topic}\` is full (\`maxPending\` ${s.maxPending})`));
        continue;
      }
      this.enqueue(s, t, topic, id, payload, publishedAt, 0);
    }
    this.changed();
    return { id, topic, payload, publishedAt };
  }

  enqueue(sub: Subscription, t: TopicState, topicName: string, id: string, payload: unknown, publishedAt: number, deliveries: number): void {
    const e: Entry = {
      sub,
      topic: t,
      id,
      topicName,
      payload,
      publishedAt,
      deliveries,
      state: PENDING,
      attempt: 0,
      wake: undefined,
      timer: undefined,
      lastError: undefined,
      receipt: undefined,
    };
    sub.entries.add(e);
    t.pending++;
    if (sub.handler) {
      this.active++;
      sub.fifo.push(e);
      if (sub.workers < sub.concurrency) startWorkers(sub, this);
    }
  }

  /** A subscriber has just attached to `sub`: its parked copies go first, in their original order. */
  attach(sub: Subscription): void {
    this.active += sub.entries.size;
    for (const e of sub.entries) sub.fifo.push(e);
    startWorkers(sub, this);
  }

  /**
   * The subscriber leaves: its copies in flight go back to pending. A durable subscription keeps
   * them parked (and keeps collecting); an anonymous one's leave with it.
   */
  detach(sub: Subscription): void {
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
      this.manual.remove(e);
      e.attempt++;
      if (e.state === IN_FLIGHT) {
        e.topic.inFlight--;
        e.topic.pending++;
        e.state = PENDING;
      }
      if (!durable) {
        e.topic.pending--;
        e.state = DONE;
      }
      this.wake(e, false);
    }
    if (!durable) {
      sub.entries.clear();
      this.router.remove(sub);
    } else {
      this.changed();
    }
    this.checkIdle();
  }

  run(e: Entry, attachment: number): Promise<void> | undefined {
    if (this.stopped || e.sub.attachment !== attachment || e.state !== PENDING) return undefined;
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
      if (acked || (e.state as EntryState) === DONE || this.stopped || sub.attachment !== attachment) return;
      if (e.deliveries >= sub.maxDeliveries) {
        this.deadLetter(e);
        return;
      }
      await this.backoff(e);
      if (this.stopped || sub.attachment !== attachment || e.state !== PENDING) return;
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
    if (sub.manualAck) this.manual.add(e);
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
      result?.then(
        () => this.ack(e),
        (err: unknown) => this.fail(e, attempt, err),
      );
    }
    e.timer = this.settings.clock.setTimeout(() => {
      e.timer = undefined;
      this.fail(e, attempt, new TimeoutError(sub.ackTimeoutMs));
    }, sub.ackTimeoutMs);
    return settled;
  }

  /** Settles a copy as acknowledged, whatever attempt the ack comes from (a late ack still counts). */
  ack(e: Entry): void {
    if (e.state === DONE) return;
    const t = e.topic;
    if (e.state === IN_FLIGHT) t.inFlight--;
    else t.pending--;
    t.acknowledged++;
    const now = this.settings.clock.now();
    countAck(t, now);
    const onAcknowledged = this.settings.onAcknowledged;
    if (onAcknowledged) onAcknowledged(e.id, e.topicName, Math.max(0, now - e.publishedAt));
    this.finish(e);
    this.wake(e, true);
  }

  /** The current attempt failed; older attempts' failures are ignored (they were already handled). */
  fail(e: Entry, attempt: number, err: unknown): void {
    if (e.state !== IN_FLIGHT || e.attempt !== attempt) return;
    this.clearTimer(e);
    e.state = PENDING;
    e.topic.inFlight--;
    e.topic.pending++;
    e.lastError = err;
    this.wake(e, false);
  }

  private backoff(e: Entry): Promise<boolean> {
    const { redeliveryDelayMs, maxRedeliveryDelayMs, clock } = this.settings;
    const delay = Math.min(maxRedeliveryDelayMs, redeliveryDelayMs * 2 ** (e.deliveries - 1));
    return new Promise<boolean>((resolve) => {
      e.wake = resolve;
      e.timer = clock.setTimeout(() => {
        e.timer = undefined;
        this.wake(e, false);
      }, delay);
    });
  }

  private deadLetter(e: Entry): void {
    const t = e.topic;
    t.pending--;
    t.deadLettered++;
    // Published before the copy is finished, so whenIdle() never resolves between the two.
    if (e.topicName === this.settings.deadLetterTopic) {
      // A dead letter that cannot be handled is reported, not dead-lettered again (no endless loop).
      this.settings.onError(new Error(`Dropped dead letter \`${e.id}\` after ${e.deliveries} deliveries to \`${e.sub.key}\`: ${errorMessage(e.lastError)}`));
    } else {
      this.fanOut(this.settings.deadLetterTopic, this.newId(), deadLetterOf(e), e);
    }
    this.finish(e);
  }

  private finish(e: Entry): void {
    this.clearTimer(e);
    this.manual.remove(e);
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
      this.settings.clock.clearTimeout(e.timer);
      e.timer = undefined;
    }
  }

  /** Resolves when no attached subscription has a copy pending or in flight. */
  whenIdle(): Promise<void> {
    if (this.active === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private checkIdle(): void {
    if (this.active !== 0 || this.idleWaiters.length === 0) return;
    this.releaseIdleWaiters();
  }

  private releaseIdleWaiters(): void {
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w();
  }

  /** Stops every delivery and clears every timer; unacknowledged copies stay where they are. */
  stop(): void {
    this.stopped = true;
    for (const sub of this.router.subs) {
      sub.fifo = [];
      sub.head = 0;
      for (const e of sub.entries) {
        this.clearTimer(e);
        this.wake(e, false);
      }
    }
    this.releaseIdleWaiters();
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
