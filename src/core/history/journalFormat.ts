// The run journal's on-disk shapes (runJournal.ts): its entries, a live record's place in a segment,
// a sealed segment's index file (`seg-<n>.idx`) and how it is written and read back, and the reader
// of the archive it replaced (history.jsonl). Pure, but for readLegacyHistory's file reads.
// Invariant: segmentIndexOf and locatedOf are inverses for every field a summary has; an index file
// written before a field existed (a shorter tuple) reads that field as undefined.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { isFinished, type TaskRecord, type TaskStatus } from '../model/model';
import { compareSummaries, type TaskSummary } from './historyQuery';

export type Entry = { t: 'rec'; r: TaskRecord } | { t: 'del'; ids: string[] };

/** A live record: its summary and where its entry is. */
export interface Located extends TaskSummary {
  seg: number;
  offset: number;
  length: number;
}

export interface SegmentInfo {
  n: number;
  bytes: number;
  /** Bytes of records that are no longer live (replaced, removed, expired) and of damaged entries. */
  deadBytes: number;
  /** The segment's tombstones, in order: kept by compaction while an older segment may hold what they hide. */
  dels: Tombstone[];
}

export interface Tombstone {
  offset: number;
  length: number;
  ids: string[];
}

/** A sealed segment's index (`seg-<n>.idx`): its live records' summaries and its tombstones, in offset order. */
export interface SegmentIndex {
  v: 1;
  /** The segment's size when the index was written: an index for other bytes is not used. */
  bytes: number;
  deadBytes: number;
  /** [offset, length, id, finishedAt, startedAt, status, exitCode, workflowId, hay, workflowName] or, for a tombstone, [offset, length, ids]. */
  entries: unknown[][];
}

/** A sealed segment's index, its entries in offset order. */
export function segmentIndexOf(seg: SegmentInfo, recs: readonly Located[]): SegmentIndex {
  const entries: [number, unknown[]][] = [
    ...recs.map((s): [number, unknown[]] => [
      s.offset,
      [s.offset, s.length, s.id, s.finishedAt, s.startedAt, s.status, s.exitCode ?? null, s.workflowId ?? null, s.hay, s.workflowName ?? null],
    ]),
    ...seg.dels.map((d): [number, unknown[]] => [d.offset, [d.offset, d.length, d.ids]]),
  ];
  entries.sort((a, b) => a[0] - b[0]);
  return { v: 1, bytes: seg.bytes, deadBytes: seg.deadBytes, entries: entries.map((e) => e[1]) };
}

/** A record's entry of an index file (not a tombstone's), in segment `n`, as the index holds it. */
export function locatedOf(e: unknown[], n: number, seq: number): Located {
  const [offset, length, id, finishedAt, startedAt, status, exitCode, workflowId, hay, workflowName] = e as [
    number,
    number,
    string,
    number,
    number,
    TaskStatus,
    number | null,
    string | null,
    string,
    string | null | undefined,
  ];
  return {
    id,
    seq,
    finishedAt,
    startedAt,
    status,
    exitCode: exitCode ?? undefined,
    workflowId: workflowId ?? undefined,
    workflowName: workflowName ?? undefined,
    hay,
    seg: n,
    offset,
    length,
  };
}

/** The finished records of the old archive (history.jsonl and its rotated copy) in `legacyDir`. */
export async function readLegacyHistory(legacyDir: string): Promise<{ files: string[]; found: boolean; records: TaskRecord[] }> {
  const files = ['history.1.jsonl', 'history.jsonl'].map((n) => path.join(legacyDir, n));
  const records: TaskRecord[] = [];
  let found = false;
  for (const file of files) {
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    found = true;
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as unknown;
        if (isRecordLike(r) && isFinished(r.status)) records.push(r);
      } catch {
        // A line cut by a crash: the old archive's own format skipped it the same way.
      }
    }
  }
  return { files, found, records };
}

export function runKey(s: TaskSummary): string {
  return s.workflowId ?? `task:${s.id}`;
}

/** The first index whose summary is not before `key`. */
export function lowerBound(sorted: readonly Located[], key: { finishedAt: number; seq: number }): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareSummaries(sorted[mid] as Located, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isRecordLike(v: unknown): v is TaskRecord {
  const r = v as Partial<TaskRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.id === 'string' &&
    typeof r.name === 'string' &&
    typeof r.status === 'string' &&
    typeof r.createdAt === 'number'
  );
}

export function asEntry(v: unknown): Entry | undefined {
  const e = v as { t?: unknown; r?: unknown; ids?: unknown } | null;
  if (typeof e !== 'object' || e === null) return undefined;
  if (e.t === 'rec' && isRecordLike(e.r)) return e as Entry;
  if (e.t === 'del' && Array.isArray(e.ids) && e.ids.every((id) => typeof id === 'string')) return e as Entry;
  return undefined;
}
