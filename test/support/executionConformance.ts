// One conformance suite for every implementation of the core's execution port (executionPort.ts):
// LocalExecution in this process today; workers elsewhere later. The suite only starts attempts of
// the kinds in `conformanceExecutors`, and only through the port: an implementation that runs work
// elsewhere registers those executors where its workers run. Time is real and short (a remote
// implementation has no clock the test could move); every wait is awaited, none is a hoped-for sleep.
import * as assert from 'node:assert/strict';
import { CancelledError, ExecutionError, OrchestratorError, TimeoutError } from '../../src/core/model/errors';
import type { TaskRecord, TaskResult } from '../../src/core/model/model';
import type { ExecutionContext, Executor } from '../../src/core/ports';
import type { ExecutionPort } from '../../src/core/execution/executionPort';

/** How long, at most, an implementation may take to settle an attempt whose work ignores its abort. */
export const CONFORMANCE_ABORT_SETTLE_MS = 50;

/** Work the suite runs, by kind. Pure functions of their context: they run wherever the port runs them. */
export const conformanceExecutors: Record<string, Executor> = {
  'conformance.ok': { execute: async () => ({ value: 42 }) },
  // Resolves nothing, as the Executor contract allows at run time (its type asks for a result).
  'conformance.nothing': { execute: () => Promise.resolve(undefined as unknown as TaskResult) },
  'conformance.output': {
    execute: async (ctx: ExecutionContext) => {
      ctx.onOutput?.('one\n');
      await Promise.resolve();
      ctx.onOutput?.('two\n');
      return { output: 'one\ntwo\n' };
    },
  },
  'conformance.reject': {
    execute: async () => {
      throw new Error('boom');
    },
  },
  'conformance.exit': { execute: async () => ({ exitCode: 3 }) },
  /** Runs until its signal aborts, then ends as aborted work does. */
  'conformance.untilAborted': {
    execute: (ctx: ExecutionContext) =>
      new Promise<never>((_resolve, reject) => {
        const signal = ctx.signal;
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
  },
  /** A lost worker: never settles and ignores its signal. */
  'conformance.lost': { execute: () => new Promise<never>(() => undefined) },
};

export interface ConformanceOptions {
  /** A fresh port that runs `executors` (by kind) and settles an ignored abort within `abortSettleMs`. */
  makePort: (executors: Record<string, Executor>, abortSettleMs: number) => ExecutionPort | Promise<ExecutionPort>;
}

interface Outcome {
  result: TaskResult | undefined;
  error: unknown;
  task: TaskRecord;
}

/** A running record of `kind`, as the dispatcher hands one to the port (the port only reads it). */
function record(id: string, kind: string): TaskRecord {
  return { id, name: id, kind, status: 'running', priority: 0, attempts: 1, createdAt: 0, history: [], spec: { name: id, kind }, dependsOn: [] };
}

/** Starts one attempt and records how `done` was called. */
function startOne(port: ExecutionPort, id: string, kind: string, timeoutMs?: number, onOutput?: (chunk: string) => void) {
  const outcomes: Outcome[] = [];
  let notify: (() => void) | undefined;
  const reported = new Promise<void>((resolve) => (notify = resolve));
  const task = record(id, kind);
  let inside = true;
  let sync = false;
  const handle = port.start(task, 1, timeoutMs, undefined, onOutput, (result, error, t) => {
    if (inside) sync = true;
    outcomes.push({ result, error, task: t });
    notify?.();
  });
  inside = false;
  return { task, handle, outcomes, reported, calledInsideStart: () => sync };
}

/** Resolves when `p` does, or rejects after `ms`: a broken implementation fails the test, not the run. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** A result without `worker`, which a remote implementation adds (TaskResult.worker) and this suite does not judge. */
function ranWhere(result: TaskResult | undefined): TaskResult | undefined {
  if (result === undefined || !('worker' in result)) return result;
  const { worker: _worker, ...rest } = result;
  return rest;
}

/** Lets queued reactions run, then a little more: for "nothing else was reported" checks. */
const drain = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

export function executionConformance(name: string, options: ConformanceOptions): void {
  describe(`Execution port conformance: ${name}`, () => {
    let port: ExecutionPort;
    beforeEach(async () => {
      port = await options.makePort(conformanceExecutors, CONFORMANCE_ABORT_SETTLE_MS);
    });
    afterEach(async () => {
      await within(port.dispose(), 2000, 'dispose');
    });

    it('start: reports the result once, never inside start, with the task it was given', async () => {
      const a = startOne(port, 'ok', 'conformance.ok');
      assert.ok(a.handle, 'a started attempt has a handle');
      assert.equal(a.handle.task, a.task);
      assert.equal(a.outcomes.length, 0);
      await within(a.reported, 1000, 'the outcome');
      await drain();
      assert.equal(a.calledInsideStart(), false);
      assert.equal(a.outcomes.length, 1);
      assert.deepEqual(ranWhere(a.outcomes[0].result), { value: 42 });
      assert.equal(a.outcomes[0].error, undefined);
      assert.equal(a.outcomes[0].task, a.task);
    });

    it('result: work that resolves nothing reports `{}`', async () => {
      const a = startOne(port, 'nothing', 'conformance.nothing');
      await within(a.reported, 1000, 'the outcome');
      assert.deepEqual(ranWhere(a.outcomes[0].result), {});
      assert.equal(a.outcomes[0].error, undefined);
    });

    it('output: chunks arrive in order, before the outcome', async () => {
      const seen: string[] = [];
      let reported = false;
      const a = startOne(port, 'out', 'conformance.output', undefined, (chunk) => seen.push(reported ? `late:${chunk}` : chunk));
      void a.reported.then(() => (reported = true));
      await within(a.reported, 1000, 'the outcome');
      assert.equal(a.outcomes[0].error, undefined);
      // A remote implementation may batch chunks on the way: the text and its order are what count.
      assert.ok(!seen.some((chunk) => chunk.startsWith('late:')), `output after the outcome: ${JSON.stringify(seen)}`);
      assert.equal(seen.join(''), 'one\ntwo\n');
      assert.deepEqual(ranWhere(a.outcomes[0].result), { output: 'one\ntwo\n' });
    });

    it('failure: a rejection and a non-zero exit report ExecutionError', async () => {
      const rejected = startOne(port, 'reject', 'conformance.reject');
      const exited = startOne(port, 'exit', 'conformance.exit');
      await within(Promise.all([rejected.reported, exited.reported]), 1000, 'both outcomes');
      assert.ok(rejected.outcomes[0].error instanceof ExecutionError);
      assert.match((rejected.outcomes[0].error as Error).message, /boom/);
      assert.equal(rejected.outcomes[0].result, undefined);
      const exit = exited.outcomes[0].error;
      assert.ok(exit instanceof ExecutionError);
      assert.equal(exit.result?.exitCode, 3);
    });

    it('timeout: work still running when timeoutMs passes reports TimeoutError', async () => {
      const a = startOne(port, 'slow', 'conformance.untilAborted', 20);
      await within(a.reported, 1000, 'the timeout');
      const err = a.outcomes[0].error;
      assert.ok(err instanceof TimeoutError, `expected a TimeoutError, got ${String(err)}`);
      assert.equal(err.timeoutMs, 20);
    });

    it('cancel: stops the work and resolves once CancelledError has been reported', async () => {
      const a = startOne(port, 'cancel', 'conformance.untilAborted');
      await drain();
      assert.equal(a.outcomes.length, 0, 'still running before the cancel');
      assert.ok(a.handle);
      await within(port.cancel(a.handle, 'stop it'), 1000, 'the cancel');
      assert.equal(a.outcomes.length, 1, 'reported by the time cancel resolves');
      const err = a.outcomes[0].error;
      assert.ok(err instanceof CancelledError);
      assert.equal(err.message, 'stop it');
      await within(port.cancel(a.handle, 'again'), 1000, 'a second cancel');
      await drain();
      assert.equal(a.outcomes.length, 1, 'an outcome is reported once');
    });

    it('a lost worker: work that never settles and ignores its signal is bounded by cancel', async () => {
      const a = startOne(port, 'lost', 'conformance.lost');
      assert.ok(a.handle);
      const began = Date.now();
      await within(port.cancel(a.handle, 'worker lost'), 1000, 'the bounded cancel');
      assert.ok(Date.now() - began < 1000);
      assert.equal(a.outcomes.length, 1);
      assert.ok(a.outcomes[0].error instanceof CancelledError);
    });

    it('a kind nobody runs: no handle, and the reason reported once, not inside start', async () => {
      const a = startOne(port, 'unknown', 'conformance.nobody');
      assert.equal(a.handle, undefined);
      await within(a.reported, 1000, 'the refusal');
      await drain();
      assert.equal(a.calledInsideStart(), false);
      assert.equal(a.outcomes.length, 1);
      assert.ok(a.outcomes[0].error instanceof ExecutionError);
    });

    it('dispose with attempts running: each reports CancelledError before dispose resolves; later starts fail', async () => {
      const running = [
        startOne(port, 'r1', 'conformance.untilAborted'),
        startOne(port, 'r2', 'conformance.lost'),
        startOne(port, 'r3', 'conformance.untilAborted', 60_000),
      ];
      await drain();
      await within(port.dispose(), 1000, 'dispose');
      for (const a of running) {
        assert.equal(a.outcomes.length, 1, `${a.task.id} reported by the time dispose resolves`);
        assert.ok(a.outcomes[0].error instanceof CancelledError);
      }
      const late = startOne(port, 'late', 'conformance.ok');
      assert.equal(late.handle, undefined);
      await within(late.reported, 1000, 'the refusal');
      const err = late.outcomes[0].error;
      assert.ok(err instanceof OrchestratorError);
      assert.equal(err.code, 'DISPOSED');
    });
  });
}
