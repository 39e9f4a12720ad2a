// What a record keeps of a thrown value: a TaskError (message and, when there is one, a code).
import { ExecutionError, OrchestratorError } from '../model/errors';
import type { TaskError } from '../model/model';

/** A TaskError from whatever was thrown: its message, and a code when it has one. */
export function toTaskError(error: unknown): TaskError {
  if (error instanceof ExecutionError)
    return error.errorCode !== undefined ? { message: error.message, code: error.errorCode } : { message: error.message, code: error.code };
  if (error instanceof OrchestratorError) return { message: error.message, code: error.code };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? { message: error.message, code } : { message: error.message };
  }
  if (typeof error === 'object' && error !== null && typeof (error as TaskError).message === 'string') {
    const { message, code } = error as TaskError;
    return typeof code === 'string' ? { message, code } : { message };
  }
  return { message: String(error) };
}
