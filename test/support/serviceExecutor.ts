// A registered kind whose attempts run until the test ends them, for the services tests: each attempt
// is kept by its task name (the latest one per name), and the test calls reportReady, writes output,
// exits it, or checks that the orchestrator stopped it.
import * as assert from 'node:assert/strict';
import { ExecutionError } from '../../src/core/model/errors';
import type { ExecutionContext, Executor } from '../../src/core/ports';

export interface RunningAttempt {
  ctx: ExecutionContext;
  /** Its signal was aborted: the orchestrator (or a cancel) stopped it. */
  stopped: boolean;
  /** Ends it: 0 completes, anything else fails with that exit code. */
  exit(code: number): void;
}

export class ServiceExecutor implements Executor {
  readonly attempts = new Map<string, RunningAttempt>();
  /** Attempts started so far, every task included. */
  started = 0;

  execute(ctx: ExecutionContext): Promise<{ exitCode?: number }> {
    this.started++;
    return new Promise((resolve, reject) => {
      const run: RunningAttempt = {
        ctx,
        stopped: false,
        exit: (code) => (code === 0 ? resolve({}) : reject(new ExecutionError(`Command failed with exit code ${code}`, { exitCode: code }))),
      };
      ctx.signal.addEventListener('abort', () => {
        run.stopped = true;
        reject(ctx.signal.reason);
      });
      this.attempts.set(ctx.task.name, run);
    });
  }

  /** The latest attempt of the task named `name`; fails the test when none started. */
  get(name: string): RunningAttempt {
    const r = this.attempts.get(name);
    assert.ok(r, `no attempt of ${name} started`);
    return r;
  }
}
