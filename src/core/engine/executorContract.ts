// The Executor contract, held once for every kind: a result that is not an object (or cannot be
// read) fails the attempt, a missing one is `{}`, every field is made JSON-safe as the function
// kind's value is (a snapshot must always be buildable), and an execute() that throws or returns
// something other than a promise fails the attempt instead of the caller. Pure functions; each
// survives a value whose every read throws (a revoked Proxy).
import { CancelledError, ExecutionError, TimeoutError, ValidationError, describeValue } from '../model/errors';
import type { TaskResult } from '../model/model';
import type { Executor } from '../ports';
import { toExecutionError, toJsonSafe } from '../executors/functionExecutor';

/** The executor's `settleOnAbort`; false when it cannot be read (a revoked Proxy: its execute() then fails the attempt). */
export function settlesOnAbort(executor: Executor): boolean {
  try {
    return executor.settleOnAbort === true;
  } catch {
    return false;
  }
}

/** A TimeoutError or CancelledError. False for anything else, a value whose `instanceof` throws included. */
export function keepsMeaning(err: unknown): boolean {
  try {
    return err instanceof TimeoutError || err instanceof CancelledError;
  } catch {
    return false;
  }
}

/**
 * The failure with its result (which becomes the record's) held to the contract as a resolved one
 * is: an executor may reject with an ExecutionError carrying anything.
 */
export function withSafeResult(err: ExecutionError, kind: string): ExecutionError {
  if (err.result === undefined) return err;
  let result: TaskResult | undefined;
  try {
    result = toSafeResult(err.result, kind);
  } catch {
    result = undefined;
  }
  const safe = new ExecutionError(err.message, result, err.errorCode);
  safe.cause = err.cause ?? err;
  if (err.stack !== undefined) safe.stack = err.stack;
  return safe;
}

/** What execute() returned, when not a native promise: a thenable adopted, anything else refused. */
export function adopt(value: unknown, kind: string): Promise<unknown> {
  if (value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function') {
    return Promise.resolve(value);
  }
  throw new ExecutionError(`Expected the executor for kind \`${kind}\` to return a promise from execute(), got ${safeDescribe(value)}`);
}

/** The TaskResult an executor's resolved value stands for (see the file comment); throws ExecutionError when there is none. */
export function toSafeResult(value: unknown, kind: string): TaskResult {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object') {
    throw new ExecutionError(
      `Expected the executor for kind \`${kind}\` to resolve a result object like \`{ exitCode, output, value }\` or nothing, got ${safeDescribe(value)}`,
    );
  }
  try {
    const out: Record<string, unknown> = {};
    // Field by field: one unserialisable field is described, the others (exitCode, output) kept.
    for (const key of Object.keys(value)) {
      const field = toJsonSafe((value as Record<string, unknown>)[key]);
      if (field !== undefined) out[key] = field;
    }
    return out as TaskResult;
  } catch (err) {
    throw new ExecutionError(`The result of the executor for kind \`${kind}\` could not be read: ${toExecutionError(err).message}`);
  }
}

/** describeValue for a value that may throw on every read. */
export function safeDescribe(value: unknown): string {
  try {
    return describeValue(value);
  } catch {
    return `a value of type ${typeof value} that cannot be read`;
  }
}

export function checkExecutor(kind: string, executor: Executor): Executor {
  if (executor === null || typeof executor !== 'object' || typeof executor.execute !== 'function') {
    throw new ValidationError(
      `Expected the executor for kind \`${kind}\` to have an \`execute\` function, got ${describeValue(executor)}`,
      `executors.${kind}`,
    );
  }
  return executor;
}
