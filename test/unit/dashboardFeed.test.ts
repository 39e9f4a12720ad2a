import * as assert from 'node:assert/strict';
import { Emitter } from '../../src/core/util/events';
import type { PerformanceMetrics } from '../../src/core/metrics/metricsTypes';
import type { TaskRecord } from '../../src/core/model/model';
import { applyPatch } from '../../src/dashboardProtocol/dashboardDiff';
import { PROTOCOL_VERSION, isSnapshot, parseHostMessage, type DashboardSnapshot, type HostMessage } from '../../src/dashboardProtocol/protocol';
import {
  FailureLog,
  ServiceLog,
  buildSnapshot,
  fleetSection,
  histogramSection,
  serviceRow,
  seriesSection,
  type DashboardSource,
} from '../../src/extension/dashboard/dashboardData';
import { DashboardFeed, type FeedTimers, type FleetSource } from '../../src/extension/dashboard/dashboardFeed';
import type { FleetStatus } from '../../src/backends/redis/fleetStatus';
import { metrics, queueStats, record, status } from '../support/dashboardFixtures';

/** Timers that run only when the test advances the clock. */
class FakeTimers implements FeedTimers {
  time = 0;
  private nextId = 1;
  private readonly tasks = new Map<number, { at: number; fn: () => void; every?: number }>();
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => this.add(fn, ms);
  setInterval = (fn: () => void, ms: number) => this.add(fn, ms, ms);
  clearTimeout = (h: unknown) => void this.tasks.delete(h as number);
  clearInterval = (h: unknown) => void this.tasks.delete(h as number);
  get pending(): number {
    return this.tasks.size;
  }
  private add(fn: () => void, ms: number, every?: number): number {
    const id = this.nextId++;
    this.tasks.set(id, { at: this.time + ms, fn, every });
    return id;
  }
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.tasks.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, t] = due;
      this.time = t.at;
      if (t.every) t.at += t.every;
      else this.tasks.delete(id);
      t.fn();
    }
    this.time = end;
  }
}

class FakeSource implements DashboardSource {
  readonly changes = new Emitter<TaskRecord>();
  readonly onDidChangeTask = this.changes.event;
  tasks = new Map<string, TaskRecord>();
  m: PerformanceMetrics = metrics();
  reads = 0;
  readonly monitor = { getPerformanceMetrics: () => (this.reads++, this.m) };
  readonly queue = { getQueueStats: () => queueStats() };
  getSystemStatus = () => status();
  getTasks = () => [...this.tasks.values()];
  getTask = (id: string) => this.tasks.get(id);
  change(r: TaskRecord): void {
    this.tasks.set(r.id, r);
    this.changes.fire(r);
  }
}

function setup(fleet?: FleetSource) {
  const timers = new FakeTimers();
  const source = new FakeSource();
  const posted: HostMessage[] = [];
  const revealed: string[] = [];
  const feed = new DashboardFeed({ source, timers, post: (m) => posted.push(m), revealTask: (id) => revealed.push(id), ...(fleet ? { fleet } : {}) });
  /** What a webview would hold after applying everything posted. */
  const held = (): DashboardSnapshot | undefined => {
    let s: DashboardSnapshot | undefined;
    for (const m of posted) {
      const parsed = parseHostMessage(JSON.parse(JSON.stringify(m)));
      assert.ok(parsed, `posted an invalid ${m.type}`);
      s = parsed.type === 'snapshot' ? parsed.data : applyPatch(s!, parsed.data);
    }
    return s;
  };
  return { timers, source, posted, revealed, feed, held };
}

const READY = { type: 'ready', protocol: PROTOCOL_VERSION };

describe('dashboardFeed', () => {
  it('posts nothing and computes nothing before the webview is ready', () => {
    const { feed, posted, source, timers } = setup();
    feed.setVisible(true);
    source.change(record('a', 'running'));
    timers.advance(5000);
    assert.equal(posted.length, 0);
    assert.equal(source.reads, 0);
  });

  it('answers ready with a full snapshot, then sends patches on top of it', () => {
    const { feed, posted, source, timers, held } = setup();
    feed.setVisible(true);
    feed.receive(READY);
    assert.deepEqual(
      posted.map((m) => m.type),
      ['snapshot'],
    );
    assert.ok(isSnapshot(posted[0].type === 'snapshot' && posted[0].data));
    source.m = metrics({ p95TaskDuration: 999 });
    timers.advance(1000);
    assert.equal(posted.length, 2);
    const patch = posted[1];
    assert.equal(patch.type, 'patch');
    assert.deepEqual(patch.type === 'patch' && [patch.base, patch.seq, Object.keys(patch.data)], [1, 2, ['headline']]);
    assert.equal(held()?.headline.p95TaskDuration, 999);
  });

  it('posts nothing when nothing changed', () => {
    const { feed, posted, timers } = setup();
    feed.setVisible(true);
    feed.receive(READY);
    timers.advance(10_000);
    assert.equal(posted.length, 1);
  });

  it('throttles a burst of task changes to one post per interval', () => {
    const { feed, posted, source, timers, held } = setup();
    feed.setVisible(true);
    feed.receive(READY);
    for (let i = 0; i < 100; i++) {
      source.m = metrics({ totals: { completed: i, failed: 0, cancelled: 0, messages: i } });
      source.change(record(`t${i}`, 'completed'));
      timers.advance(10); // 100 changes over one second
    }
    timers.advance(250);
    // The first snapshot, then at most one post per 250 ms over ~1.25 s.
    assert.ok(posted.length <= 1 + 5, `posted ${posted.length}`);
    assert.equal(held()?.headline.totals.completed, 99);
  });

  it('stops computing while hidden, and starts over with a snapshot after the next ready', () => {
    const { feed, posted, source, timers } = setup();
    feed.setVisible(true);
    feed.receive(READY);
    feed.setVisible(false);
    assert.equal(timers.pending, 0, 'no timer left running');
    const reads = source.reads;
    source.m = metrics({ p50TaskDuration: 1 });
    source.change(record('x', 'failed'));
    timers.advance(10_000);
    assert.equal(source.reads, reads);
    assert.equal(posted.length, 1);
    feed.setVisible(true);
    timers.advance(10_000);
    assert.equal(posted.length, 1, 'waits for the new page to say ready');
    feed.receive(READY);
    assert.deepEqual(
      posted.map((m) => m.type),
      ['snapshot', 'snapshot'],
    );
  });

  it('starts when ready arrives before the panel is reported visible', () => {
    const { feed, posted } = setup();
    feed.receive(READY);
    assert.equal(posted.length, 0);
    feed.setVisible(true);
    assert.deepEqual(
      posted.map((m) => m.type),
      ['snapshot'],
    );
  });

  it('answers a resync with a snapshot', () => {
    const { feed, posted, timers } = setup();
    feed.setVisible(true);
    feed.receive(READY);
    feed.receive({ type: 'resync', reason: 'test' });
    timers.advance(300);
    assert.deepEqual(
      posted.map((m) => m.type),
      ['snapshot', 'snapshot'],
    );
  });

  it('drops invalid messages without acting on them', () => {
    const { feed, posted, revealed } = setup();
    feed.setVisible(true);
    for (const bad of [
      null,
      'ready',
      { type: 'ready' },
      { type: 'ready', protocol: PROTOCOL_VERSION + 1 },
      { type: 'revealTask', taskId: 42 },
      { type: 'eval', code: '1' },
    ]) {
      feed.receive(bad);
    }
    assert.equal(posted.length, 0);
    assert.deepEqual(revealed, []);
    assert.equal(feed.state().rejected, 6);
    assert.equal(feed.state().ready, false);
  });

  it('passes a valid reveal request on, and records what the page rendered', () => {
    const { feed, revealed } = setup();
    feed.setVisible(true);
    feed.receive(READY);
    feed.receive({ type: 'revealTask', taskId: 't1' });
    feed.receive({ type: 'applied', seq: 1 });
    assert.deepEqual(revealed, ['t1']);
    const s = feed.state();
    assert.equal(s.lastApplied, 1);
    assert.deepEqual(s.received, ['ready', 'revealTask', 'applied']);
    assert.deepEqual(s.posted, ['snapshot']);
  });

  it('lists the latest failures, newest first, and drops those retried away', () => {
    const { feed, source, timers, held } = setup();
    source.tasks.set('old', record('old', 'failed', { finishedAt: 100 }));
    feed.setVisible(true);
    feed.receive(READY);
    source.change(record('new', 'failed', { finishedAt: 5000, error: { message: 'boom' } }));
    timers.advance(300);
    assert.deepEqual(
      held()?.failures.map((f) => [f.id, f.reason]),
      [
        ['new', 'boom'],
        ['old', 'exit code 2'],
      ],
    );
    source.tasks.delete('old');
    timers.advance(1000);
    assert.deepEqual(
      held()?.failures.map((f) => f.id),
      ['new'],
    );
  });

  it('lists the unfinished services, Ready first then by name, and drops those that finished', () => {
    const { feed, source, timers, held } = setup();
    const http = { name: 'web', kind: 'shell', command: 'node server.js', readyWhen: { http: 'http://127.0.0.1:43117/health' } };
    source.tasks.set('web', record('web', 'running', { name: 'web', spec: http }));
    source.tasks.set('plain', record('plain', 'running'));
    source.tasks.set('done', record('done', 'completed', { spec: { ...http, name: 'done' } }));
    feed.setVisible(true);
    feed.receive(READY);
    assert.deepEqual(held()?.services, [{ id: 'web', name: 'web', state: 'starting', restarts: 0, waitsFor: 'http://127.0.0.1:43117/health' }]);

    // A background VS Code task is a service once its executor reports it Ready.
    source.change(record('watch', 'running', { name: 'tsc watch', kind: 'vscodeTask', ready: { at: 4000, problems: { errors: 3, warnings: 1 } } }));
    source.change(record('web', 'running', { name: 'web', spec: http, ready: { at: 4500 }, restarts: 2 }));
    timers.advance(300);
    assert.deepEqual(held()?.services, [
      { id: 'watch', name: 'tsc watch', state: 'ready', readySince: 4000, restarts: 0, problems: { errors: 3, warnings: 1 } },
      { id: 'web', name: 'web', state: 'ready', readySince: 4500, restarts: 2, waitsFor: 'http://127.0.0.1:43117/health' },
    ]);

    source.change(record('web', 'cancelled', { name: 'web', spec: http }));
    source.tasks.delete('watch');
    timers.advance(1000);
    assert.deepEqual(held()?.services, [], 'a finished service and a removed one leave the list');
  });

  it('stops everything on dispose', () => {
    const { feed, posted, source, timers } = setup();
    feed.setVisible(true);
    feed.receive(READY);
    feed.dispose();
    assert.equal(timers.pending, 0);
    assert.equal(source.changes.hasListeners, false);
    feed.receive(READY);
    assert.equal(posted.length, 1);
  });
});

/** A fleet read the test answers by hand: `reads` counts the calls, `answer` settles the oldest open one. */
class FakeFleet implements FleetSource {
  readonly url = 'redis://127.0.0.1:6379';
  reads = 0;
  private open: ((status: FleetStatus) => void)[] = [];
  read = (): Promise<FleetStatus> => {
    this.reads++;
    return new Promise((resolve) => this.open.push(resolve));
  };
  get inFlight(): number {
    return this.open.length;
  }
  async answer(status: FleetStatus): Promise<void> {
    this.open.shift()?.(status);
    // The feed's reaction runs on promise jobs: let them run.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

const worker = (name: string, heartbeatAt: number, running = 1) => ({
  name,
  pools: { cpu: 4 },
  kinds: ['shell'],
  concurrency: 2,
  running,
  startedAt: 0,
  heartbeatAt,
});

describe('dashboardFeed: the fleet of the redis backend', () => {
  it('sends null for the fleet with the local backend, and never reads one', () => {
    const { feed, posted } = setup();
    feed.setVisible(true);
    feed.receive(READY);
    assert.equal(posted[0]?.type === 'snapshot' && posted[0].data.fleet, null);
    assert.equal(feed.state().fleetReads, 0);
  });

  it('reads the fleet at most once a second, one read at a time, only while visible', async () => {
    const fleet = new FakeFleet();
    const { feed, timers, held } = setup(fleet);
    timers.advance(5000);
    assert.equal(fleet.reads, 0, 'nothing before the page is ready');
    feed.setVisible(true);
    feed.receive(READY);
    assert.equal(fleet.reads, 1);
    assert.deepEqual(held()?.fleet, { url: fleet.url, connected: false, workers: [], queues: [] }, 'the first snapshot does not wait for Redis');
    // A slow read: no second one while it is open, however long it takes.
    timers.advance(3000);
    assert.equal(fleet.reads, 1);
    await fleet.answer({
      connected: true,
      workers: [worker('w1', timers.now() - 1500)],
      queues: [{ name: 'q', waiting: 2, active: 1, delayed: 0, failed: 0 }],
    });
    timers.advance(250);
    assert.equal(held()?.fleet?.workers[0]?.heartbeatAgeMs, 1500);
    assert.equal(held()?.fleet?.queues[0]?.waiting, 2);
    // Answered late: the next read starts at once (at 8000); answered fast (at 8250): the one after
    // starts a second after that one began, at 9000.
    assert.equal(fleet.reads, 2);
    await fleet.answer({ connected: true, workers: [], queues: [] });
    timers.advance(749);
    assert.equal(fleet.reads, 2);
    timers.advance(1);
    assert.equal(fleet.reads, 3);
    await fleet.answer({ connected: true, workers: [], queues: [] });
    timers.advance(10_000);
    assert.ok(fleet.reads <= 3 + 10, `read ${fleet.reads} times in 10 s`);
    // Hidden: the poll stops, and a read still open when it hides schedules none.
    feed.setVisible(false);
    const before = fleet.reads;
    await fleet.answer({ connected: true, workers: [], queues: [] });
    timers.advance(10_000);
    assert.equal(fleet.reads, before);
    assert.equal(timers.pending, 0, 'no timer left running');
  });

  it('shows a read that fails as not connected', async () => {
    const fleet: FleetSource = { url: 'redis://cache:6379', read: () => Promise.reject(new Error('ECONNREFUSED')) };
    const { feed, timers, held } = setup(fleet);
    feed.setVisible(true);
    feed.receive(READY);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    timers.advance(250);
    assert.deepEqual(held()?.fleet, { url: 'redis://cache:6379', connected: false, workers: [], queues: [] });
  });
});

describe('dashboardData', () => {
  it('turns the fleet into rows: workers by name, heartbeats as ages, whole bounded counts', () => {
    const status: FleetStatus = {
      connected: true,
      workers: [
        { ...worker('zeta', 9_000), draining: true },
        { ...worker('alpha', 10_500, Number.NaN), pools: { gpu: 1, cpu: 8 } },
      ],
      queues: [{ name: 'orchestrator.run.any', waiting: 3.4, active: -1, delayed: 0, failed: 2 }],
    };
    const section = fleetSection(status, 'redis://h:6379', 10_000);
    assert.deepEqual(section, {
      url: 'redis://h:6379',
      connected: true,
      workers: [
        // A heartbeat "from the future" (clocks a little apart) is 0 ms old, never negative.
        { name: 'alpha', pools: { cpu: 8, gpu: 1 }, running: 0, concurrency: 2, heartbeatAgeMs: 0, draining: false },
        { name: 'zeta', pools: { cpu: 4 }, running: 1, concurrency: 2, heartbeatAgeMs: 1000, draining: true },
      ],
      queues: [{ name: 'orchestrator.run.any', waiting: 3, active: 0, delayed: 0, failed: 2 }],
    });
    assert.ok(isSnapshot(JSON.parse(JSON.stringify(buildSnapshot(new FakeSource(), new FailureLog(), section)))));
  });

  it("merges the monitor's fine histogram into readable buckets around the data", () => {
    // Monitor-like buckets: 0.1 ms, each 10% above the last, then Infinity.
    const bounds: number[] = [];
    for (let b = 0.1; b < 86_400_000; b *= 1.1) bounds.push(b);
    bounds.push(Infinity);
    const counts = bounds.map(() => 0);
    const at = (ms: number) => bounds.findIndex((b) => ms <= b);
    counts[at(40)] += 2;
    counts[at(700)] += 3;
    counts[at(3000)] += 1;
    const h = histogramSection({ bounds, counts });
    // One empty bucket before the first sample; the open bucket right after the last.
    assert.deepEqual(h.bounds, [25, 50, 100, 250, 500, 1000, 2500, 5000]);
    assert.deepEqual(h.counts, [0, 2, 0, 0, 0, 3, 0, 1, 0]);
    assert.equal(
      h.counts.reduce((a, b) => a + b),
      6,
      'every sample is shown',
    );
  });

  it('puts what lies beyond the last bound in the open bucket, and shows a default range when empty', () => {
    const h = histogramSection({ bounds: [10, Infinity], counts: [1, 4] });
    assert.equal(h.counts[h.counts.length - 1], 4);
    assert.equal(
      h.counts.reduce((a, b) => a + b),
      5,
    );
    const empty = histogramSection({ bounds: [], counts: [] });
    assert.equal(empty.bounds.length, 8);
    assert.ok(empty.counts.every((c) => c === 0));
  });

  it('lines series columns up at their newest bucket and cleans non-finite values', () => {
    const s = seriesSection({
      ...metrics().series,
      start: 0,
      throughput: [1, 2, 3],
      completed: [2, 3],
      meanDuration: [null, Number.NaN],
      utilization: { gpu: [0.5, 7] },
    });
    assert.equal(s.start, 1000, 'the first of three buckets was cut');
    assert.deepEqual(s.throughput, [2, 3]);
    assert.deepEqual(s.meanDuration, [null, null]);
    assert.deepEqual(s.utilization.gpu, [0.5, 1]);
  });

  it('describes what a service waits for, and which tasks are services at all', () => {
    const spec = (extra: object) => ({ name: 's', kind: 'shell', command: 'x', ...extra });
    const row = (r: TaskRecord) => serviceRow(r);
    assert.equal(row(record('a', 'running', { spec: spec({ readyWhen: { output: 'listening on \\d+' } }) }))?.waitsFor, 'output /listening on \\d+/');
    assert.equal(row(record('a', 'running', { spec: spec({ readyWhen: { port: 3000 } }) }))?.waitsFor, 'port 127.0.0.1:3000');
    assert.equal(row(record('a', 'scheduled', { spec: spec({ readyWhen: { port: 5432, host: 'db' } }) }))?.waitsFor, 'port db:5432');
    assert.equal(row(record('a', 'running', { spec: spec({ restart: 'on-failure' }) }))?.state, 'starting', 'restart makes a service');
    assert.equal(row(record('a', 'created', { spec: spec({ stopWhen: 'dependentsDone' }) }))?.waitsFor, undefined);
    assert.equal(row(record('a', 'running')), undefined, 'a plain task is no service');
    assert.equal(row(record('a', 'failed', { spec: spec({ readyWhen: { port: 1 } }) })), undefined, 'a finished one is not listed');
    const long = row(record('a', 'running', { name: 'n'.repeat(900), spec: spec({ readyWhen: { http: `http://h/${'p'.repeat(3000)}` } }) }));
    assert.ok(long && long.name.length <= 500 && (long.waitsFor ?? '').length <= 500);
  });

  it('sends at most 50 services, Ready ones first', () => {
    const source = new FakeSource();
    const log = new ServiceLog();
    const svc = { name: 's', kind: 'shell', command: 'x', readyWhen: { port: 3000 } };
    for (let i = 0; i < 60; i++) source.tasks.set(`s${i}`, record(`s${i}`, 'running', { name: `svc ${String(i).padStart(2, '0')}`, spec: svc }));
    source.tasks.set('z', record('z', 'running', { name: 'zz ready', spec: svc, ready: { at: 1 } }));
    log.reset(source.getTasks());
    const snap = buildSnapshot(source, new FailureLog(), null, log);
    assert.ok(isSnapshot(JSON.parse(JSON.stringify(snap))));
    assert.equal(snap.services.length, 50);
    assert.deepEqual(
      snap.services.slice(0, 3).map((s) => s.name),
      ['zz ready', 'svc 00', 'svc 01'],
    );
    assert.deepEqual(buildSnapshot(source, new FailureLog()).services, [], 'no log: no services');
  });

  it('builds a snapshot the protocol accepts, from odd figures too', () => {
    const source = new FakeSource();
    source.m = metrics({ p95TaskDuration: Number.POSITIVE_INFINITY, successRate: Number.NaN, averageWaitTime: -3 });
    const snap = buildSnapshot(source, new FailureLog());
    assert.ok(isSnapshot(JSON.parse(JSON.stringify(snap))));
    assert.equal(snap.headline.p95TaskDuration, 0);
    assert.equal(snap.pools.gpu.utilization, 0.5);
  });
  it("feeds the newest run's timeline and the cache figures, and follows the run the page picks", () => {
    const { feed, source, timers, held } = setup();
    const task = (id: string, workflowId: string, createdAt: number, extra: Partial<TaskRecord> = {}): TaskRecord =>
      record(id, 'completed', {
        name: `ci: ${id}`,
        spec: { name: `ci: ${id}`, kind: 'shell', command: 'true', key: id },
        workflowId,
        createdAt,
        finishedAt: createdAt + 500,
        history: [
          { status: 'created', at: createdAt },
          { status: 'scheduled', at: createdAt },
          { status: 'running', at: createdAt + 100 },
          { status: 'completed', at: createdAt + 500 },
        ],
        ...extra,
      });
    source.tasks.set('a1', task('a1', 'wf-old', 1000, { result: { cacheKey: 'k' } }));
    feed.setVisible(true);
    feed.receive(READY);
    assert.equal(held()?.timeline.run?.id, 'wf-old');
    assert.deepEqual(held()?.cache, { hits: 0, misses: 1, savedMs: 0 });
    source.change(task('b1', 'wf-new', 5000, { result: { cacheKey: 'k', cached: { key: 'k', savedMs: 3000 } } }));
    timers.advance(300);
    assert.deepEqual(
      held()?.timeline.runs.map((r) => r.id),
      ['wf-new', 'wf-old'],
    );
    assert.equal(held()?.timeline.run?.id, 'wf-new', 'the newest run is shown by default');
    assert.deepEqual(held()?.timeline.run?.bars[0]?.cached, { savedMs: 3000 });
    assert.deepEqual(held()?.cache, { hits: 1, misses: 1, savedMs: 3000 });
    feed.receive({ type: 'selectRun', runId: 'wf-old' });
    timers.advance(300);
    assert.equal(held()?.timeline.run?.id, 'wf-old');
    assert.equal(held()?.timeline.selected, 'wf-old');
    feed.receive({ type: 'selectRun', runId: '' });
    timers.advance(300);
    assert.equal(held()?.timeline.run?.id, 'wf-new', 'an empty pick follows the newest again');
    feed.dispose();
  });
});
