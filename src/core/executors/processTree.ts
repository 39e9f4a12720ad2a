// Finding and signalling every process a shell task started, however it detached.
//
// A task's processes are found three ways, because each alone misses some:
//  - the parent chain from the task's shell (children, grandchildren...);
//  - the process group the shell leads (it is spawned `detached`), which still holds a background
//    job whose parent already exited;
//  - an environment marker set on the shell and inherited by every descendant, which still finds a
//    grandchild that called setsid() AND lost its parent (re-parented to init, new session, new group).
//    Jenkins' ProcessTreeKiller relies on the same trick (its BUILD_ID cookie).
// On Linux all three come from /proc. Elsewhere (macOS, BSD) `ps` gives the first two.
//
// Reading the process table is asynchronous and shared: stops asked for in the same turn of the event
// loop (a cancel-all of many shell tasks) share one read of /proc, and no read blocks the loop. Read
// synchronously, every process's environ once per stopped task, 40 stops froze the host for seconds.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';

/** Name of the environment variable that marks every process of one attempt. */
export const TASK_MARKER_ENV = 'ORCHESTRATOR_TASK_TOKEN';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** One letter; `Z` (zombie) and `X` (dead) mean the process no longer runs. */
  state: string;
  /** Start time in clock ticks since boot (Linux), to tell a process from a later one that reuses its pid. */
  startTime?: string;
  /** The value of `TASK_MARKER_ENV` in its environment (Linux, processes this user may read). */
  token?: string;
}

const hasProc = process.platform === 'linux';

/** Parses /proc/<pid>/stat. The command name may hold spaces and parentheses, so fields are counted from the last `)`. */
export function parseStat(text: string): ProcessInfo | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number.parseInt(text, 10);
  // After ") ": state(3) ppid(4) pgrp(5) session(6) ... starttime(22), numbered as in proc(5).
  const f = text.slice(close + 2).split(' ');
  if (f.length < 20) return undefined;
  // f[0] and f[19] exist: f holds at least 20 fields.
  return { pid, state: f[0]!, ppid: Number(f[1]), pgid: Number(f[2]), startTime: f[19]! };
}

/**
 * The process with this pid, or undefined when there is none (or it is a zombie, which no longer runs).
 * Synchronous on purpose: one small file, read right before a signal so that a recycled pid is not hit.
 */
export function readProcess(pid: number): ProcessInfo | undefined {
  if (hasProc) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined;
    }
    const info = parseStat(text);
    return info && !isDead(info.state) ? info : undefined;
  }
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return { pid, ppid: 0, pgid: 0, state: 'R' };
}

/** True while the process runs and is the one first seen (same start time), not a successor reusing its pid. */
export function isAlive(pid: number, startTime?: string): boolean {
  const info = readProcess(pid);
  return info !== undefined && (startTime === undefined || info.startTime === undefined || info.startTime === startTime);
}

function isDead(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x';
}

const MARKER_PREFIX = Buffer.from(`${TASK_MARKER_ENV}=`);

/** The marker's value in a NUL-separated environ block, matched only at an entry's start. */
export function markerIn(environ: Buffer): string | undefined {
  for (let i = environ.indexOf(MARKER_PREFIX); i >= 0; i = environ.indexOf(MARKER_PREFIX, i + 1)) {
    if (i !== 0 && environ[i - 1] !== 0) continue;
    const start = i + MARKER_PREFIX.length;
    const end = environ.indexOf(0, start);
    return environ.toString('utf8', start, end < 0 ? environ.length : end);
  }
  return undefined;
}

/**
 * A /proc file whole. Not `readFile`: /proc files report size 0, for which it reads into 64 KiB
 * buffers, and a few hundred of those per scan made the garbage collector block the loop for tens of
 * milliseconds. A stat line fits the first read; an environment rarely needs a second.
 */
async function readProcFile(path: string, first: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const parts: Buffer[] = [];
    let total = 0;
    for (let size = first; ; size *= 4) {
      const buf = Buffer.allocUnsafe(size);
      const { bytesRead } = await handle.read(buf, 0, size, total);
      parts.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (bytesRead < size) return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
    }
  } finally {
    await handle.close();
  }
}

async function readEntry(name: string): Promise<ProcessInfo | undefined> {
  let info: ProcessInfo | undefined;
  try {
    info = parseStat((await readProcFile(`/proc/${name}/stat`, 512)).toString('latin1'));
  } catch {
    return undefined; // exited between readdir and read
  }
  if (!info || isDead(info.state)) return undefined;
  try {
    const token = markerIn(await readProcFile(`/proc/${name}/environ`, 8192));
    if (token !== undefined) info.token = token;
  } catch {
    // Gone, or not ours to read (then it is not ours to kill either).
  }
  return info;
}

/** Every live process of the machine that this user can see, read without blocking the event loop. */
export async function scanProcesses(): Promise<ProcessInfo[]> {
  if (hasProc) {
    const names = (await readdir('/proc')).filter((n) => {
      const c = n.charCodeAt(0);
      return c >= 48 && c <= 57;
    });
    const read = await Promise.all(names.map(readEntry));
    return read.filter((p): p is ProcessInfo => p !== undefined);
  }
  if (process.platform === 'win32') return [];
  const text = await new Promise<string>((resolve) => {
    execFile('ps', ['-A', '-o', 'pid=,ppid=,pgid=,stat='], { encoding: 'utf8', timeout: 5000 }, (err, stdout) => resolve(err ? '' : stdout));
  });
  const out: ProcessInfo[] = [];
  for (const line of text.split('\n')) {
    const [pid, ppid, pgid, stat] = line.trim().split(/\s+/);
    if (pid && stat && !isDead(stat[0]!)) out.push({ pid: Number(pid), ppid: Number(ppid), pgid: Number(pgid), state: stat[0]! });
  }
  return out;
}

/**
 * Hands out process tables. Every table is read after the call that asked for it (a stop must see the
 * processes that exist when it starts), and all calls made in one turn of the event loop share one read:
 * the read starts in the next `setImmediate`, so the calls a cancel-all makes in a loop, and in the
 * microtasks that loop schedules, wait for the same one.
 */
export class ProcessScanner {
  private next: Promise<readonly ProcessInfo[]> | undefined;

  /** `scan` reads the table; tests pass one that counts. */
  constructor(private readonly scan: () => Promise<readonly ProcessInfo[]> = scanProcesses) {}

  snapshot(): Promise<readonly ProcessInfo[]> {
    if (this.next === undefined) {
      this.next = new Promise((resolve, reject) => {
        setImmediate(() => {
          // From here on a new call needs a new read: this one may already have passed its process.
          this.next = undefined;
          this.scan().then(resolve, reject);
        });
      });
    }
    return this.next;
  }
}

/** The scanner every stop in this process shares unless given its own. */
export const sharedScanner = new ProcessScanner();

export interface TreeOptions {
  /** The shell's pid while it is known to be the task's (not exited and reaped). */
  root?: number;
  /** The marker token of the attempt. */
  token?: string;
  /** A process group to include whole: safe only while its leader has not been reaped. */
  group?: number;
}

/**
 * The live processes of one task in `table`: the root and its descendants, the members of `group`, and
 * every process carrying `TASK_MARKER_ENV=<token>`, plus their descendants. Never this process or its
 * ancestors. Pid -> start time.
 */
export function treeIn(table: readonly ProcessInfo[], options: TreeOptions): Map<number, string | undefined> {
  const byPid = new Map<number, ProcessInfo>();
  const children = new Map<number, number[]>();
  for (const p of table) {
    byPid.set(p.pid, p);
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const protectedPids = new Set<number>();
  for (let p: ProcessInfo | undefined = byPid.get(process.pid); p && !protectedPids.has(p.pid); p = byPid.get(p.ppid)) {
    protectedPids.add(p.pid);
  }
  protectedPids.add(process.pid);

  const found = new Map<number, string | undefined>();
  const stack: number[] = [];
  const add = (p: ProcessInfo): void => {
    if (!found.has(p.pid) && !protectedPids.has(p.pid)) {
      found.set(p.pid, p.startTime);
      stack.push(p.pid);
    }
  };
  const root = options.root === undefined ? undefined : byPid.get(options.root);
  if (root) add(root);
  const { token, group } = options;
  for (const p of table) {
    if ((group !== undefined && group > 0 && p.pgid === group) || (token !== undefined && p.token === token)) add(p);
  }
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    for (const child of children.get(pid) ?? []) {
      const info = byPid.get(child);
      if (info) add(info);
    }
  }
  return found;
}

/**
 * The live processes that belong to the task whose shell is `rootPid`: its descendants, the members of
 * its process group, and (Linux) every process carrying `TASK_MARKER_ENV=<token>`, plus their
 * descendants. Pass `rootExited` once the shell has been reaped: its pid may then belong to a stranger,
 * so the search starts from the group and the marker only (a group id is not reused while any member
 * of the group lives).
 */
export async function collectTree(
  rootPid: number,
  token?: string,
  rootExited = false,
  scanner: ProcessScanner = sharedScanner,
): Promise<Map<number, string | undefined>> {
  const table = await scanner.snapshot();
  return treeIn(table, { root: rootExited ? undefined : rootPid, token, group: rootPid });
}

/** Sends `sig` to each process still alive as first seen, and to the group `pgid` if given. Ignores the ones already gone. */
export function signalAll(pids: ReadonlyMap<number, string | undefined>, sig: NodeJS.Signals, pgid?: number): void {
  if (pgid !== undefined && pgid > 0) trySignal(-pgid, sig);
  for (const [pid, start] of pids) {
    // Re-checking the start time right before signalling keeps a recycled pid from being hit.
    if (isAlive(pid, start)) trySignal(pid, sig);
  }
}

function trySignal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone. EPERM: not ours; nothing more we may do.
  }
}
