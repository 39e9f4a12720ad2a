// Pending sets (the core's PendingStore, for the state's snapshot): `pending-<n>.log` in a directory,
// the unfinished tasks beyond the snapshot's budget, one framed entry per record (recordFrame.ts)
// and an end entry with the count. Invariants:
//  - a set is written whole to `.tmp`, fsynced and renamed: it is there entirely or not at all;
//  - generations only grow (the highest on disk, or written by this process, plus one);
//  - a damaged or incomplete set is read as far as it checks and says so; a missing one says so;
//  - its records are never part of the run history (they are not finished).
// The caller runs one operation at a time (RunJournal chains them with its own).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { TaskRecord } from '../model/model';
import { encodeFrame, scanFrames } from './recordFrame';

const PENDING = /^pending-(\d{6,})\.log$/;

export class PendingSets {
  private generation: number | undefined;

  constructor(private readonly dir: string) {}

  async write(records: readonly TaskRecord[]): Promise<number> {
    await fs.mkdir(this.dir, { recursive: true });
    const generation = (await this.lastGeneration()) + 1;
    const file = this.pathOf(generation);
    const frames = records.map((r) => encodeFrame({ t: 'pending', r }));
    frames.push(encodeFrame({ t: 'end', count: records.length }));
    const tmp = `${file}.tmp`;
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.write(Buffer.concat(frames));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
    this.generation = generation;
    return generation;
  }

  async read(generation: number): Promise<{ records: unknown[]; problem?: string }> {
    const file = this.pathOf(generation);
    let buf: Buffer;
    try {
      buf = await fs.readFile(file);
    } catch (err) {
      // Missing: gone for good, and said so; anything else may pass, and is the caller's to hold on.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problem: `\`${file}\` is missing` };
      throw err;
    }
    const scan = scanFrames(buf);
    const records: unknown[] = [];
    let end: number | undefined;
    for (const f of scan.frames) {
      const e = f.value as { t?: unknown; r?: unknown; count?: unknown } | null;
      if (e?.t === 'pending') records.push(e.r);
      else if (e?.t === 'end' && typeof e.count === 'number') end = e.count;
    }
    const damaged = scan.corrupt + (scan.tornBytes > 0 ? 1 : 0);
    if (damaged === 0 && end === records.length) return { records };
    return { records, problem: `\`${file}\` is damaged: ${records.length} records read${end === undefined ? ', its end is missing' : ` of ${end}`}` };
  }

  /** Removes every set (and `.tmp` left by a crash) but generation `keep`. */
  async prune(keep: number | undefined): Promise<void> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      const n = PENDING.exec(name)?.[1] ?? /^pending-(\d{6,})\.log\.tmp$/.exec(name)?.[1];
      if (n !== undefined && Number(n) !== keep) await fs.rm(path.join(this.dir, name), { force: true });
    }
  }

  /** The highest generation on disk (or written by this process), 0 for none. */
  private async lastGeneration(): Promise<number> {
    if (this.generation === undefined) {
      const names = await fs.readdir(this.dir).catch(() => [] as string[]);
      this.generation = Math.max(0, ...names.map((n) => Number(PENDING.exec(n)?.[1] ?? 0)));
    }
    return this.generation;
  }

  private pathOf(n: number): string {
    return path.join(this.dir, `pending-${String(n).padStart(6, '0')}.log`);
  }
}
