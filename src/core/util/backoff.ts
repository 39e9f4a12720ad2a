// Delays between attempts of a failed task.
//
// Exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"):
// the delay before retry n is uniform in [0, min(cap, base * 2^(n-1))). Jitter spreads the retries of
// tasks that failed together (a flaky network, a busy pool) so they do not fail together again;
// the cap keeps a task with many retries from sleeping for hours.

/** No single wait between attempts is longer than this. */
export const MAX_RETRY_DELAY_MS = 5 * 60_000;

/**
 * The delay before the next attempt, with full jitter.
 *
 * @param attempt The number of the attempt that just failed: 1 for the first. Values below 1 count as 1.
 * @param baseMs The spec's `retryDelayMs`: the ceiling of the first delay. 0 (or less) means no delay.
 * @param random A source of numbers in [0, 1); tests pass a fixed one.
 * @param capMs The ceiling of any delay.
 * @returns Whole milliseconds in [0, min(capMs, baseMs * 2^(attempt-1))), 0 when that range is empty.
 */
export function retryDelay(attempt: number, baseMs: number, random: () => number = Math.random, capMs = MAX_RETRY_DELAY_MS): number {
  if (!(baseMs > 0) || !(capMs > 0)) return 0;
  const n = Number.isFinite(attempt) && attempt > 1 ? Math.floor(attempt) : 1;
  // 2^(n-1) overflows to Infinity for huge n; min() with the cap absorbs it.
  const ceiling = Math.min(capMs, baseMs * 2 ** (n - 1));
  return Math.floor(clampUnit(random()) * ceiling);
}

/**
 * "Decorrelated jitter" from the same article, for callers that keep the previous delay:
 * uniform in [base, previous * 3), capped. It grows like the exponential on average but never
 * drops back to zero, which suits retries against a service that is slow rather than down.
 */
export function decorrelatedDelay(previousMs: number, baseMs: number, random: () => number = Math.random, capMs = MAX_RETRY_DELAY_MS): number {
  if (!(baseMs > 0) || !(capMs > 0)) return 0;
  const prev = previousMs > baseMs ? previousMs : baseMs;
  const upper = Math.min(capMs, prev * 3);
  const lower = Math.min(capMs, baseMs);
  return Math.floor(lower + clampUnit(random()) * (upper - lower));
}

// A random source that returns 1 (or garbage) must not push the delay past its ceiling.
function clampUnit(r: number): number {
  if (!(r > 0)) return 0;
  return r < 1 ? r : 1 - Number.EPSILON;
}
