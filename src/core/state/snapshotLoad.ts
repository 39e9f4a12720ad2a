// Reading the saved state at start, and the store I/O that must never hang the caller.
//
// A bad snapshot never stops the extension from starting: one that does not validate is kept aside
// under a backup key and the orchestrator starts clean. When the saved state can be neither read
// nor kept aside, the result says why writes must be held, so nothing replaces the only copy.
// A snapshot that points at a set of pending tasks (unfinished ones beyond its budget) is read with
// that set: its records join the snapshot's unfinished ones. A record of the set that does not
// check is left out and reported; a set that cannot be read now (or no pending store to read it
// from) holds writes, as an unreadable snapshot does, since the next write would drop the pointer.
import { errorMessage } from '../model/errors';
import type { OrchestratorWarning } from '../model/warnings';
import { isFinished, type TaskRecord } from '../model/model';
import type { Clock, PendingStore, Store } from '../ports';
import { checkTaskRecord, migrate, STATE_KEY, validateSnapshot, type Snapshot } from './snapshot';

/** How long start waits for the store (a backup write) by default. */
export const START_TIMEOUT_MS = 2000;

const READ_ATTEMPTS = 3;
const READ_RETRY_MS = 50;

/** The result of reading the store at start: a valid snapshot, nothing, or a warning about a bad one. */
export interface LoadResult {
  snapshot?: Snapshot;
  warning?: OrchestratorWarning;
  /**
   * Set when the saved state could be neither read nor kept aside: why no write may replace it.
   * The caller passes it to holdWrites.
   */
  holdWrites?: string;
}

/**
 * Reads the snapshot from the store. A snapshot that does not validate (garbage, a version this code
 * does not know, truncated, missing fields) is kept under a backup key and reported, and the caller
 * starts clean: a bad snapshot must never stop the extension from starting.
 */
export async function loadSnapshot(store: Store, clock: Clock, timeoutMs = START_TIMEOUT_MS, pending?: PendingStore): Promise<LoadResult> {
  let raw: unknown;
  // A read that throws may be passing (a busy file, a host still starting): it is tried again.
  // If it still fails the saved state is unknown, not absent. Starting clean and writing would
  // replace it; refusing to start would take the whole extension down for what may clear on the
  // next reload. So the orchestrator starts, usable, with writes held: the saved state is left as it
  // is, the warning says nothing new will be saved, and synchronizeState() rejects, so no caller
  // takes a task for durable.
  for (let attempt = 1; ; attempt++) {
    try {
      raw = store.get<unknown>(STATE_KEY);
      break;
    } catch (err) {
      if (attempt < READ_ATTEMPTS) {
        await sleep(clock, READ_RETRY_MS * attempt);
        continue;
      }
      const why = `the saved orchestrator state could not be read (${READ_ATTEMPTS} attempts; ${errorMessage(err)})`;
      return {
        holdWrites: why,
        warning: {
          code: 'CORRUPT_STATE',
          message: `The saved orchestrator state could not be read (${errorMessage(err)}, ${READ_ATTEMPTS} attempts); it was left as it is, the orchestrator started empty, and changes are not saved until a restart reads it`,
        },
      };
    }
  }
  if (raw === undefined || raw === null) return {};
  let snapshot: Snapshot;
  try {
    snapshot = validateSnapshot(migrate(raw));
  } catch (err) {
    const backupKey = `${STATE_KEY}.backup.${clock.now()}`;
    const kept = await keepAside(store, clock, backupKey, raw, timeoutMs);
    if (kept !== undefined) {
      // Not kept aside: the next write would replace the only copy, so writes are held (as above).
      return {
        holdWrites: `the saved orchestrator state is not valid and could not be backed up (${kept})`,
        warning: {
          code: 'CORRUPT_STATE',
          message: `The saved orchestrator state is not valid (${errorMessage(err)}) and could not be backed up (${kept}); it was left as it is, the orchestrator started clean, and changes are not saved until a restart`,
        },
      };
    }
    // The backup holds it: removing the original is tidiness, and the first write replaces it anyway.
    await writeWithTimeout(clock, store, STATE_KEY, undefined, timeoutMs).catch(() => undefined);
    return {
      warning: {
        code: 'CORRUPT_STATE',
        message: `The saved orchestrator state is not valid (${errorMessage(err)}); it was kept under \`${backupKey}\` and the orchestrator started clean`,
      },
    };
  }
  return snapshot.pending === undefined ? { snapshot } : withPendingSet(snapshot, snapshot.pending, clock, timeoutMs, pending);
}

/** `snapshot` with the pending set it points at merged in (see the file comment). */
async function withPendingSet(
  snapshot: Snapshot,
  pointer: NonNullable<Snapshot['pending']>,
  clock: Clock,
  timeoutMs: number,
  pending: PendingStore | undefined,
): Promise<LoadResult> {
  const unreadable = (why: string): LoadResult => ({
    snapshot,
    holdWrites: `the ${pointer.count} unfinished tasks saved beside the state could not be read (${why})`,
    warning: {
      code: 'CORRUPT_STATE',
      message: `The ${pointer.count} unfinished tasks saved beside the orchestrator state could not be read (${why}); they were left as they are, the orchestrator started without them, and changes are not saved until a restart reads them`,
    },
  });
  if (pending === undefined) return unreadable('no pending store was given to read them from');
  const read = await boundedWait(clock, Promise.resolve(pending.readPending(pointer.generation)), timeoutMs);
  if (read === undefined) return unreadable(`the pending store did not answer within ${timeoutMs} ms`);
  if ('error' in read) return unreadable(errorMessage(read.error));
  const ids = new Set(snapshot.tasks.map((t) => t.id));
  const kept: TaskRecord[] = [];
  let bad = 0;
  read.value.records.forEach((r, i) => {
    try {
      checkTaskRecord(r, `pending[${i}]`, ids);
      if (isFinished((r as TaskRecord).status)) throw new Error('finished');
      kept.push(r as TaskRecord);
    } catch {
      bad++;
    }
  });
  // Unfinished first, in creation order: the set holds those that came after the snapshot's own.
  const firstFinished = snapshot.tasks.findIndex((t) => isFinished(t.status));
  const at = firstFinished < 0 ? snapshot.tasks.length : firstFinished;
  const merged: Snapshot = { ...snapshot, tasks: [...snapshot.tasks.slice(0, at), ...kept, ...snapshot.tasks.slice(at)] };
  delete merged.pending;
  const problems = [
    read.value.problem,
    bad ? `${bad} records did not check and were left out` : undefined,
    kept.length + bad < pointer.count ? `${pointer.count - kept.length - bad} of ${pointer.count} records were missing` : undefined,
  ].filter((p): p is string => p !== undefined);
  if (problems.length === 0) return { snapshot: merged };
  return {
    snapshot: merged,
    warning: { code: 'CORRUPT_STATE', message: `The unfinished tasks saved beside the orchestrator state were read in part: ${problems.join('; ')}` },
  };
}

/** Writes `value` under `key`, waiting `timeoutMs` at most: undefined when written, else why not. */
export async function keepAside(store: Store, clock: Clock, key: string, value: unknown, timeoutMs = START_TIMEOUT_MS): Promise<string | undefined> {
  try {
    await writeWithTimeout(clock, store, key, value, timeoutMs);
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
}

/** Stores `value` under `key`; rejects when the store does, or has not answered after `timeoutMs`. */
export function writeWithTimeout(clock: Clock, store: Store, key: string, value: unknown, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new Error(`the store did not answer within ${timeoutMs} ms`)), timeoutMs);
    let pending: PromiseLike<void>;
    try {
      pending = store.update(key, value);
    } catch (err) {
      clock.clearTimeout(timer);
      reject(err);
      return;
    }
    Promise.resolve(pending).then(
      () => {
        clock.clearTimeout(timer);
        resolve();
      },
      (err: unknown) => {
        clock.clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** `promise`'s value in a box, or undefined when it has not settled after `ms` (a rejection counts as settled). */
export function boundedWait<T>(clock: Clock, promise: Promise<T>, ms: number): Promise<{ value: T } | { error: unknown } | undefined> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(undefined), ms);
    promise.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve({ value });
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        resolve({ error });
      },
    );
  });
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
