// When a `restart: 'on-failure'` service that failed starts again, and when it stops trying.
//
// Invariants:
// - A restart waits an exponential backoff with full jitter (util/backoff.ts): restart k waits in
//   [0, min(RESTART_MAX_DELAY_MS, base * 2^(k-1))), base being the spec's retryDelayMs (default
//   RESTART_BASE_DELAY_MS). k counts the restarts inside the current window, so a service that ran
//   well for a long while starts again quickly after a new failure.
// - The breaker: a failure that comes when RESTART_LIMIT restarts were made within the last
//   RESTART_WINDOW_MS is a crash loop; the service fails instead of starting again.
// - Memory is bounded: a RestartHistory keeps at most RESTART_LIMIT times.
// - Times are the monotonic clock's (Clock.monotonic, else now()): a wall clock stepping back must
//   neither open nor trip the breaker.
import { retryDelay } from '../util/backoff';

/** Restarts allowed within RESTART_WINDOW_MS; the next failure in the window fails the service. */
export const RESTART_LIMIT = 5;
export const RESTART_WINDOW_MS = 60_000;
/** The first restart's backoff ceiling when the spec sets no retryDelayMs. */
export const RESTART_BASE_DELAY_MS = 1000;
/** No restart waits longer than this. */
export const RESTART_MAX_DELAY_MS = 30_000;

export type RestartDecision = { readonly restart: true; readonly delayMs: number } | { readonly restart: false; readonly restartsInWindow: number };

/** The times of a service's recent restarts. */
export class RestartHistory {
  private readonly times: number[] = [];

  /**
   * A failure at `now`: restart after `delayMs` (recorded as a restart), or not (a crash loop).
   * `baseMs`: the spec's retryDelayMs, if any. `random`: for tests.
   */
  onFailure(now: number, baseMs: number | undefined, random: () => number = Math.random): RestartDecision {
    const times = this.times;
    while (times.length > 0 && now - (times[0] as number) >= RESTART_WINDOW_MS) times.shift();
    if (times.length >= RESTART_LIMIT) return { restart: false, restartsInWindow: times.length };
    times.push(now);
    return { restart: true, delayMs: retryDelay(times.length, baseMs ?? RESTART_BASE_DELAY_MS, random, RESTART_MAX_DELAY_MS) };
  }
}
