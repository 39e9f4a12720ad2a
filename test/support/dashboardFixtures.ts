// Valid dashboard data for the protocol, diff and feed tests.
import type { PerformanceMetrics } from '../../src/core/metrics/metricsTypes';
import type { SystemStatus, TaskRecord } from '../../src/core/model/model';
import type { QueueStats, TopicStats } from '../../src/core/queue/queueTypes';
import type { DashboardSnapshot, FleetSection, SeriesSection, ServiceRow, TimelineSection } from '../../src/dashboardProtocol/protocol';

export function series(start: number, values: number[], pools: string[] = ['gpu']): SeriesSection {
  const utilization: Record<string, number[]> = {};
  for (const p of pools) utilization[p] = values.map((v) => Math.min(1, v / 10));
  return {
    start,
    bucketMs: 1000,
    throughput: [...values],
    completed: [...values],
    failed: values.map(() => 0),
    queueDepth: values.map((v) => v + 1),
    running: values.map(() => 1),
    meanDuration: values.map((v) => (v ? v * 100 : null)),
    messages: values.map((v) => v * 2),
    utilization,
  };
}

export function snapshot(overrides: Partial<DashboardSnapshot> = {}): DashboardSnapshot {
  return {
    status: {
      counts: { created: 1, scheduled: 2, running: 1, completed: 5, failed: 1, cancelled: 0 },
      total: 10,
      paused: false,
      concurrency: { limit: 4, running: 1 },
    },
    headline: {
      averageTaskDuration: 120,
      p50TaskDuration: 100,
      p95TaskDuration: 300,
      taskThroughput: 0.5,
      averageWaitTime: 20,
      queueDepth: 3,
      running: 1,
      successRate: 5 / 6,
      messageProcessingRate: 2,
      totals: { completed: 5, failed: 1, cancelled: 0, messages: 40 },
    },
    pools: { gpu: { capacity: 2, inUse: 1, utilization: 0.5 } },
    histogram: { bounds: [10, 100, 1000], counts: [1, 2, 3, 0] },
    series: series(1_000_000, [0, 1, 2, 3]),
    queue: {
      topics: { 'task.created': topic(10), 'task.completed': topic(5) },
      totals: topic(15),
      subscribers: 2,
    },
    failures: [{ id: 't1', name: 'build', reason: 'exit code 1', code: 'EXIT_CODE', at: 1_000_500, attempts: 2 }],
    fleet: null,
    services: [],
    timeline: { runs: [], run: null },
    cache: { hits: 0, misses: 0, savedMs: 0 },
    ...overrides,
  };
}

export function topic(published: number): TopicStats {
  return {
    published,
    delivered: published,
    acknowledged: published,
    pending: 0,
    inFlight: 0,
    redelivered: 0,
    deadLettered: 0,
    rejected: 0,
    processingRate: published / 60,
  };
}

export function metrics(overrides: Partial<PerformanceMetrics> = {}): PerformanceMetrics {
  return {
    averageTaskDuration: 120,
    taskThroughput: 0.5,
    resourceUtilization: { gpu: 0.5 },
    messageProcessingRate: 2,
    p50TaskDuration: 100,
    p95TaskDuration: 300,
    averageWaitTime: 20,
    queueDepth: 3,
    running: 1,
    successRate: 1,
    totals: { completed: 5, failed: 0, cancelled: 0, messages: 40 },
    durationHistogram: { bounds: [10, 100, 1000, Infinity], counts: [1, 2, 3, 0] },
    series: {
      start: 1_000_000,
      bucketMs: 1000,
      throughput: [0, 1],
      completed: [0, 1],
      failed: [0, 0],
      queueDepth: [1, 2],
      running: [1, 1],
      meanDuration: [null, 100],
      utilization: { gpu: [0, 0.5] },
      messages: [0, 2],
    },
    ...overrides,
  };
}

export function status(overrides: Partial<SystemStatus> = {}): SystemStatus {
  return {
    counts: { created: 1, scheduled: 2, running: 1, completed: 5, failed: 0, cancelled: 0 },
    pools: { gpu: { capacity: 2, inUse: 1 } },
    concurrency: { limit: 4, running: 1 },
    paused: false,
    total: 9,
    ...overrides,
  };
}

export function queueStats(topics: Record<string, TopicStats> = { 'task.created': topic(3) }): QueueStats {
  return { topics, totals: topic(Object.values(topics).reduce((s, t) => s + t.published, 0)), subscribers: 1 };
}

export function record(id: string, status: TaskRecord['status'], overrides: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id,
    name: `task ${id}`,
    kind: 'shell',
    status,
    priority: 0,
    attempts: 1,
    createdAt: 1000,
    history: [
      { status: 'created', at: 1000 },
      { status, at: 2000, reason: status === 'failed' ? 'exit code 2' : undefined },
    ],
    spec: { name: `task ${id}`, kind: 'shell', command: 'false' },
    dependsOn: [],
    ...(status === 'failed' ? { finishedAt: 2000, error: { message: 'exit code 2', code: 'EXIT_CODE' } } : {}),
    ...overrides,
  };
}

/** The fleet section of the `redis` backend: two workers, two queues. */
export function fleet(overrides: Partial<FleetSection> = {}): FleetSection {
  return {
    url: 'redis://127.0.0.1:6379',
    connected: true,
    workers: [
      { name: 'build-1', pools: { cpu: 8 }, running: 2, concurrency: 4, heartbeatAgeMs: 1200, draining: false },
      { name: 'gpu-1', pools: { cpu: 4, gpu: 1 }, running: 0, concurrency: 2, heartbeatAgeMs: 300, draining: true },
    ],
    queues: [
      { name: 'orchestrator.run.any', waiting: 3, active: 2, delayed: 0, failed: 1 },
      { name: 'orchestrator.run.gpu', waiting: 0, active: 0, delayed: 1, failed: 0 },
    ],
    ...overrides,
  };
}

/** The services section: one Ready with its problem counts and a restart, one still starting. */
export function services(): ServiceRow[] {
  return [
    {
      id: 's1',
      name: 'api server',
      state: 'ready',
      readySince: 1_000_000,
      restarts: 2,
      problems: { errors: 1, warnings: 0 },
      waitsFor: 'http://127.0.0.1:43117/health',
    },
    { id: 's2', name: 'db', state: 'starting', restarts: 0, waitsFor: 'port 127.0.0.1:5432' },
  ];
}

/** A timeline of a finished run: a cached task, a failed one on the critical path, one never ready. */
export function timeline(): TimelineSection {
  return {
    runs: [
      { id: 'wf2', name: 'ci', startedAt: 1_000_000, tasks: 3, finished: true },
      { id: 'wf1', name: 'ci', startedAt: 900_000, tasks: 3, finished: true },
    ],
    run: {
      id: 'wf2',
      name: 'ci',
      startedAt: 1_000_000,
      finished: true,
      bars: [
        {
          id: 'b',
          name: 'ci: build',
          status: 'completed',
          ready: 0,
          end: 40,
          segments: [
            { kind: 'wait', from: 0, to: 10 },
            { kind: 'run', from: 10, to: 40 },
          ],
          cached: { savedMs: 4000 },
          critical: true,
        },
        {
          id: 't',
          name: 'ci: test',
          status: 'failed',
          ready: 40,
          end: 900,
          segments: [{ kind: 'run', from: 40, to: 900 }],
          critical: true,
        },
        { id: 'p', name: 'ci: package', status: 'cancelled', end: 900, segments: [], critical: false },
      ],
      omitted: 0,
      criticalMs: 900,
      cache: { hits: 1, misses: 1, savedMs: 4000 },
    },
  };
}
