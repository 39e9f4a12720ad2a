// Checks of each section of the dashboard's data (protocol.ts's DashboardSnapshot), one type guard
// per section over `unknown`, for protocol.ts's message parsers. They enforce the protocol's
// invariants (protocol.ts's header): finite numbers, arrays read in step of one length, bounded sizes.
import { isObjectLike } from '../core/model/guards';
import { ALL_STATUSES } from '../core/model/model';
import {
  isNum,
  isCount,
  isInt,
  isText,
  isNumArray,
  isNullableNumArray,
  isRecordOf,
  hasNums,
  MAX_SERIES_LENGTH,
  MAX_FAILURES,
  MAX_ID,
  MAX_WORKERS,
  MAX_QUEUES,
  MAX_SERVICES,
  MAX_WAITS_FOR,
  MAX_TIMELINE_BARS,
  MAX_TIMELINE_RUNS,
  MAX_BAR_SEGMENTS,
} from './checks';
import type {
  CacheFigures,
  FailureInfo,
  FleetQueueRow,
  FleetSection,
  HeadlineSection,
  HistogramSection,
  PoolInfo,
  QueueSection,
  SeriesColumns,
  SeriesPatch,
  SeriesSection,
  ServiceRow,
  StatusSection,
  TimelineBar,
  TimelineRun,
  TimelineRunOption,
  TimelineSection,
  TimelineSegment,
  TopicRow,
  WorkerRow,
} from './protocol';

export function isStatus(v: unknown): v is StatusSection {
  if (!isObjectLike(v) || !isObjectLike(v.counts) || !isObjectLike(v.concurrency)) return false;
  return hasNums(v.counts, ALL_STATUSES, isInt) && isInt(v.total) && typeof v.paused === 'boolean' && hasNums(v.concurrency, ['limit', 'running'], isInt);
}

const HEADLINE_NUMS = [
  'averageTaskDuration',
  'p50TaskDuration',
  'p95TaskDuration',
  'taskThroughput',
  'averageWaitTime',
  'queueDepth',
  'running',
  'successRate',
  'messageProcessingRate',
] as const;

export function isHeadline(v: unknown): v is HeadlineSection {
  if (!isObjectLike(v) || !isObjectLike(v.totals)) return false;
  return hasNums(v, HEADLINE_NUMS) && (v.successRate as number) <= 1 && hasNums(v.totals, ['completed', 'failed', 'cancelled', 'messages'], isInt);
}

export function isPool(v: unknown): v is PoolInfo {
  return isObjectLike(v) && hasNums(v, ['capacity', 'inUse', 'utilization']) && (v.utilization as number) <= 1;
}

export function isHistogram(v: unknown): v is HistogramSection {
  if (!isObjectLike(v) || !isNumArray(v.bounds, 200) || !isNumArray(v.counts, 201)) return false;
  const ascending = v.bounds.every((b, i, a) => {
    const previous = a[i - 1];
    return previous === undefined || b > previous;
  });
  return ascending && v.counts.length === v.bounds.length + 1 && v.counts.every(isInt);
}

const COLUMN_NAMES = ['throughput', 'completed', 'failed', 'queueDepth', 'running', 'messages'] as const;

function isColumns(v: unknown): v is SeriesColumns {
  if (!isObjectLike(v)) return false;
  if (!COLUMN_NAMES.every((k) => isNumArray(v[k]))) return false;
  if (!isNullableNumArray(v.meanDuration) || !isRecordOf(v.utilization, (x): x is number[] => isNumArray(x))) return false;
  const n = (v.throughput as number[]).length;
  const lengths = [...COLUMN_NAMES.map((k) => (v[k] as number[]).length), v.meanDuration.length, ...Object.values(v.utilization).map((a) => a.length)];
  return lengths.every((len) => len === n);
}

/** The number of buckets in a validated set of columns. */
export function columnsLength(c: SeriesColumns): number {
  return c.throughput.length;
}

export function isSeries(v: unknown): v is SeriesSection {
  return isObjectLike(v) && isNum(v.start) && isNum(v.bucketMs) && v.bucketMs > 0 && isColumns(v);
}

export function isSeriesPatch(v: unknown): v is SeriesPatch {
  return isObjectLike(v) && isNum(v.start) && isNum(v.bucketMs) && v.bucketMs > 0 && isInt(v.keep) && v.keep <= MAX_SERIES_LENGTH && isColumns(v.tail);
}

const TOPIC_NUMS = ['published', 'delivered', 'acknowledged', 'pending', 'inFlight', 'redelivered', 'deadLettered', 'rejected', 'processingRate'] as const;

function isTopicRow(v: unknown): v is TopicRow {
  return isObjectLike(v) && hasNums(v, TOPIC_NUMS);
}

export function isQueue(v: unknown): v is QueueSection {
  return isObjectLike(v) && isRecordOf(v.topics, isTopicRow) && isTopicRow(v.totals) && isInt(v.subscribers);
}

function isFailure(v: unknown): v is FailureInfo {
  return (
    isObjectLike(v) &&
    isText(v.id, MAX_ID) &&
    v.id.length > 0 &&
    isText(v.name) &&
    isText(v.reason) &&
    (v.code === undefined || isText(v.code, MAX_ID)) &&
    isNum(v.at) &&
    isInt(v.attempts)
  );
}

export function isFailures(v: unknown): v is FailureInfo[] {
  return Array.isArray(v) && v.length <= MAX_FAILURES && v.every(isFailure);
}

function isWorkerRow(v: unknown): v is WorkerRow {
  return (
    isObjectLike(v) &&
    isText(v.name, MAX_ID) &&
    isRecordOf(v.pools, isInt) &&
    hasNums(v, ['running', 'concurrency'], isInt) &&
    isCount(v.heartbeatAgeMs) &&
    typeof v.draining === 'boolean'
  );
}

function isFleetQueueRow(v: unknown): v is FleetQueueRow {
  return isObjectLike(v) && isText(v.name, MAX_ID) && hasNums(v, ['waiting', 'active', 'delayed', 'failed'], isInt);
}

export function isFleet(v: unknown): v is FleetSection | null {
  if (v === null) return true;
  return (
    isObjectLike(v) &&
    isText(v.url) &&
    typeof v.connected === 'boolean' &&
    Array.isArray(v.workers) &&
    v.workers.length <= MAX_WORKERS &&
    v.workers.every(isWorkerRow) &&
    Array.isArray(v.queues) &&
    v.queues.length <= MAX_QUEUES &&
    v.queues.every(isFleetQueueRow)
  );
}

function isServiceRow(v: unknown): v is ServiceRow {
  if (!isObjectLike(v) || !isText(v.id, MAX_ID) || v.id.length === 0 || !isText(v.name) || !isInt(v.restarts)) return false;
  // Ready has a since; starting has none.
  const since = v.state === 'ready' ? isNum(v.readySince) : v.state === 'starting' && v.readySince === undefined;
  return (
    since &&
    (v.problems === undefined || (isObjectLike(v.problems) && hasNums(v.problems, ['errors', 'warnings'], isInt))) &&
    (v.waitsFor === undefined || isText(v.waitsFor, MAX_WAITS_FOR))
  );
}

export function isServices(v: unknown): v is ServiceRow[] {
  return Array.isArray(v) && v.length <= MAX_SERVICES && v.every(isServiceRow);
}

function isSegment(v: unknown): v is TimelineSegment {
  return isObjectLike(v) && (v.kind === 'wait' || v.kind === 'run') && isCount(v.from) && (v.to === undefined || (isCount(v.to) && v.to >= v.from));
}

function isBar(v: unknown): v is TimelineBar {
  if (!isObjectLike(v) || !isText(v.id, MAX_ID) || v.id.length === 0 || !isText(v.name) || !(ALL_STATUSES as readonly unknown[]).includes(v.status))
    return false;
  if ((v.ready !== undefined && !isCount(v.ready)) || (v.end !== undefined && !isCount(v.end)) || typeof v.critical !== 'boolean') return false;
  if (v.cached !== undefined && !(isObjectLike(v.cached) && isCount(v.cached.savedMs))) return false;
  const segments = v.segments;
  if (!Array.isArray(segments) || segments.length > MAX_BAR_SEGMENTS || !segments.every(isSegment)) return false;
  // In time order, and only the last one open.
  return segments.every((s, i) => {
    const next = segments[i + 1];
    return next === undefined || (s.to !== undefined && s.to <= next.from);
  });
}

export function isCacheFigures(v: unknown): v is CacheFigures {
  return isObjectLike(v) && hasNums(v, ['hits', 'misses'], isInt) && isCount(v.savedMs);
}

function isRunOption(v: unknown): v is TimelineRunOption {
  return (
    isObjectLike(v) && isText(v.id, MAX_ID) && v.id.length > 0 && isText(v.name) && isNum(v.startedAt) && isInt(v.tasks) && typeof v.finished === 'boolean'
  );
}

function isTimelineRun(v: unknown): v is TimelineRun {
  return (
    isObjectLike(v) &&
    isText(v.id, MAX_ID) &&
    v.id.length > 0 &&
    isText(v.name) &&
    isNum(v.startedAt) &&
    typeof v.finished === 'boolean' &&
    Array.isArray(v.bars) &&
    v.bars.length <= MAX_TIMELINE_BARS &&
    v.bars.every(isBar) &&
    isInt(v.omitted) &&
    isCount(v.criticalMs) &&
    isCacheFigures(v.cache)
  );
}

export function isTimeline(v: unknown): v is TimelineSection {
  return (
    isObjectLike(v) &&
    Array.isArray(v.runs) &&
    v.runs.length <= MAX_TIMELINE_RUNS &&
    v.runs.every(isRunOption) &&
    (v.run === null || isTimelineRun(v.run)) &&
    (v.selected === undefined || (isText(v.selected, MAX_ID) && v.selected.length > 0))
  );
}
