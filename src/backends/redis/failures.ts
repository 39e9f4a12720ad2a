// The two directions of a failed attempt across the wire: the worker turns the core's error into a
// JobFailure (protocol.ts) and the coordinator turns that back into the core's error, so an
// attempt that ran elsewhere fails exactly as a local one would: ExecutionError (with its result and
// code), TimeoutError, or CancelledError. A `refused` job is an ExecutionError coded REFUSED (the
// worker's own code, KIND, PROTOCOL or POOLS, says why in the JobFailure).
import { CancelledError, ExecutionError, TimeoutError, errorMessage } from '../../core/model/errors';
import type { TaskResult } from '../../core/model/model';
import type { JobFailure } from './protocol';

/** The JobFailure of `error`, thrown by the core's engine on `worker`. */
export function failureOf(error: unknown, worker: string): JobFailure {
  if (error instanceof TimeoutError) return { kind: 'timeout', message: error.message, code: String(error.timeoutMs), worker };
  if (error instanceof CancelledError) return { kind: 'cancelled', message: error.message, worker };
  if (error instanceof ExecutionError) {
    const failure: JobFailure = { kind: 'execution', message: error.message, worker };
    if (error.errorCode !== undefined) failure.code = error.errorCode;
    if (error.result !== undefined) failure.result = { ...error.result, worker };
    return failure;
  }
  return { kind: 'execution', message: errorMessage(error), worker };
}

/**
 * The core's error for a JobFailure. `timeoutMs` is the attempt's limit as the coordinator set it
 * (a timeout's code carries the worker's, for a coordinator that has none).
 */
export function errorOf(failure: JobFailure, timeoutMs: number | undefined): Error {
  switch (failure.kind) {
    case 'timeout':
      return new TimeoutError(timeoutMs ?? (Number(failure.code) || 0));
    case 'cancelled':
      return new CancelledError(failure.message);
    case 'refused':
      return new ExecutionError(`Worker \`${failure.worker}\` refused the job: ${failure.message}`, undefined, 'REFUSED');
    default: {
      const result: TaskResult | undefined = failure.result ? { ...failure.result, worker: failure.result.worker ?? failure.worker } : undefined;
      return new ExecutionError(failure.message, result, failure.code);
    }
  }
}
