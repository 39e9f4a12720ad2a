// A ring of per-second slots holding the counters of the last `window` seconds, in typed arrays
// reused as time rolls on: recording is O(1) and allocates nothing.
//
// Invariants:
// - Slot slotOf(s, window) holds second s while s is within the window; `second[i]` says which.
// - Slots are rolled lazily: before anything touches the ring, every second since the last roll is
//   reset (at most `window` of them), carrying the last queue depth and running count forward, so a
//   slot is never read or written for a second it does not hold.

/** The slot of second `sec` in a ring of `window` slots: 0 <= slot < window, inside every array of the ring. */
export function slotOf(sec: number, window: number): number {
  const i = sec % window;
  return i < 0 ? i + window : i;
}

export class SecondRing {
  readonly second: Float64Array;
  readonly completed: Uint32Array;
  readonly failed: Uint32Array;
  readonly cancelled: Uint32Array;
  readonly durationSum: Float64Array;
  readonly durationCount: Uint32Array;
  readonly messages: Uint32Array;
  readonly depth: Float64Array;
  readonly runningAt: Float64Array;
  /** The latest second the ring has been rolled to. */
  rolledTo = -Infinity;

  constructor(readonly window: number) {
    this.second = new Float64Array(window);
    this.completed = new Uint32Array(window);
    this.failed = new Uint32Array(window);
    this.cancelled = new Uint32Array(window);
    this.durationSum = new Float64Array(window);
    this.durationCount = new Uint32Array(window);
    this.messages = new Uint32Array(window);
    this.depth = new Float64Array(window);
    this.runningAt = new Float64Array(window);
  }

  /** How many arrays of `window` elements the ring holds. */
  static readonly ARRAYS = 9;

  /** Empties every slot; the ring then holds no second until rolled to `sec`. */
  reset(sec: number): void {
    this.second.fill(-1);
    this.completed.fill(0);
    this.failed.fill(0);
    this.cancelled.fill(0);
    this.durationSum.fill(0);
    this.durationCount.fill(0);
    this.messages.fill(0);
    this.depth.fill(0);
    this.runningAt.fill(0);
    this.rolledTo = sec - this.window;
  }

  slotIndex(sec: number): number {
    return slotOf(sec, this.window);
  }

  /**
   * Resets the slots of every second after the last roll up to `sec` (at most a window of them),
   * their depth and running count starting at the values given. Returns the first second reset;
   * the caller resets its own per-slot data for [that, sec]. Only for `sec > rolledTo`.
   */
  roll(sec: number, depth: number, running: number): number {
    const from = Math.max(this.rolledTo + 1, sec - this.window + 1);
    for (let s = from; s <= sec; s++) {
      const i = this.slotIndex(s);
      this.second[i] = s;
      this.completed[i] = 0;
      this.failed[i] = 0;
      this.cancelled[i] = 0;
      this.durationSum[i] = 0;
      this.durationCount[i] = 0;
      this.messages[i] = 0;
      this.depth[i] = depth;
      this.runningAt[i] = running;
    }
    this.rolledTo = sec;
    return from;
  }
}
