// The run history on disk: an append-only journal of finished task records in segment files, with an
// index in memory built on the first call that needs it.
//
// Files (all in `dir`): `seg-<n>.log`, numbered in append order. Each holds framed entries
// (recordFrame.ts): `{ t: 'rec', r: TaskRecord }` appends a finished record, `{ t: 'del', ids }`
// forgets tasks appended before it. Replaying the segments in order gives the history; a task
// appended again (retried after it finished) replaces its older record. A removed record appended
// again unchanged (same id and finish time: the archive hand-off after the History feed had it) stays
// removed; a rerun of the task (a later finish) is history again.
//
// Durability: an append resolves once its bytes are written and fdatasync'ed, so a record the
// journal accepted survives a crash or a power loss, and the snapshot may then drop it. A crash
// mid-append leaves a torn last entry: it is skipped on read and cut off before the next append.
// Any other entry that does not check (length, CRC-32, JSON) is skipped and reported on onWarn, as
// is a segment that cannot be read at all; nothing in a segment makes the journal throw.
//
// Segments rotate once the active one passes `segmentBytes`. A sealed segment gets an index file
// (`seg-<n>.idx`: its live records' summaries and its tombstones, framed like an entry), so opening
// the journal reads the indexes and only the active segment; an index that is missing, damaged or
// for other bytes is ignored and its segment read instead. Compaction rewrites a sealed segment
// whose records are half dead (replaced, removed, older than `retentionDays`, beyond `maxRuns`)
// into `<name>.tmp`, fsyncs it and renames it over the original, so a crash leaves either version
// whole. Segments are compacted oldest first, and a tombstone is dropped only when no older segment
// holds a dead record any more (one it might hide would otherwise come back).
//
// The index in memory (live records, their order, tombstones): journalIndex.ts. Reading, appending
// and rewriting the segment files and their index files: journalSegments.ts. This file holds the
// public API, the one-at-a-time chain, and the policy: when to rotate, what to compact, retention.
// Pending sets (PendingStore, for the state's snapshot) live in the same directory: pendingSets.ts.
// The entries' and the index files' shapes, and the old history.jsonl reader: journalFormat.ts.
//
// One operation at a time (a promise chain): an append never interleaves with a rotation or a
// compaction. One process writes a journal directory; the CLI uses its own.
import * as fs from 'node:fs/promises';
import { errorMessage, fieldError } from '../model/errors';
import { isFinished, type TaskRecord } from '../model/model';
import type { HistoryArchive, PendingStore } from '../ports';
import { Emitter } from '../util/events';
import { checkPageSize, compileQuery, decodeCursor, encodeCursor } from './historyQuery';
import type { HistoryPage, HistoryQuery, HistoryRun, RunHistory } from './historyTypes';
import { JournalIndex } from './journalIndex';
import { PendingSets } from './pendingSets';
import { readLegacyHistory, type Entry, type Located, type SegmentInfo } from './journalFormat';
import { JournalSegments, type JournalWarning } from './journalSegments';

// What onWarn hears (said where the segment files are read and written).
export type { JournalWarning };

export interface RunJournalOptions {
  /** The journal's own directory (created on the first write). */
  dir: string;
  /** Where an older `history.jsonl` (FileHistoryArchive) may be: migrated once, then deleted. */
  legacyDir?: string;
  /** The active segment is sealed once it passes this many bytes. Default 8 MiB. */
  segmentBytes?: number;
  /** Finished records older than this many days are dropped. Default 30. */
  retentionDays?: number;
  /** At most this many runs are kept, newest first. Default: no limit but retentionDays. */
  maxRuns?: number;
  now?: () => number;
  onWarn?: (w: JournalWarning) => void;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** A sealed segment is rewritten once at least this share of its bytes is dead. */
const COMPACT_DEAD_SHARE = 0.5;

export class RunJournal implements RunHistory, HistoryArchive, PendingStore {
  private readonly segmentBytes: number;
  private readonly retentionMs: number;
  private readonly maxRuns: number | undefined;
  /** The state's overflow of unfinished tasks, in this directory (one operation at a time with the journal's). */
  private readonly pending: PendingSets;
  private readonly now: () => number;
  private readonly warn: (w: JournalWarning) => void;
  private readonly didAppend = new Emitter<void>();
  readonly onDidAppend = this.didAppend.event;

  private chain: Promise<unknown> = Promise.resolve();
  private opened: Promise<void> | undefined;
  /** Live records and tombstones (journalIndex.ts); a record that stops being live counts as dead bytes of its segment. */
  private readonly index: JournalIndex;
  /** The segment files (journalSegments.ts), which feed the index. */
  private readonly segments: JournalSegments;

  /** Counters for tests, the bench and the dashboard. */
  readonly stats = { corruptEntries: 0, tornBytes: 0, unreadableSegments: 0, migrated: 0, compactions: 0, segmentsFromIndex: 0 };

  constructor(private readonly o: RunJournalOptions) {
    const { segmentBytes = 8 * 1024 * 1024, retentionDays = 30, maxRuns } = o;
    if (!(Number.isFinite(segmentBytes) && segmentBytes >= 1024)) throw fieldError('segmentBytes', 'a number of at least 1024', segmentBytes);
    if (!(Number.isFinite(retentionDays) && retentionDays > 0)) throw fieldError('retentionDays', 'a positive number of days', retentionDays);
    if (maxRuns !== undefined && !(Number.isInteger(maxRuns) && maxRuns > 0)) throw fieldError('maxRuns', 'a positive integer', maxRuns);
    this.segmentBytes = segmentBytes;
    this.retentionMs = retentionDays * DAY_MS;
    this.maxRuns = maxRuns;
    this.now = o.now ?? Date.now;
    this.warn = o.onWarn ?? (() => undefined);
    this.pending = new PendingSets(o.dir);
    this.index = new JournalIndex((dropped) => this.segments.countDead(dropped));
    this.segments = new JournalSegments(o.dir, this.index, this.stats, this.warn);
  }

  get dir(): string {
    return this.o.dir;
  }

  // ------------------------------------------------------------------ RunHistory

  append(records: readonly TaskRecord[]): Promise<void> {
    return this.serial(async () => {
      await this.open();
      // Only finished records are history; an unfinished one handed here is not kept, nor a removed one again.
      const finished = records.filter((r) => isFinished(r.status) && !this.index.wasRemoved(r));
      if (finished.length === 0) return;
      await this.writeEntries(finished.map((r): Entry => ({ t: 'rec', r })));
      this.didAppend.fire();
    });
  }

  remove(taskIds: readonly string[]): Promise<void> {
    if (!Array.isArray(taskIds) || taskIds.some((id) => typeof id !== 'string')) return Promise.reject(fieldError('taskIds', 'an array of task ids', taskIds));
    return this.serial(async () => {
      await this.open();
      const ids = taskIds.filter((id) => this.index.get(id) !== undefined);
      if (ids.length === 0) return;
      await this.writeEntries([{ t: 'del', ids }]);
      this.didAppend.fire();
    });
  }

  search(query: HistoryQuery, cursor?: string, pageSize?: number): Promise<HistoryPage> {
    let matches: ReturnType<typeof compileQuery>;
    let size: number;
    let after: { finishedAt: number; seq: number } | undefined;
    try {
      matches = compileQuery(query);
      size = checkPageSize(pageSize);
      after = cursor === undefined ? undefined : decodeCursor(cursor);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.serial(async () => {
      await this.open();
      const cutoff = this.now() - this.retentionMs;
      const { runs: picked, last, more } = this.index.page((s) => s.finishedAt >= cutoff && matches(s), after, size);
      const runs: HistoryRun[] = [];
      for (const tasks of picked) runs.push(await this.loadRun(tasks));
      return more && last ? { runs, next: encodeCursor(last) } : { runs };
    });
  }

  output(taskId: string): Promise<string | undefined> {
    return this.serial(async () => {
      await this.open();
      const at = this.index.get(taskId);
      if (!at) return undefined;
      const output = (await this.segments.read(at))?.result?.output;
      return typeof output === 'string' ? output : undefined;
    });
  }

  /** The record the journal holds for a task, or undefined. */
  get(taskId: string): Promise<TaskRecord | undefined> {
    return this.serial(async () => {
      await this.open();
      const at = this.index.get(taskId);
      return at ? this.segments.read(at) : undefined;
    });
  }

  /** Live records, for the size of a page or a test. */
  count(): Promise<number> {
    return this.serial(async () => {
      await this.open();
      return this.index.size;
    });
  }

  /** Rewrites sealed segments whose entries are half dead or more (see the file comment). */
  compact(): Promise<void> {
    return this.serial(async () => {
      await this.open();
      await this.compactNow(true);
    });
  }

  /** Deletes every segment: the history starts empty (Clear History). */
  clear(): Promise<void> {
    return this.serial(async () => {
      await this.open();
      await this.segments.deleteAll();
      this.index.clear();
      this.didAppend.fire();
    });
  }

  /** Resolves once every operation asked for so far has finished. */
  close(): Promise<void> {
    return this.serial(async () => undefined);
  }

  dispose(): void {
    void this.close();
    this.didAppend.dispose();
  }

  // ------------------------------------------------------------------ PendingStore (pendingSets.ts)

  writePending(records: readonly TaskRecord[]): Promise<number> {
    return this.serial(() => this.pending.write(records));
  }

  readPending(generation: number): Promise<{ records: unknown[]; problem?: string }> {
    return this.serial(() => this.pending.read(generation));
  }

  prunePending(keep: number | undefined): Promise<void> {
    return this.serial(() => this.pending.prune(keep));
  }

  // ------------------------------------------------------------------ opening

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Reads every segment once and builds the index; migrates an older history.jsonl. */
  private open(): Promise<void> {
    this.opened ??= this.load().catch((err: unknown) => {
      this.opened = undefined;
      throw err;
    });
    return this.opened;
  }

  /** The segments, then the older archive's records; a failed migration is reported and tried again at the next start (its files stay). */
  private async load(): Promise<void> {
    await this.segments.load();
    const legacyDir = this.o.legacyDir;
    if (legacyDir === undefined) return;
    await this.migrateLegacy(legacyDir).catch((err: unknown) =>
      this.warn({
        code: 'HISTORY_FAILED',
        message: `Moving the older history (history.jsonl in \`${legacyDir}\`) into the journal failed; it is tried again at the next start: ${errorMessage(err)}`,
      }),
    );
  }

  private async migrateLegacy(legacyDir: string): Promise<void> {
    const { files, found, records } = await readLegacyHistory(legacyDir);
    if (!found) return;
    // Appended (and synced) before the old files go: a crash between leaves both, and the next
    // migration's copies replace these by id.
    if (records.length) await this.writeEntries(records.map((r): Entry => ({ t: 'rec', r })));
    this.stats.migrated += records.length;
    for (const file of files) await fs.rm(file, { force: true });
  }

  // ------------------------------------------------------------------ reading

  private async loadRun(tasks: Located[]): Promise<HistoryRun> {
    const records: TaskRecord[] = [];
    for (const t of tasks.sort((a, b) => a.startedAt - b.startedAt || a.seq - b.seq)) {
      const r = await this.segments.read(t);
      if (r) records.push(r);
    }
    const first = tasks[0] as Located;
    const run: HistoryRun = {
      startedAt: Math.min(...tasks.map((t) => t.startedAt)),
      finishedAt: Math.max(...tasks.map((t) => t.finishedAt)),
      tasks: records,
    };
    if (first.workflowId !== undefined) run.workflowId = first.workflowId;
    const named = records.find((r) => r.workflowName !== undefined);
    if (named) run.workflowName = named.workflowName;
    return run;
  }

  // ------------------------------------------------------------------ writing

  /** Appends entries to the active segment and syncs them; rotates (and compacts) once it is full. Only once loaded (or by load). */
  private async writeEntries(entries: readonly Entry[]): Promise<void> {
    let active = this.segments.active;
    if (!active || active.bytes >= this.segmentBytes) active = await this.rotate();
    await this.segments.append(active, entries);
  }

  /** Seals the active segment and starts the next; compacts the sealed ones (the one just sealed too) that are half dead. */
  private async rotate(): Promise<SegmentInfo> {
    await this.segments.makeDir();
    const last = this.segments.active;
    if (last) await this.segments.writeIndex(last);
    const next = this.segments.start();
    await this.compactNow(false);
    return next;
  }

  /** Marks expired and surplus runs dead, then rewrites the sealed segments that are mostly dead. */
  private async compactNow(sealActive: boolean): Promise<void> {
    this.index.expire(this.now() - this.retentionMs, this.maxRuns);
    const active = this.segments.active;
    if (sealActive && active && active.bytes > 0) {
      await this.segments.writeIndex(active);
      this.segments.start();
    }
    const sealed = this.segments.sealed;
    // No dead record in any older segment: this one's tombstones hide nothing left and may go.
    // (A segment that could not be read may hold some: then every tombstone stays.)
    let olderClean = this.stats.unreadableSegments === 0;
    for (const seg of sealed) {
      const delBytes = seg.dels.reduce((n, d) => n + d.length, 0);
      const dropDels = olderClean && delBytes > 0;
      if ((seg.deadBytes + (dropDels ? delBytes : 0)) / Math.max(1, seg.bytes) >= COMPACT_DEAD_SHARE) await this.segments.rewrite(seg, dropDels);
      olderClean &&= seg.deadBytes === 0;
    }
  }
}
