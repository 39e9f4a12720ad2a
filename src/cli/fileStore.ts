// The CLI's Store (the core's port, src/core/ports.ts): one JSON object in one file, key → value.
//
// Invariants:
// - What is on disk is always a complete JSON object written by one write: each write goes to a temp
//   file in the same directory (`<file>.tmp-<pid>-<random>`), is fsynced, renamed over the file, and
//   the directory is fsynced. A crash at any moment leaves the previous object or the new one, never
//   a mix; a failed write removes its temp file, a successful one leaves none.
// - An update's promise resolves only after a write holding it reached the disk, and rejects (with a
//   StateFileError naming the file and the OS error) when that write failed. Memory is always ahead
//   of or equal to the disk: a failed update stays in memory and goes out with the next write.
// - Writes never overlap: one is in flight at a time, and the updates that arrive meanwhile are
//   written together by the next one (coalesced), from the state as it is when that write starts.
// - One process at a time: `<file>.lock`, created with O_EXCL, holds the owner's pid. A lock whose
//   pid is alive refuses `open`; a lock whose pid is dead, or whose content is not a pid, is stale
//   and taken over. The lock goes on `close()`, or on process exit when close was not called.
// - A file that is not a JSON object is never thrown away and never fatal: it is renamed aside to
//   `<file>.corrupt-<ISO time without colons>`, the store starts empty and `warnings` says so.
//   A file that exists but cannot be read (EACCES, EISDIR) is fatal: `open` rejects.
// - `get` returns a copy: values are held as their JSON text, so nothing a caller holds aliases them.
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import { fieldError } from '../core/model/errors';
import type { Store } from '../core/ports';

export type StateFileErrorCode =
  /** Another live process holds the file's lock. */
  | 'STATE_FILE_IN_USE'
  /** The file exists but could not be read, or a corrupt file could not be kept aside. */
  | 'STATE_FILE_UNREADABLE'
  /** The lock file could not be created or read for a reason other than another owner. */
  | 'STATE_FILE_LOCK_FAILED'
  /** A write did not reach the disk. */
  | 'STATE_FILE_WRITE_FAILED'
  /** An update after `close()`. */
  | 'STATE_FILE_CLOSED';

export class StateFileError extends Error {
  constructor(
    readonly code: StateFileErrorCode,
    /** The state file concerned. */
    readonly file: string,
    message: string,
    /** What the OS said, when it said something. */
    readonly osError?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The file operations the store performs. A test seam: production passes nothing. */
export type FileStoreFs = Pick<typeof fsp, 'open' | 'readFile' | 'rename' | 'rm' | 'mkdir'>;

export interface FileStoreOptions {
  /** Replaces some of the file operations (tests count or fail them). */
  fs?: Partial<FileStoreFs>;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/** Lock files this process holds, so an exit without `close()` still removes them. */
const heldLocks = new Map<string, string>();

function releaseHeldLocksSync(): void {
  for (const [lockPath, content] of heldLocks) {
    try {
      if (readFileSync(lockPath, 'utf8') === content) unlinkSync(lockPath);
    } catch {
      // Exiting: nothing left to tell. A lock left behind names a dead pid and is taken over.
    }
  }
  heldLocks.clear();
}

function holdLock(lockPath: string, content: string): void {
  if (heldLocks.size === 0) process.once('exit', releaseHeldLocksSync);
  heldLocks.set(lockPath, content);
}

function forgetLock(lockPath: string): void {
  heldLocks.delete(lockPath);
  if (heldLocks.size === 0) process.removeListener('exit', releaseHeldLocksSync);
}

export class FileStore implements Store {
  /** Problems found at open that did not stop it (a corrupt file kept aside), one line each. */
  readonly warnings: string[] = [];

  private readonly data = new Map<string, string>();
  /** Updates not yet taken by a write. */
  private pending: Waiter[] = [];
  /** The write loop, while one runs. */
  private flushing: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    /** The state file, as given to `open`. */
    readonly file: string,
    private readonly fs: FileStoreFs,
    private readonly lockPath: string,
    private readonly lockContent: string,
  ) {}

  /**
   * Takes the file's lock and reads the file. Rejects with a StateFileError when another live process
   * holds the lock (`STATE_FILE_IN_USE`) or the file exists but cannot be read.
   */
  static async open(file: string, options: FileStoreOptions = {}): Promise<FileStore> {
    const fs: FileStoreFs = { ...fsp, ...options.fs };
    // Absolute, so that one file opened under two spellings is one lock to this process too.
    const lockPath = path.resolve(`${file}.lock`);
    // The lock lives next to the file, so the directory is needed from the start.
    try {
      await fs.mkdir(path.dirname(file), { recursive: true });
    } catch (err) {
      throw new StateFileError('STATE_FILE_LOCK_FAILED', file, `Cannot create the directory of the state file ${file}: ${osMessage(err)}`, err);
    }
    const lockContent = await acquireLock(fs, file, lockPath);
    const store = new FileStore(file, fs, lockPath, lockContent);
    try {
      await store.load();
    } catch (err) {
      await store.releaseLock().catch(() => undefined);
      throw err;
    }
    return store;
  }

  keys(): readonly string[] {
    return [...this.data.keys()];
  }

  get<T>(key: string): T | undefined {
    const raw = this.data.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  /** Resolves once a write holding this update is on disk; `undefined` forgets the key. */
  update(key: string, value: unknown): Promise<void> {
    if (this.closing) {
      return Promise.reject(new StateFileError('STATE_FILE_CLOSED', this.file, `Cannot update \`${key}\`: the state file ${this.file} is closed`));
    }
    let raw: string | undefined;
    if (value !== undefined) {
      try {
        raw = JSON.stringify(value);
      } catch {
        raw = undefined;
      }
      // A function, a symbol, a cycle or a BigInt has no JSON form; refusing it keeps what was there.
      if (raw === undefined) return Promise.reject(fieldError(key, 'a JSON value', value));
    }
    if (raw === undefined) this.data.delete(key);
    else this.data.set(key, raw);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Waits for pending writes, then removes the lock. Later updates reject. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.flushing;
      await this.releaseLock();
    })();
    return this.closing;
  }

  private async load(): Promise<void> {
    let text: string;
    try {
      text = await this.fs.readFile(this.file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw new StateFileError('STATE_FILE_UNREADABLE', this.file, `Cannot read the state file ${this.file}: ${osMessage(err)}`, err);
    }
    let parsed: unknown;
    let problem: string | undefined;
    try {
      parsed = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        problem = `holds ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`}, not a JSON object`;
      }
    } catch (err) {
      problem = `is not valid JSON (${err instanceof Error ? err.message : String(err)})`;
    }
    if (problem !== undefined) {
      const backup = `${this.file}.corrupt-${new Date().toISOString().replace(/:/g, '')}`;
      try {
        await this.fs.rename(this.file, backup);
      } catch (err) {
        throw new StateFileError(
          'STATE_FILE_UNREADABLE',
          this.file,
          `The state file ${this.file} ${problem} and could not be kept aside as ${backup}: ${osMessage(err)}`,
          err,
        );
      }
      this.warnings.push(`The state file ${this.file} ${problem}: kept it as ${backup} and started with an empty state`);
      return;
    }
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (value !== undefined) this.data.set(key, JSON.stringify(value));
    }
  }

  /** Writes until no update is pending. Started by the first update of a quiet store; one runs at a time. */
  private async flush(): Promise<void> {
    // Updates made in the same synchronous run as the one that started the loop join its first write.
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.write(this.serialize());
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.flushing = undefined;
  }

  private serialize(): string {
    const parts: string[] = [];
    for (const [key, raw] of this.data) parts.push(`${JSON.stringify(key)}:${raw}`);
    return `{${parts.join(',')}}\n`;
  }

  private async write(text: string): Promise<void> {
    const tmp = `${this.file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await this.fs.open(tmp, 'wx');
      await handle.writeFile(text, 'utf8');
      await handle.sync();
      await handle.close();
      handle = undefined;
      await this.fs.rename(tmp, this.file);
    } catch (err) {
      await handle?.close().catch(() => undefined);
      await this.fs.rm(tmp, { force: true }).catch(() => undefined);
      throw new StateFileError('STATE_FILE_WRITE_FAILED', this.file, `Cannot write the state file ${this.file}: ${osMessage(err)}`, err);
    }
    // The rename is durable only once the directory entry is.
    try {
      const dir = await this.fs.open(path.dirname(this.file), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (err) {
      const code = errnoCode(err);
      // Some platforms (Windows) refuse to open or fsync a directory; the rename is all they offer.
      if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM') {
        throw new StateFileError('STATE_FILE_WRITE_FAILED', this.file, `Cannot make the write of the state file ${this.file} durable: ${osMessage(err)}`, err);
      }
    }
  }

  private async releaseLock(): Promise<void> {
    if (!heldLocks.has(this.lockPath)) return;
    forgetLock(this.lockPath);
    let content: string;
    try {
      content = await this.fs.readFile(this.lockPath, 'utf8');
    } catch {
      return; // Already gone.
    }
    // Someone removed our lock and another process took it: theirs now.
    if (content === this.lockContent) await this.fs.rm(this.lockPath, { force: true });
  }
}

/** Creates the lock, taking over a stale one. Returns what the lock file holds. */
async function acquireLock(fs: FileStoreFs, file: string, lockPath: string): Promise<string> {
  const content = `${process.pid}\n`;
  // Each round either creates the lock, refuses, or removes one stale lock; a few rounds settle any race.
  for (let round = 0; round < 5; round++) {
    try {
      const handle = await fs.open(lockPath, 'wx');
      try {
        await handle.writeFile(content, 'utf8');
      } finally {
        await handle.close();
      }
      holdLock(lockPath, content);
      return content;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') {
        throw new StateFileError('STATE_FILE_LOCK_FAILED', file, `Cannot create the lock ${lockPath} of the state file ${file}: ${osMessage(err)}`, err);
      }
    }
    let existing: string;
    try {
      existing = await fs.readFile(lockPath, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue; // Released meanwhile.
      throw new StateFileError('STATE_FILE_LOCK_FAILED', file, `Cannot read the lock ${lockPath} of the state file ${file}: ${osMessage(err)}`, err);
    }
    const owner = lockOwner(existing, lockPath);
    if (owner !== undefined) throw inUse(file, owner);
    await takeOver(fs, file, lockPath, existing);
  }
  throw new StateFileError('STATE_FILE_LOCK_FAILED', file, `Cannot take the lock ${lockPath} of the state file ${file}: other processes keep taking it`);
}

/** The live pid a lock's content names, or undefined when the lock is stale. */
function lockOwner(content: string, lockPath: string): number | undefined {
  const match = /^\s*(\d+)\s*$/.exec(content);
  const pid = match?.[1] === undefined ? NaN : Number(match[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  // Our own pid: ours when this process holds the lock, else left by an earlier process that had
  // the same pid (common in containers, where the CLI is often pid 1).
  if (pid === process.pid) return heldLocks.has(lockPath) ? pid : undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return errnoCode(err) === 'ESRCH' ? undefined : pid;
  }
}

/**
 * Removes a stale lock. It is first renamed aside, and removed only if it still holds what was judged
 * stale: when two processes take over the same stale lock, the slower one may have moved the lock the
 * faster one just created, and puts it back.
 */
async function takeOver(fs: FileStoreFs, file: string, lockPath: string, stale: string): Promise<void> {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await fs.rename(lockPath, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw new StateFileError('STATE_FILE_LOCK_FAILED', file, `Cannot take over the stale lock ${lockPath} of the state file ${file}: ${osMessage(err)}`, err);
  }
  const moved = await fs.readFile(aside, 'utf8').catch(() => stale);
  if (moved !== stale) {
    const owner = lockOwner(moved, lockPath);
    if (owner !== undefined) {
      await fs.rename(aside, lockPath).catch(() => undefined);
      throw inUse(file, owner);
    }
  }
  await fs.rm(aside, { force: true });
}

function inUse(file: string, pid: number): StateFileError {
  return new StateFileError('STATE_FILE_IN_USE', file, `${file} is in use by process ${pid}; wait for it to finish or use another --state file`);
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** An OS error as one line: Node's messages already carry the code, the call and the path. */
function osMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
