// The input files of cached tasks, expanded from globs and hashed, with a stat index so that an
// unchanged file is not read again: git's index, for the same reason (reading 10,000 files costs
// far more than stat-ing them).
//
// Invariants:
//  - An index entry holds a file's (size, mtimeMs, ctimeMs, ino) when its content was hashed, and
//    when (hashedAt, this process's clock taken before the stat). A file is trusted without reading
//    only when all four still match AND it was last modified more than racyWindowMs before hashedAt.
//    A file modified within one mtime tick of being hashed could change again in the same tick
//    without its stat changing ("racy git"): such an entry is re-hashed until it is old enough. The
//    default window (2 s) covers the coarsest common granularity (FAT's 2 s, HFS+'s 1 s).
//  - The stat is taken before the read, so a change during the read leaves a stat that no longer
//    matches, and the file is read again next time.
//  - The index lives in memory and in `indexFile` (written atomically by save(); a missing or
//    unreadable index file is an empty index, never an error: it only saves work). Entries not seen
//    for RETENTION_MS are dropped on save. Two processes saving at once: the last rename wins, and
//    the other's entries are merely re-hashed later.
//  - The folder holding `indexFile` (the cache) is never an input; globs are expanded by
//    cacheGlobs.ts (relative only, no `..`, symlinks never followed).
//  - A file that cannot be stat-ed or read makes `unreadable` name it and why; the caller then runs
//    the task uncached. Nothing is thrown for it.
import { lstatSync, type Stats } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { errorMessage } from '../model/errors';
import { isPlainObject } from '../model/guards';
import { writeFileAtomic } from './atomicFile';
import { expandCacheGlobs } from './cacheGlobs';
import { sha256OfFile, type HashFs } from './fileHash';

export const INDEX_FORMAT = 'orchestrator-input-index/2';
export const DEFAULT_RACY_WINDOW_MS = 2000;
/** Entries of files not seen by any hashFiles for this long are dropped on save. */
export const RETENTION_MS = 14 * 24 * 60 * 60 * 1000;
const SEEN_REFRESH_MS = 24 * 60 * 60 * 1000;
/** Stats taken in one turn of the event loop. */
const STAT_SLICE = 500;
/** Reads in flight at once: enough to keep the thread pool busy without a flood of handles. */
const PARALLEL = 64;

/** The file operations the index uses: node:fs/promises by default, a counting wrapper in tests. */
export interface InputIndexFs extends HashFs {
  lstatSync(path: string): Stats;
}

export interface InputIndexOptions {
  fs?: InputIndexFs;
  /** Wall clock (ms), compared with files' mtimes. */
  now?: () => number;
  racyWindowMs?: number;
}

export interface HashedInputs {
  /** [path relative to the root with `/` separators, sha256 hex], sorted by path. */
  files: [path: string, sha256: string][];
  /** `<path>: <reason>` for the first input that could not be read (and how many more), when any. */
  unreadable?: string;
}

interface IndexEntry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
  hashedAt: number;
  seenAt: number;
}

/**
 * The index file, in columns: JSON parses a few long arrays and one long string much faster than
 * thousands of small arrays, and the index is loaded by every run. Entry i is paths[i], numbers
 * [i * 6, i * 6 + 6) (size, mtimeMs, ctimeMs, ino, hashedAt, seenAt) and sha256 [i * 64, i * 64 + 64).
 */
interface StoredIndex {
  format: typeof INDEX_FORMAT;
  paths: string[];
  numbers: number[];
  sha256: string;
}

const FIELDS = 6;
const HEX = /^[0-9a-f]*$/;

/** The entries of a stored index, or undefined when it is not one (the whole file is then ignored). */
function parseIndex(parsed: unknown): Map<string, IndexEntry> | undefined {
  if (!isPlainObject(parsed) || parsed.format !== INDEX_FORMAT) return undefined;
  const { paths, numbers, sha256 } = parsed;
  if (!Array.isArray(paths) || !Array.isArray(numbers) || typeof sha256 !== 'string') return undefined;
  const n = paths.length;
  if (numbers.length !== n * FIELDS || sha256.length !== n * 64 || !HEX.test(sha256)) return undefined;
  const out = new Map<string, IndexEntry>();
  for (let i = 0; i < n; i++) {
    const path: unknown = paths[i];
    const at = i * FIELDS;
    for (let f = at; f < at + FIELDS; f++) {
      const v: unknown = numbers[f];
      if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
    }
    if (typeof path !== 'string') return undefined;
    const num = numbers as number[];
    out.set(path, {
      size: num[at]!,
      mtimeMs: num[at + 1]!,
      ctimeMs: num[at + 2]!,
      ino: num[at + 3]!,
      hashedAt: num[at + 4]!,
      seenAt: num[at + 5]!,
      sha256: sha256.slice(i * 64, i * 64 + 64),
    });
  }
  return out;
}

const nodeFs: InputIndexFs = { lstatSync: (p) => lstatSync(p), readFile: (p) => readFile(p), open: (p, flags) => open(p, flags) };

/** Runs `fn` over `items` with at most `limit` in flight; resolves when all are done. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class InputIndex {
  private readonly fs: InputIndexFs;
  private readonly now: () => number;
  private readonly racyWindowMs: number;
  /** By absolute path. */
  private readonly entries = new Map<string, IndexEntry>();
  private loaded: Promise<void> | undefined;
  private dirty = false;

  constructor(
    private readonly indexFile: string,
    options: InputIndexOptions = {},
  ) {
    this.fs = options.fs ?? nodeFs;
    this.now = options.now ?? Date.now;
    this.racyWindowMs = options.racyWindowMs ?? DEFAULT_RACY_WINDOW_MS;
  }

  /**
   * The files under `root` (absolute) matched by `globs`, each with its content's sha256. Throws a
   * ValidationError for a refused glob (not a string, absolute, with `..`), before touching anything.
   */
  async hashFiles(cwd: string, globs: readonly string[]): Promise<HashedInputs> {
    // Absolute, so the index's keys mean the same file in every process whatever its cwd.
    const root = resolve(cwd);
    const paths = await expandCacheGlobs(root, globs, [dirname(this.indexFile)]);
    await this.load();
    const hashes = new Map<string, string>();
    const problems: string[] = [];
    const toRead: { rel: string; path: string; st: Stats; at: number }[] = [];
    const failed = (rel: string, err: unknown): void => void problems.push(`${rel}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
    // Stats are synchronous, in slices with a turn of the event loop between them: 10,000 lstat
    // calls through the thread pool cost several times more than in line, and a slice blocks for
    // a few milliseconds only. Reads, which can be long, stay asynchronous.
    for (let from = 0; from < paths.length; from += STAT_SLICE) {
      if (from > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const rel of paths.slice(from, from + STAT_SLICE)) {
        const path = join(root, rel);
        const at = this.now();
        let st: Stats;
        try {
          st = this.fs.lstatSync(path);
        } catch (err) {
          failed(rel, err);
          continue;
        }
        // Between the glob and the stat a file can become a link or a folder: like the glob, skip it.
        if (!st.isFile()) continue;
        const sha = this.trusted(path, st, at);
        if (sha !== undefined) hashes.set(rel, sha);
        else toRead.push({ rel, path, st, at });
      }
    }
    await forEachLimited(toRead, PARALLEL, async ({ rel, path, st, at }) => {
      try {
        const sha256 = await sha256OfFile(this.fs, path, st.size);
        this.entries.set(path, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256, hashedAt: at, seenAt: at });
        this.dirty = true;
        hashes.set(rel, sha256);
      } catch (err) {
        failed(rel, err);
      }
    });
    // `paths` is sorted; the map's order is completion order, so the list is rebuilt from `paths`.
    const files = paths.filter((p) => hashes.has(p)).map((p): [string, string] => [p, hashes.get(p) as string]);
    if (problems.length === 0) return { files };
    problems.sort();
    return { files, unreadable: problems.length === 1 ? problems[0] : `${problems[0]} (and ${problems.length - 1} more)` };
  }

  /** Writes the index to its file (atomically) if anything changed since the last save. */
  async save(): Promise<void> {
    await this.load();
    if (!this.dirty) return;
    this.dirty = false;
    const oldest = this.now() - RETENTION_MS;
    const out: StoredIndex = { format: INDEX_FORMAT, paths: [], numbers: [], sha256: '' };
    const hashes: string[] = [];
    for (const [path, e] of this.entries) {
      if (e.seenAt < oldest) {
        this.entries.delete(path);
        continue;
      }
      out.paths.push(path);
      out.numbers.push(e.size, e.mtimeMs, e.ctimeMs, e.ino, e.hashedAt, e.seenAt);
      hashes.push(e.sha256);
    }
    out.sha256 = hashes.join('');
    try {
      await mkdir(dirname(this.indexFile), { recursive: true });
      await writeFileAtomic(this.indexFile, JSON.stringify(out));
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }

  /** The indexed hash of `path` when its stat `st`, taken at `at`, vouches for it; else undefined. */
  private trusted(path: string, st: Stats, at: number): string | undefined {
    const known = this.entries.get(path);
    if (
      !known ||
      known.size !== st.size ||
      known.mtimeMs !== st.mtimeMs ||
      known.ctimeMs !== st.ctimeMs ||
      known.ino !== st.ino ||
      Math.max(known.mtimeMs, known.ctimeMs) >= known.hashedAt - this.racyWindowMs
    ) {
      return undefined;
    }
    // seenAt only feeds retention: refreshed daily, so a warm run leaves the index clean.
    if (at - known.seenAt > SEEN_REFRESH_MS) {
      known.seenAt = at;
      this.dirty = true;
    }
    return known.sha256;
  }

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(this.indexFile, 'utf8'));
      } catch {
        return; // missing or unreadable: an empty index, every file is hashed
      }
      const stored = parseIndex(parsed);
      // An entry hashed in this process wins over the file's older one.
      for (const [path, e] of stored ?? []) if (!this.entries.has(path)) this.entries.set(path, e);
    })();
    return this.loaded;
  }
}
