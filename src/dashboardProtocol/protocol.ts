// The dashboard's wire protocol: every message between the extension host and the dashboard webview.
// Both sides import this file; src/core never does. Whatever crosses the boundary is `unknown` until
// one of the `parse*` functions below accepts it, and a message they reject is dropped, never acted on.
//
// Invariants the validators enforce (the host's snapshot builder guarantees them on the way out):
// - every number is finite (postMessage serialises as JSON, where Infinity and NaN become null);
// - arrays that are read in step (a series' columns, a histogram's bounds and counts) have matching lengths;
// - sizes are bounded, so a malformed message cannot make the webview allocate or render without limit.

import type { MetricsSeries } from '../core/metrics/metricsTypes';
import type { TopicStats } from '../core/queue/queueTypes';
import { ALL_STATUSES, type TaskStatus } from '../core/model/model';
import { isObjectLike } from '../core/model/guards';

export const PROTOCOL_VERSION = 1;

/** The webview panel's type, shared with package.json's `onWebviewPanel:` activation event. */
export const DASHBOARD_VIEW_TYPE = 'orchestrator.dashboard';

/** The dashboard's stages are the core's statuses (model.ts holds the list; it imports nothing). */
export const STAGES = ALL_STATUSES;
export type Stage = TaskStatus;

/** How each stage is named to a person: the tree, quick picks, tooltips and the dashboard agree. */
export const STAGE_LABELS: Readonly<Record<Stage, string>> = {
  created: 'Created',
  scheduled: 'Scheduled',
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

import { MAX_ID, isInt, isNum, isRecordOf, isText } from './checks';
import {
  isCacheFigures,
  isFailures,
  isFleet,
  isHeadline,
  isHistogram,
  isPool,
  isQueue,
  isSeries,
  isSeriesPatch,
  isServices,
  isStatus,
  isTimeline,
} from './sectionChecks';

export { MAX_SERVICES, MAX_TIMELINE_BARS, MAX_TIMELINE_RUNS, MAX_BAR_SEGMENTS } from './checks';
export { columnsLength } from './sectionChecks';

// ---------------------------------------------------------------------------------------------
// The data

export interface StatusSection {
  counts: Record<Stage, number>;
  total: number;
  paused: boolean;
  concurrency: { limit: number; running: number };
}

export interface HeadlineSection {
  averageTaskDuration: number;
  p50TaskDuration: number;
  p95TaskDuration: number;
  /** Tasks finished per second over the last minute. */
  taskThroughput: number;
  /** Mean time from ready (Scheduled) to Running, ms. */
  averageWaitTime: number;
  queueDepth: number;
  running: number;
  /** 0..1 */
  successRate: number;
  messageProcessingRate: number;
  totals: { completed: number; failed: number; cancelled: number; messages: number };
}

export interface PoolInfo {
  capacity: number;
  inUse: number;
  /** Time-weighted over the last minute, 0..1. */
  utilization: number;
}

export interface HistogramSection {
  /** Finite upper bounds in ms, ascending; the bucket after the last bound is open. */
  bounds: number[];
  /** One more than `bounds`: the last count is the open bucket. */
  counts: number[];
}

// The figures' shapes are the core's own (type-only imports: nothing of the core enters the webview
// bundle), so the wire format cannot drift from what the monitor and the queue produce; what crosses
// the wire is still validated below, field by field.
/** Columns of per-bucket values, all of the same length. */
export type SeriesColumns = Omit<MetricsSeries, 'start' | 'bucketMs'>;

export type SeriesSection = MetricsSeries;

export type TopicRow = TopicStats;

export interface QueueSection {
  topics: Record<string, TopicRow>;
  totals: TopicRow;
  subscribers: number;
}

export interface FailureInfo {
  id: string;
  name: string;
  reason: string;
  code?: string;
  /** Epoch ms the task failed. */
  at: number;
  attempts: number;
}

/** A worker of the fleet, as its last heartbeat described it. */
export interface WorkerRow {
  name: string;
  /** Its pools and their units. */
  pools: Record<string, number>;
  /** Attempts running on it, out of `concurrency`. */
  running: number;
  concurrency: number;
  /** How old its last heartbeat was when the host read the fleet, ms. */
  heartbeatAgeMs: number;
  /** Draining (after SIGTERM): it takes no new job. */
  draining: boolean;
}

/** A BullMQ queue's job counts. */
export interface FleetQueueRow {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/** The workers and queues of the `redis` backend. */
export interface FleetSection {
  /** The Redis, without its password. */
  url: string;
  connected: boolean;
  /** Sorted by name. */
  workers: WorkerRow[];
  queues: FleetQueueRow[];
}

/**
 * An unfinished service: a task with `readyWhen` (or `stopWhen`/`restart`), or one whose executor
 * reported it Ready (a background VS Code task). Ready is a sub-state of Running.
 */
export interface ServiceRow {
  id: string;
  name: string;
  /** 'starting': not Ready yet (waiting for its dependencies, or for `waitsFor`); 'ready': Running and Ready. */
  state: 'starting' | 'ready';
  /** Epoch ms (the host's clock) it became Ready; present exactly when `state` is 'ready'. */
  readySince?: number;
  /** Times it was started again after exiting (`restart: 'on-failure'`). */
  restarts: number;
  /** What the problem matcher reported with its last Ready, where known. */
  problems?: { errors: number; warnings: number };
  /** What it waits for to be Ready: `output /listening/`, `port 127.0.0.1:3000`, a URL; absent when its executor says. */
  waitsFor?: string;
}

/** A stretch of a bar, in ms after its run's start: waiting (Scheduled, ready) or running (an attempt). */
export interface TimelineSegment {
  kind: 'wait' | 'run';
  from: number;
  /** Absent while it lasts; only a bar's last segment may be open (the page draws it to the message's `at`). */
  to?: number;
}

/** One task of a run on the timeline. Times are ms after the run's start. */
export interface TimelineBar {
  id: string;
  name: string;
  status: Stage;
  /** When it became ready (its first Scheduled); absent when it never did (cancelled while it waited for its dependencies). */
  ready?: number;
  /** When it finished; absent while unfinished. */
  end?: number;
  /** In time order, not overlapping. */
  segments: TimelineSegment[];
  /** Restored from the cache instead of running, and the time that saved. */
  cached?: { savedMs: number };
  /** On the critical path: the chain of dependencies that determined when the run ended. */
  critical: boolean;
}

/** A workflow run the timeline's picker offers. */
export interface TimelineRunOption {
  id: string;
  name: string;
  /** Epoch ms its first task was created. */
  startedAt: number;
  tasks: number;
  finished: boolean;
}

/** Cache hits (tasks restored), misses (tasks that ran with a cache key) and the time the hits saved. */
export interface CacheFigures {
  hits: number;
  misses: number;
  savedMs: number;
}

/** The run the timeline shows. */
export interface TimelineRun {
  id: string;
  name: string;
  /** Epoch ms (the host's clock) its first task was created: every time of its bars counts from here. */
  startedAt: number;
  finished: boolean;
  /** Ready time order; at most MAX_TIMELINE_BARS. */
  bars: TimelineBar[];
  /** Tasks of the run left out beyond MAX_TIMELINE_BARS. */
  omitted: number;
  /** From the critical path's first ready to its last finish (or to now, for an unfinished run), ms. */
  criticalMs: number;
  cache: CacheFigures;
}

export interface TimelineSection {
  /** Newest first; at most MAX_TIMELINE_RUNS. */
  runs: TimelineRunOption[];
  /** The run shown: the one the page selected while it is among `runs`, else the newest; null when there is none. */
  run: TimelineRun | null;
  /** The page's selection, echoed; absent: the newest run is followed. */
  selected?: string;
}

export interface DashboardSnapshot {
  status: StatusSection;
  headline: HeadlineSection;
  pools: Record<string, PoolInfo>;
  histogram: HistogramSection;
  series: SeriesSection;
  queue: QueueSection;
  /** Newest first. */
  failures: FailureInfo[];
  /** Null when tasks run in this process (the `local` backend): the page shows no Workers section. */
  fleet: FleetSection | null;
  /** Ready first, then by name; at most MAX_SERVICES. Empty: the page shows no Services section. */
  services: ServiceRow[];
  /** A Gantt chart of a workflow run. */
  timeline: TimelineSection;
  /** The session's cache figures: every task the orchestrator holds, and those the dashboard saw finish. */
  cache: CacheFigures;
}

export type SectionName = keyof DashboardSnapshot;
export const SECTION_NAMES: readonly SectionName[] = [
  'status',
  'headline',
  'pools',
  'histogram',
  'series',
  'queue',
  'failures',
  'fleet',
  'services',
  'timeline',
  'cache',
];

/**
 * The series as a change against the previous one: the receiver drops the buckets that fell out of
 * the window (those before `start`), keeps the next `keep` buckets as they were, and appends `tail`.
 */
export interface SeriesPatch {
  start: number;
  bucketMs: number;
  keep: number;
  tail: SeriesColumns;
}

/** Only the sections that changed; a section present replaces the previous one whole, except `series`. */
export interface DashboardPatch {
  status?: StatusSection;
  headline?: HeadlineSection;
  pools?: Record<string, PoolInfo>;
  histogram?: HistogramSection;
  series?: SeriesPatch;
  queue?: QueueSection;
  failures?: FailureInfo[];
  fleet?: FleetSection | null;
  services?: ServiceRow[];
  timeline?: TimelineSection;
  cache?: CacheFigures;
}

// ---------------------------------------------------------------------------------------------
// The messages

/** Host -> webview. `seq` increases by one per message; a patch applies only on top of `base`. */
export type HostMessage =
  { type: 'snapshot'; seq: number; at: number; data: DashboardSnapshot } | { type: 'patch'; seq: number; base: number; at: number; data: DashboardPatch };

/** Webview -> host. */
export type WebviewMessage =
  /** The page has loaded and listens; the host posts nothing before it. Sent again after every reload of the page. */
  | { type: 'ready'; protocol: number }
  /** The message with this seq has been rendered. */
  | { type: 'applied'; seq: number }
  /** A patch did not fit what the webview holds; the host answers with a snapshot. */
  | { type: 'resync'; reason: string }
  /** The user clicked a task (a failure); the host reveals it in the Tasks tree. */
  | { type: 'revealTask'; taskId: string }
  /** The user picked a run in the timeline's picker; an empty `runId` follows the newest run again. */
  | { type: 'selectRun'; runId: string }
  /** A message from the host did not validate and was dropped: a bug on one side, reported so it shows. */
  | { type: 'rejected'; what: string };

/** What the webview persists with `setState`, handed back to the serializer after a window reload. */
export interface DashboardViewState {
  v: 1;
}

// ---------------------------------------------------------------------------------------------
// Validation: the section checks (sectionChecks.ts) per section, the messages as a whole here.

const SECTION_GUARDS: { [K in SectionName]: (v: unknown) => v is DashboardSnapshot[K] } = {
  status: isStatus,
  headline: isHeadline,
  pools: (v): v is Record<string, PoolInfo> => isRecordOf(v, isPool),
  histogram: isHistogram,
  series: isSeries,
  queue: isQueue,
  failures: isFailures,
  fleet: isFleet,
  services: isServices,
  timeline: isTimeline,
  cache: isCacheFigures,
};

export function isSnapshot(v: unknown): v is DashboardSnapshot {
  return (
    isObjectLike(v) &&
    SECTION_GUARDS.status(v.status) &&
    SECTION_GUARDS.headline(v.headline) &&
    SECTION_GUARDS.pools(v.pools) &&
    SECTION_GUARDS.histogram(v.histogram) &&
    SECTION_GUARDS.series(v.series) &&
    SECTION_GUARDS.queue(v.queue) &&
    SECTION_GUARDS.failures(v.failures) &&
    SECTION_GUARDS.fleet(v.fleet) &&
    SECTION_GUARDS.services(v.services) &&
    SECTION_GUARDS.timeline(v.timeline) &&
    SECTION_GUARDS.cache(v.cache)
  );
}

function isPatch(v: unknown): v is DashboardPatch {
  if (!isObjectLike(v)) return false;
  for (const key of Object.keys(v)) {
    if (key === 'series') {
      if (!isSeriesPatch(v.series)) return false;
    } else if (!(SECTION_NAMES as readonly string[]).includes(key) || !SECTION_GUARDS[key as SectionName](v[key])) {
      return false;
    }
  }
  return true;
}

/** Accepts a message for the webview, or returns undefined: the caller drops it. */
export function parseHostMessage(v: unknown): HostMessage | undefined {
  if (!isObjectLike(v) || !isInt(v.seq) || !isNum(v.at)) return undefined;
  if (v.type === 'snapshot' && isSnapshot(v.data)) {
    return { type: 'snapshot', seq: v.seq, at: v.at, data: v.data };
  }
  if (v.type === 'patch' && isInt(v.base) && v.base < v.seq && isPatch(v.data)) {
    return { type: 'patch', seq: v.seq, base: v.base, at: v.at, data: v.data };
  }
  return undefined;
}

/** Accepts a message for the host, or returns undefined: the caller drops it. */
export function parseWebviewMessage(v: unknown): WebviewMessage | undefined {
  if (!isObjectLike(v)) return undefined;
  switch (v.type) {
    case 'ready':
      return isInt(v.protocol) ? { type: 'ready', protocol: v.protocol } : undefined;
    case 'applied':
      return isInt(v.seq) ? { type: 'applied', seq: v.seq } : undefined;
    case 'resync':
      return isText(v.reason, 500) ? { type: 'resync', reason: v.reason } : undefined;
    case 'revealTask':
      return isText(v.taskId, MAX_ID) && v.taskId.length > 0 ? { type: 'revealTask', taskId: v.taskId } : undefined;
    case 'selectRun':
      return isText(v.runId, MAX_ID) ? { type: 'selectRun', runId: v.runId } : undefined;
    case 'rejected':
      return isText(v.what, 500) ? { type: 'rejected', what: v.what } : undefined;
    default:
      return undefined;
  }
}

/**
 * Reads the webview's persisted state. Version 1 carries nothing to restore (the host sends a fresh
 * snapshot after `ready`), so any input, garbage included, gives the default; a later version migrates here.
 */
export function parseViewState(_v: unknown): DashboardViewState {
  return { v: 1 };
}
