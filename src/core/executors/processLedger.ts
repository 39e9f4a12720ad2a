// What identifies each running shell task's process tree, kept in the Store so that the next session
// can stop the trees a killed host left behind, before it runs their tasks again.
//
// A shell is spawned detached, in its own process group, so it survives its host. An entry names it
// three ways, each checked before anything is signalled: the pid, its start time (a later process
// reusing the pid has another), and the random marker the shell executor puts in the environment of
// every process of the attempt (which also finds those that left the group and lost their parent).
// The host's own pid and start time are kept too: trees of a host that still runs are not orphans.
//
// Entries are Linux only: elsewhere a process's start time and environment cannot be read cheaply,
// and without them a pid alone may name a stranger.
import type { OrchestratorWarning } from '../model/warnings';
import type { Store } from '../ports';
import { isAlive, readProcess, sharedScanner, signalAll, treeIn, type ProcessScanner } from './processTree';

/** The Store key of the ledger, beside the state's `orchestrator.state`. */
export const PROCESS_LEDGER_KEY = 'orchestrator.processes';

/** A store write that does not answer in this time is given up on, so that later changes are written. */
const WRITE_TIMEOUT_MS = 10_000;
/** At most one ledger write in this long: about as often as the state's own coalesced writes. */
const MIN_WRITE_SPACING_MS = 250;
const POLL_MS = 20;
const KILL_WAIT_MS = 1000;

export interface LedgerEntry {
  taskId: string;
  /** The shell's pid; it leads a process group of the same id. */
  pid: number;
  /** The shell's start time, clock ticks since boot (/proc/<pid>/stat field 22). */
  startTime: string;
  /** The value of TASK_MARKER_ENV in the environment of every process of the attempt. */
  token: string;
  hostPid: number;
  hostStartTime: string;
}

interface LedgerDocument {
  version: 1;
  entries: LedgerEntry[];
}

let hostStart: string | undefined | null = null;
function hostStartTime(): string | undefined {
  if (hostStart === null) hostStart = readProcess(process.pid)?.startTime;
  return hostStart;
}

/**
 * The running shells of this host. `add` and `remove` change memory at once and never wait: the store
 * is written in the next `setImmediate`, every change of one turn in one write, at most one write in
 * flight and one per MIN_WRITE_SPACING_MS, the newest content always written last.
 */
export class ProcessLedger {
  private readonly entries = new Map<string, LedgerEntry>();
  private dirty = false;
  private writing: Promise<void> | undefined;
  private lastWriteAt = -Infinity;

  constructor(private readonly store: Store) {}

  /** Records the shell `pid` of an attempt of `taskId` marked with `token`. Does nothing where no start time can be read. */
  add(taskId: string, pid: number, token: string): void {
    const startTime = readProcess(pid)?.startTime;
    const host = hostStartTime();
    if (startTime === undefined || host === undefined) return;
    this.entries.set(token, { taskId, pid, startTime, token, hostPid: process.pid, hostStartTime: host });
    this.changed();
  }

  /** Forgets the attempt marked with `token`: its tree has been stopped or its shell has ended. */
  remove(token: string): void {
    if (this.entries.delete(token)) this.changed();
  }

  /** Entries held in memory, in the order added. */
  list(): LedgerEntry[] {
    return [...this.entries.values()];
  }

  /** Resolves once every change made before the call has been written, or its write failed or timed out. */
  flush(): Promise<void> {
    return this.writing ?? Promise.resolve();
  }

  private changed(): void {
    this.dirty = true;
    this.writing ??= this.drain();
  }

  private async drain(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    // The check and the reset of `writing` happen in one synchronous step, so a change is never left
    // between a finished loop and a new one.
    while (this.dirty) {
      // Writes are spaced like the state's: a Memento copies the extension's whole state on each one,
      // so a burst of short shell tasks must not become a write per start and exit.
      const wait = this.lastWriteAt + MIN_WRITE_SPACING_MS - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
      this.dirty = false;
      const value: LedgerDocument | undefined = this.entries.size > 0 ? { version: 1, entries: this.list() } : undefined;
      this.lastWriteAt = performance.now();
      // Best effort: a failed write is retried by the next change; the state coordinator reports a
      // failing store. A stale ledger is harmless, each entry being checked before it is acted on.
      await bounded(() => this.store.update(PROCESS_LEDGER_KEY, value));
    }
    this.writing = undefined;
  }
}

/** Runs a store write; resolves when it settles, throws, or has not answered in WRITE_TIMEOUT_MS. Never rejects. */
function bounded(write: () => PromiseLike<void>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, WRITE_TIMEOUT_MS);
    timer.unref();
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    try {
      Promise.resolve(write()).then(done, done);
    } catch {
      done();
    }
  });
}

/** The valid entries of a stored ledger; anything else in it is ignored. */
export function parseLedger(value: unknown): LedgerEntry[] {
  if (typeof value !== 'object' || value === null) return [];
  const entries = (value as { entries?: unknown }).entries;
  if (!Array.isArray(entries)) return [];
  return entries.filter(isEntry);
}

function isEntry(e: unknown): e is LedgerEntry {
  if (typeof e !== 'object' || e === null) return false;
  const r = e as Record<string, unknown>;
  return (
    typeof r.taskId === 'string' &&
    isPid(r.pid) &&
    isPid(r.hostPid) &&
    typeof r.startTime === 'string' &&
    typeof r.hostStartTime === 'string' &&
    typeof r.token === 'string' &&
    // The executor's tokens: 24 hex digits. Anything else could match a stranger's environment.
    /^[0-9a-f]{24}$/.test(r.token)
  );
}

function isPid(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 1;
}

export interface ReapOptions {
  /** SIGTERM-to-SIGKILL grace. Default 2000 ms. */
  killGraceMs?: number;
  scanner?: ProcessScanner;
}

/**
 * Stops the process trees that a previous session's ledger names and whose host is gone, and empties
 * the ledger of them. A tree is: the shell, if it still runs with the recorded start time and marker,
 * with its descendants and its group; and every process carrying the marker, with its descendants.
 * SIGTERM first, SIGKILL to what is left after the grace. Resolves with a warning naming what was
 * stopped, or undefined when nothing was; never rejects.
 */
export async function reapOrphans(store: Store, options: ReapOptions = {}): Promise<OrchestratorWarning | undefined> {
  let raw: unknown;
  try {
    raw = store.get<unknown>(PROCESS_LEDGER_KEY);
  } catch {
    return undefined; // Never overwrite what could not be read.
  }
  if (raw === undefined) return undefined;
  const entries = parseLedger(raw);
  const orphans = entries.filter((e) => !isAlive(e.hostPid, e.hostStartTime));
  const kept = entries.filter((e) => !orphans.includes(e));
  let found = 0;
  let left = 0;
  const tasks = new Set<string>();
  if (orphans.length > 0 && process.platform === 'linux') {
    try {
      const scanner = options.scanner ?? sharedScanner;
      const table = await scanner.snapshot();
      const known = new Map<number, string | undefined>();
      const groups: number[] = [];
      for (const e of orphans) {
        const shell = table.find((p) => p.pid === e.pid);
        const shellRuns = shell !== undefined && shell.startTime === e.startTime && shell.token === e.token;
        if (shellRuns) groups.push(e.pid);
        const tree = treeIn(table, shellRuns ? { root: e.pid, token: e.token, group: e.pid } : { token: e.token });
        if (tree.size > 0) tasks.add(e.taskId);
        for (const [pid, start] of tree) known.set(pid, start);
      }
      found = known.size;
      left = await stopAll(
        known,
        groups,
        options.killGraceMs ?? 2000,
        orphans.map((e) => e.token),
        scanner,
      );
    } catch {
      // A failed read of the process table leaves the trees as they are; the ledger is cleared below
      // all the same, or every later start would try again.
    }
  }
  if (kept.length !== entries.length || entries.length === 0) {
    const value: LedgerDocument | undefined = kept.length > 0 ? { version: 1, entries: kept } : undefined;
    // Not awaited: a store that does not answer must not hold up the start. Memento-like stores apply
    // writes in call order, so a later write of the new session's ledger still wins.
    void bounded(() => store.update(PROCESS_LEDGER_KEY, value));
  }
  if (found === 0) return undefined;
  const names = [...tasks].map((t) => `\`${t}\``).join(', ');
  const unstoppable = left > 0 ? `; ${left} could not be stopped` : '';
  return { code: 'RECOVERED', message: `Stopped ${found - left} processes left running by a previous session (tasks ${names})${unstoppable}` };
}

/** SIGTERM, the grace polled for exits, SIGKILL to the rest (found again by marker, in case they forked). Resolves with how many still run. */
async function stopAll(known: Map<number, string | undefined>, groups: number[], graceMs: number, tokens: string[], scanner: ProcessScanner): Promise<number> {
  const signal = (sig: NodeJS.Signals): void => {
    // A group is signalled only while its leader runs as recorded; after that its id may be a stranger's.
    for (const g of groups) if (known.has(g) && isAlive(g, known.get(g))) signalAll(new Map(), sig, g);
    signalAll(known, sig);
  };
  const prune = (): void => {
    for (const [p, s] of known) if (!isAlive(p, s)) known.delete(p);
  };
  signal('SIGTERM');
  const graceEnd = Date.now() + graceMs;
  while (known.size > 0 && Date.now() < graceEnd) {
    await sleep(Math.min(POLL_MS, Math.max(1, graceEnd - Date.now())));
    prune();
  }
  const table = await scanner.snapshot();
  for (const token of tokens) for (const [p, s] of treeIn(table, { token })) known.set(p, s);
  prune();
  if (known.size === 0) return 0;
  signal('SIGKILL');
  const end = Date.now() + KILL_WAIT_MS;
  while (known.size > 0 && Date.now() < end) {
    await sleep(5);
    prune();
  }
  return known.size;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
