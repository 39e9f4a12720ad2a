// Builds the snapshot as it would be written now, within a byte budget.
//
// Every unfinished task is in it, its failed attempt's output tail cut to SNAPSHOT_OUTPUT_CHARS;
// finished records follow newest first while the budget lasts, and those left out go to the
// archive. A finished record larger than an eighth of the budget is archived whole and kept
// trimmed, so one oversized record cannot push the others out. Finished records no longer change:
// each is measured (and trimmed) once, cached by identity.
//
// With a pending store (the caller passes `overflow`), unfinished tasks are kept in creation order
// while half the budget lasts and the rest go to `overflow`, which the writer stores beside the
// snapshot; finished records then get what the unfinished left of the budget. The whole snapshot
// then stays within the budget however long the backlog. Unfinished records change, so they are
// measured on each build, but only until their half is spent.
import { isFinished, type TaskRecord } from '../model/model';
import type { Clock } from '../ports';
import type { ArchiveHandoff } from './archiveHandoff';
import { SNAPSHOT_OUTPUT_CHARS, SNAPSHOT_VERSION, withTrimmedOutput, type Snapshot } from './snapshot';

/** What the builder reads from the orchestrator. */
export interface SnapshotSource {
  /** Every record in memory: unfinished and retained finished ones. */
  records(): Iterable<TaskRecord>;
  queueSnapshot(): unknown;
  paused(): boolean;
}

export class SnapshotBuilder {
  /** Finished records larger than this (JSON characters) are archived whole and kept trimmed. */
  private readonly maxRecordBytes: number;
  /** Serialized sizes of finished records: they no longer change, so each is measured once. */
  private readonly sizes = new WeakMap<TaskRecord, number>();
  /** What the snapshot holds for an oversized finished record: a trimmed copy, or null for nothing. */
  private readonly trimmed = new WeakMap<TaskRecord, TaskRecord | null>();

  constructor(
    /** The configured budget: an eighth of it is the most one finished record may take. */
    byteBudget: number,
    private readonly clock: Clock,
    private readonly handoff: ArchiveHandoff,
  ) {
    this.maxRecordBytes = Math.floor(byteBudget / 8);
  }

  /**
   * The snapshot of `source` and `app`, with at most `byteBudget` bytes of finished records; given
   * `overflow`, at most `byteBudget` bytes of records in all, the unfinished left out pushed to it.
   */
  build(source: SnapshotSource, app: ReadonlyMap<string, unknown>, byteBudget: number, overflow?: TaskRecord[]): Snapshot {
    const unfinished: TaskRecord[] = [];
    const finished: TaskRecord[] = [];
    for (const r of source.records()) (isFinished(r.status) ? finished : unfinished).push(r);
    // Newest finished first: by finish time, descending; ties (same ms) latest-created first.
    finished.reverse();
    finished.sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0));
    const tasks = unfinished;
    // An unfinished task's output tail is a failed attempt's (waiting to retry): bounded here, not
    // in memory, where the next attempt replaces it. Most have none, and cost one check.
    for (let i = 0; i < tasks.length; i++) {
      const output = tasks[i]!.result?.output;
      if (typeof output === 'string' && output.length > SNAPSHOT_OUTPUT_CHARS) tasks[i] = withTrimmedOutput(tasks[i]!);
    }
    let budget = byteBudget;
    if (overflow !== undefined) budget -= this.keepUnfinished(tasks, Math.floor(byteBudget / 2), overflow);
    for (const r of finished) {
      // Once the budget is spent the rest are only archived: their size is never needed, so it is
      // never measured (a JSON.stringify each).
      let size = budget > 0 ? this.sizes.get(r) : undefined;
      if (budget > 0 && size === undefined) {
        size = JSON.stringify(r).length;
        this.sizes.set(r, size);
      }
      if (size !== undefined && size > this.maxRecordBytes) {
        // Oversized (a long output tail, say): archived whole, and the snapshot keeps a trimmed copy
        // if that is small enough, without spending the budget of every older record on it.
        this.handoff.toArchive(r);
        const copy = this.trimmedCopy(r);
        if (copy !== null && (this.sizes.get(copy) as number) <= budget) {
          budget -= this.sizes.get(copy) as number;
          tasks.push(copy);
        }
      } else if (size !== undefined && size <= budget) {
        budget -= size;
        tasks.push(r);
      } else {
        // Once outside the budget a record stays outside: newer records only push it further out.
        budget = 0;
        this.handoff.toArchive(r);
      }
    }
    const snap: Snapshot = { version: SNAPSHOT_VERSION, savedAt: this.clock.now(), tasks };
    const queue = source.queueSnapshot();
    if (queue !== undefined) snap.queue = queue;
    if (app.size) snap.app = Object.fromEntries(app);
    if (source.paused()) snap.paused = true;
    return snap;
  }

  /**
   * Keeps the first unfinished records in `tasks` while `budget` lasts and moves the rest to
   * `overflow`, in order; returns the bytes kept. A record is measured only while there is budget.
   */
  private keepUnfinished(tasks: TaskRecord[], budget: number, overflow: TaskRecord[]): number {
    let used = 0;
    let i = 0;
    for (; i < tasks.length; i++) {
      const size = JSON.stringify(tasks[i]).length + 1;
      if (used + size > budget) break;
      used += size;
    }
    for (let j = i; j < tasks.length; j++) overflow.push(tasks[j] as TaskRecord);
    tasks.length = i;
    return used;
  }

  /** The copy of an oversized finished record the snapshot may hold, measured; null when none fits. */
  private trimmedCopy(record: TaskRecord): TaskRecord | null {
    let copy = this.trimmed.get(record);
    if (copy !== undefined) return copy;
    const output = record.result?.output;
    copy = typeof output === 'string' && output.length > SNAPSHOT_OUTPUT_CHARS ? withTrimmedOutput(record) : null;
    if (copy !== null) {
      const size = JSON.stringify(copy).length;
      if (size > this.maxRecordBytes) copy = null;
      else this.sizes.set(copy, size);
    }
    this.trimmed.set(record, copy);
    return copy;
  }
}
