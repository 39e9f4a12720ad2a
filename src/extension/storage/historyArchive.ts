// Finished records that leave the workspace-state snapshot's budget are appended here, one JSON
// record per line, in `<storageUri>/history.jsonl`: workspace state stays small (CONVENTIONS 12) and
// no finished task is silently dropped. When the file passes `maxBytes` it is rotated once to
// `history.1.jsonl`, so the archive is bounded at about twice that.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import pLimit from 'p-limit';
import type { TaskRecord } from '../../core/model/model';
import type { HistoryArchive } from '../../core/ports';

export class FileHistoryArchive implements HistoryArchive {
  /** One file operation at a time, in call order (a plain FIFO limit): rotation never interleaves with an append. */
  private readonly serial = pLimit(1);
  /** Our own appends end with a newline; only a file left by a crash may not, so check it once. */
  private tailChecked = false;

  constructor(
    private readonly dir: string,
    private readonly maxBytes = 20 * 1024 * 1024,
  ) {}

  get file(): string {
    return path.join(this.dir, 'history.jsonl');
  }

  append(records: readonly TaskRecord[]): Promise<void> {
    if (!records.length) return this.serial(() => undefined);
    const text = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
    return this.serial(async () => {
      await fs.mkdir(this.dir, { recursive: true });
      const size = await fs.stat(this.file).then(
        (s) => s.size,
        () => 0,
      );
      let prefix = '';
      if (!this.tailChecked) {
        this.tailChecked = true;
        // A line cut by a crash must not swallow the first record appended after it.
        if (size > 0 && (await this.lastByte(size)) !== '\n') prefix = '\n';
      }
      if (size > 0 && size + text.length > this.maxBytes) {
        await fs.rename(this.file, path.join(this.dir, 'history.1.jsonl'));
        prefix = '';
      }
      await fs.appendFile(this.file, prefix + text);
    });
  }

  private async lastByte(size: number): Promise<string> {
    const handle = await fs.open(this.file, 'r');
    try {
      const buf = Buffer.alloc(1);
      await handle.read(buf, 0, 1, size - 1);
      return buf.toString('utf8');
    } finally {
      await handle.close();
    }
  }

  /** Archived records, oldest first; lines that do not parse are skipped. */
  read(): Promise<unknown[]> {
    return this.serial(() => this.readNow());
  }

  private async readNow(): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const name of ['history.1.jsonl', 'history.jsonl']) {
      const text = await fs.readFile(path.join(this.dir, name), 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (!line) continue;
        try {
          out.push(JSON.parse(line));
        } catch {
          // A line cut by a crash mid-write; the rest of the file is still good.
        }
      }
    }
    return out;
  }

  clear(): Promise<void> {
    return this.serial(async () => {
      await Promise.all(['history.jsonl', 'history.1.jsonl'].map((n) => fs.rm(path.join(this.dir, n), { force: true })));
    });
  }
}
