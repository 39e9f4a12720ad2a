// The record a TaskLifecycleManager holds for each task: a TaskRecord with its history as a plain
// array, one entry appended per transition.
//
// Entries are shared and frozen, and the array has room for a usual life: see historyEntries.ts.
//
// A class so that an owner can keep its own per-task state in a subclass (see RecordClass): JSON
// goes through toJSON and `plainRecord` gives the plain copy structuredClone needs, so neither the
// table's symbol-keyed bookkeeping nor a subclass's fields ever leave the process.
import { boundText, MAX_MESSAGE_LENGTH, type HistoryEntry, type PersistedSpec, type TaskError, type TaskRecord, type TaskResult, type TaskStatus } from '../model/model';
import { historyEntry, newHistory } from './historyEntries';
import { HOME, NOT_HELD, type Homed } from './recordTable';

/** The reason of the start of attempt n; shared strings for the usual few attempts. */
const ATTEMPT_REASONS: readonly string[] = Array.from({ length: 16 }, (_, i) => `attempt ${i}`);
export function attemptReason(n: number): string {
  return n < ATTEMPT_REASONS.length ? ATTEMPT_REASONS[n] : `attempt ${n}`;
}

export class HeldRecord implements TaskRecord, Homed {
  id: string;
  name: string;
  kind: string;
  status: TaskStatus;
  priority: number;
  attempts: number;
  createdAt: number;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  /** Every transition, oldest first; only ever appended to. */
  history: HistoryEntry[];
  result: TaskResult | undefined;
  error: TaskError | undefined;
  spec: PersistedSpec;
  dependsOn: string[];
  workflowId: string | undefined;
  [HOME]: number;

  /** A record in `created`, or (with `history`) a restored one in any status. */
  constructor(id: string, name: string, kind: string, priority: number, createdAt: number, spec: PersistedSpec, dependsOn: string[], workflowId: string | undefined, history?: HistoryEntry[]) {
    this.id = id;
    this.name = name;
    this.kind = kind;
    this.status = 'created';
    this.priority = priority;
    this.attempts = 0;
    this.createdAt = createdAt;
    this.startedAt = undefined;
    this.finishedAt = undefined;
    this.history = history ?? newHistory(historyEntry('created', createdAt, undefined));
    this.result = undefined;
    this.error = undefined;
    this.spec = spec;
    this.dependsOn = dependsOn;
    this.workflowId = workflowId;
    this[HOME] = NOT_HELD;
  }

  /** What JSON.stringify writes: the plain TaskRecord, without a subclass's fields. */
  toJSON(): TaskRecord {
    return {
      id: this.id,
      name: this.name,
      kind: this.kind,
      status: this.status,
      priority: this.priority,
      attempts: this.attempts,
      createdAt: this.createdAt,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      history: this.history,
      result: this.result,
      error: this.error,
      spec: this.spec,
      dependsOn: this.dependsOn,
      workflowId: this.workflowId,
    };
  }
}

/** HeldRecord or a subclass with the same constructor (an owner's records with its own fields). */
export type RecordClass<R extends HeldRecord = HeldRecord> = new (...args: ConstructorParameters<typeof HeldRecord>) => R;

/** A copy of a restored record, of the class `create` uses. */
export function heldCopy<R extends HeldRecord>(r: TaskRecord, cls: RecordClass<R>): R {
  // A record saved before reasons and messages were bounded may hold any size of either: it is
  // bounded here as every transition bounds what it adds (see lifecycle.ts's historyEntry).
  const history = r.history.map((h) => (typeof h.reason === 'string' && h.reason.length > MAX_MESSAGE_LENGTH ? { ...h, reason: boundText(h.reason) } : h));
  const out = new cls(r.id, r.name, r.kind, r.priority, r.createdAt, r.spec, Array.isArray(r.dependsOn) ? r.dependsOn.slice() : [], r.workflowId, history);
  out.status = r.status;
  out.attempts = r.attempts;
  out.startedAt = r.startedAt;
  out.finishedAt = r.finishedAt;
  out.result = r.result;
  out.error = r.error && typeof r.error.message === 'string' && r.error.message.length > MAX_MESSAGE_LENGTH ? { ...r.error, message: boundText(r.error.message) } : r.error;
  return out;
}

/**
 * A plain-object copy of a record that structuredClone and postMessage can copy: a held record may be
 * of a subclass whose own fields are not data (an owner's runtime state, functions included).
 */
export function plainRecord(record: Readonly<TaskRecord>): TaskRecord {
  return record instanceof HeldRecord ? record.toJSON() : (record as TaskRecord);
}

/** The time of the record's latest transition. */
export function lastTransitionAt(record: Readonly<TaskRecord>): number {
  const h = record.history;
  return h.length ? h[h.length - 1].at : record.createdAt;
}
