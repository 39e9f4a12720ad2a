// The execution port run in this process: each attempt through the TaskEngine and the executor of
// its kind. A thin adapter, with no state of its own: the engine keeps the running attempts and
// holds them to the port's contract (see engine.ts for the outcomes and the abort bound).
import type { Disposable } from '../util/events';
import type { TaskRecord, TaskSpec } from '../model/model';
import type { Executor } from '../ports';
import type { AttemptHandle, TaskEngine } from '../engine/engine';
import type { ExecutionHandle, ExecutionPort, ExecutorRegistry, OutcomeCallback, OutputCallback } from './executionPort';

export class LocalExecution implements ExecutionPort, ExecutorRegistry {
  constructor(readonly engine: TaskEngine) {}

  start(
    task: TaskRecord,
    attempt: number,
    timeoutMs: number | undefined,
    run: TaskSpec['run'],
    onOutput: OutputCallback | undefined,
    done: OutcomeCallback,
  ): ExecutionHandle | undefined {
    return this.engine.startAttempt(task, attempt, timeoutMs, run, onOutput, done);
  }

  cancel(handle: ExecutionHandle, reason?: string): Promise<void> {
    return this.engine.cancelAttempt(handle as AttemptHandle, reason);
  }

  dispose(): Promise<void> {
    return this.engine.dispose();
  }

  registerExecutor(kind: string, executor: Executor): Disposable {
    return this.engine.registerExecutor(kind, executor);
  }

  hasExecutor(kind: string): boolean {
    return this.engine.hasExecutor(kind);
  }
}
