// Builds the dashboard's snapshot from the orchestrator's own figures. Imports nothing from 'vscode',
// so it is tested in plain Node. Everything leaving here satisfies protocol.ts's validators: numbers
// are finite (postMessage goes through JSON, which turns Infinity into null), columns line up, and
// sizes are bounded.
import type { Event } from '../../core/util/events';
import type { PerformanceMetrics } from '../../core/metrics/metricsTypes';
import type { SystemStatus, TaskRecord } from '../../core/model/model';
import { describeReadyWhen } from '../../core/model/serviceFields';
import type { QueueStats, TopicStats } from '../../core/queue/queueTypes';
import type { FleetStatus } from '../../backends/redis/fleetStatus';
import {
  STAGES,
  type DashboardSnapshot,
  type FailureInfo,
  type FleetSection,
  type HistogramSection,
  type PoolInfo,
  type QueueSection,
  type SeriesSection,
  type ServiceRow,
  type TopicRow,
  MAX_SERVICES,
} from '../../dashboardProtocol/protocol';
import type { CacheTally, RunLog } from './timeline';

/**
 * What the dashboard reads from the orchestrator: the `Orchestrator` contract plus its `monitor`
 * and `queue`, typed structurally so the dashboard depends on nothing but those shapes.
 */
export interface DashboardSource {
  getSystemStatus(): SystemStatus;
  getTasks(): TaskRecord[];
  getTask(id: string): TaskRecord | undefined;
  onDidChangeTask: Event<TaskRecord>;
  readonly monitor: { getPerformanceMetrics(): PerformanceMetrics };
  readonly queue: { getQueueStats(): QueueStats };
}

export const MAX_FAILURES_SHOWN = 10;
const MAX_SERIES = 600;
const MAX_TOPICS = 200;

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function count(v: unknown): number {
  return Math.max(0, Math.round(num(v)));
}

function ratio(v: unknown): number {
  return Math.min(1, Math.max(0, num(v)));
}

function topicRow(t: TopicStats | undefined): TopicRow {
  return {
    published: count(t?.published),
    delivered: count(t?.delivered),
    acknowledged: count(t?.acknowledged),
    pending: count(t?.pending),
    inFlight: count(t?.inFlight),
    redelivered: count(t?.redelivered),
    deadLettered: count(t?.deadLettered),
    rejected: count(t?.rejected),
    processingRate: Math.max(0, num(t?.processingRate)),
  };
}

export function queueSection(stats: QueueStats): QueueSection {
  const topics: Record<string, TopicRow> = {};
  for (const name of Object.keys(stats.topics).sort().slice(0, MAX_TOPICS)) topics[name] = topicRow(stats.topics[name]);
  return { topics, totals: topicRow(stats.totals), subscribers: count(stats.subscribers) };
}

/**
 * Upper bounds in ms of the buckets the dashboard shows: 1-2.5-5 steps from 1 ms to an hour. The
 * monitor keeps ~200 log buckets 10% apart (precise percentiles); a chart needs a dozen readable ones.
 */
export const DISPLAY_BOUNDS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000];
const MIN_SHOWN_BUCKETS = 8;

/**
 * The monitor's histogram merged into DISPLAY_BOUNDS (each source bucket counts where its upper bound
 * falls, so a duration may land one display bucket high, by at most the monitor's 10% bucket width),
 * then cut to the buckets around the data: empty ones before the first and after the last are left
 * out, keeping at least MIN_SHOWN_BUCKETS so a single sample is not one wide bar. The last bucket is
 * open; its bound is not sent (postMessage's JSON would turn Infinity into null).
 */
export function histogramSection(h: PerformanceMetrics['durationHistogram']): HistogramSection {
  const n = DISPLAY_BOUNDS.length;
  const merged = new Array<number>(n + 1).fill(0);
  const slots = Math.max(h.bounds.length, h.counts.length);
  for (let i = 0; i < slots; i++) {
    const c = count(h.counts[i]);
    if (!c) continue;
    const bound = h.bounds[i];
    const j = typeof bound === 'number' && Number.isFinite(bound) ? DISPLAY_BOUNDS.findIndex((d) => bound <= d) : -1;
    // `merged` has n + 1 slots and j < n.
    merged[j < 0 ? n : j]! += c;
  }
  const first = merged.findIndex((c) => c > 0);
  let lo: number;
  let open: number;
  if (first < 0) {
    lo = DISPLAY_BOUNDS.indexOf(10);
    open = lo + MIN_SHOWN_BUCKETS;
  } else {
    let last = n;
    while (merged[last] === 0) last--;
    lo = Math.max(0, first - 1);
    open = Math.min(n, last + 1);
  }
  while (open - lo < MIN_SHOWN_BUCKETS && open < n) open++;
  while (open - lo < MIN_SHOWN_BUCKETS && lo > 0) lo--;
  return {
    bounds: DISPLAY_BOUNDS.slice(lo, open),
    counts: [...merged.slice(lo, open), merged.slice(open).reduce((a, b) => a + b, 0)],
  };
}

/** The last MAX_SERIES buckets, every column cut to the shortest so they line up. */
export function seriesSection(s: PerformanceMetrics['series']): SeriesSection {
  const bucketMs = num(s.bucketMs) > 0 ? s.bucketMs : 1000;
  const pools = Object.entries(s.utilization).sort(byName);
  const n = Math.min(
    s.throughput.length,
    s.completed.length,
    s.failed.length,
    s.queueDepth.length,
    s.running.length,
    s.meanDuration.length,
    s.messages.length,
    ...pools.map(([, column]) => column.length),
  );
  const from = Math.max(0, n - MAX_SERIES);
  const take = <T>(a: T[]): T[] => a.slice(a.length - n + from, a.length);
  const utilization: Record<string, number[]> = {};
  for (const [p, column] of pools) utilization[p] = take(column).map(ratio);
  return {
    // Columns are aligned at their ends (the newest bucket), so `start` moves by what was cut.
    start: num(s.start) + (s.throughput.length - n + from) * bucketMs,
    bucketMs,
    throughput: take(s.throughput).map(count),
    completed: take(s.completed).map(count),
    failed: take(s.failed).map(count),
    queueDepth: take(s.queueDepth).map(count),
    running: take(s.running).map(count),
    meanDuration: take(s.meanDuration).map((d) => (d === null || !Number.isFinite(d) ? null : Math.max(0, d))),
    messages: take(s.messages).map(count),
    utilization,
  };
}

/** Entries in the order `Object.keys(...).sort()` gives their keys. */
function byName([a]: [string, unknown], [b]: [string, unknown]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function poolsSection(status: SystemStatus, metrics: PerformanceMetrics): Record<string, PoolInfo> {
  const pools: Record<string, PoolInfo> = {};
  for (const [name, p] of Object.entries(status.pools).sort(byName)) {
    pools[name] = { capacity: count(p.capacity), inUse: count(p.inUse), utilization: ratio(metrics.resourceUtilization[name]) };
  }
  return pools;
}

export function failureInfo(record: TaskRecord): FailureInfo {
  const last = [...record.history].reverse().find((h) => h.status === 'failed');
  const info: FailureInfo = {
    id: record.id.slice(0, 200),
    name: record.name.slice(0, 500),
    reason: (record.error?.message ?? last?.reason ?? 'failed').slice(0, 2000),
    at: num(record.finishedAt ?? last?.at ?? record.createdAt),
    attempts: count(record.attempts),
  };
  if (record.error?.code) info.code = record.error.code.slice(0, 200);
  return info;
}

/**
 * The latest failures, newest first, kept up to date from task changes so a refresh never walks
 * every record. It re-checks its few entries against the orchestrator on read, so a failed task that
 * was retried away or removed leaves the list.
 */
export class FailureLog {
  private entries: FailureInfo[] = [];

  constructor(private readonly limit = MAX_FAILURES_SHOWN) {}

  /** Seeds the log from every record; called when a dashboard starts watching. */
  reset(records: readonly TaskRecord[]): void {
    this.entries = records
      .filter((r) => r.status === 'failed')
      .map(failureInfo)
      .sort((a, b) => b.at - a.at)
      .slice(0, this.limit);
  }

  observe(record: TaskRecord): void {
    if (record.status !== 'failed') return;
    const info = failureInfo(record);
    this.entries = [info, ...this.entries.filter((e) => e.id !== info.id)].sort((a, b) => b.at - a.at).slice(0, this.limit);
  }

  read(lookup: (id: string) => TaskRecord | undefined): FailureInfo[] {
    this.entries = this.entries.filter((e) => lookup(e.id)?.status === 'failed');
    return this.entries;
  }
}

const MAX_WORKERS = 200;
const MAX_QUEUES = 256;
const MAX_NAME = 200;

/**
 * The fleet as the dashboard shows it, from what the backend read at `now` (the host's clock):
 * heartbeats become ages, so the page needs no clock of its own; counts are whole and bounded.
 */
export function fleetSection(status: FleetStatus, url: string, now: number): FleetSection {
  const workers = [...status.workers]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, MAX_WORKERS)
    .map((w) => {
      const pools: Record<string, number> = {};
      for (const [name, units] of Object.entries(w.pools ?? {})
        .sort(byName)
        .slice(0, MAX_TOPICS))
        pools[name.slice(0, MAX_NAME)] = count(units);
      return {
        name: String(w.name).slice(0, MAX_NAME),
        pools,
        running: count(w.running),
        concurrency: count(w.concurrency),
        heartbeatAgeMs: Math.max(0, num(now - w.heartbeatAt)),
        draining: w.draining === true,
      };
    });
  const queues = status.queues.slice(0, MAX_QUEUES).map((q) => ({
    name: String(q.name).slice(0, MAX_NAME),
    waiting: count(q.waiting),
    active: count(q.active),
    delayed: count(q.delayed),
    failed: count(q.failed),
  }));
  return { url: url.slice(0, 2000), connected: Boolean(status.connected), workers, queues };
}

const MAX_WAITS_FOR = 500;

/**
 * The record as a row of the Services section, or undefined when it is no unfinished service. A
 * service: `readyWhen`, `stopWhen` or `restart` in its spec, or a record its executor marked Ready
 * (a background VS Code task, which has none of them).
 */
export function serviceRow(record: TaskRecord): ServiceRow | undefined {
  const spec = record.spec;
  const unfinished = record.status === 'created' || record.status === 'scheduled' || record.status === 'running';
  if (!unfinished || (spec.readyWhen === undefined && spec.stopWhen === undefined && spec.restart === undefined && record.ready === undefined))
    return undefined;
  const ready = record.status === 'running' ? record.ready : undefined;
  const row: ServiceRow = {
    id: record.id.slice(0, MAX_NAME),
    name: record.name.slice(0, 500),
    state: ready ? 'ready' : 'starting',
    restarts: count(record.restarts),
  };
  if (ready) {
    row.readySince = num(ready.at);
    if (ready.problems) row.problems = { errors: count(ready.problems.errors), warnings: count(ready.problems.warnings) };
  }
  const r = spec.readyWhen;
  // A URL says it all; the other kinds as messages name them.
  if (r) row.waitsFor = ('http' in r ? r.http : describeReadyWhen(r)).slice(0, MAX_WAITS_FOR);
  return row;
}

function byReadyThenName(a: ServiceRow, b: ServiceRow): number {
  if (a.state !== b.state) return a.state === 'ready' ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The ids of the unfinished services, kept up to date from task changes (as FailureLog) so a refresh
 * never walks every record; each read looks its few ids up again, so what finished or was removed
 * leaves, and the rows carry the records' current Ready and restarts.
 */
export class ServiceLog {
  private readonly ids = new Set<string>();

  reset(records: readonly TaskRecord[]): void {
    this.ids.clear();
    for (const r of records) this.observe(r);
  }

  observe(record: TaskRecord): void {
    if (serviceRow(record)) this.ids.add(record.id);
    else this.ids.delete(record.id);
  }

  read(lookup: (id: string) => TaskRecord | undefined): ServiceRow[] {
    const rows: ServiceRow[] = [];
    for (const id of [...this.ids]) {
      const record = lookup(id);
      const row = record && serviceRow(record);
      if (row) rows.push(row);
      else this.ids.delete(id);
    }
    return rows.sort(byReadyThenName).slice(0, MAX_SERVICES);
  }
}

/** The timeline's inputs: the runs seen, the session's cache outcomes, the page's pick and the host's clock. */
export interface TimelineInputs {
  runs: RunLog;
  cache: CacheTally;
  selectedRun?: string;
  now: number;
}

/**
 * `fleet`: the redis backend's latest figures, or null with the local backend. `services`: absent,
 * none are sent. `timeline`: absent, no run is shown and the cache figures are zero.
 */
export function buildSnapshot(
  source: DashboardSource,
  failures: FailureLog,
  fleet: FleetSection | null = null,
  services?: ServiceLog,
  timeline?: TimelineInputs,
): DashboardSnapshot {
  const status = source.getSystemStatus();
  const m = source.monitor.getPerformanceMetrics();
  const counts = Object.fromEntries(STAGES.map((s) => [s, count(status.counts[s])])) as DashboardSnapshot['status']['counts'];
  return {
    status: {
      counts,
      total: count(status.total),
      paused: Boolean(status.paused),
      concurrency: { limit: count(status.concurrency.limit), running: count(status.concurrency.running) },
    },
    headline: {
      averageTaskDuration: Math.max(0, num(m.averageTaskDuration)),
      p50TaskDuration: Math.max(0, num(m.p50TaskDuration)),
      p95TaskDuration: Math.max(0, num(m.p95TaskDuration)),
      taskThroughput: Math.max(0, num(m.taskThroughput)),
      averageWaitTime: Math.max(0, num(m.averageWaitTime)),
      queueDepth: count(m.queueDepth),
      running: count(m.running),
      successRate: ratio(m.successRate),
      messageProcessingRate: Math.max(0, num(m.messageProcessingRate)),
      totals: {
        completed: count(m.totals.completed),
        failed: count(m.totals.failed),
        cancelled: count(m.totals.cancelled),
        messages: count(m.totals.messages),
      },
    },
    pools: poolsSection(status, m),
    histogram: histogramSection(m.durationHistogram),
    series: seriesSection(m.series),
    queue: queueSection(source.queue.getQueueStats()),
    failures: failures.read((id) => source.getTask(id)),
    fleet,
    services: services ? services.read((id) => source.getTask(id)) : [],
    timeline: timeline ? timeline.runs.read((id) => source.getTask(id), timeline.now, timeline.selectedRun) : { runs: [], run: null },
    cache: timeline ? { ...timeline.cache.read() } : { hits: 0, misses: 0, savedMs: 0 },
  };
}
