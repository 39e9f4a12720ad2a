// The history entries of the records a TaskLifecycleManager holds, and their arrays.
//
// Invariant: an entry made here is frozen, and an entry equal to the last one made for the same
// status (same `at`, same `reason`) is that very object. Records therefore share entries: tasks
// that move in the same millisecond hold one `{ status: 'completed', at }` between them. Sharing is
// safe because nothing may change an entry (a history only ever grows by whole entries); JSON,
// structuredClone and postMessage copy a shared entry like any other.
//
// Invariant: a new history array has room for the four entries of a task's usual life (created,
// scheduled, running, completed) before it grows. A one-entry literal grows to 17 slots on its
// first push, which a retained record pays for as long as it is held.
//
// Both keep what every record retains small while it waits, runs and is kept finished; the row that
// proves them is `node --expose-gc test/bench/run.mjs --only full` (the full lifecycle of 100k
// no-op tasks, whose records the orchestrator holds at once).
import { boundText, type HistoryEntry, type TaskStatus } from '../model/model';

const STATUS_SLOT: Readonly<Record<TaskStatus, number>> = { created: 0, scheduled: 1, running: 2, completed: 3, failed: 4, cancelled: 5 };

/** The last entry made per status (see the invariant above). */
const last: (HistoryEntry | undefined)[] = [undefined, undefined, undefined, undefined, undefined, undefined];

/**
 * The entry `{ status, at, reason? }`, frozen; an absent reason leaves no `reason` key. Reasons come
 * from callers and executors at any size (a 10 MB cancel reason): an entry keeps at most
 * MAX_MESSAGE_LENGTH characters of one, cut with a marker.
 */
export function historyEntry(status: TaskStatus, at: number, reason: string | undefined): HistoryEntry {
  const slot = STATUS_SLOT[status];
  const prev = last[slot];
  const bounded = reason === undefined ? undefined : boundText(reason);
  if (prev !== undefined && prev.at === at && prev.reason === bounded) return prev;
  const entry: HistoryEntry = Object.freeze(bounded === undefined ? { status, at } : { status, at, reason: bounded });
  last[slot] = entry;
  return entry;
}

/** A new history holding `first` (see the second invariant above). */
export function newHistory(first: HistoryEntry): HistoryEntry[] {
  const history = new Array<HistoryEntry>(4);
  history[0] = first;
  history.length = 1;
  return history;
}
