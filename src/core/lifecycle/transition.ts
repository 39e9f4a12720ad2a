// The task state machine: the one place that knows which transition is legal (DESIGN.md, "Task
// statuses"):
//
//     created ──schedule──> scheduled ──start──> running ──complete──> completed
//        │                     ^   │                │ │ └───fail──────> failed
//        │                     │   │                │ └─────retry─────> scheduled  (backoff, next attempt)
//        └──────cancel─────────┴───┴──> cancelled <─┘ cancel
//        created | scheduled ──abandon──> failed   (can never run: e.g. a function task after a restart)
//
// `transition` is pure (xstate's transition.ts is the model): it reads a record and an event and
// returns a patch, or throws IllegalTransitionError having changed nothing. It returns a patch rather
// than a new record so the hot path never copies a whole record; TaskLifecycleManager applies it.
// Every transition appends `{ status, at, reason? }` to the record's history. TaskLifecycleManager
// (lifecycle.ts) applies the three transitions every task makes in place, exactly as transition +
// applyPatch would (see its applyTo and taskRecord.ts).
import { IllegalTransitionError } from '../model/errors';
import { boundText, MAX_MESSAGE_LENGTH, type HistoryEntry, type TaskError, type TaskRecord, type TaskResult, type TaskStatus } from '../model/model';
import { attemptReason } from './taskRecord';

export type LifecycleEvent =
  | { readonly type: 'schedule'; readonly reason?: string }
  | { readonly type: 'start'; readonly reason?: string }
  | { readonly type: 'complete'; readonly result?: TaskResult; readonly reason?: string }
  | { readonly type: 'fail'; readonly error: TaskError; readonly result?: TaskResult; readonly reason?: string }
  /** A failed attempt with retries left goes back to Scheduled; `reason` says why and when it runs again. */
  | { readonly type: 'retry'; readonly reason: string; readonly error?: TaskError; readonly result?: TaskResult }
  | { readonly type: 'cancel'; readonly reason?: string }
  /**
   * A task that waited and can never run (after a restart a `function` task's code is gone) fails
   * without an attempt. Distinct from `fail`, which ends an attempt that ran.
   */
  | { readonly type: 'abandon'; readonly error: TaskError; readonly reason?: string };

export type LifecycleEventType = LifecycleEvent['type'];

/** Where each event leads. */
export const EVENT_TARGET: Readonly<Record<LifecycleEventType, TaskStatus>> = {
  schedule: 'scheduled',
  start: 'running',
  complete: 'completed',
  fail: 'failed',
  retry: 'scheduled',
  cancel: 'cancelled',
  abandon: 'failed',
};

/** The statuses each event may leave from. Everything not listed is illegal. */
const LEGAL_FROM: Readonly<Record<LifecycleEventType, readonly TaskStatus[]>> = {
  schedule: ['created'],
  start: ['scheduled'],
  complete: ['running'],
  fail: ['running'],
  retry: ['running'],
  cancel: ['created', 'scheduled', 'running'],
  abandon: ['created', 'scheduled'],
};

export function canTransition(from: TaskStatus, event: LifecycleEventType): boolean {
  return LEGAL_FROM[event].includes(from);
}

/** The events legal from a status, for messages and menus. */
export function allowedEvents(from: TaskStatus): LifecycleEventType[] {
  return (Object.keys(LEGAL_FROM) as LifecycleEventType[]).filter((e) => LEGAL_FROM[e].includes(from));
}

/**
 * What a transition changes. Absent fields are left as they are; `error: null` clears the error a
 * previous attempt left (a task that completes after a retry has no error).
 */
export interface TransitionPatch {
  readonly status: TaskStatus;
  readonly entry: HistoryEntry;
  readonly attempts?: number;
  /** The start of the latest attempt. */
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly result?: TaskResult;
  readonly error?: TaskError | null;
}

/** Pure: the patch `event` makes to `record` at time `at`, or IllegalTransitionError. */
export function transition(record: Readonly<TaskRecord>, event: LifecycleEvent, at: number): TransitionPatch {
  const from = record.status;
  const to = EVENT_TARGET[event.type];
  if (!LEGAL_FROM[event.type].includes(from)) {
    const allowed = allowedEvents(from);
    throw new IllegalTransitionError(
      record.id,
      from,
      to,
      allowed.length > 0
        ? `\`${event.type}\` is allowed only from ${LEGAL_FROM[event.type].map((s) => `\`${s}\``).join(', ')}; from \`${from}\` the allowed events are ${allowed.map((e) => `\`${e}\``).join(', ')}`
        : `\`${from}\` is final`,
    );
  }
  switch (event.type) {
    case 'schedule':
      return { status: to, entry: historyEntry(to, at, event.reason) };
    case 'start':
      return { status: to, entry: historyEntry(to, at, event.reason ?? attemptReason(record.attempts + 1)), attempts: record.attempts + 1, startedAt: at };
    case 'complete':
      return { status: to, entry: historyEntry(to, at, event.reason), finishedAt: at, result: event.result, error: null };
    case 'fail':
      return {
        status: to,
        entry: historyEntry(to, at, event.reason ?? event.error.message),
        finishedAt: at,
        result: event.result,
        error: boundedError(event.error),
      };
    case 'retry':
      return { status: to, entry: historyEntry(to, at, event.reason), result: event.result, error: event.error && boundedError(event.error) };
    case 'cancel':
      return { status: to, entry: historyEntry(to, at, event.reason ?? 'Cancelled'), finishedAt: at };
    case 'abandon':
      return { status: to, entry: historyEntry(to, at, event.reason ?? event.error.message), finishedAt: at, error: boundedError(event.error) };
  }
}

// Reasons and error messages come from callers and executors at any size (a 10 MB cancel reason):
// a record keeps at most MAX_MESSAGE_LENGTH characters of each, cut with a marker.
function historyEntry(status: TaskStatus, at: number, reason: string | undefined): HistoryEntry {
  return reason === undefined ? { status, at } : { status, at, reason: boundText(reason) };
}

function boundedError(error: TaskError): TaskError {
  return typeof error.message !== 'string' || error.message.length <= MAX_MESSAGE_LENGTH ? error : { ...error, message: boundText(error.message) };
}

/**
 * Applies a patch from `transition` in place. A cleared error becomes undefined rather than being
 * deleted: records have all their fields from the start (see TaskLifecycleManager.create), and JSON
 * leaves undefined fields out just the same. The history first: a held record writes its history
 * out from its status and times as they were before this transition (see taskRecord.ts).
 */
export function applyPatch(record: TaskRecord, patch: TransitionPatch): void {
  record.history.push(patch.entry);
  record.status = patch.status;
  if (patch.attempts !== undefined) record.attempts = patch.attempts;
  if (patch.startedAt !== undefined) record.startedAt = patch.startedAt;
  if (patch.finishedAt !== undefined) record.finishedAt = patch.finishedAt;
  if (patch.result !== undefined) record.result = patch.result;
  if (patch.error === null) {
    if (record.error !== undefined) record.error = undefined;
  } else if (patch.error !== undefined) record.error = patch.error;
}
