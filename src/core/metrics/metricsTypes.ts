// The shape of the Performance Monitor's figures (the seed's `PerformanceMetrics`).

export interface ResourceUsage {
  inUse: number;
  capacity: number;
}

export interface DurationHistogram {
  /** Upper bounds in ms of each bucket; the last bucket is open (Infinity). */
  bounds: number[];
  counts: number[];
}

export interface MetricsSeries {
  /** Epoch ms of the first bucket. */
  start: number;
  bucketMs: number;
  /** Per bucket: tasks finished (completed + failed + cancelled). */
  throughput: number[];
  completed: number[];
  failed: number[];
  /** Per bucket: the queue depth (created + scheduled) last seen in it. */
  queueDepth: number[];
  /** Per bucket: running tasks last seen in it. */
  running: number[];
  /** Per bucket: mean task duration in ms, or null when nothing finished. */
  meanDuration: (number | null)[];
  /** Per pool, per bucket: time-weighted utilisation 0..1. */
  utilization: Record<string, number[]>;
  /** Per bucket: messages processed. */
  messages: number[];
}

export interface PerformanceMetrics {
  /** Mean duration of finished attempts, ms. */
  averageTaskDuration: number;
  /** Tasks finished per second over the last minute. */
  taskThroughput: number;
  /** Per pool, time-weighted utilisation 0..1 over the last minute. */
  resourceUtilization: Record<string, number>;
  /** Messages processed per second over the last minute. */
  messageProcessingRate: number;
  p50TaskDuration: number;
  p95TaskDuration: number;
  /** Mean time from Scheduled (ready) to Running, ms. */
  averageWaitTime: number;
  queueDepth: number;
  running: number;
  /** completed / (completed + failed), 1 when nothing finished. */
  successRate: number;
  totals: { completed: number; failed: number; cancelled: number; messages: number };
  durationHistogram: DurationHistogram;
  series: MetricsSeries;
}
