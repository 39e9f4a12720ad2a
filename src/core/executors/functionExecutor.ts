// The built-in `function` kind: calls the spec's `run` in this process.
//
// Through the engine (executeInto) it allocates no context of its own (`run` gets the engine's
// attempt), reports a synchronous result without a promise, adds no abort listener and never reads
// `ctx.signal` itself: `run` pays for an AbortSignal only if it reads one (bench row 1, the full
// lifecycle, is this path; docs/performance.md has the figures).
//
// Cancel and timeout do not wait for `run`: the executor declares `settleOnAbort`, so the engine
// settles the attempt as soon as it aborts the signal; whatever `run` does later is observed (no
// unhandled rejection) and ignored. A caller that uses this executor without the engine races the
// signal itself.
import { ExecutionError } from '../model/errors';
import type { TaskResult, TaskRunContext } from '../model/model';
import type { ExecutionContext, Executor } from '../ports';

/** What `run` receives. The signal is read through to the execution context, so it is created only if used. */
class RunContext implements TaskRunContext {
  constructor(
    private readonly ctx: ExecutionContext,
    readonly attempt: number,
  ) {}
  get signal(): AbortSignal {
    return this.ctx.signal;
  }
}

/** Where `FunctionExecutor.executeInto` reports: the engine's attempt. */
export interface AttemptSink {
  onResult(result: TaskResult): void;
  onError(err: unknown): void;
  /** onResult in a later microtask (a `run` that returned at once must not report inside the call). */
  onResultSoon(result: TaskResult): void;
}

export class FunctionExecutor implements Executor {
  /** Nothing of an abandoned `run` outlives it but garbage; see the file comment. */
  readonly settleOnAbort = true;

  execute(ctx: ExecutionContext): Promise<TaskResult> {
    const run = ctx.run;
    if (typeof run !== 'function') {
      // `run` lives only in memory: a function task restored from a snapshot has none.
      return Promise.reject(
        new ExecutionError(
          `Task \`${ctx.task.id}\` of kind \`function\` has no \`run\` function (function tasks cannot resume after a restart)`,
          undefined,
          'NOT_RESUMABLE',
        ),
      );
    }
    let out: unknown;
    try {
      out = run(new RunContext(ctx, ctx.attempt));
    } catch (err) {
      return Promise.reject(toExecutionError(err));
    }
    if (!isThenable(out)) return Promise.resolve(toResult(out));
    return Promise.resolve(out).then(toResult, rethrow);
  }

  /**
   * execute() for the engine, reporting straight to the attempt instead of through a returned
   * promise the engine would chain on: one promise, one microtask hop and two closures fewer per
   * attempt. Never reports synchronously (a sync `run` is reported in a microtask, as before).
   * `runContext`: what `run` receives, when the caller has one ready (the engine's attempt, which has
   * `signal` and `attempt`), instead of a new one per call.
   */
  executeInto(ctx: ExecutionContext, sink: AttemptSink, runContext?: TaskRunContext): void {
    const run = ctx.run;
    if (typeof run !== 'function') {
      const err = new ExecutionError(
        `Task \`${ctx.task.id}\` of kind \`function\` has no \`run\` function (function tasks cannot resume after a restart)`,
        undefined,
        'NOT_RESUMABLE',
      );
      queueMicrotask(() => sink.onError(err));
      return;
    }
    let out: unknown;
    try {
      out = run(runContext ?? new RunContext(ctx, ctx.attempt));
    } catch (err) {
      const failed = toExecutionError(err);
      queueMicrotask(() => sink.onError(failed));
      return;
    }
    if (!isThenable(out)) {
      sink.onResultSoon(toResult(out));
      return;
    }
    // Promise.resolve returns a native promise as is; a foreign thenable is adopted, so one that calls
    // back synchronously or twice cannot report inside this call or more than once.
    Promise.resolve(out).then(
      (value) => sink.onResult(toResult(value)),
      (err: unknown) => sink.onError(toExecutionError(err)),
    );
  }
}

/** The result of a `run` that returns nothing, which most do: one shared, frozen object. */
const NO_VALUE: TaskResult = Object.freeze({ value: undefined });

function toResult(value: unknown): TaskResult {
  return value === undefined ? NO_VALUE : { value: toJsonSafe(value) };
}

function rethrow(err: unknown): never {
  throw toExecutionError(err);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

/** A thrown value as a failure: its message, and its `code` when it has a string one. */
export function toExecutionError(err: unknown): ExecutionError {
  let message: unknown;
  let code: unknown;
  try {
    if (err instanceof ExecutionError) return err;
    message = err instanceof Error ? err.message : typeof err === 'string' ? err : `Threw ${describe(err)}`;
    code = (err as { code?: unknown } | null)?.code;
  } catch {
    // A value whose reads throw (a hostile or revoked Proxy): the failure must still be reportable.
    message = `Threw a ${typeof err} whose properties cannot be read`;
    code = undefined;
  }
  const wrapped = new ExecutionError(
    typeof message === 'string' && message !== '' ? message : 'Task failed',
    undefined,
    typeof code === 'string' ? code : undefined,
  );
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
        return `[unserialisable ${constructorName(value as object)}: ${toExecutionError(err).message.split('\n')[0]}]`;
      }
  }
}

/** The name of an object's constructor; `Object` when it has none or it cannot be read. */
function constructorName(value: object): string {
  try {
    const name: unknown = value.constructor?.name;
    return typeof name === 'string' && name !== '' ? name : 'Object';
  } catch {
    return 'Object';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (typeof value === 'symbol') return value.toString();
  if (value !== null && typeof value === 'object') return `[object ${constructorName(value)}]`;
  return String(value);
}
