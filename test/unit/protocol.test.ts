import * as assert from 'node:assert/strict';
import { DASHBOARD_VIEW_TYPE, PROTOCOL_VERSION, isSnapshot, parseHostMessage, parseViewState, parseWebviewMessage } from '../../src/dashboardProtocol/protocol';
import { fleet, series, services, snapshot, timeline } from '../support/dashboardFixtures';

/** A deep copy with one change, made through JSON as postMessage would carry it. */
function tweak<T>(value: T, change: (copy: Record<string, unknown>) => void): unknown {
  const copy = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  change(copy);
  return copy;
}

describe('protocol', () => {
  describe('webview -> host messages', () => {
    it('accepts each message the webview sends', () => {
      assert.deepEqual(parseWebviewMessage({ type: 'ready', protocol: PROTOCOL_VERSION }), { type: 'ready', protocol: PROTOCOL_VERSION });
      assert.deepEqual(parseWebviewMessage({ type: 'applied', seq: 3 }), { type: 'applied', seq: 3 });
      assert.deepEqual(parseWebviewMessage({ type: 'resync', reason: 'gap' }), { type: 'resync', reason: 'gap' });
      assert.deepEqual(parseWebviewMessage({ type: 'revealTask', taskId: 't1' }), { type: 'revealTask', taskId: 't1' });
      assert.deepEqual(parseWebviewMessage({ type: 'rejected', what: 'invalid patch' }), { type: 'rejected', what: 'invalid patch' });
      assert.deepEqual(parseWebviewMessage({ type: 'selectRun', runId: 'wf-1' }), { type: 'selectRun', runId: 'wf-1' });
      assert.deepEqual(parseWebviewMessage({ type: 'selectRun', runId: '' }), { type: 'selectRun', runId: '' }, 'empty: follow the newest run');
    });

    it('rejects what is not an object or has an unknown type', () => {
      for (const bad of [undefined, null, 42, 'ready', [], [{ type: 'ready', protocol: 1 }], {}, { type: 'launchMissiles' }, { type: 'READY', protocol: 1 }]) {
        assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
      }
    });

    it('rejects a known type with missing or mistyped fields', () => {
      const bad: unknown[] = [
        { type: 'ready' },
        { type: 'ready', protocol: '1' },
        { type: 'ready', protocol: 1.5 },
        { type: 'applied', seq: -1 },
        { type: 'applied', seq: Number.NaN },
        { type: 'applied' },
        { type: 'resync', reason: 7 },
        { type: 'resync', reason: 'x'.repeat(501) },
        { type: 'revealTask' },
        { type: 'revealTask', taskId: '' },
        { type: 'revealTask', taskId: 12 },
        { type: 'revealTask', taskId: { toString: () => 't1' } },
        { type: 'revealTask', taskId: 'x'.repeat(201) },
        { type: 'rejected' },
        { type: 'rejected', what: ['x'] },
        { type: 'selectRun' },
        { type: 'selectRun', runId: 3 },
        { type: 'selectRun', runId: 'x'.repeat(201) },
      ];
      for (const m of bad) assert.equal(parseWebviewMessage(m), undefined, JSON.stringify(m));
    });

    it('returns a fresh object carrying only the declared fields', () => {
      const parsed = parseWebviewMessage({ type: 'revealTask', taskId: 't1', command: 'rm -rf /' });
      assert.deepEqual(parsed, { type: 'revealTask', taskId: 't1' });
    });
  });

  describe('host -> webview messages', () => {
    it('accepts a snapshot and a patch that survived JSON', () => {
      const s = JSON.parse(JSON.stringify({ type: 'snapshot', seq: 1, at: 5, data: snapshot() })) as unknown;
      assert.equal(parseHostMessage(s)?.type, 'snapshot');
      const p = {
        type: 'patch',
        seq: 2,
        base: 1,
        at: 6,
        data: { headline: snapshot().headline, series: { start: 1, bucketMs: 1000, keep: 2, tail: series(3, [4]) } },
      };
      assert.equal(parseHostMessage(JSON.parse(JSON.stringify(p)))?.type, 'patch');
      assert.equal(parseHostMessage({ type: 'patch', seq: 2, base: 1, at: 6, data: {} })?.type, 'patch');
    });

    it('rejects envelopes with a bad type, seq or base', () => {
      const data = snapshot();
      for (const m of [
        { type: 'snapshot', seq: -1, at: 0, data },
        { type: 'snapshot', seq: 1, data },
        { type: 'snapshot', seq: 1, at: 0 },
        { type: 'other', seq: 1, at: 0, data },
        { type: 'patch', seq: 2, at: 0, data: {} },
        { type: 'patch', seq: 2, base: 2, at: 0, data: {} },
        { type: 'patch', seq: 2, base: 1, at: 0, data: [] },
      ]) {
        assert.equal(parseHostMessage(m), undefined, JSON.stringify(m).slice(0, 80));
      }
    });

    it('rejects a snapshot with a missing section or a wrong number anywhere', () => {
      const cases: [string, (c: Record<string, unknown>) => void][] = [
        ['no failures', (c) => delete c.failures],
        ['a count as a string', (c) => ((c.status as { counts: Record<string, unknown> }).counts.running = '1')],
        ['a negative count', (c) => ((c.status as { counts: Record<string, unknown> }).counts.failed = -1)],
        ['a stage missing', (c) => delete (c.status as { counts: Record<string, unknown> }).counts.cancelled],
        ['Infinity turned into null by JSON', (c) => ((c.headline as Record<string, unknown>).p95TaskDuration = null)],
        ['a success rate above 1', (c) => ((c.headline as Record<string, unknown>).successRate = 1.5)],
        ['a pool utilisation above 1', (c) => ((c.pools as Record<string, Record<string, unknown>>).gpu.utilization = 2)],
        ['histogram counts not one more than bounds', (c) => ((c.histogram as Record<string, unknown>).counts = [1, 2, 3])],
        ['histogram bounds not ascending', (c) => ((c.histogram as Record<string, unknown>).bounds = [10, 5, 1000])],
        ['series columns of different lengths', (c) => (c.series as Record<string, number[]>).running.push(1)],
        ['a pool column of a different length', (c) => (c.series as { utilization: Record<string, number[]> }).utilization.gpu.pop()],
        ['a zero bucket size', (c) => ((c.series as Record<string, unknown>).bucketMs = 0)],
        ['a string in a column', (c) => ((c.series as Record<string, unknown[]>).throughput[0] = '1')],
        ['a topic row missing a field', (c) => delete (c.queue as { topics: Record<string, Record<string, unknown>> }).topics['task.created'].deadLettered],
        ['a failure without id', (c) => delete (c.failures as Record<string, unknown>[])[0].id],
        ['a failure whose name is markup in an object', (c) => ((c.failures as Record<string, unknown>[])[0].name = { html: '<img>' })],
        ['too many failures', (c) => (c.failures = Array.from({ length: 51 }, (_, i) => ({ id: `t${i}`, name: 'x', reason: 'y', at: 1, attempts: 1 })))],
        [
          'a series longer than the limit',
          (c) => {
            const long = series(
              0,
              Array.from({ length: 3601 }, () => 1),
            );
            c.series = long;
          },
        ],
      ];
      assert.equal(isSnapshot(snapshot()), true);
      for (const [name, change] of cases) {
        const bad = tweak(snapshot(), change);
        assert.equal(isSnapshot(bad), false, name);
        assert.equal(parseHostMessage({ type: 'snapshot', seq: 1, at: 0, data: bad }), undefined, name);
      }
    });

    it('accepts the fleet of the redis backend, and null for the local one', () => {
      assert.equal(isSnapshot(snapshot({ fleet: null })), true);
      assert.equal(isSnapshot(snapshot({ fleet: fleet() })), true);
      assert.equal(isSnapshot(snapshot({ fleet: fleet({ connected: false, workers: [], queues: [] }) })), true);
      assert.equal(parseHostMessage({ type: 'patch', seq: 2, base: 1, at: 0, data: { fleet: fleet() } })?.type, 'patch');
      const toLocal = parseHostMessage({ type: 'patch', seq: 2, base: 1, at: 0, data: { fleet: null } });
      assert.equal(toLocal?.type === 'patch' && toLocal.data.fleet, null);
    });

    it('rejects a fleet with a malformed worker or queue row', () => {
      type Fleet = { workers: Record<string, unknown>[]; queues: Record<string, unknown>[] } & Record<string, unknown>;
      const cases: [string, (f: Fleet) => void][] = [
        ['fleet missing (undefined is not null)', (f) => Object.keys(f).forEach((k) => delete f[k])],
        ['connected not a boolean', (f) => (f.connected = 'yes')],
        ['a worker without a name', (f) => delete f.workers[0]!.name],
        ['a worker name as markup in an object', (f) => (f.workers[0]!.name = { html: '<b>' })],
        ['a negative load', (f) => (f.workers[0]!.running = -1)],
        ['a fractional concurrency', (f) => (f.workers[0]!.concurrency = 1.5)],
        ['a pool of units as a string', (f) => (f.workers[0]!.pools = { cpu: '8' })],
        ['a heartbeat age as null (NaN through JSON)', (f) => (f.workers[0]!.heartbeatAgeMs = null)],
        ['draining missing', (f) => delete f.workers[1]!.draining],
        ['a queue count missing', (f) => delete f.queues[0]!.delayed],
        ['a queue count negative', (f) => (f.queues[1]!.failed = -2)],
        ['too many workers', (f) => (f.workers = Array.from({ length: 201 }, () => ({ ...f.workers[0] })))],
      ];
      for (const [name, change] of cases) {
        const bad = tweak(snapshot({ fleet: fleet() }), (c) => change(c.fleet as Fleet));
        assert.equal(isSnapshot(bad), false, name);
        assert.equal(parseHostMessage({ type: 'patch', seq: 2, base: 1, at: 0, data: { fleet: (bad as Record<string, unknown>).fleet } }), undefined, name);
      }
      assert.equal(isSnapshot(tweak(snapshot(), (c) => delete c.fleet)), false, 'a snapshot without the fleet section');
    });

    it('accepts the services section, empty or with Ready and starting rows, whole or in a patch', () => {
      assert.equal(isSnapshot(snapshot({ services: [] })), true);
      assert.equal(isSnapshot(JSON.parse(JSON.stringify(snapshot({ services: services() })))), true);
      const bare = { id: 's3', name: 'watch', state: 'ready', readySince: 5, restarts: 0 };
      assert.equal(isSnapshot(snapshot({ services: [bare as never] })), true, 'a background task: no waitsFor, no problems');
      const p = parseHostMessage({ type: 'patch', seq: 2, base: 1, at: 0, data: { services: services() } });
      assert.equal(p?.type === 'patch' && p.data.services?.length, 2);
    });

    it('rejects a services section with a malformed row, or more than 50 rows', () => {
      type Row = Record<string, unknown>;
      const cases: [string, (rows: Row[], c: Record<string, unknown>) => void][] = [
        ['services missing', (_rows, c) => delete c.services],
        ['services not an array', (_rows, c) => (c.services = { s1: {} })],
        ['a row without an id', (rows) => delete rows[0]!.id],
        ['an empty id', (rows) => (rows[0]!.id = '')],
        ['a name as markup in an object', (rows) => (rows[0]!.name = { html: '<b>' })],
        ['an unknown state', (rows) => (rows[0]!.state = 'healthy')],
        ['ready without readySince', (rows) => delete rows[0]!.readySince],
        ['readySince as null (NaN through JSON)', (rows) => (rows[0]!.readySince = null)],
        ['starting with a readySince', (rows) => (rows[1]!.readySince = 5)],
        ['restarts negative', (rows) => (rows[0]!.restarts = -1)],
        ['restarts fractional', (rows) => (rows[0]!.restarts = 1.5)],
        ['problems without warnings', (rows) => (rows[0]!.problems = { errors: 1 })],
        ['problems as a string', (rows) => (rows[0]!.problems = '1 error')],
        ['waitsFor as a number', (rows) => (rows[1]!.waitsFor = 5432)],
        ['waitsFor longer than 500', (rows) => (rows[1]!.waitsFor = 'x'.repeat(501))],
        ['51 rows', (rows, c) => (c.services = Array.from({ length: 51 }, (_, i) => ({ ...rows[1], id: `s${i}` })))],
      ];
      for (const [name, change] of cases) {
        const bad = tweak(snapshot({ services: services() }), (c) => change(c.services as Row[], c));
        assert.equal(isSnapshot(bad), false, name);
        assert.equal(parseHostMessage({ type: 'snapshot', seq: 1, at: 0, data: bad }), undefined, name);
        const section = (bad as Record<string, unknown>).services;
        if (section !== undefined) assert.equal(parseHostMessage({ type: 'patch', seq: 2, base: 1, at: 0, data: { services: section } }), undefined, name);
      }
    });

    it('accepts the timeline and cache sections, empty or full, whole or in a patch', () => {
      assert.equal(isSnapshot(snapshot()), true, 'no run yet');
      assert.equal(isSnapshot(JSON.parse(JSON.stringify(snapshot({ timeline: timeline(), cache: { hits: 3, misses: 2, savedMs: 41_000 } })))), true);
      const open = timeline();
      open.selected = 'wf2';
      open.run!.finished = false;
      open.run!.bars[1] = { ...open.run!.bars[1]!, status: 'running', end: undefined, segments: [{ kind: 'run', from: 40 }] };
      assert.equal(isSnapshot(JSON.parse(JSON.stringify(snapshot({ timeline: open })))), true, 'a running bar: its last segment open');
      const p = parseHostMessage({ type: 'patch', seq: 2, base: 1, at: 0, data: { timeline: timeline(), cache: { hits: 1, misses: 0, savedMs: 5 } } });
      assert.equal(p?.type === 'patch' && p.data.timeline?.run?.bars.length, 3);
    });

    it('rejects a malformed timeline or cache section, or one over its bounds', () => {
      type Bar = Record<string, unknown>;
      const bars = (c: Record<string, unknown>): Bar[] => ((c.timeline as Record<string, unknown>).run as Record<string, unknown>).bars as Bar[];
      const run = (c: Record<string, unknown>): Record<string, unknown> => (c.timeline as Record<string, unknown>).run as Record<string, unknown>;
      const cases: [string, (c: Record<string, unknown>) => void][] = [
        ['timeline missing', (c) => delete c.timeline],
        ['cache missing', (c) => delete c.cache],
        ['cache with a negative hit count', (c) => (c.cache = { hits: -1, misses: 0, savedMs: 0 })],
        ['cache savedMs as null (NaN through JSON)', (c) => (c.cache = { hits: 1, misses: 0, savedMs: null })],
        ['runs not an array', (c) => ((c.timeline as Bar).runs = {})],
        [
          '11 runs',
          (c) => ((c.timeline as Bar).runs = Array.from({ length: 11 }, (_, i) => ({ id: `wf${i}`, name: 'ci', startedAt: 0, tasks: 1, finished: true }))),
        ],
        ['a run option without an id', (c) => delete ((c.timeline as Bar).runs as Bar[])[0]!.id],
        ['an empty selection', (c) => ((c.timeline as Bar).selected = '')],
        ['run missing (null is the empty value)', (c) => delete (c.timeline as Bar).run],
        ['201 bars', (c) => (run(c).bars = Array.from({ length: 201 }, (_, i) => ({ ...bars(c)[0], id: `b${i}` })))],
        ['omitted fractional', (c) => (run(c).omitted = 0.5)],
        ['a bar with an unknown status', (c) => (bars(c)[0]!.status = 'skipped')],
        ['a bar with an empty id', (c) => (bars(c)[0]!.id = '')],
        ['a bar with a negative ready', (c) => (bars(c)[0]!.ready = -5)],
        ['a bar with critical missing', (c) => delete bars(c)[0]!.critical],
        ['a cached mark without savedMs', (c) => (bars(c)[0]!.cached = {})],
        ['a segment of an unknown kind', (c) => (bars(c)[0]!.segments = [{ kind: 'sleep', from: 0, to: 1 }])],
        ['a segment ending before it starts', (c) => (bars(c)[0]!.segments = [{ kind: 'run', from: 5, to: 1 }])],
        [
          'an open segment before the last',
          (c) =>
            (bars(c)[0]!.segments = [
              { kind: 'wait', from: 0 },
              { kind: 'run', from: 5, to: 6 },
            ]),
        ],
        [
          'overlapping segments',
          (c) =>
            (bars(c)[0]!.segments = [
              { kind: 'wait', from: 0, to: 10 },
              { kind: 'run', from: 5, to: 20 },
            ]),
        ],
        ['21 segments', (c) => (bars(c)[0]!.segments = Array.from({ length: 21 }, (_, i) => ({ kind: 'run', from: i, to: i })))],
      ];
      for (const [name, change] of cases) {
        const bad = tweak(snapshot({ timeline: timeline() }), change);
        assert.equal(isSnapshot(bad), false, name);
        assert.equal(parseHostMessage({ type: 'snapshot', seq: 1, at: 0, data: bad }), undefined, name);
        const b = bad as Record<string, unknown>;
        if (b.timeline !== undefined && b.cache !== undefined) {
          assert.equal(parseHostMessage({ type: 'patch', seq: 2, base: 1, at: 0, data: { timeline: b.timeline, cache: b.cache } }), undefined, name);
        }
      }
    });

    it('rejects a patch with an unknown section or a malformed series patch', () => {
      const base = { type: 'patch', seq: 2, base: 1, at: 0 };
      assert.equal(parseHostMessage({ ...base, data: { surprise: 1 } }), undefined);
      assert.equal(parseHostMessage({ ...base, data: { status: { counts: {} } } }), undefined);
      assert.equal(parseHostMessage({ ...base, data: { series: series(0, [1]) } }), undefined, 'a full series where a patch belongs');
      assert.equal(parseHostMessage({ ...base, data: { series: { start: 0, bucketMs: 1000, keep: -1, tail: series(0, [1]) } } }), undefined);
      assert.equal(parseHostMessage({ ...base, data: { series: { start: 0, bucketMs: 1000, keep: 1, tail: { throughput: [1] } } } }), undefined);
    });
  });

  it('reads any persisted view state, garbage included, as version 1', () => {
    assert.deepEqual(parseViewState(undefined), { v: 1 });
    assert.deepEqual(parseViewState({ v: 1 }), { v: 1 });
    assert.deepEqual(parseViewState('garbage'), { v: 1 });
  });

  it('names the panel type the package.json activation event uses', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require('../../package.json') as { activationEvents: string[] };
    assert.ok(pkg.activationEvents.includes(`onWebviewPanel:${DASHBOARD_VIEW_TYPE}`));
  });
});
