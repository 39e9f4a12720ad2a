// The cache's store: a content-addressed folder shared by every process of a workspace (the
// extension, the CLI).
//
// Layout under `dir`:
//   blobs/ab/abcdef…        an output file's content, named by its sha256
//   entries/<key>.json      { format, sha256, entry }: `entry` is the CacheEntry as a JSON string and
//                           `sha256` its hash, so a torn or altered entry is detected before use
//   outcomes/<key>.completed, outcomes/<key>.failed   empty markers: the key's outcomes seen so far
//
// Invariants:
//  - Every file is written to a temporary file in its final folder and renamed into place, so a
//    reader sees a whole file or none. Two processes writing the same key or blob at once each
//    rename a complete file with the same content; the last rename wins. Outcome markers are
//    created, never rewritten, so concurrent noteOutcome calls cannot lose one another's outcome.
//  - Nothing stored is trusted: get() checks the entry's own hash and shape and every blob's hash.
//    A corrupt or missing piece makes the key a miss, reported once on onWarn naming the entry, and
//    the entry (and a corrupt blob) is removed. restore() checks each blob's hash again as it copies,
//    so a blob corrupted between get and restore is never written out.
//  - A cache never writes outside its root: put() refuses output globs that are absolute or contain
//    `..` (and never follows a symbolic link while expanding them); restore() refuses an entry path
//    that leaves the root, and a folder on the way that is a link leading out of it, before it
//    writes anything. A restore writes every file to a temporary beside its target first and renames
//    them only once all are verified, so a failed restore leaves the outputs as they were.
//  - Size: blobs + entries (outcome markers are empty). After a put, when the store may exceed
//    maxBytes (this process's estimate: its last measure, at most REMEASURE_MS old, plus what it
//    has added since), it is measured and the least recently used entries are removed (last use =
//    the entry file's mtime, set from `now` on put and on every get) with the blobs no remaining
//    entry references, until it fits. Blobs of this process's puts in flight are never removed. A
//    blob another process is about to reference can be: that entry is then a miss, never a wrong
//    restore.
import type { Stats } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, open, readdir, readFile, realpath, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { describeValue, errorMessage } from '../model/errors';
import { fail } from '../model/fieldChecks';
import { isPlainObject } from '../model/guards';
import type { TaskResult } from '../model/model';
import { TEMP_SUFFIX, tempPathFor, writeFileAtomic } from './atomicFile';
import { CacheError } from './cacheErrors';
import { checkCacheGlobs, expandCacheGlobs } from './cacheGlobs';
import { sha256Hex, sha256OfFile, type HashFs } from './fileHash';

export interface CacheOutput {
  /** Relative to the root the entry was stored from, `/` separators. */
  path: string;
  sha256: string;
  /** Permission bits (e.g. 0o755), restored exactly. */
  mode: number;
}

export interface CacheEntry {
  key: string;
  /** The task's output log (its tail), replayed on a hit. */
  output: string;
  result: TaskResult;
  outputs: CacheOutput[];
  /** How long the run that made the entry took: the time a hit saves. */
  durationMs: number;
  createdAt: number;
}

export interface CacheStoreOptions {
  /** The size cap in bytes; default DEFAULT_MAX_BYTES. */
  maxBytes?: number;
  /** Wall clock (ms): the last-use time written to entries, which orders eviction. */
  now?: () => number;
  onWarn?: (message: string) => void;
}

export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;
export const ENTRY_FORMAT = 'orchestrator-cache-entry/1';
/** A temporary file older than this (by the real clock) is a crash's leftover, removed when the store is measured. */
const STALE_TEMP_MS = 60 * 60 * 1000;
/** How long an estimate of the store's size is trusted before it is measured again. */
const REMEASURE_MS = 60 * 1000;
/** Keys are file names: cacheKey's sha256 hex, or any short name of letters, digits, `_` and `-`. */
const KEY = /^[A-Za-z0-9_-]{1,128}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const STATUSES = ['completed', 'failed'] as const;

const nodeHashFs: HashFs = { readFile: (p) => readFile(p), open: (p, flags) => open(p, flags) };

const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';
const ignoreMissing = (err: unknown): void => {
  if (!isMissing(err)) throw err;
};

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || !KEY.test(key)) fail('key', 'a cache key (letters, digits, `_` and `-`, at most 128)', key);
  return key;
}

/** A stored output path: relative, `/`-separated, no empty, `.` or `..` segment. */
const isSafeRelative = (rel: string): boolean =>
  rel !== '' &&
  !rel.includes('\0') &&
  !rel.includes('\\') &&
  !/^[A-Za-z]:/.test(rel) &&
  rel.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');

/** `rel` resolved under `root`, or undefined when it is not a safe relative path or leaves `root`. */
function inside(root: string, rel: string): string | undefined {
  if (!isSafeRelative(rel)) return undefined;
  const abs = resolve(root, rel);
  const back = relative(root, abs);
  return back === '' || back === '..' || back.startsWith(`..${sep}`) || isAbsolute(back) ? undefined : abs;
}

const within = (root: string, path: string): boolean => {
  const back = relative(root, path);
  return back === '' || !(back === '..' || back.startsWith(`..${sep}`) || isAbsolute(back));
};

/** The entry stored in `raw` for `key`, or why it cannot be used. */
function parseStoredEntry(raw: string, key: string): CacheEntry | string {
  let stored: unknown;
  try {
    stored = JSON.parse(raw);
  } catch {
    return 'not valid JSON';
  }
  if (!isPlainObject(stored) || stored.format !== ENTRY_FORMAT || typeof stored.entry !== 'string' || typeof stored.sha256 !== 'string') {
    return `not a ${ENTRY_FORMAT} entry`;
  }
  if (sha256Hex(stored.entry) !== stored.sha256) return 'its content does not match its hash';
  let e: unknown;
  try {
    e = JSON.parse(stored.entry);
  } catch {
    return 'not valid JSON';
  }
  if (!isPlainObject(e)) return 'not an object';
  if (e.key !== key) return `it holds key ${describeValue(e.key)}`;
  if (typeof e.output !== 'string') return 'no output text';
  if (!isPlainObject(e.result)) return 'no result';
  if (typeof e.durationMs !== 'number' || !Number.isFinite(e.durationMs) || e.durationMs < 0) return 'no duration';
  if (typeof e.createdAt !== 'number' || !Number.isFinite(e.createdAt)) return 'no creation time';
  if (!Array.isArray(e.outputs)) return 'no output list';
  for (const o of e.outputs as unknown[]) {
    if (!isPlainObject(o) || typeof o.path !== 'string' || typeof o.sha256 !== 'string' || !SHA256_HEX.test(o.sha256)) return 'a malformed output';
    if (typeof o.mode !== 'number' || !Number.isInteger(o.mode) || o.mode < 0 || o.mode > 0o7777) return `a malformed mode for ${o.path}`;
  }
  return e as unknown as CacheEntry;
}

interface Scan {
  entries: { key: string; file: string; size: number; mtimeMs: number }[];
  blobs: Map<string, { file: string; size: number }>;
  outcomes: { key: string; file: string }[];
  total: number;
}

export class CacheStore {
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly onWarn: (message: string) => void;
  /** Keys already reported corrupt by this process: each is reported once. */
  private readonly warned = new Set<string>();
  /** Blobs written by this process's puts not yet referenced by their entry: eviction spares them. */
  private readonly pendingBlobs = new Map<string, number>();
  /** The store's size as last measured plus what this process has added since; undefined until measured. */
  private estimate: number | undefined;
  /** When (real clock) the estimate was last measured. */
  private measuredAt = 0;
  /** One eviction at a time in this process. */
  private evicting: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    options: CacheStoreOptions = {},
  ) {
    if (options.maxBytes !== undefined && !(Number.isFinite(options.maxBytes) && options.maxBytes > 0)) {
      fail('maxBytes', 'a positive number of bytes', options.maxBytes);
    }
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.now = options.now ?? Date.now;
    this.onWarn = options.onWarn ?? (() => undefined);
  }

  /** The entry, verified (its own hash, its shape, every blob's hash); undefined for a miss or a corrupt entry. */
  async get(key: string): Promise<CacheEntry | undefined> {
    checkKey(key);
    const file = this.entryFile(key);
    let raw: string;
    try {
      raw = await readFile(file, 'utf8');
    } catch (err) {
      if (!isMissing(err)) this.warnOnce(key, `Cache entry \`${key}\` cannot be read (${errorMessage(err)}): the task runs instead`);
      return undefined;
    }
    const entry = parseStoredEntry(raw, key);
    if (typeof entry === 'string') return this.corrupt(key, entry);
    for (const o of entry.outputs) {
      if (!isSafeRelative(o.path)) return this.corrupt(key, `output \`${o.path}\` leaves its folder`);
      const blob = this.blobFile(o.sha256);
      let actual: string;
      try {
        actual = await sha256OfFile(nodeHashFs, blob, (await stat(blob)).size);
      } catch (err) {
        return this.corrupt(
          key,
          isMissing(err) ? `the content of \`${o.path}\` is missing` : `the content of \`${o.path}\` cannot be read: ${errorMessage(err)}`,
        );
      }
      if (actual !== o.sha256) {
        await unlink(blob).catch(ignoreMissing);
        return this.corrupt(key, `the content of \`${o.path}\` does not match its hash`);
      }
    }
    await this.touch(file);
    return entry;
  }

  /** Restores the entry's output files under `root`, atomically per file and all or none on a failure. */
  async restore(entry: CacheEntry, root: string): Promise<void> {
    const realRoot = await realpath(root);
    const targets = entry.outputs.map((o) => {
      const target = inside(root, o.path);
      if (target === undefined)
        throw new CacheError('CACHE_OUTSIDE_ROOT', `Cache entry \`${entry.key}\` holds \`${o.path}\`, which leaves \`${root}\`: nothing restored`);
      return { ...o, target };
    });
    for (const t of targets) await this.checkFolderInside(realRoot, dirname(t.target), entry.key);
    const temps: { temp: string; target: string }[] = [];
    try {
      for (const t of targets) {
        await mkdir(dirname(t.target), { recursive: true });
        const temp = tempPathFor(t.target);
        temps.push({ temp, target: t.target });
        await copyFile(this.blobFile(t.sha256), temp);
        const st = await stat(temp);
        if ((await sha256OfFile(nodeHashFs, temp, st.size)) !== t.sha256) {
          await this.corrupt(entry.key, `the content of \`${t.path}\` does not match its hash`);
          await unlink(this.blobFile(t.sha256)).catch(ignoreMissing);
          throw new CacheError('CACHE_CORRUPT', `Cache entry \`${entry.key}\`: the content of \`${t.path}\` does not match its hash: nothing restored`);
        }
        await chmod(temp, t.mode);
      }
      for (const { temp, target } of temps) await rename(temp, target);
    } catch (err) {
      await Promise.all(temps.map(({ temp }) => unlink(temp).catch(() => undefined)));
      throw err;
    }
  }

  /** Stores the files under `root` matching `outputGlobs` and the entry; then evicts beyond maxBytes. */
  async put(key: string, root: string, outputGlobs: readonly string[], data: Omit<CacheEntry, 'key' | 'outputs'>): Promise<void> {
    checkKey(key);
    checkCacheGlobs('outputs', outputGlobs);
    if (typeof data.output !== 'string') fail('output', 'a string', data.output);
    if (!(Number.isFinite(data.durationMs) && data.durationMs >= 0)) fail('durationMs', 'a non-negative number', data.durationMs);
    if (!Number.isFinite(data.createdAt)) fail('createdAt', 'a finite number', data.createdAt);
    if (!isPlainObject(data.result)) fail('result', 'a plain object', data.result);
    const paths = await expandCacheGlobs(root, outputGlobs, [this.dir]);
    const outputs: CacheOutput[] = [];
    let added = 0;
    try {
      for (const path of paths) {
        const { sha256, mode, size } = await this.storeBlob(join(root, path));
        outputs.push({ path, sha256, mode });
        added += size;
      }
      const entry: CacheEntry = { key, output: data.output, result: data.result, outputs, durationMs: data.durationMs, createdAt: data.createdAt };
      let body: string;
      try {
        body = JSON.stringify(entry);
      } catch (err) {
        fail('result', `JSON-serialisable (${errorMessage(err)})`, data.result);
      }
      const file = this.entryFile(key);
      await mkdir(dirname(file), { recursive: true });
      const stored = JSON.stringify({ format: ENTRY_FORMAT, sha256: sha256Hex(body), entry: body });
      await writeFileAtomic(file, stored);
      await this.touch(file);
      added += Buffer.byteLength(stored);
      this.warned.delete(key);
    } finally {
      for (const o of outputs) this.release(o.sha256);
    }
    if (this.estimate !== undefined) this.estimate += added;
    // Other processes' additions are not in the estimate: it is measured again once it is stale.
    const stale = Date.now() - this.measuredAt > REMEASURE_MS;
    if (this.estimate === undefined || stale || this.estimate > this.maxBytes) await this.evict();
  }

  /** Records an outcome for the key; true when the key has now both completed and failed (flaky). */
  async noteOutcome(key: string, status: 'completed' | 'failed'): Promise<boolean> {
    checkKey(key);
    if (!STATUSES.includes(status)) fail('status', '`completed` or `failed`', status);
    const folder = join(this.dir, 'outcomes');
    await mkdir(folder, { recursive: true });
    const marker = join(folder, `${key}.${status}`);
    await writeFile(marker, '');
    await this.touch(marker);
    const other = join(folder, `${key}.${status === 'completed' ? 'failed' : 'completed'}`);
    return lstat(other).then(
      () => true,
      (err: unknown) => (ignoreMissing(err), false),
    );
  }

  /** The bytes the store holds: blobs and entries. */
  async sizeBytes(): Promise<number> {
    return (await this.scan()).total;
  }

  private entryFile(key: string): string {
    return join(this.dir, 'entries', `${key}.json`);
  }

  private blobFile(sha256: string): string {
    return join(this.dir, 'blobs', sha256.slice(0, 2), sha256);
  }

  /**
   * Sets a file's mtime (its last use) from `now`. Best effort: a file removed meanwhile, or a store
   * on a read-only disk, only makes the eviction order less exact.
   */
  private async touch(file: string): Promise<void> {
    const t = this.now() / 1000;
    await utimes(file, t, t).catch(() => undefined);
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.onWarn(message);
  }

  private async corrupt(key: string, reason: string): Promise<undefined> {
    this.warnOnce(key, `Cache entry \`${key}\` is corrupt (${reason}): removed, the task runs instead`);
    await unlink(this.entryFile(key)).catch(ignoreMissing);
    return undefined;
  }

  /** Throws unless the nearest existing folder on the way to `folder` is inside `realRoot` once links are resolved. */
  private async checkFolderInside(realRoot: string, folder: string, key: string): Promise<void> {
    let at = folder;
    for (;;) {
      try {
        const real = await realpath(at);
        if (within(realRoot, real)) return;
        throw new CacheError('CACHE_OUTSIDE_ROOT', `Cache entry \`${key}\`: \`${at}\` leads out of \`${realRoot}\` (a link): nothing restored`);
      } catch (err) {
        if (!isMissing(err) || dirname(at) === at) throw err;
        at = dirname(at);
      }
    }
  }

  /** Copies `file` into a blob named by its content's hash; the blob stays pending until release(). */
  private async storeBlob(file: string): Promise<{ sha256: string; mode: number; size: number }> {
    const st = await stat(file);
    const folder = join(this.dir, 'blobs');
    await mkdir(folder, { recursive: true });
    // Copied first and hashed as copied, so the hash is of exactly the bytes kept even if the file changes meanwhile.
    const temp = tempPathFor(join(folder, 'incoming'));
    try {
      await copyFile(file, temp);
      const size = (await stat(temp)).size;
      const sha256 = await sha256OfFile(nodeHashFs, temp, size);
      this.pendingBlobs.set(sha256, (this.pendingBlobs.get(sha256) ?? 0) + 1);
      const target = this.blobFile(sha256);
      await mkdir(dirname(target), { recursive: true });
      // Renamed even over an existing blob: the content is the same, and a damaged copy is replaced.
      await rename(temp, target);
      return { sha256, mode: st.mode & 0o7777, size };
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }

  private release(sha256: string): void {
    const n = (this.pendingBlobs.get(sha256) ?? 1) - 1;
    if (n <= 0) this.pendingBlobs.delete(sha256);
    else this.pendingBlobs.set(sha256, n);
  }

  /** Every entry, blob and outcome marker, with sizes; removes temporary files left by a crash. */
  private async scan(): Promise<Scan> {
    const out: Scan = { entries: [], blobs: new Map(), outcomes: [], total: 0 };
    const list = (folder: string): Promise<string[]> => readdir(folder).catch((err: unknown) => (ignoreMissing(err), []));
    const statOf = (file: string): Promise<Stats | undefined> => lstat(file).catch((err: unknown) => (ignoreMissing(err), undefined));
    const staleTemp = async (file: string, st: Stats): Promise<boolean> => {
      if (!file.endsWith(TEMP_SUFFIX)) return false;
      if (Date.now() - st.mtimeMs > STALE_TEMP_MS) await unlink(file).catch(ignoreMissing);
      return true;
    };
    const entriesDir = join(this.dir, 'entries');
    for (const name of await list(entriesDir)) {
      const file = join(entriesDir, name);
      const st = await statOf(file);
      if (!st || (await staleTemp(file, st)) || !name.endsWith('.json')) continue;
      out.entries.push({ key: name.slice(0, -'.json'.length), file, size: st.size, mtimeMs: st.mtimeMs });
      out.total += st.size;
    }
    const blobsDir = join(this.dir, 'blobs');
    for (const sub of await list(blobsDir)) {
      const folder = join(blobsDir, sub);
      const subSt = await statOf(folder);
      if (!subSt) continue;
      if (!subSt.isDirectory()) {
        await staleTemp(folder, subSt);
        continue;
      }
      for (const name of await list(folder)) {
        const file = join(folder, name);
        const st = await statOf(file);
        if (!st || (await staleTemp(file, st)) || !SHA256_HEX.test(name)) continue;
        out.blobs.set(name, { file, size: st.size });
        out.total += st.size;
      }
    }
    const outcomesDir = join(this.dir, 'outcomes');
    for (const name of await list(outcomesDir)) {
      const dot = name.lastIndexOf('.');
      if (dot > 0) out.outcomes.push({ key: name.slice(0, dot), file: join(outcomesDir, name) });
    }
    return out;
  }

  private evict(): Promise<void> {
    const run = this.evicting.then(() => this.evictNow());
    this.evicting = run.catch(() => undefined);
    return run;
  }

  private async evictNow(): Promise<void> {
    const s = await this.scan();
    this.measuredAt = Date.now();
    let total = s.total;
    if (total <= this.maxBytes) {
      this.estimate = total;
      return;
    }
    const refs = new Map<string, number>();
    const outputsOf = new Map<string, string[]>();
    for (const e of s.entries) {
      const raw = await readFile(e.file, 'utf8').catch(() => '');
      const entry = parseStoredEntry(raw, e.key);
      const shas = typeof entry === 'string' ? [] : entry.outputs.map((o) => o.sha256);
      outputsOf.set(e.key, shas);
      for (const sha of shas) refs.set(sha, (refs.get(sha) ?? 0) + 1);
    }
    const dropBlob = async (sha: string): Promise<void> => {
      const blob = s.blobs.get(sha);
      if (!blob || (refs.get(sha) ?? 0) > 0 || this.pendingBlobs.has(sha)) return;
      s.blobs.delete(sha);
      await unlink(blob.file).catch(ignoreMissing);
      total -= blob.size;
    };
    for (const sha of [...s.blobs.keys()]) await dropBlob(sha);
    const lru = [...s.entries].sort((a, b) => a.mtimeMs - b.mtimeMs || (a.key < b.key ? -1 : 1));
    const evicted = new Set<string>();
    for (const e of lru) {
      if (total <= this.maxBytes) break;
      await unlink(e.file).catch(ignoreMissing);
      total -= e.size;
      evicted.add(e.key);
      for (const sha of outputsOf.get(e.key) ?? []) {
        refs.set(sha, (refs.get(sha) ?? 1) - 1);
        await dropBlob(sha);
      }
    }
    for (const o of s.outcomes) if (evicted.has(o.key)) await unlink(o.file).catch(ignoreMissing);
    this.estimate = total;
  }
}
