// The Performance Monitor: durations, throughput, wait time, pool utilisation, message rate and a
// rolling per-second series, in fixed memory however many tasks run.
//
// Invariants:
// - Every record call is O(1) amortised and allocates nothing: counters go into a ring of
//   `windowSeconds` per-second slots (typed arrays, reused as time rolls on) and durations into a
//   log-scale histogram with fixed bounds. No sample is kept.
// - Slots are rolled lazily: before anything touches the ring, every second since the last roll is
//   reset (at most `windowSeconds` of them), carrying the last queue depth and running count
//   forward, so a slot is never read or written for a second it does not hold.
// - Utilisation is time-weighted: a pool's ratio inUse/capacity holds from one record to the next,
//   and that area (ratio x ms) is added to the slots of the seconds it spans when the next record
//   (or a read) comes.
import { ValidationError, describeValue, fieldError } from '../model/errors';
import { systemClock, type Clock } from '../ports';
import type { DurationHistogram, MetricsSeries, PerformanceMetrics, ResourceUsage } from './metricsTypes';
import { isObjectLike } from '../model/guards';

export interface PerformanceMonitorOptions {
  clock?: Clock;
  /** Seconds of per-second history kept for `series`. Default 300 (5 minutes). */
  windowSeconds?: number;
  /** Pools known from the start, by name and capacity; they count as idle until a usage is recorded. */
  pools?: Record<string, number>;
  /**
   * Where the queue depth can be read at any time. Given, the monitor samples it when a second's
   * bucket rolls and when metrics are read, instead of being told on every change: a series keeps
   * one value per second, so an owner whose depth changes several times per task (the orchestrator:
   * four transitions) need not push each one. `recordQueueDepth` still works and is overwritten by
   * the next sample.
   */
  queueDepthSource?: QueueDepthSource;
}

/** Read lazily by the monitor (see PerformanceMonitorOptions.queueDepthSource). */
export interface QueueDepthSource {
  /** Tasks waiting (not running, not finished). */
  waiting(): number;
  running(): number;
}

export interface TaskExecutionInfo {
  /** Default 'completed'. */
  status?: 'completed' | 'failed' | 'cancelled';
  /** Time from ready (Scheduled) to Running, ms. */
  waitMs?: number;
  /** When the execution ended, if the caller has just read the clock (saves reading it again). */
  at?: number;
}

/** Sizes of the internal arrays: constant after construction, whatever is recorded (pools aside). */
export interface MonitorFootprint {
  ringSlots: number;
  histogramBuckets: number;
  pools: number;
  /** Total elements of every internal array. */
  arrayElements: number;
}

const HISTOGRAM_MIN_MS = 0.1;
const HISTOGRAM_MAX_MS = 86_400_000;
const HISTOGRAM_GROWTH = 1.1;
const LOG_GROWTH = Math.log(HISTOGRAM_GROWTH);
/** Rates and utilisation are averaged over this many seconds (or the window, if shorter). */
const RATE_SECONDS = 60;

/**
 * Upper bounds of the duration buckets: 0.1 ms, then each 10% above the last, up to a day, then
 * Infinity. Bucket i holds durations in (bounds[i-1], bounds[i]].
 */
const BOUNDS: readonly number[] = (() => {
  const b = [HISTOGRAM_MIN_MS];
  while (b[b.length - 1] < HISTOGRAM_MAX_MS) b.push(HISTOGRAM_MIN_MS * HISTOGRAM_GROWTH ** b.length);
  b.push(Infinity);
  return b;
})();

/**
 * The most a reported percentile differs from the exact nearest-rank one, relative to it, for
 * durations from 0.1 ms to a day: the estimate is the geometric middle of a bucket whose bounds
 * differ by 10%, so it is within sqrt(1.1) - 1 (about 4.9%) of any value in the bucket.
 */
export const HISTOGRAM_RELATIVE_ERROR = Math.sqrt(HISTOGRAM_GROWTH) - 1;

function bucketOf(ms: number): number {
  if (ms <= HISTOGRAM_MIN_MS) return 0;
  const last = BOUNDS.length - 1;
  let i = Math.ceil(Math.log(ms / HISTOGRAM_MIN_MS) / LOG_GROWTH);
  if (i >= last) return ms > BOUNDS[last - 1] ? last : last - 1;
  // Floating point can put a value on a bound one bucket off; nudge it into (bounds[i-1], bounds[i]].
  if (BOUNDS[i] < ms) i++;
  else if (i > 0 && BOUNDS[i - 1] >= ms) i--;
  return i;
}

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

/**
 * Collects task, resource and message figures in fixed memory and reports them as
 * {@link PerformanceMetrics}. Means, totals, percentiles and the histogram cover everything since
 * construction (or `reset()`); rates and utilisation cover the last minute; `series` covers the
 * last `windowSeconds`, one bucket per second, oldest first.
 */
export class PerformanceMonitor {
  private readonly clock: Clock;
  private readonly window: number;
  private readonly initialPools: Record<string, number>;

  // The ring: slot s % window holds second s while s is within the window.
  private readonly second: Float64Array;
  private readonly completed: Uint32Array;
  private readonly failed: Uint32Array;
  private readonly cancelled: Uint32Array;
  private readonly durationSum: Float64Array;
  private readonly durationCount: Uint32Array;
  private readonly messages: Uint32Array;
  private readonly depth: Float64Array;
  private readonly runningAt: Float64Array;
  private readonly histogram: Float64Array;
  private pools = new Map<string, PoolState>();

  /** The latest second the ring has been rolled to. */
  private rolledTo = -Infinity;
  private startedAt = 0;
  private totalCompleted = 0;
  private totalFailed = 0;
  private totalCancelled = 0;
  private totalMessages = 0;
  private durationTotal = 0;
  private durations = 0;
  private minDuration = Infinity;
  private maxDuration = 0;
  private waitTotal = 0;
  private waits = 0;
  private lastDepth = 0;
  private lastRunning = 0;
  private readonly depthSource: QueueDepthSource | undefined;

  constructor(options: PerformanceMonitorOptions = {}) {
    if (typeof options !== 'object' || options === null) throw fieldError('options', 'an object', options);
    this.clock = options.clock ?? systemClock;
    this.depthSource = options.queueDepthSource;
    const w = options.windowSeconds ?? 300;
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 1 || w > 86_400) {
      throw fieldError('windowSeconds', 'an integer from 1 to 86400', w);
    }
    this.window = w;
    const pools = options.pools ?? {};
    if (!isObjectLike(pools)) throw fieldError('pools', 'an object', pools);
    for (const [name, capacity] of Object.entries(pools)) {
      if (typeof capacity !== 'number' || !Number.isFinite(capacity) || capacity <= 0) {
        throw new ValidationError(`Expected \`pools.${name}\` to be a positive number, got ${describeValue(capacity)}`, `pools.${name}`);
      }
    }
    this.initialPools = { ...pools };
    this.second = new Float64Array(w);
    this.completed = new Uint32Array(w);
    this.failed = new Uint32Array(w);
    this.cancelled = new Uint32Array(w);
    this.durationSum = new Float64Array(w);
    this.durationCount = new Uint32Array(w);
    this.messages = new Uint32Array(w);
    this.depth = new Float64Array(w);
    this.runningAt = new Float64Array(w);
    this.histogram = new Float64Array(BOUNDS.length);
    this.reset();
  }

  /** Forgets everything recorded; pools given to the constructor start again idle. */
  reset(): void {
    const now = this.clock.now();
    this.startedAt = now;
    this.second.fill(-1);
    this.completed.fill(0);
    this.failed.fill(0);
    this.cancelled.fill(0);
    this.durationSum.fill(0);
    this.durationCount.fill(0);
    this.messages.fill(0);
    this.depth.fill(0);
    this.runningAt.fill(0);
    this.histogram.fill(0);
    this.rolledTo = Math.floor(now / 1000) - this.window;
    this.totalCompleted = this.totalFailed = this.totalCancelled = this.totalMessages = 0;
    this.durationTotal = this.durations = this.waitTotal = this.waits = 0;
    this.minDuration = Infinity;
    this.maxDuration = 0;
    this.lastDepth = this.lastRunning = 0;
    this.pools = new Map();
    for (const [name, capacity] of Object.entries(this.initialPools)) {
      this.pools.set(name, { capacity, ratio: 0, since: now, firstAt: now, area: new Float64Array(this.window) });
    }
    this.roll(Math.floor(now / 1000));
  }

  /** One finished attempt: its duration in ms, how it ended (default completed) and how long it waited. */
  recordTaskExecution(taskId: string, duration: number, info?: TaskExecutionInfo): void {
    if (typeof taskId !== 'string') throw fieldError('taskId', 'a string', taskId);
    checkNonNegative(duration, 'duration');
    const status = info?.status ?? 'completed';
    const waitMs = info?.waitMs;
    if (waitMs !== undefined) checkNonNegative(waitMs, 'waitMs');
    const at = info?.at;
    if (at !== undefined && typeof at !== 'number') throw fieldError('at', 'a time in ms', at);
    if (status !== 'completed' && status !== 'failed' && status !== 'cancelled') {
      throw fieldError('status', 'one of `completed`, `failed`, `cancelled`', status);
    }
    this.recordExecution(duration, status, waitMs, at);
  }

  /**
   * recordTaskExecution for a caller whose figures are right by construction (the orchestrator's
   * hot path): no validation and no info object. `waitMs` may be undefined; `at` defaults to now.
   */
  recordExecution(duration: number, status: 'completed' | 'failed' | 'cancelled', waitMs: number | undefined, at?: number): void {
    const slot = this.slotNow(at);
    if (status === 'completed') {
      this.completed[slot]++;
      this.totalCompleted++;
    } else if (status === 'failed') {
      this.failed[slot]++;
      this.totalFailed++;
    } else {
      this.cancelled[slot]++;
      this.totalCancelled++;
    }
    this.durationSum[slot] += duration;
    this.durationCount[slot]++;
    this.durationTotal += duration;
    this.durations++;
    if (duration < this.minDuration) this.minDuration = duration;
    if (duration > this.maxDuration) this.maxDuration = duration;
    this.histogram[bucketOf(duration)]++;
    if (waitMs !== undefined) {
      this.waitTotal += waitMs;
      this.waits++;
    }
  }

  /**
   * A pool's usage from now until the next record. `capacity` may change between records (a
   * setting changed); a ratio above 1 means the pool is over-committed and is reported as such.
   */
  recordResourceUsage(resourceId: string, usage: ResourceUsage): void {
    if (typeof resourceId !== 'string' || resourceId.length === 0) throw fieldError('resourceId', 'a non-empty string', resourceId);
    if (typeof usage !== 'object' || usage === null) throw fieldError('usage', 'an object', usage);
    checkNonNegative(usage.inUse, 'usage.inUse');
    if (typeof usage.capacity !== 'number' || !Number.isFinite(usage.capacity) || usage.capacity <= 0) {
      throw fieldError('usage.capacity', 'a positive number', usage.capacity);
    }
    const now = this.clock.now();
    this.roll(Math.floor(now / 1000));
    let pool = this.pools.get(resourceId);
    if (!pool) {
      pool = { capacity: usage.capacity, ratio: 0, since: now, firstAt: now, area: new Float64Array(this.window) };
      this.pools.set(resourceId, pool);
    } else {
      this.integrate(pool, now);
    }
    pool.capacity = usage.capacity;
    pool.ratio = usage.inUse / usage.capacity;
  }

  /** One message handled, taking `duration` ms. */
  recordMessageProcessing(messageId: string, duration: number): void {
    if (typeof messageId !== 'string') throw fieldError('messageId', 'a string', messageId);
    checkNonNegative(duration, 'duration');
    this.messages[this.slotNow()]++;
    this.totalMessages++;
  }

  /** Tasks waiting (created + scheduled) and running now; each second keeps the last value seen. */
  /** `at`: when the depth was reached, if the caller has just read the clock (saves reading it again). */
  recordQueueDepth(depth: number, running: number, at?: number): void {
    checkNonNegative(depth, 'depth');
    checkNonNegative(running, 'running');
    const slot = this.slotNow(at);
    this.depth[slot] = this.lastDepth = depth;
    this.runningAt[slot] = this.lastRunning = running;
  }

  getPerformanceMetrics(): PerformanceMetrics {
    const now = this.clock.now();
    const nowSec = Math.floor(now / 1000);
    this.roll(nowSec);
    const nowSlot = this.slotIndex(nowSec);
    this.sampleDepth(this.second[nowSlot] === nowSec ? nowSlot : this.slotIndex(this.rolledTo));
    for (const pool of this.pools.values()) this.integrate(pool, now);

    const w = this.window;
    const first = nowSec - w + 1;
    const series: MetricsSeries = {
      start: first * 1000, bucketMs: 1000, throughput: [], completed: [], failed: [], queueDepth: [], running: [], meanDuration: [], utilization: {}, messages: [],
    };
    for (let s = first; s <= nowSec; s++) {
      const i = this.slotIndex(s);
      const c = this.completed[i];
      const f = this.failed[i];
      series.throughput.push(c + f + this.cancelled[i]);
      series.completed.push(c);
      series.failed.push(f);
      series.queueDepth.push(this.depth[i]);
      series.running.push(this.runningAt[i]);
      series.meanDuration.push(this.durationCount[i] > 0 ? this.durationSum[i] / this.durationCount[i] : null);
      series.messages.push(this.messages[i]);
    }

    // Rates over the last minute (or the window, if shorter), or over the monitor's age while it is younger.
    const rateSeconds = Math.min(RATE_SECONDS, w);
    const span = Math.min(rateSeconds, Math.max(1, (now - this.startedAt) / 1000));
    let finished = 0;
    let messages = 0;
    for (let s = nowSec - rateSeconds + 1; s <= nowSec; s++) {
      const i = this.slotIndex(s);
      finished += this.completed[i] + this.failed[i] + this.cancelled[i];
      messages += this.messages[i];
    }

    const resourceUtilization: Record<string, number> = {};
    const rateStart = (nowSec - rateSeconds + 1) * 1000;
    for (const [name, pool] of this.pools) {
      const perSecond: number[] = [];
      for (let s = first; s <= nowSec; s++) {
        const covered = overlap(pool.firstAt, now, s * 1000, s * 1000 + 1000);
        perSecond.push(covered > 0 ? pool.area[this.slotIndex(s)] / covered : 0);
      }
      series.utilization[name] = perSecond;
      let area = 0;
      for (let s = nowSec - rateSeconds + 1; s <= nowSec; s++) area += pool.area[this.slotIndex(s)];
      const covered = now - Math.max(pool.firstAt, rateStart);
      // A pool recorded this very millisecond has no elapsed time yet: report its current ratio.
      resourceUtilization[name] = covered > 0 ? area / covered : pool.ratio;
    }

    const finishedAll = this.totalCompleted + this.totalFailed;
    return {
      averageTaskDuration: this.durations > 0 ? this.durationTotal / this.durations : 0,
      taskThroughput: finished / span,
      resourceUtilization,
      messageProcessingRate: messages / span,
      p50TaskDuration: this.percentile(0.5),
      p95TaskDuration: this.percentile(0.95),
      averageWaitTime: this.waits > 0 ? this.waitTotal / this.waits : 0,
      queueDepth: this.lastDepth,
      running: this.lastRunning,
      successRate: finishedAll > 0 ? this.totalCompleted / finishedAll : 1,
      totals: { completed: this.totalCompleted, failed: this.totalFailed, cancelled: this.totalCancelled, messages: this.totalMessages },
      durationHistogram: this.durationHistogram(),
      series,
    };
  }

  /**
   * The nearest-rank percentile (the smallest recorded duration with at least p of all at or
   * below it), estimated from the histogram within {@link HISTOGRAM_RELATIVE_ERROR}, 0 when empty.
   */
  percentile(p: number): number {
    if (this.durations === 0) return 0;
    const rank = Math.max(1, Math.ceil(p * this.durations));
    let seen = 0;
    const h = this.histogram;
    for (let i = 0; i < h.length; i++) {
      seen += h[i];
      if (seen >= rank) {
        const upper = BOUNDS[i];
        const lower = i === 0 ? 0 : BOUNDS[i - 1];
        const estimate = i === 0 ? upper / 2 : upper === Infinity ? this.maxDuration : Math.sqrt(lower * upper);
        return Math.min(this.maxDuration, Math.max(this.minDuration, estimate));
      }
    }
    return this.maxDuration;
  }

  private durationHistogram(): DurationHistogram {
    return { bounds: [...BOUNDS], counts: Array.from(this.histogram) };
  }

  /** For tests and diagnostics: internal array sizes, which recording never grows. */
  getFootprint(): MonitorFootprint {
    const ring = this.window;
    return {
      ringSlots: ring,
      histogramBuckets: this.histogram.length,
      pools: this.pools.size,
      arrayElements: ring * 9 + this.histogram.length + this.pools.size * ring,
    };
  }

  // ---------------------------------------------------------------- the ring

  private slotIndex(sec: number): number {
    const i = sec % this.window;
    return i < 0 ? i + this.window : i;
  }

  /** Rolls to now and returns the current second's slot. */
  private slotNow(at?: number): number {
    const sec = Math.floor((at ?? this.clock.now()) / 1000);
    this.roll(sec);
    const i = this.slotIndex(sec);
    // Only a clock that went back by more than the window gets here: count it in the latest second.
    return this.second[i] === sec ? i : this.slotIndex(this.rolledTo);
  }

  /**
   * Resets the slots of every second after the last roll up to `sec` (at most a window of them),
   * carrying the last depth and running count forward. A clock going backwards rolls nothing:
   * records then land in the slot of that earlier second while it is still in the window.
   */
  private roll(sec: number): void {
    if (sec <= this.rolledTo) return;
    // The second being closed keeps the depth as it is now, its last value; the new ones start from it.
    if (this.rolledTo !== -Infinity) this.sampleDepth(this.slotIndex(this.rolledTo));
    else this.sampleDepth(-1);
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
      this.depth[i] = this.lastDepth;
      this.runningAt[i] = this.lastRunning;
      for (const pool of this.pools.values()) pool.area[i] = 0;
    }
    this.rolledTo = sec;
  }

  /** Reads the depth source, if any, into the last values and (slot >= 0) that second's slot. */
  private sampleDepth(slot: number): void {
    const src = this.depthSource;
    if (src === undefined) return;
    this.lastDepth = src.waiting();
    this.lastRunning = src.running();
    if (slot >= 0) {
      this.depth[slot] = this.lastDepth;
      this.runningAt[slot] = this.lastRunning;
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
        if (ms > 0) pool.area[this.slotIndex(s)] += pool.ratio * ms;
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

function checkNonNegative(v: unknown, name: string): void {
  if (typeof v !== 'number' || !(v >= 0) || v === Infinity) {
    throw fieldError(name, 'a non-negative finite number', v);
  }
}
