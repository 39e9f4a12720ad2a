import * as assert from 'node:assert/strict';
import { decorrelatedDelay, MAX_RETRY_DELAY_MS, retryDelay } from '../../src/core/util/backoff';

const fixed = (r: number) => () => r;

describe('backoff', () => {
  describe('retryDelay', () => {
    it('doubles the ceiling with each attempt, full jitter scaling it by the random draw', () => {
      assert.deepEqual(
        [1, 2, 3, 4].map((n) => retryDelay(n, 100, fixed(0.5))),
        [50, 100, 200, 400],
      );
      assert.equal(retryDelay(3, 100, fixed(0)), 0);
    });

    it('stays below the ceiling even when the random source returns 1', () => {
      assert.equal(retryDelay(1, 100, fixed(1)), 99);
      assert.equal(retryDelay(2, 100, fixed(1.7)), 199);
    });

    it('caps the delay at five minutes by default, and at the given cap', () => {
      assert.equal(MAX_RETRY_DELAY_MS, 300_000);
      assert.equal(retryDelay(40, 1000, fixed(0.5)), 150_000);
      assert.equal(retryDelay(5000, 1000, fixed(0.5)), 150_000); // 2^4999 overflows; the cap holds
      assert.equal(retryDelay(10, 1000, fixed(0.5), 2000), 1000);
    });

    it('treats attempts below 1 and non-numbers as the first, and a zero base as no delay', () => {
      assert.equal(retryDelay(0, 100, fixed(0.5)), 50);
      assert.equal(retryDelay(Number.NaN, 100, fixed(0.5)), 50);
      assert.equal(retryDelay(3, 0, fixed(0.5)), 0);
      assert.equal(retryDelay(3, -10, fixed(0.5)), 0);
      assert.equal(retryDelay(1, 100, fixed(Number.NaN)), 0);
    });

    it('returns whole milliseconds', () => {
      assert.ok(Number.isInteger(retryDelay(1, 333, fixed(0.123))));
    });
  });

  describe('decorrelatedDelay', () => {
    it('draws between the base and three times the previous delay, capped', () => {
      assert.equal(decorrelatedDelay(0, 100, fixed(0)), 100);
      assert.equal(decorrelatedDelay(100, 100, fixed(0.5)), 200);
      assert.equal(decorrelatedDelay(1000, 100, fixed(0.5)), 1550);
      assert.equal(decorrelatedDelay(10_000_000, 100, fixed(0.99)), Math.floor(100 + 0.99 * (MAX_RETRY_DELAY_MS - 100)));
      assert.equal(decorrelatedDelay(500, 0, fixed(0.5)), 0);
    });
  });
});
