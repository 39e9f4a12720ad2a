import * as assert from 'node:assert/strict';
import { HISTOGRAM_RELATIVE_ERROR, PerformanceMonitor, type PerformanceMonitorOptions } from '../../src/core/metrics/performanceMonitor';
import { ValidationError } from '../../src/core/model/errors';
import { ManualClock } from '../support/manualClock';

function setup(options: Omit<PerformanceMonitorOptions, 'clock'> = {}, start = 0): { m: PerformanceMonitor; clock: ManualClock } {
  const clock = new ManualClock(start);
  return { m: new PerformanceMonitor({ clock, ...options }), clock };
}

/** A small deterministic PRNG (mulberry32), so the large-sample test is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function nearestRank(sorted: Float64Array, p: number): number {
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1];
}

function assertClose(actual: number, exact: number, relative: number, what: string): void {
  assert.ok(Math.abs(actual - exact) <= relative * exact + 1e-12, `${what}: ${actual} is not within ${(relative * 100).toFixed(2)}% of ${exact}`);
}

describe('performanceMonitor', () => {
  it('reports tasks finished per second over the last minute, or over its age while younger', () => {
    const { m, clock } = setup({}, 1_000_000);
    for (let i = 0; i < 30; i++) {
      clock.set(1_000_000 + i * 300); // 30 tasks in the first 9 s
      m.recordTaskExecution(`t${i}`, 10);
    }
    clock.set(1_000_000 + 10_000);
    assert.equal(m.getPerformanceMetrics().taskThroughput, 3);
    clock.set(1_000_000 + 30_000);
    assert.equal(m.getPerformanceMetrics().taskThroughput, 1);
    clock.set(1_000_000 + 60_000);
    assert.equal(m.getPerformanceMetrics().taskThroughput, 26 / 60, 'second 0 (4 tasks) has left the minute');
    clock.set(1_000_000 + 70_000);
    assert.equal(m.getPerformanceMetrics().taskThroughput, 0);
    assert.equal(m.getPerformanceMetrics().totals.completed, 30, 'totals are cumulative');
  });

  it('integrates pool utilisation over time: 1/2 for 3 s then 2/2 for 1 s is 0.625', () => {
    const { m, clock } = setup({ pools: { gpu: 2, net: 4 } });
    m.recordResourceUsage('gpu', { inUse: 1, capacity: 2 });
    clock.set(2000);
    m.recordResourceUsage('net', { inUse: 4, capacity: 4 });
    clock.set(3000);
    m.recordResourceUsage('gpu', { inUse: 2, capacity: 2 });
    clock.set(4000);
    const metrics = m.getPerformanceMetrics();
    assert.equal(metrics.resourceUtilization.gpu, 0.625);
    assert.equal(metrics.resourceUtilization.net, 0.5, 'idle from construction until its first record');
    assert.deepEqual(metrics.series.utilization.gpu.slice(-5), [0.5, 0.5, 0.5, 1, 0]);
    assert.deepEqual(metrics.series.utilization.net.slice(-5), [0, 0, 1, 1, 0]);
    clock.set(4500);
    assert.equal(m.getPerformanceMetrics().series.utilization.gpu.at(-1), 1, 'the current second, over its elapsed part');
  });

  it('weights utilisation correctly across records within one second and across long gaps', () => {
    const { m, clock } = setup({ windowSeconds: 120 });
    m.recordResourceUsage('cpu', { inUse: 4, capacity: 4 });
    clock.set(250);
    m.recordResourceUsage('cpu', { inUse: 0, capacity: 4 });
    clock.set(1000);
    assert.deepEqual(m.getPerformanceMetrics().series.utilization.cpu.slice(-2), [0.25, 0]);
    m.recordResourceUsage('cpu', { inUse: 2, capacity: 4 });
    clock.set(91_000); // 90 s at 1/2: the minute sees only that
    const metrics = m.getPerformanceMetrics();
    assert.equal(metrics.resourceUtilization.cpu, 0.5);
    assert.equal(metrics.series.utilization.cpu.length, 120);
  });

  it('rolls per-second buckets over: old counts leave, depth and running carry forward', () => {
    const { m, clock } = setup({ windowSeconds: 5 });
    m.recordQueueDepth(7, 2);
    m.recordTaskExecution('a', 10);
    m.recordTaskExecution('b', 30, { status: 'failed' });
    m.recordMessageProcessing('m1', 1);
    clock.set(2500);
    m.recordTaskExecution('c', 20, { status: 'cancelled' });
    let s = m.getPerformanceMetrics().series;
    assert.equal(s.start, -2000);
    assert.equal(s.bucketMs, 1000);
    assert.deepEqual(s.throughput, [0, 0, 2, 0, 1]);
    assert.deepEqual(s.completed, [0, 0, 1, 0, 0]);
    assert.deepEqual(s.failed, [0, 0, 1, 0, 0]);
    assert.deepEqual(s.meanDuration, [null, null, 20, null, 20]);
    assert.deepEqual(s.messages, [0, 0, 1, 0, 0]);
    assert.deepEqual(s.queueDepth.slice(2), [7, 7, 7]);
    assert.deepEqual(s.running.slice(2), [2, 2, 2]);
    clock.set(3200);
    m.recordQueueDepth(3, 1);
    m.recordQueueDepth(4, 1); // the last value of a second is the one kept
    clock.set(6100);
    s = m.getPerformanceMetrics().series;
    assert.equal(s.start, 2000);
    assert.deepEqual(s.throughput, [1, 0, 0, 0, 0], 'second 0 has rolled out');
    assert.deepEqual(s.queueDepth, [7, 4, 4, 4, 4]);
    clock.set(60_000);
    s = m.getPerformanceMetrics().series;
    assert.deepEqual(s.throughput, [0, 0, 0, 0, 0]);
    assert.deepEqual(s.queueDepth, [4, 4, 4, 4, 4]);
    assert.equal(m.getPerformanceMetrics().queueDepth, 4);
    assert.equal(m.getPerformanceMetrics().running, 1);
  });

  it('estimates p50 and p95 within the histogram error and keeps the mean exact', () => {
    const { m } = setup();
    for (let d = 1; d <= 100; d++) m.recordTaskExecution(`t${d}`, d);
    const metrics = m.getPerformanceMetrics();
    assert.equal(metrics.averageTaskDuration, 50.5);
    assertClose(metrics.p50TaskDuration, 50, HISTOGRAM_RELATIVE_ERROR, 'p50');
    assertClose(metrics.p95TaskDuration, 95, HISTOGRAM_RELATIVE_ERROR, 'p95');
    assert.ok(HISTOGRAM_RELATIVE_ERROR < 0.05);
    const h = metrics.durationHistogram;
    assert.equal(h.bounds.length, h.counts.length);
    assert.equal(h.bounds.at(-1), Infinity);
    assert.equal(
      h.counts.reduce((a, b) => a + b, 0),
      100,
    );
    for (let i = 1; i < h.bounds.length - 1; i++) assert.ok(h.bounds[i] / h.bounds[i - 1] < 1.1 + 1e-9);
  });

  it('keeps memory fixed over 1,000,000 records and its percentiles within the relative error of exact ones', function () {
    this.timeout(20_000);
    const { m, clock } = setup({ pools: { gpu: 4 } });
    const before = m.getFootprint();
    const n = 1_000_000;
    const random = prng(42);
    const samples = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      clock.set(i); // a thousand per second, so the ring wraps three times over
      // Log-uniform from 0.1 ms to 100 s: every part of the histogram gets used.
      const d = 0.1 * 10 ** (6 * random());
      samples[i] = d;
      m.recordTaskExecution('t', d, { status: i % 10 === 0 ? 'failed' : 'completed', waitMs: 2 });
      if (i % 100 === 0) m.recordResourceUsage('gpu', { inUse: i % 5, capacity: 4 });
      m.recordMessageProcessing('m', 0.1);
      m.recordQueueDepth(i % 50, i % 4);
    }
    assert.deepEqual(m.getFootprint(), before);
    samples.sort();
    const metrics = m.getPerformanceMetrics();
    for (const [p, got] of [
      [0.5, metrics.p50TaskDuration],
      [0.95, metrics.p95TaskDuration],
      [0.99, m.percentile(0.99)],
      [0.01, m.percentile(0.01)],
    ] as const) {
      assertClose(got, nearestRank(samples, p), HISTOGRAM_RELATIVE_ERROR, `p${p * 100}`);
    }
    assert.equal(metrics.totals.completed + metrics.totals.failed, n);
    assert.equal(metrics.successRate, 0.9);
    assert.equal(metrics.averageWaitTime, 2);
    assert.equal(metrics.taskThroughput, 1000);
    assert.equal(metrics.messageProcessingRate, 1000);
  });

  it('averages the wait in queue, and computes the success rate from completed and failed only', () => {
    const { m } = setup();
    assert.equal(m.getPerformanceMetrics().successRate, 1, 'nothing finished');
    assert.equal(m.getPerformanceMetrics().averageWaitTime, 0);
    m.recordTaskExecution('a', 5, { waitMs: 100 });
    m.recordTaskExecution('b', 5, { status: 'failed', waitMs: 300 });
    m.recordTaskExecution('c', 5, { status: 'completed' });
    m.recordTaskExecution('d', 5, { status: 'completed' });
    m.recordTaskExecution('e', 5, { status: 'cancelled' });
    const metrics = m.getPerformanceMetrics();
    assert.equal(metrics.averageWaitTime, 200);
    assert.equal(metrics.successRate, 0.75);
    assert.deepEqual(metrics.totals, { completed: 3, failed: 1, cancelled: 1, messages: 0 });
  });

  it('reports messages processed per second over the last minute', () => {
    const { m, clock } = setup();
    for (let i = 0; i < 40; i++) m.recordMessageProcessing(`m${i}`, 2);
    clock.set(20_000);
    assert.equal(m.getPerformanceMetrics().messageProcessingRate, 2);
    assert.equal(m.getPerformanceMetrics().totals.messages, 40);
  });

  it('forgets everything on reset', () => {
    const { m, clock } = setup({ pools: { gpu: 1 } });
    m.recordTaskExecution('a', 5);
    m.recordResourceUsage('gpu', { inUse: 1, capacity: 1 });
    m.recordResourceUsage('other', { inUse: 1, capacity: 1 });
    m.recordQueueDepth(3, 1);
    clock.set(5000);
    m.reset();
    clock.set(6000);
    const metrics = m.getPerformanceMetrics();
    assert.deepEqual(metrics.totals, { completed: 0, failed: 0, cancelled: 0, messages: 0 });
    assert.equal(metrics.p50TaskDuration, 0);
    assert.deepEqual(metrics.resourceUtilization, { gpu: 0 });
    assert.equal(metrics.queueDepth, 0);
    assert.equal(
      metrics.series.throughput.reduce((a, b) => a + b, 0),
      0,
    );
  });

  it('rejects bad inputs with clear messages and records nothing', () => {
    const { m } = setup();
    const bad: [() => void, RegExp][] = [
      [() => m.recordTaskExecution('a', -5), /Expected `duration` to be a non-negative finite number, got `-5` \(number\)/],
      [() => m.recordTaskExecution('a', Number.NaN), /got `NaN` \(number\)/],
      [() => m.recordTaskExecution('a', 1, { waitMs: -1 }), /Expected `waitMs`/],
      [() => m.recordTaskExecution('a', 1, { status: 'odd' as never }), /Expected `status` to be one of/],
      [() => m.recordResourceUsage('gpu', { inUse: 1, capacity: 0 }), /Expected `usage.capacity` to be a positive number, got `0` \(number\)/],
      [() => m.recordResourceUsage('', { inUse: 1, capacity: 1 }), /Expected `resourceId`/],
      [() => m.recordQueueDepth(-1, 0), /Expected `depth`/],
      [() => new PerformanceMonitor({ windowSeconds: 0 }), /Expected `windowSeconds` to be an integer from 1 to 86400, got `0` \(number\)/],
      [() => new PerformanceMonitor({ pools: { gpu: -1 } }), /Expected `pools.gpu` to be a positive number, got `-1` \(number\)/],
    ];
    for (const [fn, message] of bad) assert.throws(fn, (e: unknown) => e instanceof ValidationError && message.test(e.message));
    const metrics = m.getPerformanceMetrics();
    assert.deepEqual(metrics.totals, { completed: 0, failed: 0, cancelled: 0, messages: 0 });
    assert.deepEqual(metrics.resourceUtilization, {});
  });
});
