// Pool utilisation, time-weighted: a pool's ratio inUse/capacity holds from one record to the next,
// and that area (ratio x ms) is added to the per-second slots of the seconds it spans when the next
// record (or a read) comes. Each pool keeps one area array of the ring's size (secondRing.ts), made
// when the pool is first seen; recording allocates nothing after that.
import { slotOf } from './secondRing';

interface PoolState {
  capacity: number;
  /** inUse / capacity since `since`. */
  ratio: number;
  /** Epoch ms up to which the ratio has been integrated into `area`. */
  since: number;
  /** Epoch ms of the first record (or of construction, for pools given then). */
  firstAt: number;
  /** Per ring slot: the integral of the ratio over the slot's second, in ms. */
  area: Float64Array;
}

export class PoolUtilisation {
  private pools = new Map<string, PoolState>();

  constructor(private readonly window: number) {}

  get size(): number {
    return this.pools.size;
  }

  /** Forgets every pool, then knows `initial` ones, idle from `now`. */
  reset(initial: Record<string, number>, now: number): void {
    this.pools = new Map();
    for (const [name, capacity] of Object.entries(initial)) {
      this.pools.set(name, { capacity, ratio: 0, since: now, firstAt: now, area: new Float64Array(this.window) });
    }
  }

  /** The pool's usage from `now` until the next record. */
  record(name: string, inUse: number, capacity: number, now: number): void {
    let pool = this.pools.get(name);
    if (!pool) {
      pool = { capacity, ratio: 0, since: now, firstAt: now, area: new Float64Array(this.window) };
      this.pools.set(name, pool);
    } else {
      this.integrate(pool, now);
    }
    pool.capacity = capacity;
    pool.ratio = inUse / capacity;
  }

  /** Empties the slots of seconds [from, to] (the ring has just rolled them). */
  clearSeconds(from: number, to: number): void {
    for (let s = from; s <= to; s++) {
      const i = slotOf(s, this.window);
      for (const pool of this.pools.values()) pool.area[i] = 0;
    }
  }

  /**
   * Integrates every pool up to `now`, then writes each pool's per-second ratio for seconds
   * [first, nowSec] into `series` and its mean over [rateFirst, now] into `mean`.
   */
  report(now: number, first: number, nowSec: number, rateFirst: number, series: Record<string, number[]>, mean: Record<string, number>): void {
    for (const pool of this.pools.values()) this.integrate(pool, now);
    const rateStart = rateFirst * 1000;
    for (const [name, pool] of this.pools) {
      const perSecond: number[] = [];
      for (let s = first; s <= nowSec; s++) {
        const covered = overlap(pool.firstAt, now, s * 1000, s * 1000 + 1000);
        perSecond.push(covered > 0 ? pool.area[slotOf(s, this.window)]! / covered : 0);
      }
      series[name] = perSecond;
      let area = 0;
      for (let s = rateFirst; s <= nowSec; s++) area += pool.area[slotOf(s, this.window)]!;
      const covered = now - Math.max(pool.firstAt, rateStart);
      // A pool recorded this very millisecond has no elapsed time yet: report its current ratio.
      mean[name] = covered > 0 ? area / covered : pool.ratio;
    }
  }

  /** Adds the pool's ratio over [since, now) to the slots of the seconds it spans that are still in the window. */
  private integrate(pool: PoolState, now: number): void {
    if (now <= pool.since) return;
    const nowSec = Math.floor(now / 1000);
    const startSec = Math.max(Math.floor(pool.since / 1000), nowSec - this.window + 1);
    if (pool.ratio > 0) {
      for (let s = startSec; s <= nowSec; s++) {
        const ms = overlap(pool.since, now, s * 1000, s * 1000 + 1000);
        if (ms > 0) pool.area[slotOf(s, this.window)]! += pool.ratio * ms;
      }
    }
    pool.since = now;
  }
}

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  const lo = a0 > b0 ? a0 : b0;
  const hi = a1 < b1 ? a1 : b1;
  return hi > lo ? hi - lo : 0;
}
