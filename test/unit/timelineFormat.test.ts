// The texts and layout arithmetic of the dashboard's timeline (src/webview/timelineFormat.ts); the
// chart around them is covered by the end-to-end timeline scenario.
import * as assert from 'node:assert/strict';
import type { TimelineBar } from '../../src/dashboardProtocol/protocol';
import { barEnd, barStart, barText, cacheSub, cacheText, formatOffset, hitRate, rowAt, runLabel, runSummary, timeSpan } from '../../src/webview/timelineFormat';
import { timeline } from '../support/dashboardFixtures';

describe('timelineFormat', () => {
  it('writes cache figures as hits, misses and the time saved, and says when nothing was cached', () => {
    assert.equal(cacheText({ hits: 0, misses: 0, savedMs: 0 }), 'no cached tasks');
    assert.equal(cacheText({ hits: 1, misses: 1, savedMs: 41_000 }), '1 hit · 1 miss · saved 41.0 s');
    assert.equal(cacheText({ hits: 12, misses: 3, savedMs: 125_000 }), '12 hits · 3 misses · saved 2m 05s');
    assert.equal(cacheSub({ hits: 12, misses: 0, savedMs: 850 }), '0 misses · saved 850 ms');
    assert.equal(hitRate({ hits: 3, misses: 1, savedMs: 0 }), 0.75);
    assert.equal(hitRate({ hits: 0, misses: 0, savedMs: 0 }), 0);
  });

  it('labels a run in the picker by name, start time and size, and says when it still runs', () => {
    const at = new Date(2026, 0, 1, 14, 3, 27).getTime();
    assert.equal(runLabel({ id: 'wf', name: 'ci', startedAt: at, tasks: 6, finished: true }), 'ci · 14:03:27 · 6 tasks');
    assert.equal(runLabel({ id: 'wf', name: 'dev', startedAt: at, tasks: 1, finished: false }), 'dev · 14:03:27 · 1 task · running');
  });

  it('sums the critical path up in the aside, with the tasks left out', () => {
    const run = timeline().run!;
    assert.equal(runSummary(run), 'critical path: 2 tasks, 900 ms');
    assert.equal(runSummary({ ...run, omitted: 5 }), 'critical path: 2 tasks, 900 ms · 5 more not shown');
    assert.equal(runSummary({ ...run, bars: run.bars.map((b) => ({ ...b, critical: false })) }), 'no critical path yet');
  });

  it('places a bar from ready to its end, a running one to now, a never-ready one at its end', () => {
    const [build, test, cancelled] = timeline().run!.bars as [TimelineBar, TimelineBar, TimelineBar];
    assert.deepEqual([barStart(build, 5000), barEnd(build, 5000)], [0, 40]);
    const running: TimelineBar = { ...test, status: 'running', end: undefined, segments: [{ kind: 'run', from: 40 }] };
    assert.deepEqual([barStart(running, 5000), barEnd(running, 5000)], [40, 5000]);
    assert.deepEqual([barStart(cancelled, 5000), barEnd(cancelled, 5000)], [900, 900]);
    assert.equal(timeSpan(timeline().run!, 0), 1000, 'at least a second');
    assert.equal(timeSpan({ ...timeline().run!, bars: [running] }, 7000), 7000);
  });

  it('describes a bar: status, ready time, waited and ran, cached and critical', () => {
    const [build, , cancelled] = timeline().run!.bars as [TimelineBar, TimelineBar, TimelineBar];
    assert.equal(barText(build, 0), 'ci: build · Completed · ready at +0 ms · waited 10 ms · ran 30 ms · cached · saved 4.00 s · critical path');
    assert.equal(barText(cancelled, 0), 'ci: package · Cancelled · never ready');
  });

  it('finds the row under the pointer, and none outside the rows', () => {
    assert.equal(rowAt(0, 0, 22, 3), 0);
    assert.equal(rowAt(21.9, 0, 22, 3), 0);
    assert.equal(rowAt(22, 0, 22, 3), 1);
    assert.equal(rowAt(65, 0, 22, 3), 2);
    assert.equal(rowAt(66, 0, 22, 3), undefined);
    assert.equal(rowAt(-1, 0, 22, 3), undefined);
    assert.equal(rowAt(5, 0, 0, 0), undefined);
  });

  it('writes axis ticks as offsets from the run start', () => {
    assert.deepEqual([0, 250, 1500, 90_000, 5_400_000].map(formatOffset), ['0', '250ms', '1.5s', '1.5m', '1.5h']);
  });
});
