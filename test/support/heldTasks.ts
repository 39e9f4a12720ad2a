// Work a test settles by hand: a deferred promise, and a function task that runs until told.
import type { TaskSpec } from '../../src/core/model/model';

export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A function task that runs until the test settles it. */
export function held(name: string, spec: Partial<TaskSpec> = {}): { spec: TaskSpec; pass(): void; fail(message: string): void } {
  const d = deferred();
  return { spec: { name, kind: 'function', run: () => d.promise, ...spec }, pass: () => d.resolve(), fail: (m) => d.reject(new Error(m)) };
}
