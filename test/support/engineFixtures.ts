// Fixtures of the engine's unit tests (engine.test.ts, engineAttempts.test.ts).
import type { TaskRecord } from '../../src/core/model/model';

/** A running task record the engine can execute (the engine never changes it). */
export function task(id: string, kind = 'function', extra: Partial<TaskRecord> = {}): TaskRecord {
  return { id, name: id, kind, status: 'running', priority: 0, attempts: 1, createdAt: 0, history: [], spec: { name: id, kind }, dependsOn: [], ...extra };
}

/** Work that never settles. */
export const never = (): Promise<never> => new Promise<never>(() => undefined);
/** Lets queued promise reactions run. */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
