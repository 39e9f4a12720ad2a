// Adversarial ports for the seeded reliability property test (test/unit/reliabilityProperty.test.ts):
// a seeded PRNG, a Store that fails, a clock that can step back, executors that misbehave on purpose,
// and an in-memory archive. Every random choice comes from the seeded PRNG, so a seed replays exactly.
import type { TaskRecord, TaskResult } from '../../src/core/model/model';
import type { Clock, ExecutionContext, Executor, HistoryArchive, Store } from '../../src/core/ports';
import { STATE_KEY } from '../../src/core/state/snapshot';
import { ManualClock } from './manualClock';

/** mulberry32: small, fast and good enough to pick test cases; the same seed gives the same stream. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}

/**
 * A ManualClock whose wall time can step back (NTP, a restored VM) while its timers keep running on
 * elapsed time, as Node's do.
 */
export class SteppingClock implements Clock {
  readonly inner: ManualClock;
  private offset = 0;
  /**
   * Where a timer callback's throw goes. With Node's timers it would be an uncaught exception that
   * ends the host; here it is reported instead of escaping from `advance()` into the test.
   */
  onTimerError: (err: unknown) => void = (err) => {
    throw err;
  };
  constructor(start: number) {
    this.inner = new ManualClock(start);
  }
  now(): number {
    return this.inner.now() + this.offset;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    return this.inner.setTimeout(() => {
      try {
        fn();
      } catch (err) {
        this.onTimerError(err);
      }
    }, ms);
  }
  clearTimeout(handle: unknown): void {
    this.inner.clearTimeout(handle);
  }
  stepBack(ms: number): void {
    this.offset -= ms;
  }
  advance(ms: number): Promise<void> {
    return this.inner.advance(ms);
  }
}

export interface StoreFaults {
  /** Probability that an update rejects. */
  rejectRate: number;
  /** Probability that an update throws synchronously. */
  throwRate: number;
  /** Probability that an update takes `hangMs` of clock time before it commits. */
  hangRate: number;
  hangMs: number;
}

/**
 * A Memento-like Store that fails. As with VS Code's Memento, `get` sees an accepted update at once
 * (a refused one changes nothing), while the update settles when it is durable. Durable writes
 * commit in the order they were asked for (a slow write delays the ones after it, as a store
 * flushing to disk does). `committed` keeps every durable state snapshot (as JSON): what a crash at
 * that moment would leave, and so what must never be lost; `durable` is the content after a crash now.
 */
export class FaultyStore implements Store {
  /** What `get` reads: every accepted update. */
  readonly data = new Map<string, string>();
  /** What survives a crash now: every update that settled. */
  readonly durable = new Map<string, string>();
  /** JSON of every committed write of the state key, oldest first. */
  readonly committed: string[] = [];
  /** Messages of the JSON.stringify calls that threw on a value the orchestrator handed over. */
  readonly unserialisable: string[] = [];
  faultsOn = true;
  /** Every update from now on never settles (a store that stopped answering). */
  silent = false;
  /** Says which part of a value that does not serialise is to blame, for the report. */
  describeParts: ((value: unknown) => string) | undefined = undefined;
  private getFailures = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly rng: Rng,
    private readonly clock: Clock,
    private readonly faults: StoreFaults,
  ) {}

  /** The next `get` throws (once). */
  failNextGet(): void {
    this.getFailures = 1;
  }

  keys(): readonly string[] {
    return [...this.data.keys()];
  }

  get<T>(key: string): T | undefined {
    if (this.getFailures > 0) {
      this.getFailures--;
      throw new Error('faulty store: get failed');
    }
    const raw = this.data.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  update(key: string, value: unknown): Promise<void> {
    let raw: string | undefined;
    if (value !== undefined) {
      try {
        raw = JSON.stringify(value);
      } catch (err) {
        this.unserialisable.push(`update(${key}): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}${this.describeParts?.(value) ?? ''}`);
        return Promise.reject(err);
      }
    }
    if (this.silent) return new Promise<void>(() => undefined);
    const roll = this.faultsOn ? this.rng.next() : 1;
    const f = this.faults;
    if (roll < f.throwRate) throw new Error('faulty store: update threw');
    const fate = roll < f.throwRate + f.rejectRate ? 'reject' : roll < f.throwRate + f.rejectRate + f.hangRate ? 'hang' : 'commit';
    if (fate !== 'reject') {
      if (raw === undefined) this.data.delete(key);
      else this.data.set(key, raw);
    }
    const commit = (): void => {
      if (raw === undefined) this.durable.delete(key);
      else this.durable.set(key, raw);
      if (key === STATE_KEY && raw !== undefined) this.committed.push(raw);
    };
    const op = this.tail.then(
      () =>
        new Promise<void>((resolve, reject) => {
          if (fate === 'reject') reject(new Error('faulty store: update rejected'));
          else if (fate === 'hang')
            this.clock.setTimeout(() => {
              commit();
              resolve();
            }, f.hangMs);
          else {
            commit();
            resolve();
          }
        }),
    );
    this.tail = op.catch(() => undefined);
    return op;
  }
}

/** A HistoryArchive in memory: the ids it was handed. */
export class MemoryArchive implements HistoryArchive {
  readonly ids = new Set<string>();
  append(records: readonly TaskRecord[]): Promise<void> {
    for (const r of records) this.ids.add(r.id);
    return Promise.resolve();
  }
}

/** What a chaos executor does in one attempt. */
export const BEHAVIOURS = [
  'ok',
  'undefined',
  'null',
  'bigint',
  'cycle',
  'throwProxy',
  'rejectProxy',
  'throwHostile',
  'plainObject',
  'never',
  'deaf',
  'delay',
  'fail',
  'failHuge',
  'exit1',
  'throw',
  'cancelSelf',
  'scheduleInside',
  'resolveProxy',
  'getterThrows',
  'syncThenable',
  'throwingThenable',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

/** Behaviours that never settle by themselves: a task using one needs a timeout or a cancel. */
export const ENDLESS: ReadonlySet<Behaviour> = new Set<Behaviour>(['never', 'deaf']);

/** The payload of a chaos task: what each attempt does (the last entry repeats). */
export interface ChaosPayload {
  plan: Behaviour[];
  delayMs: number;
}

/**
 * A thrown value whose every property read throws (issue 11 #14's "Proxy whose `get` throws"). With
 * `everyTrap`, its prototype lookup (so `instanceof`), `in` and key listing throw too.
 */
export function hostileProxy(everyTrap = false): object {
  const trap = (): never => {
    throw new Error(`hostile proxy${everyTrap ? ' (every trap)' : ''}: do not touch`);
  };
  return new Proxy({}, everyTrap ? { get: trap, getPrototypeOf: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap } : { get: trap });
}

/**
 * An executor that does, per attempt, what the task's payload plan says. Its results are returned
 * typed as TaskResult on purpose: the point is that they are not.
 */
export class ChaosExecutor implements Executor {
  calls = 0;
  /** Attempts that only end when their signal aborts (or never): once their task is final, it must be. */
  readonly endless: { taskId: string; attempt: number; behaviour: Behaviour; signal: AbortSignal }[] = [];
  /**
   * The orchestrator, for behaviours that call back into it from inside execute() (re-entrance).
   * Without one they complete at once.
   */
  host: { cancel(taskId: string): void; schedule(): void } | undefined = undefined;
  constructor(private readonly clock: Clock) {}

  execute(ctx: ExecutionContext): Promise<TaskResult> {
    this.calls++;
    const { plan, delayMs } = ctx.task.spec.payload as ChaosPayload;
    const behaviour = plan[Math.min(ctx.attempt - 1, plan.length - 1)];
    if (ENDLESS.has(behaviour)) this.endless.push({ taskId: ctx.task.id, attempt: ctx.attempt, behaviour, signal: ctx.signal });
    const abortable = <T>(fn: (resolve: (v: T) => void) => unknown): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const signal = ctx.signal;
        if (signal.aborted) return reject(signal.reason as Error);
        const handle = fn(resolve);
        signal.addEventListener(
          'abort',
          () => {
            if (handle !== undefined) this.clock.clearTimeout(handle);
            reject(signal.reason as Error);
          },
          { once: true },
        );
      });
    switch (behaviour) {
      case 'ok':
        return Promise.resolve({ value: { attempt: ctx.attempt } });
      case 'undefined':
        return Promise.resolve(undefined as unknown as TaskResult);
      case 'null':
        return Promise.resolve(null as unknown as TaskResult);
      case 'bigint':
        return Promise.resolve({ value: { big: 10n } });
      case 'cycle': {
        const cyclic: Record<string, unknown> = { name: 'cycle' };
        cyclic.self = cyclic;
        return Promise.resolve({ value: cyclic });
      }
      case 'throwProxy':
        throw hostileProxy();
      case 'rejectProxy':
        return Promise.reject(hostileProxy());
      case 'throwHostile':
        throw hostileProxy(true);
      case 'plainObject':
        return { exitCode: 0 } as unknown as Promise<TaskResult>;
      case 'never':
        return abortable<TaskResult>(() => undefined);
      case 'deaf':
        return new Promise<TaskResult>(() => undefined);
      case 'delay':
        return abortable<TaskResult>((resolve) => this.clock.setTimeout(() => resolve({ value: 'late' }), delayMs));
      case 'fail':
        return Promise.reject(new Error('chaos: the attempt failed'));
      case 'failHuge':
        // 1.2 MB once escaped in JSON: issue 11 #8 (messages unbounded) and #19 (retry state outside the budget).
        return Promise.reject(new Error(HUGE_TEXT));
      case 'exit1':
        return Promise.resolve({ exitCode: 1 });
      case 'throw':
        throw new Error('chaos: execute threw');
      case 'cancelSelf':
        // Cancels its own task before returning a promise that only its signal ends.
        if (this.host === undefined) return Promise.resolve({ value: 'no host' });
        this.host.cancel(ctx.task.id);
        return abortable<TaskResult>(() => undefined);
      case 'scheduleInside':
        this.host?.schedule();
        return Promise.resolve({ value: 'scheduled another' });
      case 'resolveProxy':
        return Promise.resolve(hostileProxy() as TaskResult);
      case 'getterThrows':
        return Promise.resolve({
          get exitCode(): number {
            throw new Error('chaos: exitCode getter threw');
          },
        });
      case 'syncThenable':
        // A foreign thenable that answers inside `then`, twice: success, then failure.
        return {
          then(ok: (r: TaskResult) => void, fail: (e: unknown) => void) {
            ok({ value: 'sync' });
            fail(new Error('chaos: and failed too'));
          },
        } as unknown as Promise<TaskResult>;
      case 'throwingThenable':
        return {
          then() {
            throw new Error('chaos: then threw');
          },
        } as unknown as Promise<TaskResult>;
    }
  }
}

/** 200,000 control characters: each escapes to 6 bytes of JSON. */
export const HUGE_TEXT = '\u0001'.repeat(200_000);

/** An executor that completes every attempt at once: for the restored orchestrator. */
export const steadyExecutor: Executor = {
  execute: () => Promise.resolve({ value: 'restored' }),
};
