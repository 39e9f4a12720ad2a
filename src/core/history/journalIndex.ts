// The run journal's index in memory (runJournal.ts): which records are live, where each one is, in
// what order they finished, and which tasks a tombstone removed. It reads no file; the journal feeds
// it the entries of its segments in append order. Invariants:
//  - `byId` holds exactly the live records, one per task: the last appended of each task that no
//    tombstone, retention or replacement has dropped since;
//  - `byRun` maps a workflow run's id to its live records, and holds no empty set;
//  - `sorted` holds every live record in compareSummaries order (finish time, then seq); a dropped one
//    may linger while `sortedDirty`, and liveSorted() filters it out (by identity with `byId`);
//  - `removed` maps a task a tombstone removed to the finish time of the record it removed: that record
//    appended again unchanged is not history again (wasRemoved), a later finish is;
//  - `onDead` is called exactly once for each record that stops being live, so its segment can count
//    its bytes dead;
//  - seq grows by one per record indexed and is never reused while the journal is open, clear() included.
import type { TaskRecord } from '../model/model';
import { compareSummaries, summarize, type TaskSummary } from './historyQuery';
import { lowerBound, runKey, type Entry, type Located } from './journalFormat';

/** One History page's runs, newest first: each a run's live matching records. */
export interface IndexPage {
  runs: Located[][];
  /** The record each run was placed by, of the last run on the page: where the next page starts. */
  last: Located | undefined;
  /** A run follows the page. */
  more: boolean;
}

export class JournalIndex {
  private seq = 0;
  private readonly byId = new Map<string, Located>();
  private readonly byRun = new Map<string, Set<Located>>();
  private sorted: Located[] = [];
  private sortedDirty = false;
  private readonly removed = new Map<string, number>();

  /** `onDead` hears of each record that stops being live (replaced, removed or expired). */
  constructor(private readonly onDead: (dropped: Located) => void) {}

  /** Live records. */
  get size(): number {
    return this.byId.size;
  }

  /** The live record of a task, or undefined. */
  get(id: string): Located | undefined {
    return this.byId.get(id);
  }

  /** The next append sequence number, taken. */
  nextSeq(): number {
    return this.seq++;
  }

  /** Whether a tombstone removed this very record (same task, same finish time). */
  wasRemoved(r: TaskRecord): boolean {
    return this.removed.get(r.id) === (r.finishedAt ?? r.createdAt);
  }

  /** The live records whose entries are in segment `n`. */
  inSegment(n: number): Located[] {
    return [...this.byId.values()].filter((s) => s.seg === n);
  }

  /** Applies an entry read or written at `offset` (`length` bytes) of segment `seg`. */
  apply(entry: Entry, seg: number, offset: number, length: number): void {
    if (entry.t === 'del') {
      for (const id of entry.ids) {
        const old = this.byId.get(id);
        if (old) this.removed.set(id, old.finishedAt);
        this.forget(id);
      }
      return;
    }
    const s = summarize(entry.r, this.nextSeq());
    this.add({
      id: s.id,
      seq: s.seq,
      finishedAt: s.finishedAt,
      startedAt: s.startedAt,
      status: s.status,
      exitCode: s.exitCode,
      workflowId: s.workflowId,
      workflowName: s.workflowName,
      hay: s.hay,
      seg,
      offset,
      length,
    });
  }

  /** Adds a live record, replacing an older one of the same task. */
  add(located: Located): void {
    this.forget(located.id);
    this.byId.set(located.id, located);
    if (located.workflowId !== undefined) {
      let run = this.byRun.get(located.workflowId);
      if (!run) this.byRun.set(located.workflowId, (run = new Set()));
      run.add(located);
    }
    // Appends come in finish order nearly always: a push, not a search.
    const last = this.sorted[this.sorted.length - 1];
    if (last === undefined || compareSummaries(last, located) <= 0) this.sorted.push(located);
    else this.sorted.splice(lowerBound(this.sorted, located), 0, located);
  }

  /** Drops a task's live record, if any. */
  forget(id: string): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    if (old.workflowId !== undefined) {
      const run = this.byRun.get(old.workflowId);
      run?.delete(old);
      if (run?.size === 0) this.byRun.delete(old.workflowId);
    }
    this.onDead(old);
    this.sortedDirty = true;
  }

  /** Every live record, older first (compareSummaries order). */
  liveSorted(): readonly Located[] {
    if (this.sortedDirty) {
      this.sorted = this.sorted.filter((s) => this.byId.get(s.id) === s);
      this.sortedDirty = false;
    }
    return this.sorted;
  }

  /** Drops what retention no longer keeps: records finished before `cutoff`, and runs beyond the newest `maxRuns`. */
  expire(cutoff: number, maxRuns: number | undefined): void {
    const sorted = this.liveSorted();
    const gone: string[] = [];
    const runs = new Set<string>();
    for (let i = sorted.length - 1; i >= 0; i--) {
      const s = sorted[i] as Located;
      const key = runKey(s);
      const kept = s.finishedAt >= cutoff && (maxRuns === undefined || runs.has(key) || runs.size < maxRuns);
      if (kept) runs.add(key);
      else gone.push(s.id);
    }
    for (const id of gone) this.forget(id);
  }

  /**
   * Up to `size` runs of the records `keep` accepts, newest first, strictly before `after` (a cursor's
   * place) when given. A run is placed where its newest kept record is, and holds its kept records.
   */
  page(keep: (s: TaskSummary) => boolean, after: { finishedAt: number; seq: number } | undefined, size: number): IndexPage {
    const sorted = this.liveSorted();
    const runs: Located[][] = [];
    const seen = new Set<string>();
    let last: Located | undefined;
    let more = false;
    for (let i = after === undefined ? sorted.length - 1 : lowerBound(sorted, after) - 1; i >= 0; i--) {
      const s = sorted[i] as Located;
      if (!keep(s)) continue;
      const key = runKey(s);
      if (seen.has(key)) continue;
      seen.add(key);
      const tasks = s.workflowId === undefined ? [s] : [...(this.byRun.get(key) ?? [])].filter(keep);
      // A run is shown where its newest matching task is: one with a newer match was on an earlier page.
      if (tasks.some((t) => compareSummaries(t, s) > 0)) continue;
      // One run past the page says whether there is a next page, so the last page never comes back empty.
      if (runs.length === size) {
        more = true;
        break;
      }
      runs.push(tasks);
      last = s;
    }
    return { runs, last, more };
  }

  /** Forgets everything, tombstones included, without calling `onDead` (the segments go too). */
  clear(): void {
    this.byId.clear();
    this.byRun.clear();
    this.removed.clear();
    this.sorted = [];
    this.sortedDirty = false;
  }
}
