// The saved state's format: one versioned snapshot under STATE_KEY, its migration from older
// versions, its complete check on the way in, and the trimmed copy of a record whose output tail is
// too long to keep in it. Pure: no store, no clock.
import { describeValue, fieldError, ValidationError } from '../model/errors';
import { ALL_STATUSES, type TaskRecord } from '../model/model';
import { LIMITS } from '../model/limits';
import { plainRecord } from '../lifecycle/taskRecord';
import {
  arrayAt,
  countAt,
  finiteNumberAt,
  itemPath,
  nonEmptyStringAt,
  objectAt,
  oneOfAt,
  optionalBooleanAt,
  optionalFiniteNumberAt,
  optionalObjectAt,
  stringArrayAt,
  uniqueAt,
  versionAt,
} from '../model/snapshotChecks';

export const STATE_KEY = 'orchestrator.state';
export const SNAPSHOT_VERSION = 1;
/** Characters of a record's output tail the snapshot keeps when it trims one. */
export const SNAPSHOT_OUTPUT_CHARS = 2048;

export interface Snapshot {
  version: typeof SNAPSHOT_VERSION;
  savedAt: number;
  /** Unfinished tasks first (creation order), then finished ones newest first. */
  tasks: TaskRecord[];
  /** The message queue's own snapshot (unacknowledged messages of durable subscriptions). */
  queue?: unknown;
  /** Application state set through updateState. */
  app?: Record<string, unknown>;
  /** The orchestrator was paused: it restarts paused, as the user left it. */
  paused?: boolean;
  /**
   * Unfinished tasks beyond the byte budget, kept in the PendingStore as set `generation`
   * (`count` records): restored with `tasks`.
   */
  pending?: { generation: number; count: number };
}

/**
 * Brings an older snapshot to the current version. Version 1 is the first; each later version adds
 * one step here (`if (v === 1) raw = from1to2(raw)`), so any saved state can still be read.
 */
export function migrate(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const version = (raw as { version?: unknown }).version;
  if (version === SNAPSHOT_VERSION) return raw;
  throw new ValidationError(
    `Expected snapshot \`version\` to be ${SNAPSHOT_VERSION} (or an older version this code migrates), got ${describeValue(version)}`,
    'version',
  );
}

/**
 * Checks an untrusted saved state completely and returns it typed; throws a ValidationError naming
 * the field by its path (`tasks[3].status`). The records' own checks (specs, demands) come later,
 * at restore, one record at a time.
 */
export function validateSnapshot(raw: unknown): Snapshot {
  const s = objectAt(raw, 'snapshot');
  versionAt(s.version, 'version', SNAPSHOT_VERSION);
  finiteNumberAt(s.savedAt, 'savedAt');
  const ids = new Set<string>();
  arrayAt(s.tasks, 'tasks').forEach((t, i) => checkTaskRecord(t, itemPath('tasks', i), ids));
  optionalBooleanAt(s.paused, 'paused');
  optionalObjectAt(s.app, 'app');
  const pending = optionalObjectAt(s.pending, 'pending', 'an object `{ generation, count }`');
  if (pending !== undefined) {
    countAt(pending.generation, 'pending.generation');
    countAt(pending.count, 'pending.count');
  }
  return s as unknown as Snapshot;
}

/** The fields of a saved record that restoring relies on; `ids` refuses a second record with one id. */
export function checkTaskRecord(t: unknown, at: string, ids: Set<string>): void {
  if (typeof t !== 'object' || t === null) throw fieldError(at, 'a task record', t);
  const r = t as Record<string, unknown>;
  for (const f of ['id', 'name', 'kind'] as const) nonEmptyStringAt(r[f], `${at}.${f}`);
  uniqueAt(ids, r.id as string, `${at}.id`);
  oneOfAt(r.status, `${at}.status`, ALL_STATUSES);
  for (const f of ['priority', 'attempts', 'createdAt'] as const) finiteNumberAt(r[f], `${at}.${f}`);
  for (const f of ['startedAt', 'finishedAt'] as const) optionalFiniteNumberAt(r[f], `${at}.${f}`);
  arrayAt(r.history, `${at}.history`).forEach((h, j) => {
    const e = h as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || !(ALL_STATUSES as readonly unknown[]).includes(e.status) || typeof e.at !== 'number') {
      throw fieldError(itemPath(`${at}.history`, j), 'an entry `{ status, at, reason? }`', h);
    }
  });
  objectAt(r.spec, `${at}.spec`);
  stringArrayAt(r.dependsOn, `${at}.dependsOn`, 'an array of task ids');
  optionalBooleanAt(r.failFast, `${at}.failFast`);
  optionalBooleanAt(r.noCache, `${at}.noCache`);
  if (r.workflowName !== undefined) nonEmptyStringAt(r.workflowName, `${at}.workflowName`, LIMITS.nameLength);
  const ready = optionalObjectAt(r.ready, `${at}.ready`, 'an object `{ at, problems? }`');
  if (ready !== undefined) {
    finiteNumberAt(ready.at, `${at}.ready.at`);
    const problems = optionalObjectAt(ready.problems, `${at}.ready.problems`, 'an object `{ errors, warnings }`');
    if (problems !== undefined) for (const f of ['errors', 'warnings'] as const) countAt(problems[f], `${at}.ready.problems.${f}`);
  }
  if (r.restarts !== undefined) countAt(r.restarts, `${at}.restarts`);
  if (r.worker !== undefined) nonEmptyStringAt(r.worker, `${at}.worker`, LIMITS.nameLength);
}

/**
 * A plain copy of `record` whose output keeps its last characters, at most SNAPSHOT_OUTPUT_CHARS of
 * JSON (control characters escape to 6 each), after a line saying how much was cut.
 */
export function withTrimmedOutput(record: TaskRecord): TaskRecord {
  // A fresh object either way: plainRecord returns a record that is plain already as it is.
  const copy = { ...plainRecord(record) };
  const output = copy.result?.output as string;
  let keep = Math.min(output.length, SNAPSHOT_OUTPUT_CHARS);
  while (keep > 0 && JSON.stringify(output.slice(output.length - keep)).length > SNAPSHOT_OUTPUT_CHARS) keep >>= 1;
  copy.result = {
    ...copy.result,
    output: `[output trimmed in the saved state: ${output.length - keep} earlier characters not kept]\n${output.slice(output.length - keep)}`,
  };
  return copy;
}
