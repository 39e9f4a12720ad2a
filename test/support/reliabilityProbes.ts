// Helpers of the reliability property test (test/support/reliabilityScenario.ts): waiting for
// something on a clock the test moves (a hang is a bound reached, not a test timeout), reading task
// ids out of a snapshot's JSON, and describing what went wrong in one line.
import type { TaskRecord, TaskStatus } from '../../src/core/model/model';
import type { SteppingClock } from './chaos';
import { settle } from './manualClock';

/** Clock step while waiting for something to settle, and how much clock time counts as a hang. */
export const STEP_MS = 1000;
export const HANG_CLOCK_MS = 60 * 60 * 1000;
/** Real time one wait may take before it counts as a hang (the clock is manual: this is CPU). */
const HANG_REAL_MS = 3000;

export type Outcome<T> = { state: 'resolved'; value: T } | { state: 'rejected'; error: unknown } | { state: 'hung' };

/** Waits for `p`, moving the clock, until it settles or a hang bound is reached. */
export async function within<T>(p: PromiseLike<T>, clock: SteppingClock, maxClockMs = HANG_CLOCK_MS): Promise<Outcome<T>> {
  let out: Outcome<T> | undefined;
  Promise.resolve(p).then(
    (value) => (out = { state: 'resolved', value }),
    (error: unknown) => (out = { state: 'rejected', error }),
  );
  const realStart = Date.now();
  await settle();
  for (let waited = 0; out === undefined && waited < maxClockMs && Date.now() - realStart < HANG_REAL_MS; waited += STEP_MS) {
    await clock.advance(STEP_MS);
  }
  return out ?? { state: 'hung' };
}

export function describeError(err: unknown, frames = 0): string {
  try {
    if (err instanceof Error) {
      const at =
        frames && err.stack
          ? ` ${err.stack
              .split('\n')
              .slice(1, 1 + frames)
              .map((l) => l.trim().replace(/\(.*\/(src|test)\//, '($1/'))
              .join(' ')}`
          : '';
      return `${err.constructor.name}: ${err.message.split('\n')[0]}${at}`;
    }
    return String(err);
  } catch {
    return '[an error that cannot be inspected]';
  }
}

/** Ids (and statuses) of the task records of a snapshot's JSON; empty for anything else. */
export function tasksOf(raw: string | undefined): Map<string, TaskStatus> {
  const out = new Map<string, TaskStatus>();
  if (raw === undefined) return out;
  try {
    const parsed = JSON.parse(raw) as { tasks?: unknown };
    if (Array.isArray(parsed.tasks)) for (const t of parsed.tasks as TaskRecord[]) if (t && typeof t.id === 'string') out.set(t.id, t.status);
  } catch {
    // Not a snapshot: holds no tasks.
  }
  return out;
}

/** The application state a snapshot's JSON holds; empty for anything else. */
export function appOf(raw: string | undefined): Record<string, unknown> {
  try {
    const app = raw === undefined ? undefined : (JSON.parse(raw) as { app?: unknown }).app;
    return typeof app === 'object' && app !== null ? (app as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A record's transitions, short: `created > scheduled > running(attempt 1) > ...`. */
export function historyOf(r: TaskRecord): string {
  return r.history.map((h) => `${h.status}${h.reason ? `(${h.reason.slice(0, 80)})` : ''}`).join(' > ');
}

/** Ids of the unacknowledged messages a snapshot's JSON holds for the durable `jobs` subscription. */
export function jobsOf(raw: string): string[] {
  try {
    const q = (JSON.parse(raw) as { queue?: { subscriptions?: { name?: string; messages?: { id: string }[] }[] } }).queue;
    return q?.subscriptions?.find((x) => x.name === 'jobs')?.messages?.map((m) => m.id) ?? [];
  } catch {
    return [];
  }
}

/** Which parts of a snapshot JSON.stringify rejects, with the issue-11 defect each points to. */
export function unserialisableParts(snap: { tasks: TaskRecord[]; queue?: unknown; app?: unknown }): string {
  const bad: string[] = [];
  for (const t of snap.tasks) {
    try {
      JSON.stringify(t);
    } catch {
      bad.push(`task ${t.id} (${t.name}, result of kind ${t.kind}: issue 11 #2)`);
    }
  }
  try {
    JSON.stringify(snap.queue);
  } catch {
    bad.push('the message queue (issue 11 #4)');
  }
  try {
    JSON.stringify(snap.app);
  } catch {
    bad.push('the app state');
  }
  return bad.join(', ') || 'no single part';
}
