import * as assert from 'node:assert/strict';
import { applyPatch, applySeriesPatch, diffSeries, diffSnapshot, jsonEqual } from '../../src/dashboardProtocol/dashboardDiff';
import { isSnapshot } from '../../src/dashboardProtocol/protocol';
import { fleet, series, services, snapshot, timeline } from '../support/dashboardFixtures';

describe('dashboardDiff', () => {
  it('finds nothing to send between equal snapshots', () => {
    assert.equal(diffSnapshot(snapshot(), snapshot()), undefined);
  });

  it('sends only the sections that changed', () => {
    const next = snapshot();
    next.status.counts.running = 2;
    next.queue.topics['task.created'].published = 11;
    const patch = diffSnapshot(snapshot(), next);
    assert.deepEqual(Object.keys(patch ?? {}).sort(), ['queue', 'status']);
    assert.deepEqual(applyPatch(snapshot(), patch ?? {}), next);
  });

  it('sends the fleet when a worker or a queue changed, and switches between null and a fleet', () => {
    const a = snapshot({ fleet: fleet() });
    assert.equal(diffSnapshot(a, snapshot({ fleet: fleet() })), undefined);
    const busier = fleet();
    busier.workers[0]!.running = 3;
    busier.queues[0]!.waiting = 2;
    const patch = diffSnapshot(a, snapshot({ fleet: busier }));
    assert.deepEqual(Object.keys(patch ?? {}), ['fleet']);
    assert.deepEqual(applyPatch(a, patch ?? {}), snapshot({ fleet: busier }));
    // To the local backend and back: null is sent as a value, not mistaken for "unchanged".
    const toLocal = diffSnapshot(a, snapshot());
    assert.deepEqual(toLocal, { fleet: null });
    assert.deepEqual(applyPatch(a, toLocal ?? {}), snapshot());
    assert.deepEqual(applyPatch(snapshot(), { fleet: fleet() }), a);
    assert.deepEqual(applyPatch(a, {}), a, 'an absent fleet keeps the previous one');
  });

  it('sends the services whole when one changed, and keeps them when absent', () => {
    const a = snapshot({ services: services() });
    assert.equal(diffSnapshot(a, snapshot({ services: services() })), undefined);
    const next = services();
    next[1] = { ...next[1]!, state: 'ready', readySince: 1_000_900 };
    const patch = diffSnapshot(a, snapshot({ services: next }));
    assert.deepEqual(Object.keys(patch ?? {}), ['services']);
    assert.deepEqual(applyPatch(a, patch ?? {}), snapshot({ services: next }));
    assert.deepEqual(applyPatch(a, {}), a, 'an absent section keeps the previous services');
    assert.deepEqual(diffSnapshot(a, snapshot()), { services: [] }, 'the last service gone: an empty list is sent');
  });

  it('sends the timeline and the cache figures whole when they changed, and keeps them when absent', () => {
    const a = snapshot({ timeline: timeline(), cache: { hits: 1, misses: 1, savedMs: 4000 } });
    assert.equal(diffSnapshot(a, snapshot({ timeline: timeline(), cache: { hits: 1, misses: 1, savedMs: 4000 } })), undefined);
    const next = timeline();
    next.selected = 'wf1';
    const patch = diffSnapshot(a, snapshot({ timeline: next, cache: { hits: 2, misses: 1, savedMs: 5000 } }));
    assert.deepEqual(Object.keys(patch ?? {}).sort(), ['cache', 'timeline']);
    assert.deepEqual(applyPatch(a, patch ?? {}), snapshot({ timeline: next, cache: { hits: 2, misses: 1, savedMs: 5000 } }));
    assert.deepEqual(applyPatch(a, {}), a, 'absent sections keep the previous timeline and figures');
  });

  it('sends a rolled window as the kept count and the new buckets only', () => {
    const prev = series(1_000_000, [0, 1, 2, 3]);
    const next = series(1_002_000, [2, 3, 5, 6]); // two buckets dropped at the front, two appended
    const patch = diffSeries(prev, next);
    assert.ok(patch);
    assert.equal(patch.keep, 2);
    assert.deepEqual(patch.tail.throughput, [5, 6]);
    assert.deepEqual(patch.tail.utilization.gpu, [0.5, 0.6]);
    assert.deepEqual(applySeriesPatch(prev, patch), next);
  });

  it('resends the current bucket when it changed in place', () => {
    const prev = series(1_000_000, [0, 1, 2]);
    const next = series(1_000_000, [0, 1, 4]);
    const patch = diffSeries(prev, next);
    assert.equal(patch?.keep, 2);
    assert.deepEqual(patch?.tail.throughput, [4]);
    assert.deepEqual(applySeriesPatch(prev, patch!), next);
  });

  it('sends the whole series when the grid, the bucket size or the pools changed', () => {
    const prev = series(1_000_000, [1, 2, 3]);
    for (const next of [
      series(1_000_500, [2, 3, 4]), // off the grid
      { ...series(1_000_000, [1, 2, 3]), bucketMs: 500 },
      series(1_000_000, [1, 2, 3], ['gpu', 'net']),
      series(999_000, [0, 1, 2, 3]), // moved backwards
    ]) {
      const patch = diffSeries(prev, next);
      assert.equal(patch?.keep, 0);
      assert.deepEqual(applySeriesPatch(prev, patch!), next);
    }
  });

  it('refuses a series patch that does not fit what the receiver holds', () => {
    const prev = series(1_000_000, [0, 1, 2, 3]);
    const patch = diffSeries(prev, series(1_002_000, [2, 3, 5, 6]))!;
    assert.equal(applySeriesPatch(series(1_000_000, [0, 1]), patch), undefined, 'too short to keep 2 from offset 2');
    assert.equal(applySeriesPatch(series(1_003_000, [0, 1, 2, 3]), patch), undefined, 'newer than the patch');
    assert.equal(applySeriesPatch(series(1_000_000, [0, 1, 2, 3], []), patch), undefined, 'other pools');
    assert.equal(applyPatch(snapshot({ series: series(5_000_000, [1]) }), { series: patch }), undefined);
  });

  it('round-trips arbitrary changes: applyPatch(a, diff(a, b)) equals b', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let a = snapshot();
    for (let i = 0; i < 200; i++) {
      const b = structuredClone(a);
      if (rnd(2)) b.status.counts.completed += rnd(3);
      if (rnd(3) === 0) b.headline.p95TaskDuration = rnd(1000);
      if (rnd(4) === 0) b.failures = rnd(2) ? [] : [{ id: `t${i}`, name: 'n', reason: 'r', at: i, attempts: 1 }];
      if (rnd(4) === 0) b.fleet = rnd(3) === 0 ? null : fleet({ queues: [{ name: 'q', waiting: rnd(5), active: rnd(3), delayed: 0, failed: rnd(2) }] });
      const shift = rnd(3);
      const len = b.series.throughput.length;
      const values = [...b.series.throughput.slice(shift), ...Array.from({ length: shift }, () => rnd(9))];
      if (rnd(2) && len) values[values.length - 1] = rnd(9);
      b.series = series(b.series.start + shift * 1000, values);
      const patch = diffSnapshot(a, b);
      const applied = patch ? applyPatch(a, patch) : a;
      assert.ok(applied && jsonEqual(applied, b), `step ${i}`);
      assert.ok(isSnapshot(applied));
      a = b;
    }
  });

  it('compares JSON data structurally, ignoring undefined properties', () => {
    assert.equal(jsonEqual({ a: 1, b: undefined }, { a: 1 }), true);
    assert.equal(jsonEqual([1, [2, { c: null }]], [1, [2, { c: null }]]), true);
    assert.equal(jsonEqual([1, 2], { 0: 1, 1: 2 }), false);
    assert.equal(jsonEqual({ a: null }, { a: 0 }), false);
  });
});
