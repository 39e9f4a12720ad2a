// Named errors with stable codes. Messages follow p-queue's style:
// "Expected `timeoutMs` to be a positive number, got `-5` (number)".

export type ErrorCode =
  | 'VALIDATION'
  | 'ILLEGAL_TRANSITION'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'NOT_FOUND'
  | 'EXECUTION_FAILED'
  | 'INTERRUPTED'
  | 'NOT_RESUMABLE'
  | 'DISPOSED'
  | 'STORE_WRITE_FAILED'
  | 'QUEUE_FULL'
  | 'CRASH_LOOP'
  | 'CACHE_OUTSIDE_ROOT'
  | 'CACHE_CORRUPT';

export class OrchestratorError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends OrchestratorError {
  /** The path of the offending field, e.g. `resources.gpu` or `[2].dependsOn[0]`. */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super('VALIDATION', message);
  }
}

export class IllegalTransitionError extends OrchestratorError {
  constructor(
    readonly taskId: string,
    readonly from: string,
    readonly to: string,
    detail?: string,
  ) {
    super('ILLEGAL_TRANSITION', `Cannot move task \`${taskId}\` from \`${from}\` to \`${to}\`${detail ? `: ${detail}` : ''}`);
  }
}

export class TimeoutError extends OrchestratorError {
  constructor(readonly timeoutMs: number) {
    super('TIMEOUT', `Timed out after ${timeoutMs} ms`);
  }
}

/**
 * A service that failed as a service: not Ready within its readyTimeoutMs (`TIMEOUT`), or restarted
 * too often too fast (`CRASH_LOOP`). The message names the service and ends with its output tail.
 */
export class ServiceError extends OrchestratorError {
  constructor(code: 'TIMEOUT' | 'CRASH_LOOP', message: string) {
    super(code, message);
  }
}

export class CancelledError extends OrchestratorError {
  constructor(reason = 'Cancelled') {
    super('CANCELLED', reason);
  }
}

export class NotFoundError extends OrchestratorError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', `No ${what} with id \`${id}\``);
  }
}

/** A short, readable rendering of a value for error messages: `-5` (number). */
export function describeValue(value: unknown): string {
  let shown: string;
  try {
    // Numbers via String: JSON would render NaN and Infinity as `null`, hiding what was wrong.
    shown =
      typeof value === 'string'
        ? JSON.stringify(value)
        : typeof value === 'number' || typeof value === 'bigint'
          ? String(value)
          : typeof value === 'function'
            ? 'function'
            : String(JSON.stringify(value) ?? String(value));
  } catch {
    shown = String(value);
  }
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${shown}\` (${type})`;
}

/** What a caught value says: an Error's message, else the value as a string. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The refusal of one field, in p-queue's words: "Expected `timeoutMs` to be a positive number, got
 * `-5` (number)". `field` is the path of what was refused (`tasks[3].status`); `want` says what is
 * allowed. Every check that refuses a value builds its message here.
 */
export function fieldError(field: string, want: string, got: unknown): ValidationError {
  return new ValidationError(`Expected \`${field}\` to be ${want}, got ${describeValue(got)}`, field);
}

/** An attempt that ran and failed: a non-zero exit, a signal, or an executor that threw. */
export class ExecutionError extends OrchestratorError {
  constructor(
    message: string,
    readonly result?: import('./model').TaskResult,
    readonly errorCode?: string,
  ) {
    super('EXECUTION_FAILED', message);
  }
}

/**
 * A publish refused because a subscription already holds `maxPending` unacknowledged messages:
 * backpressure. Nothing was enqueued; publishing again after the subscriber has caught up succeeds.
 */
export class BackpressureError extends OrchestratorError {
  constructor(
    readonly topic: string,
    readonly subscription: string,
    readonly maxPending: number,
  ) {
    super(
      'QUEUE_FULL',
      `Cannot publish to \`${topic}\`: subscription \`${subscription}\` already holds its \`maxPending\` of ${maxPending} unacknowledged messages; publish again once it has acknowledged some`,
    );
  }
}

/**
 * Nothing was written: the store refused or did not answer (`storeError` holds what it said), or
 * writes are held because the saved state could not be read or kept aside. What was asked to be
 * durable is not.
 */
export class StoreWriteError extends OrchestratorError {
  constructor(
    message: string,
    readonly storeError?: unknown,
  ) {
    super('STORE_WRITE_FAILED', message);
  }
}
