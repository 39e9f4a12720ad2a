// A subscription's workers: up to `concurrency` loops, each taking copies from the subscription's
// FIFO in arrival order and holding one copy through all its redeliveries, so with concurrency 1
// a subscription sees its messages strictly in order. (Not p-limit: a limiter call costs three
// promises and two closures per message; a worker delivers a copy whose handler returns
// synchronously without any promise at all.)
import type { Entry, Subscription } from './subscription';
import { PENDING } from './subscription';

/** Deliveries a worker makes before it lets the event loop run timers and I/O. */
const YIELD_EVERY = 256;

/** What a worker needs from the delivery of one copy. */
export interface CopyRunner {
  /** The queue is disposed: every worker stops. */
  readonly stopped: boolean;
  /** One copy's life until settled; returns a promise only when it had to wait. Never rejects. */
  run(e: Entry, attachment: number): Promise<void> | undefined;
  onError(err: unknown): void;
}

/** Starts the workers `sub` needs for its waiting copies, up to its `concurrency`. */
export function startWorkers(sub: Subscription, runner: CopyRunner): void {
  const waiting = sub.fifo.length - sub.head;
  // Busy workers take nothing more until their copy is settled: only free ones count against
  // the waiting copies.
  while (sub.workers < sub.concurrency && sub.workers - sub.busy < waiting) {
    sub.workers++;
    void work(sub, sub.attachment, runner);
  }
}

/** The next waiting copy, or undefined; compacts the FIFO once its consumed part dominates. */
function take(sub: Subscription): Entry | undefined {
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
 * detached (its `attachment` changed) or the queue stopped. Never rejects.
 */
async function work(sub: Subscription, attachment: number, runner: CopyRunner): Promise<void> {
  try {
    // Handlers never run inside publish (or subscribe): the first delivery waits a microtask.
    await undefined;
    let inARow = 0;
    while (!runner.stopped && sub.attachment === attachment) {
      const e = take(sub);
      if (!e) break;
      if (e.state !== PENDING) continue;
      sub.busy++;
      try {
        const waiting = runner.run(e, attachment);
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
    runner.onError(err);
  } finally {
    if (sub.attachment === attachment) sub.workers--;
  }
}
