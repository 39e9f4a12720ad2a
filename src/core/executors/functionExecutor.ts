// The built-in `function` kind: calls the spec's `run` in this process.
//
// This is the hot path of the orchestrator's benchmarks (100,000 no-op tasks), so a function that
// returns synchronously costs one settled promise and no listener; only a pending promise gets an
// abort listener, which is what lets cancel and timeout settle it even if `run` ignores its signal.
import { ExecutionError } from '../errors';
import type { TaskResult } from '../model';
import type { ExecutionContext, Executor } from '../ports';

export class FunctionExecutor implements Executor {
  execute(ctx: ExecutionContext): Promise<TaskResult> {
    const { run, signal } = ctx;
    if (typeof run !== 'function') {
      // `run` lives only in memory: a function task restored from a snapshot has none.
      return Promise.reject(new ExecutionError(`Task \`${ctx.task.id}\` of kind \`function\` has no \`run\` function (function tasks cannot resume after a restart)`, undefined, 'NOT_RESUMABLE'));
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    let out: unknown;
    try {
      out = run({ signal, attempt: ctx.attempt });
    } catch (err) {
      return Promise.reject(toExecutionError(err));
    }
    if (!isThenable(out)) return Promise.resolve({ value: toJsonSafe(out) });
    const pending = out;
    return new Promise<TaskResult>((resolve, reject) => {
      // The abort reason (TimeoutError or CancelledError) settles the attempt now; whatever `run`
      // does later is observed (no unhandled rejection) and ignored.
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      pending.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve({ value: toJsonSafe(value) });
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(toExecutionError(err));
        },
      );
    });
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

/** A thrown value as a failure: its message, and its `code` when it has a string one. */
export function toExecutionError(err: unknown): ExecutionError {
  if (err instanceof ExecutionError) return err;
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : `Threw ${describe(err)}`;
  const code = (err as { code?: unknown } | null)?.code;
  const wrapped = new ExecutionError(message || 'Task failed', undefined, typeof code === 'string' ? code : undefined);
  wrapped.cause = err;
  return wrapped;
}

/**
 * The value as it can be persisted: JSON-safe values are kept (objects as their JSON round trip, so
 * the live record and the restored one agree), anything else becomes a string that describes it.
 */
export function toJsonSafe(value: unknown): unknown {
  switch (typeof value) {
    case 'undefined':
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
    case 'function':
      return describe(value);
    default:
      if (value === null) return null;
      try {
        const json = JSON.stringify(value);
        // A toJSON() that returns undefined serialises to nothing.
        return json === undefined ? describe(value) : (JSON.parse(json) as unknown);
      } catch (err) {
        return `[unserialisable ${(value as object).constructor?.name ?? 'Object'}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}]`;
      }
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (typeof value === 'symbol') return value.toString();
  if (value !== null && typeof value === 'object') return `[object ${value.constructor?.name ?? 'Object'}]`;
  return String(value);
}
