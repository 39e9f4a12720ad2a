// Fixtures of the engine's unit tests (engine.test.ts, engineAttempts.test.ts).
import type { TaskRecord } from '../../src/core/model/model';
import type { Clock } from '../../src/core/ports';

/** A Clock moved by hand whose timers fire synchronously inside advance(), in time order. */
export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    this.timers.set(++this.seq, { at: this.t + ms, fn });
    return this.seq;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  advance(ms: number): void {
    this.t += ms;
    for (;;) {
      const due = [...this.timers].filter(([, x]) => x.at <= this.t).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) return;
      this.timers.delete(due[0]);
      due[1].fn();
    }
  }
}

/** A running task record the engine can execute (the engine never changes it). */
export function task(id: string, kind = 'function', extra: Partial<TaskRecord> = {}): TaskRecord {
  return { id, name: id, kind, status: 'running', priority: 0, attempts: 1, createdAt: 0, history: [], spec: { name: id, kind }, dependsOn: [], ...extra };
}

/** Work that never settles. */
export const never = (): Promise<never> => new Promise<never>(() => undefined);
/** Lets queued promise reactions run. */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
