// The run journal's segment files (runJournal.ts): reading them into the index at start, appending
// entries, reading one record back, writing a sealed segment's index file and rewriting a segment
// with only what is still live. When to rotate and what to compact is the journal's to decide.
// Invariants:
//  - files are `seg-<n>.log` and its index `seg-<n>.idx`, n zero-padded to six digits; the listed
//    segments are in ascending n; a new segment is numbered after every segment on disk, so no number
//    is reused (one that could not be read included) and replaying in n order is append order;
//  - the active segment, the only one appended to, is the last listed while it is the last on disk:
//    after an unreadable last segment there is none until `start`;
//  - a listed segment's `bytes` is its file's size as this process last read or wrote it, `deadBytes`
//    counts its entries no longer live and its damage, `dels` its tombstones in offset order;
//  - every record the index holds is a whole, checked entry at its offset: an appended entry reaches
//    the index only once its bytes are synced, and a rewrite moves offsets only once it is renamed in;
//  - an append resolves after fdatasync; a rewrite goes through `<name>.tmp`, fsync and rename, its
//    old index file removed first, so a crash leaves either version whole;
//  - an index file (`.tmp` and rename, not synced) is trusted only while its `bytes` is the segment's
//    size; otherwise the segment is read;
//  - damage on disk never throws: it is skipped, counted in `stats` and reported on `warn`.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errorMessage } from '../model/errors';
import type { TaskRecord } from '../model/model';
import type { JournalIndex } from './journalIndex';
import { asEntry, locatedOf, segmentIndexOf, type Entry, type Located, type SegmentIndex, type SegmentInfo } from './journalFormat';
import { decodeFrame, encodeFrame, scanFrames } from './recordFrame';

export interface JournalWarning {
  code: 'CORRUPT_HISTORY' | 'HISTORY_FAILED';
  message: string;
}

/** The counters the segment files keep (RunJournal's `stats`). */
export interface SegmentStats {
  corruptEntries: number;
  tornBytes: number;
  unreadableSegments: number;
  compactions: number;
  segmentsFromIndex: number;
}

const SEGMENT = /^seg-(\d{6,})\.log$/;

export class JournalSegments {
  private segments: SegmentInfo[] = [];
  /** The highest segment number on disk or started (0: none). */
  private highest = 0;

  constructor(
    private readonly dir: string,
    private readonly index: JournalIndex,
    private readonly stats: SegmentStats,
    private readonly warn: (w: JournalWarning) => void,
  ) {}

  /** The listed segments, oldest first. */
  get all(): readonly SegmentInfo[] {
    return this.segments;
  }

  /** The segment appends go to, or undefined when none is open yet (start one). */
  get active(): SegmentInfo | undefined {
    const last = this.segments[this.segments.length - 1];
    return last?.n === this.highest ? last : undefined;
  }

  /** The listed segments but the active one: the ones compaction may rewrite. */
  get sealed(): SegmentInfo[] {
    return this.active ? this.segments.slice(0, -1) : [...this.segments];
  }

  /** Counts a record that is no longer live as dead bytes of its segment (the index's `onDead`). */
  countDead(dropped: Located): void {
    const seg = this.segments.find((s) => s.n === dropped.seg);
    if (seg) seg.deadBytes += dropped.length;
  }

  /**
   * Lists the segments on disk and feeds their entries to the index, sealed ones from their index
   * files where usable. Starts from nothing (an empty list and index): a load that failed may be retried.
   */
  async load(): Promise<void> {
    this.segments = [];
    this.index.clear();
    const names = await fs.readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    const numbers = names
      .map((n) => SEGMENT.exec(n)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    this.highest = numbers[numbers.length - 1] ?? 0;
    for (const n of numbers) await this.loadSegment(n, n === numbers[numbers.length - 1]);
  }

  async makeDir(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
  }

  /** Lists a new, empty active segment, numbered after every other; its file is made by its first append. */
  start(): SegmentInfo {
    const seg: SegmentInfo = { n: ++this.highest, bytes: 0, deadBytes: 0, dels: [] };
    this.segments.push(seg);
    return seg;
  }

  /** Appends entries to `seg` and syncs them, then applies them to the index. */
  async append(seg: SegmentInfo, entries: readonly Entry[]): Promise<void> {
    const frames = entries.map((e) => encodeFrame(e));
    const buf = Buffer.concat(frames);
    // Opened per batch: batches come at most a few a second, and no handle outlives an append.
    const handle = await fs.open(this.segmentPath(seg.n), 'a');
    try {
      await handle.write(buf);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    let offset = seg.bytes;
    for (let i = 0; i < entries.length; i++) {
      const length = (frames[i] as Buffer).length;
      this.place(entries[i] as Entry, seg, offset, length);
      offset += length;
    }
    seg.bytes = offset;
  }

  /** The record at `at`, or undefined (reported) when it cannot be read or no longer checks. */
  async read(at: Located): Promise<TaskRecord | undefined> {
    const buf = Buffer.alloc(at.length);
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(this.segmentPath(at.seg), 'r');
      await handle.read(buf, 0, at.length, at.offset);
    } catch (err) {
      this.warn({ code: 'HISTORY_FAILED', message: `The history record of \`${at.id}\` could not be read: ${errorMessage(err)}` });
      return undefined;
    } finally {
      await handle?.close();
    }
    const entry = asEntry(decodeFrame(buf));
    if (entry?.t !== 'rec' || entry.r.id !== at.id) {
      this.stats.corruptEntries++;
      this.warn({ code: 'CORRUPT_HISTORY', message: `The history record of \`${at.id}\` in \`${this.segmentPath(at.seg)}\` no longer checks; it was skipped` });
      return undefined;
    }
    return entry.r;
  }

  /** Writes a sealed segment's index: `.tmp` and rename. Not synced: a torn or lost index is only read around. */
  async writeIndex(seg: SegmentInfo): Promise<void> {
    const index = segmentIndexOf(seg, this.index.inSegment(seg.n));
    const file = this.indexPath(seg.n);
    try {
      await fs.writeFile(`${file}.tmp`, encodeFrame(index));
      await fs.rename(`${file}.tmp`, file);
    } catch (err) {
      this.warn({ code: 'HISTORY_FAILED', message: `Writing the history index \`${file}\` failed; the segment is read instead: ${errorMessage(err)}` });
    }
  }

  /** Rewrites a sealed segment with only its live records (and its tombstones unless `dropDels`): `.tmp`, fsync, rename over. */
  async rewrite(seg: SegmentInfo, dropDels: boolean): Promise<void> {
    const file = this.segmentPath(seg.n);
    const keep: { offset: number; length: number }[] = this.index.inSegment(seg.n);
    if (!dropDels) keep.push(...seg.dels);
    keep.sort((a, b) => a.offset - b.offset);
    try {
      if (keep.length === 0) {
        await fs.rm(file, { force: true });
        await fs.rm(this.indexPath(seg.n), { force: true });
        this.segments = this.segments.filter((s) => s !== seg);
        this.stats.compactions++;
        return;
      }
      const old = await fs.readFile(file);
      const parts: Buffer[] = [];
      const offsets: number[] = [];
      let offset = 0;
      for (const s of keep) {
        offsets.push(offset);
        parts.push(old.subarray(s.offset, s.offset + s.length));
        offset += s.length;
      }
      const tmp = `${file}.tmp`;
      const handle = await fs.open(tmp, 'w');
      try {
        await handle.write(Buffer.concat(parts));
        await handle.sync();
      } finally {
        await handle.close();
      }
      // The old index describes the old bytes: gone first, so a crash never pairs it with the new ones
      // (its size check would refuse it anyway).
      await fs.rm(this.indexPath(seg.n), { force: true });
      await fs.rename(tmp, file);
      keep.forEach((s, i) => (s.offset = offsets[i] as number));
      if (dropDels) seg.dels = [];
      seg.bytes = offset;
      seg.deadBytes = 0;
      this.stats.compactions++;
      await this.writeIndex(seg);
    } catch (err) {
      // The old segment is still whole: nothing is lost, the next compaction tries again.
      this.warn({ code: 'HISTORY_FAILED', message: `Compacting the history segment \`${file}\` failed: ${errorMessage(err)}` });
    }
  }

  /** Deletes every listed segment and its index file, and unlists them. */
  async deleteAll(): Promise<void> {
    for (const seg of this.segments) {
      await fs.rm(this.indexPath(seg.n), { force: true });
      await fs.rm(this.segmentPath(seg.n), { force: true });
    }
    this.segments = [];
  }

  private async loadSegment(n: number, isLast: boolean): Promise<void> {
    const file = this.segmentPath(n);
    if (!isLast && (await this.loadIndex(n))) return;
    let buf: Buffer;
    try {
      buf = await fs.readFile(file);
    } catch (err) {
      this.stats.unreadableSegments++;
      this.warn({ code: 'CORRUPT_HISTORY', message: `The history segment \`${file}\` could not be read and was skipped: ${errorMessage(err)}` });
      // Not appended to or compacted: it is left as it is for someone to look at.
      return;
    }
    const scan = scanFrames(buf);
    const info: SegmentInfo = { n, bytes: buf.length, deadBytes: buf.length - scan.goodEnd, dels: [] };
    this.segments.push(info);
    if (scan.corrupt > 0) {
      this.stats.corruptEntries += scan.corrupt;
      this.warn({ code: 'CORRUPT_HISTORY', message: `The history segment \`${file}\` has ${scan.corrupt} damaged entries; they were skipped` });
    }
    if (scan.tornBytes > 0) {
      this.stats.tornBytes += scan.tornBytes;
      // The tail of the last segment is where a crash cuts an append: cut it off so the next append
      // starts on a line of its own. Elsewhere it is damage, reported, and compaction drops it.
      if (isLast) {
        await fs.truncate(file, scan.goodEnd);
        info.bytes = scan.goodEnd;
        info.deadBytes = 0;
      } else {
        this.warn({
          code: 'CORRUPT_HISTORY',
          message: `The history segment \`${file}\` ends in ${scan.tornBytes} bytes that are not a whole entry; they were skipped`,
        });
      }
    }
    for (const f of scan.frames) {
      const entry = asEntry(f.value);
      if (entry === undefined) {
        info.deadBytes += f.length;
        continue;
      }
      this.place(entry, info, f.offset, f.length);
    }
    // A sealed segment read whole gets its index now, so the next start reads that instead.
    if (!isLast) await this.writeIndex(info);
  }

  /** Loads a sealed segment from its index; false when there is no usable one. */
  private async loadIndex(n: number): Promise<boolean> {
    const [buf, stat] = await Promise.all([fs.readFile(this.indexPath(n)).catch(() => undefined), fs.stat(this.segmentPath(n)).catch(() => undefined)]);
    if (buf === undefined || stat === undefined) return false;
    const index = decodeFrame(buf) as SegmentIndex | undefined;
    if (index?.v !== 1 || index.bytes !== stat.size || !Array.isArray(index.entries)) return false;
    const info: SegmentInfo = { n, bytes: index.bytes, deadBytes: index.deadBytes, dels: [] };
    this.segments.push(info);
    this.stats.segmentsFromIndex++;
    for (const e of index.entries) {
      if (e.length === 3) {
        this.place({ t: 'del', ids: e[2] as string[] }, info, e[0] as number, e[1] as number);
      } else {
        this.index.add(locatedOf(e, n, this.index.nextSeq()));
      }
    }
    return true;
  }

  /** An entry at `offset` of `seg`: a tombstone is the segment's to keep (compaction), and the index's to apply. */
  private place(entry: Entry, seg: SegmentInfo, offset: number, length: number): void {
    if (entry.t === 'del') seg.dels.push({ offset, length, ids: entry.ids });
    this.index.apply(entry, seg.n, offset, length);
  }

  private segmentPath(n: number): string {
    return path.join(this.dir, `seg-${String(n).padStart(6, '0')}.log`);
  }

  private indexPath(n: number): string {
    return path.join(this.dir, `seg-${String(n).padStart(6, '0')}.idx`);
  }
}
