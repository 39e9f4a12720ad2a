// The side effects the core needs, as ports the hosts (extension, CLI, tests) provide adapters for.
import type { ProblemCounts, TaskRecord, TaskResult, TaskSpec } from './model/model';

/** The subset of vscode.Memento the core needs. */
export interface Store {
  keys(): readonly string[];
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** Where finished records go when they leave the snapshot's byte budget. Never silently dropped. */
export interface HistoryArchive {
  append(records: readonly TaskRecord[]): PromiseLike<void>;
}

/**
 * Where unfinished tasks beyond the snapshot's byte budget are kept, as whole numbered sets: the
 * snapshot points at the set it was written with. A set is written (durably) before the snapshot
 * that points at it, and older sets are pruned only after that snapshot is in the store, so a crash
 * between the two leaves the store pointing at a set that is still there.
 */
export interface PendingStore {
  /** Writes `records` as a new set, durably; resolves with its generation, higher than any before. */
  writePending(records: readonly TaskRecord[]): PromiseLike<number>;
  /**
   * The records of a set, unchecked. `problem` says what could not be read of it (a damaged entry, a
   * missing set); rejects when the set cannot be read at all now (the caller must not replace it).
   */
  readPending(generation: number): PromiseLike<{ records: unknown[]; problem?: string }>;
  /** Removes every set but `keep` (every set, when undefined). */
  prunePending(keep: number | undefined): PromiseLike<void>;
}

export interface Clock {
  /** Wall time in ms: what records show. May step back (NTP, a restored VM). */
  now(): number;
  /**
   * A clock that never steps back, in ms from any origin: what spacing and deadlines are measured
   * with. Optional for adapters that have none; `now()` stands in for it then.
   */
  monotonic?(): number;
  /**
   * `keepAlive`: the timer drives unfinished work (a retry backoff, an attempt's timeout), so the host
   * process must not end before it fires or is cleared. Without it (write coalescing, sampling) a
   * timer never keeps the process alive alone: an idle orchestrator must let its host exit.
   */
  setTimeout(fn: () => void, ms: number, keepAlive?: boolean): unknown;
  clearTimeout(handle: unknown): void;
  /**
   * Keeps the host process alive until the returned function is called: while someone awaits the
   * orchestrator (whenIdle) whatever its pending work waits on. Absent on clocks whose host outlives
   * its event loop anyway, and on test clocks: then nothing is held.
   */
  hold?(): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms, keepAlive) => {
    const t = setTimeout(fn, ms);
    if (keepAlive !== true) (t as { unref?: () => void }).unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  hold: () => {
    // A ref'd interval that never fires in practice (the longest delay a timer takes): the handle is
    // what keeps the event loop, and so the process, alive.
    const t = setInterval(noop, 0x7fffffff);
    return () => clearInterval(t);
  },
};

function noop(): void {}

export interface ExecutionContext {
  /** The task as recorded, including its persisted spec (command, payload...). */
  task: TaskRecord;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted on cancel, timeout or dispose. An executor must stop its work when it fires. */
  signal: AbortSignal;
  /** Live output, for hosts that show it as it comes. */
  onOutput?: (chunk: string) => void;
  /** The spec's `run`, for the built-in `function` executor. Lives only in memory, never in the record. */
  run?: TaskSpec['run'];
  /**
   * The work is ready (a background task's problem matcher ended a cycle): may be called again on each
   * later cycle with fresh counts. Absent where the port cannot carry it. Ignored once the attempt
   * has been stopped or has settled.
   */
  reportReady?(info?: ReadyInfo): void;
}

/** What an executor may say when its work is ready. */
export interface ReadyInfo {
  problems?: ProblemCounts;
}

/**
 * Runs one attempt of a task. Resolves with the result on success; rejects (or resolves with a
 * non-zero exitCode) on failure. Registered by kind through the `executors` option.
 */
export interface Executor {
  execute(ctx: ExecutionContext): Promise<TaskResult>;
  /**
   * True when nothing outlives an abandoned attempt but garbage (work inside this process's heap), so
   * the engine may settle the attempt the moment its signal is aborted, without waiting for execute()
   * to notice. Default false: the engine waits (bounded) for execute() to settle, as it must for a
   * process tree that has to be stopped first.
   */
  readonly settleOnAbort?: boolean;
}

/** In-memory Store, the default. Copies values on write as VS Code's Memento does. */
export class MemoryStore implements Store {
  private readonly data = new Map<string, string>();
  writes = 0;
  bytesWritten = 0;
  keys(): readonly string[] {
    return [...this.data.keys()];
  }
  get<T>(key: string): T | undefined {
    const raw = this.data.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }
  update(key: string, value: unknown): Promise<void> {
    this.writes++;
    if (value === undefined) {
      this.data.delete(key);
    } else {
      const raw = JSON.stringify(value);
      this.bytesWritten += raw.length;
      this.data.set(key, raw);
    }
    return Promise.resolve();
  }
}
