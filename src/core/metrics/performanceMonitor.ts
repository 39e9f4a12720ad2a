// The Performance Monitor: durations, throughput, wait time, pool utilisation, message rate and a
// rolling per-second series, in fixed memory however many tasks run. The facade over three parts:
// the per-second ring of counters (secondRing.ts), the duration histogram (logHistogram.ts) and the
// time-weighted pool utilisation (poolUtilisation.ts).
//
// Invariant: every record call is O(1) amortised and allocates nothing (a pool seen for the first
// time aside): no sample is kept. Before anything touches the ring, it is rolled to the current
// second, and the depth source (if any) is sampled into the second being closed.
import { ValidationError, describeValue, fieldError } from '../model/errors';
import { systemClock, type Clock } from '../ports';
import type { MetricsSeries, PerformanceMetrics, ResourceUsage } from './metricsTypes';
import { isObjectLike } from '../model/guards';
import { LogHistogram } from './logHistogram';
import { PoolUtilisation } from './poolUtilisation';
import { SecondRing } from './secondRing';

export { HISTOGRAM_RELATIVE_ERROR } from './logHistogram';

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

/** Rates and utilisation are averaged over this many seconds (or the window, if shorter). */
const RATE_SECONDS = 60;

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

  private readonly ring: SecondRing;
  private readonly histogram = new LogHistogram();
  private readonly pools: PoolUtilisation;

  private startedAt = 0;
  private totalCompleted = 0;
  private totalFailed = 0;
  private totalCancelled = 0;
  private totalMessages = 0;
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
    this.ring = new SecondRing(w);
    this.pools = new PoolUtilisation(w);
    this.reset();
  }

  /** Forgets everything recorded; pools given to the constructor start again idle. */
  reset(): void {
    const now = this.clock.now();
    this.startedAt = now;
    this.ring.reset(Math.floor(now / 1000));
    this.histogram.reset();
    this.totalCompleted = this.totalFailed = this.totalCancelled = this.totalMessages = 0;
    this.waitTotal = this.waits = 0;
    this.lastDepth = this.lastRunning = 0;
    this.pools.reset(this.initialPools, now);
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
    const ring = this.ring;
    if (status === 'completed') {
      ring.completed[slot]!++;
      this.totalCompleted++;
    } else if (status === 'failed') {
      ring.failed[slot]!++;
      this.totalFailed++;
    } else {
      ring.cancelled[slot]!++;
      this.totalCancelled++;
    }
    ring.durationSum[slot]! += duration;
    ring.durationCount[slot]!++;
    this.histogram.record(duration);
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
    this.pools.record(resourceId, usage.inUse, usage.capacity, now);
  }

  /** One message handled, taking `duration` ms. */
  recordMessageProcessing(messageId: string, duration: number): void {
    if (typeof messageId !== 'string') throw fieldError('messageId', 'a string', messageId);
    checkNonNegative(duration, 'duration');
    this.ring.messages[this.slotNow()]!++;
    this.totalMessages++;
  }

  /** Tasks waiting (created + scheduled) and running now; each second keeps the last value seen. */
  /** `at`: when the depth was reached, if the caller has just read the clock (saves reading it again). */
  recordQueueDepth(depth: number, running: number, at?: number): void {
    checkNonNegative(depth, 'depth');
    checkNonNegative(running, 'running');
    const slot = this.slotNow(at);
    this.ring.depth[slot] = this.lastDepth = depth;
    this.ring.runningAt[slot] = this.lastRunning = running;
  }

  getPerformanceMetrics(): PerformanceMetrics {
    const now = this.clock.now();
    const nowSec = Math.floor(now / 1000);
    this.roll(nowSec);
    const ring = this.ring;
    const nowSlot = ring.slotIndex(nowSec);
    this.sampleDepth(ring.second[nowSlot] === nowSec ? nowSlot : ring.slotIndex(ring.rolledTo));

    const w = this.window;
    const first = nowSec - w + 1;
    const series: MetricsSeries = {
      start: first * 1000,
      bucketMs: 1000,
      throughput: [],
      completed: [],
      failed: [],
      queueDepth: [],
      running: [],
      meanDuration: [],
      utilization: {},
      messages: [],
    };
    for (let s = first; s <= nowSec; s++) {
      const i = ring.slotIndex(s);
      const c = ring.completed[i]!;
      const f = ring.failed[i]!;
      series.throughput.push(c + f + ring.cancelled[i]!);
      series.completed.push(c);
      series.failed.push(f);
      series.queueDepth.push(ring.depth[i]!);
      series.running.push(ring.runningAt[i]!);
      series.meanDuration.push(ring.durationCount[i]! > 0 ? ring.durationSum[i]! / ring.durationCount[i]! : null);
      series.messages.push(ring.messages[i]!);
    }

    // Rates over the last minute (or the window, if shorter), or over the monitor's age while it is younger.
    const rateSeconds = Math.min(RATE_SECONDS, w);
    const span = Math.min(rateSeconds, Math.max(1, (now - this.startedAt) / 1000));
    let finished = 0;
    let messages = 0;
    for (let s = nowSec - rateSeconds + 1; s <= nowSec; s++) {
      const i = ring.slotIndex(s);
      finished += ring.completed[i]! + ring.failed[i]! + ring.cancelled[i]!;
      messages += ring.messages[i]!;
    }

    const resourceUtilization: Record<string, number> = {};
    this.pools.report(now, first, nowSec, nowSec - rateSeconds + 1, series.utilization, resourceUtilization);

    const finishedAll = this.totalCompleted + this.totalFailed;
    return {
      averageTaskDuration: this.histogram.mean(),
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
      durationHistogram: this.histogram.snapshot(),
      series,
    };
  }

  /**
   * The nearest-rank percentile of the durations recorded, estimated within
   * {@link HISTOGRAM_RELATIVE_ERROR}, 0 when empty.
   */
  percentile(p: number): number {
    return this.histogram.percentile(p);
  }

  /** For tests and diagnostics: internal array sizes, which recording never grows. */
  getFootprint(): MonitorFootprint {
    const ring = this.window;
    return {
      ringSlots: ring,
      histogramBuckets: this.histogram.buckets,
      pools: this.pools.size,
      arrayElements: ring * SecondRing.ARRAYS + this.histogram.buckets + this.pools.size * ring,
    };
  }

  /** Rolls to now and returns the current second's slot. */
  private slotNow(at?: number): number {
    const sec = Math.floor((at ?? this.clock.now()) / 1000);
    this.roll(sec);
    const ring = this.ring;
    const i = ring.slotIndex(sec);
    // Only a clock that went back by more than the window gets here: count it in the latest second.
    return ring.second[i] === sec ? i : ring.slotIndex(ring.rolledTo);
  }

  /**
   * Rolls the ring (and the pools' slots) to `sec`, carrying the last depth and running count
   * forward. A clock going backwards rolls nothing: records then land in the slot of that earlier
   * second while it is still in the window.
   */
  private roll(sec: number): void {
    const ring = this.ring;
    if (sec <= ring.rolledTo) return;
    // The second being closed keeps the depth as it is now, its last value; the new ones start from it.
    if (ring.rolledTo !== -Infinity) this.sampleDepth(ring.slotIndex(ring.rolledTo));
    else this.sampleDepth(-1);
    const from = ring.roll(sec, this.lastDepth, this.lastRunning);
    this.pools.clearSeconds(from, sec);
  }

  /** Reads the depth source, if any, into the last values and (slot >= 0) that second's slot. */
  private sampleDepth(slot: number): void {
    const src = this.depthSource;
    if (src === undefined) return;
    this.lastDepth = src.waiting();
    this.lastRunning = src.running();
    if (slot >= 0) {
      this.ring.depth[slot] = this.lastDepth;
      this.ring.runningAt[slot] = this.lastRunning;
    }
  }
}

function checkNonNegative(v: unknown, name: string): void {
  if (typeof v !== 'number' || !(v >= 0) || v === Infinity) {
    throw fieldError(name, 'a non-negative finite number', v);
  }
}
