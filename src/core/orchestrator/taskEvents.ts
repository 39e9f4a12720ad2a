// Lifecycle events on the message queue: every transition is published on `task.<status>` (or
// `task.retrying` for Running -> Scheduled, `task.ready` for a Running task that became Ready, which
// comes here as Running -> Running: services.ts). A topic nobody follows is only counted (no payload is
// built); a subscription too full to take more is reported on a throttle, never once per event.
import { BackpressureError } from '../model/errors';
import { lastTransitionAt } from '../lifecycle/taskRecord';
import type { ProblemCounts, TaskRecord, TaskStatus } from '../model/model';
import type { Clock } from '../ports';
import type { MessageQueue } from '../queue/messageQueue';
import type { OrchestratorWarning } from './orchestratorTypes';

/** Topic of each lifecycle event: the status reached, or `task.retrying` for running -> scheduled. */
const TASK_TOPICS = [
  'task.created',
  'task.scheduled',
  'task.started',
  'task.completed',
  'task.failed',
  'task.cancelled',
  'task.retrying',
  'task.ready',
] as const;
const TOPIC_INDEX: Readonly<Record<TaskStatus, number>> = { created: 0, scheduled: 1, running: 2, completed: 3, failed: 4, cancelled: 5 };
const RETRYING = 6;
const READY = 7;
/** A subscription too full to take lifecycle events is reported at most this often. */
const QUEUE_FULL_WARNING_INTERVAL_MS = 60_000;

/** The payload published on the `task.*` topics. Small and self-contained. */
export interface TaskEventPayload {
  taskId: string;
  name: string;
  kind: string;
  status: TaskStatus;
  from?: TaskStatus;
  attempts: number;
  at: number;
  reason?: string;
  error?: { message: string; code?: string };
  exitCode?: number;
  /** On `task.ready`: the problem counts of the cycle that made it Ready, where known. */
  problems?: ProblemCounts;
  /** On `task.completed`: true when the result was restored from the cache instead of running (absent otherwise). */
  cached?: boolean;
  /** On a cached `task.completed`: the run time the cache saved, in ms. */
  savedMs?: number;
}

export class TaskEvents {
  /** Per TASK_TOPICS entry: counts a publish there when nobody subscribes (see MessageQueue.quietCounter). */
  private readonly topicCounters: (() => boolean)[];
  /** Per full subscription (topic and name): when it was last reported, and events dropped since. */
  private readonly fullSubscriptions = new Map<string, { at: number; dropped: number }>();

  constructor(
    private readonly queue: MessageQueue,
    private readonly clock: Clock,
    private readonly warn: (w: OrchestratorWarning) => void,
    private readonly listenerFailed: (err: unknown) => void,
  ) {
    this.topicCounters = TASK_TOPICS.map((t) => queue.quietCounter(t));
  }

  publish(record: TaskRecord, from: TaskStatus | undefined, to: TaskStatus, reason: string | undefined): void {
    const index = from !== 'running' ? TOPIC_INDEX[to] : to === 'scheduled' ? RETRYING : to === 'running' ? READY : TOPIC_INDEX[to];
    // A topic nobody follows (or a disposed queue) is only counted; the payload is built for subscribers.
    if ((this.topicCounters[index] as () => boolean)()) return;
    const topic = TASK_TOPICS[index] as string;
    if (this.queue.hasSubscribers(topic)) {
      void this.queue.publish({ topic, payload: payloadOf(record, from, to, reason) }).catch(this.publishFailed);
    }
  }

  /**
   * A lifecycle event the queue refused. The transition stands (the record and the snapshot hold it);
   * only that event is lost to the subscriber that is full. A full subscription is reported once a
   * minute with the count dropped, never once per event.
   */
  private readonly publishFailed = (err: unknown): void => {
    if (!(err instanceof BackpressureError)) return this.listenerFailed(err);
    const key = `${err.topic}\u0000${err.subscription}`;
    const now = this.clock.monotonic?.() ?? this.clock.now();
    const last = this.fullSubscriptions.get(key);
    if (last && now - last.at < QUEUE_FULL_WARNING_INTERVAL_MS) {
      last.dropped++;
      return;
    }
    const dropped = (last?.dropped ?? 0) + 1;
    this.fullSubscriptions.set(key, { at: now, dropped: 0 });
    this.warn({
      code: 'QUEUE_FULL',
      message: `Subscription \`${err.subscription}\` of \`${err.topic}\` holds its \`maxPending\` of ${err.maxPending} unacknowledged messages: lifecycle events for it are dropped until it acknowledges some (${dropped} since the last warning); the tasks themselves are unaffected`,
    });
  };
}

function payloadOf(record: TaskRecord, from: TaskStatus | undefined, to: TaskStatus, reason: string | undefined): TaskEventPayload {
  const p: TaskEventPayload = {
    taskId: record.id,
    name: record.name,
    kind: record.kind,
    status: record.status,
    attempts: record.attempts,
    at: lastTransitionAt(record),
  };
  if (from) p.from = from;
  if (reason) p.reason = reason;
  if (record.error && (record.status === 'failed' || to === 'scheduled')) p.error = { ...record.error };
  if (record.result?.exitCode !== undefined) p.exitCode = record.result.exitCode;
  const cached = to === 'completed' ? record.result?.cached : undefined;
  if (cached !== undefined) {
    p.cached = true;
    p.savedMs = cached.savedMs;
  }
  if (from === 'running' && to === 'running') {
    // Ready is no transition: its time is the record's, not the history's.
    if (record.ready !== undefined) p.at = record.ready.at;
    if (record.ready?.problems !== undefined) p.problems = { ...record.ready.problems };
  }
  return p;
}
