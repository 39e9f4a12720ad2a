import type { Clock } from '../../src/core/ports';

/** Lets every queued promise reaction run (setImmediate comes after the microtask queue drains). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The tests' one fake Clock, moved by hand. advance() fires due timers in time order and lets
 * promises settle after each; advanceSync() fires them synchronously, for code under test that is
 * synchronous; set() moves the time without firing anything, for code that only reads the clock.
 */
export class ManualClock implements Clock {
  private t: number;
  /** How far the wall clock (now) is from the monotonic one: moved by stepWallClock only. */
  private wallOffset = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t + this.wallOffset;
  }
  /** Never steps back: timers and advance() move it; stepWallClock() does not. */
  monotonic(): number {
    return this.t;
  }
  /** Steps the wall clock (now) as NTP or a restored VM does, back when negative; timers are unaffected. */
  stepWallClock(ms: number): void {
    this.wallOffset += ms;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get timerCount(): number {
    return this.timers.size;
  }
  /** Sets the time (now and monotonic) to `t`, back too, firing no timer: for code that only reads the clock. */
  set(t: number): void {
    this.t = t;
  }
  /** advance() without settling promises: due timers fire synchronously, in time order, inside this call. */
  advanceSync(ms: number): void {
    const end = this.t + ms;
    for (let next = this.nextDue(end); next; next = this.nextDue(end)) {
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
  /** The earliest timer due at or before `end`; the first set among equals. */
  private nextDue(end: number): [number, { at: number; fn: () => void }] | undefined {
    let next: [number, { at: number; fn: () => void }] | undefined;
    for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
    return next;
  }
  /** Moves time forward, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const next = this.nextDue(end);
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}
