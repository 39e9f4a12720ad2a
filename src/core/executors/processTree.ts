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
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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
  return { pid, state: f[0], ppid: Number(f[1]), pgid: Number(f[2]), startTime: f[19] };
}

/** The process with this pid, or undefined when there is none (or it is a zombie, which no longer runs). */
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

/** Every live process of the machine that this user can see. */
export function listProcesses(): ProcessInfo[] {
  if (hasProc) {
    const out: ProcessInfo[] = [];
    for (const name of readdirSync('/proc')) {
      const c = name.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      let text: string;
      try {
        text = readFileSync(`/proc/${name}/stat`, 'utf8');
      } catch {
        continue; // exited between readdir and read
      }
      const info = parseStat(text);
      if (info && !isDead(info.state)) out.push(info);
    }
    return out;
  }
  if (process.platform === 'win32') return [];
  try {
    const text = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,pgid=,stat='], { encoding: 'utf8', timeout: 5000 });
    const out: ProcessInfo[] = [];
    for (const line of text.split('\n')) {
      const [pid, ppid, pgid, stat] = line.trim().split(/\s+/);
      if (pid && stat && !isDead(stat[0])) out.push({ pid: Number(pid), ppid: Number(ppid), pgid: Number(pgid), state: stat[0] });
    }
    return out;
  } catch {
    return [];
  }
}

function hasMarker(pid: number, marker: Buffer): boolean {
  let env: Buffer;
  try {
    env = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false; // gone, or not ours to read (then it is not ours to kill either)
  }
  // Entries are NUL-separated; require whole-entry boundaries so `X=ab` does not match `X=abc`.
  for (let i = env.indexOf(marker); i >= 0; i = env.indexOf(marker, i + 1)) {
    const end = i + marker.length;
    if ((i === 0 || env[i - 1] === 0) && (end === env.length || env[end] === 0)) return true;
  }
  return false;
}

/**
 * The live processes that belong to the task whose shell is `rootPid`: its descendants, the members of
 * its process group, and (Linux) every process carrying `TASK_MARKER_ENV=<token>`, plus their
 * descendants. Never this process or its ancestors. Pid -> start time.
 * Pass `rootExited` once the shell has been reaped.
 */
export function collectTree(rootPid: number, token?: string, rootExited = false): Map<number, string | undefined> {
  const all = listProcesses();
  const byPid = new Map<number, ProcessInfo>();
  const children = new Map<number, number[]>();
  for (const p of all) {
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
  // Once the shell has exited and been reaped its pid may belong to a stranger: start from the group
  // and the marker only. (A group id is not reused while any member of the group lives.)
  const root = rootExited ? undefined : byPid.get(rootPid);
  if (root) add(root);
  const marker = token && hasProc ? Buffer.from(`${TASK_MARKER_ENV}=${token}`) : undefined;
  for (const p of all) {
    if (p.pgid === rootPid || (marker && !found.has(p.pid) && hasMarker(p.pid, marker))) add(p);
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
