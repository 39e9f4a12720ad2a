// Durations in a log-scale histogram with fixed bounds: recording is O(1) and allocates nothing, and
// no sample is kept, so memory is constant however many durations are recorded. Percentiles are
// estimated from the buckets within HISTOGRAM_RELATIVE_ERROR of the exact nearest-rank value.
import type { DurationHistogram } from './metricsTypes';

const HISTOGRAM_MIN_MS = 0.1;
const HISTOGRAM_MAX_MS = 86_400_000;
const HISTOGRAM_GROWTH = 1.1;
const LOG_GROWTH = Math.log(HISTOGRAM_GROWTH);

/**
 * Upper bounds of the duration buckets: 0.1 ms, then each 10% above the last, up to a day, then
 * Infinity. Bucket i holds durations in (bounds[i-1], bounds[i]].
 */
const BOUNDS: readonly number[] = (() => {
  const b = [HISTOGRAM_MIN_MS];
  while (b[b.length - 1]! < HISTOGRAM_MAX_MS) b.push(HISTOGRAM_MIN_MS * HISTOGRAM_GROWTH ** b.length);
  b.push(Infinity);
  return b;
})();

/**
 * The most a reported percentile differs from the exact nearest-rank one, relative to it, for
 * durations from 0.1 ms to a day: the estimate is the geometric middle of a bucket whose bounds
 * differ by 10%, so it is within sqrt(1.1) - 1 (about 4.9%) of any value in the bucket.
 */
export const HISTOGRAM_RELATIVE_ERROR = Math.sqrt(HISTOGRAM_GROWTH) - 1;

/** A bucket index, 0 <= i < BOUNDS.length; i is clamped below `last` before BOUNDS[i] is read. */
function bucketOf(ms: number): number {
  if (ms <= HISTOGRAM_MIN_MS) return 0;
  const last = BOUNDS.length - 1;
  let i = Math.ceil(Math.log(ms / HISTOGRAM_MIN_MS) / LOG_GROWTH);
  if (i >= last) return ms > BOUNDS[last - 1]! ? last : last - 1;
  // Floating point can put a value on a bound one bucket off; nudge it into (bounds[i-1], bounds[i]].
  if (BOUNDS[i]! < ms) i++;
  else if (i > 0 && BOUNDS[i - 1]! >= ms) i--;
  return i;
}

/** Every duration recorded since construction (or `reset()`): count, mean, extremes and buckets. */
export class LogHistogram {
  private readonly counts = new Float64Array(BOUNDS.length);
  private total = 0;
  /** Durations recorded. */
  count = 0;
  private min = Infinity;
  private max = 0;

  get buckets(): number {
    return this.counts.length;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = this.count = 0;
    this.min = Infinity;
    this.max = 0;
  }

  record(ms: number): void {
    this.total += ms;
    this.count++;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    this.counts[bucketOf(ms)]!++;
  }

  /** The mean duration, 0 when empty. */
  mean(): number {
    return this.count > 0 ? this.total / this.count : 0;
  }

  /**
   * The nearest-rank percentile (the smallest recorded duration with at least p of all at or
   * below it), estimated from the buckets within {@link HISTOGRAM_RELATIVE_ERROR}, 0 when empty.
   */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    const h = this.counts;
    for (let i = 0; i < h.length; i++) {
      seen += h[i]!;
      if (seen >= rank) {
        const upper = BOUNDS[i]!;
        const lower = i === 0 ? 0 : BOUNDS[i - 1]!;
        const estimate = i === 0 ? upper / 2 : upper === Infinity ? this.max : Math.sqrt(lower * upper);
        return Math.min(this.max, Math.max(this.min, estimate));
      }
    }
    return this.max;
  }

  /** A copy, for a metrics report. */
  snapshot(): DurationHistogram {
    return { bounds: [...BOUNDS], counts: Array.from(this.counts) };
  }
}
