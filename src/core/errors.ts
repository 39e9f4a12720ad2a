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
  | 'DISPOSED';

export class OrchestratorError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends OrchestratorError {
  /** The path of the offending field, e.g. `resources.gpu` or `[2].dependsOn[0]`. */
  constructor(message: string, readonly field?: string) {
    super('VALIDATION', message);
  }
}

export class IllegalTransitionError extends OrchestratorError {
  constructor(readonly taskId: string, readonly from: string, readonly to: string, detail?: string) {
    super('ILLEGAL_TRANSITION', `Cannot move task \`${taskId}\` from \`${from}\` to \`${to}\`${detail ? `: ${detail}` : ''}`);
  }
}

export class TimeoutError extends OrchestratorError {
  constructor(readonly timeoutMs: number) {
    super('TIMEOUT', `Timed out after ${timeoutMs} ms`);
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
    shown = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' || typeof value === 'bigint' ? String(value) : typeof value === 'function' ? 'function' : String(JSON.stringify(value) ?? String(value));
  } catch {
    shown = String(value);
  }
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${shown}\` (${type})`;
}

/** An attempt that ran and failed: a non-zero exit, a signal, or an executor that threw. */
export class ExecutionError extends OrchestratorError {
  constructor(message: string, readonly result?: import('./model').TaskResult, readonly errorCode?: string) {
    super('EXECUTION_FAILED', message);
  }
}
