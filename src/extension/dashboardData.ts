// Builds the dashboard's snapshot from the orchestrator's own figures. Imports nothing from 'vscode',
// so it is tested in plain Node. Everything leaving here satisfies protocol.ts's validators: numbers
// are finite (postMessage goes through JSON, which turns Infinity into null), columns line up, and
// sizes are bounded.
import type { Event } from '../core/events';
import type { PerformanceMetrics } from '../core/metricsTypes';
import type { SystemStatus, TaskRecord } from '../core/model';
import type { QueueStats, TopicStats } from '../core/queueTypes';
import {
  STAGES,
  type DashboardSnapshot,
  type FailureInfo,
  type HistogramSection,
  type PoolInfo,
  type QueueSection,
  type SeriesSection,
  type TopicRow,
} from '../shared/protocol';

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
    processingRate: Math.max(0, num(t?.processingRate)),
  };
}

export function queueSection(stats: QueueStats): QueueSection {
  const topics: Record<string, TopicRow> = {};
  for (const name of Object.keys(stats.topics).sort().slice(0, MAX_TOPICS)) topics[name] = topicRow(stats.topics[name]);
  return { topics, totals: topicRow(stats.totals), subscribers: count(stats.subscribers) };
}

/** The monitor's histogram ends with an open bucket whose bound is Infinity; the wire keeps finite bounds only. */
export function histogramSection(h: PerformanceMetrics['durationHistogram']): HistogramSection {
  const bounds: number[] = [];
  for (const b of h.bounds) {
    if (!Number.isFinite(b)) break;
    if (bounds.length && b <= bounds[bounds.length - 1]) break;
    bounds.push(b);
  }
  const counts = bounds.map((_, i) => count(h.counts[i]));
  // Whatever lies beyond the last finite bound, however the monitor split it, is the open bucket.
  counts.push(h.counts.slice(bounds.length).reduce((sum, c) => sum + count(c), 0));
  return { bounds, counts };
}

/** The last MAX_SERIES buckets, every column cut to the shortest so they line up. */
export function seriesSection(s: PerformanceMetrics['series']): SeriesSection {
  const bucketMs = num(s.bucketMs) > 0 ? s.bucketMs : 1000;
  const pools = Object.keys(s.utilization).sort();
  const n = Math.min(
    s.throughput.length, s.completed.length, s.failed.length, s.queueDepth.length, s.running.length,
    s.meanDuration.length, s.messages.length, ...pools.map((p) => s.utilization[p].length),
  );
  const from = Math.max(0, n - MAX_SERIES);
  const take = <T>(a: T[]): T[] => a.slice(a.length - n + from, a.length);
  const utilization: Record<string, number[]> = {};
  for (const p of pools) utilization[p] = take(s.utilization[p]).map(ratio);
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

export function poolsSection(status: SystemStatus, metrics: PerformanceMetrics): Record<string, PoolInfo> {
  const pools: Record<string, PoolInfo> = {};
  for (const name of Object.keys(status.pools).sort()) {
    const p = status.pools[name];
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

export function buildSnapshot(source: DashboardSource, failures: FailureLog): DashboardSnapshot {
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
  };
}
