// The `vscodeTask` kind in the CLI: a tasks.json task run without VS Code. The plan comes from
// tasksFile.ts; every command of it runs through the core's ShellExecutor, so timeouts, cancels and
// the stop of a whole process tree are the core's. A task's `dependsOn` runs first, in sequence or in
// parallel; the first step that fails fails the task, and in parallel stops its siblings.
//
// A background task (`isBackground`) runs to its exit, as any other: the CLI has no problem matchers to
// tell it that a watcher is ready, so a workflow step should name a task that ends.
import { CancelledError, ExecutionError, fieldError } from '../../core/model/errors';
import { isObjectLike } from '../../core/model/guards';
import type { TaskResult } from '../../core/model/model';
import { DEFAULT_OUTPUT_LIMIT, OutputTail } from '../../core/executors/outputTail';
import type { ExecutionContext, Executor } from '../../core/ports';
import type { VscodeTaskPayload } from '../../workspaceFiles/workflowFile';
import { resolveTasksFileTask, type ResolvedTask } from './tasksFile';

export interface TasksFileExecutorOptions {
  /** The workspace folder whose .vscode/tasks.json names the tasks. */
  folder: string;
  /** Runs a `shell` spec: the core's ShellExecutor, or whatever the engine has for that kind. */
  shell: Executor;
}

/** A step stopped because another one failed: not a failure of its own. */
class SiblingFailed extends CancelledError {}

/** The first step that failed, with the error its run rejected with. */
class StepFailure extends Error {
  constructor(
    readonly step: ResolvedTask,
    readonly error: unknown,
  ) {
    super(`Step \`${step.label}\` failed`);
  }
}

/** A partial line longer than this is written out without waiting for its end. */
const MAX_PARTIAL_LINE = 8192;

export class TasksFileExecutor implements Executor {
  constructor(private readonly options: TasksFileExecutorOptions) {}

  async execute(ctx: ExecutionContext): Promise<TaskResult> {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const plan = resolveTasksFileTask(this.options.folder, parsePayload(ctx.task.spec.payload));
    return new PlanRun(ctx, this.options.shell, plan).run();
  }
}

/** The payload as a workflow file or a persisted record holds it: checked, since it is data. */
export function parsePayload(value: unknown): VscodeTaskPayload {
  if (!isObjectLike(value)) throw fieldError('payload', 'an object like { "label": "build" }', value);
  const { label, type, ownOnly } = value;
  if (typeof label !== 'string' || label === '') throw fieldError('payload.label', 'a non-empty string', label);
  if (type !== undefined && typeof type !== 'string') throw fieldError('payload.type', 'a string', type);
  if (ownOnly !== undefined && typeof ownOnly !== 'boolean') throw fieldError('payload.ownOnly', 'a boolean', ownOnly);
  const payload: VscodeTaskPayload = { label };
  if (type !== undefined) payload.type = type;
  if (ownOnly === true) payload.ownOnly = true;
  return payload;
}

/** One execution of a plan: each step's run is started once and shared by every task that depends on it. */
class PlanRun {
  private readonly tail = new OutputTail(DEFAULT_OUTPUT_LIMIT);
  private readonly runs = new Map<ResolvedTask, Promise<TaskResult | undefined>>();
  /** Prefix output lines with the step's label: only when there is more than one command to tell apart. */
  private readonly prefixed: boolean;

  constructor(
    private readonly ctx: ExecutionContext,
    private readonly shell: Executor,
    private readonly plan: ResolvedTask,
  ) {
    this.prefixed = commandsOf(plan) > 1;
  }

  async run(): Promise<TaskResult> {
    let last: TaskResult | undefined;
    try {
      last = await this.step(this.plan, this.ctx.signal);
    } catch (err) {
      if (!(err instanceof StepFailure)) throw err;
      throw this.failure(err);
    }
    return { exitCode: last?.exitCode ?? 0, output: this.tail.toString() };
  }

  /** The error the task fails with: the step's own when it is the only one; else naming the step. */
  private failure({ step, error }: StepFailure): unknown {
    if (!(error instanceof ExecutionError)) return error;
    const result: TaskResult = { ...error.result, output: this.tail.toString() };
    const message = step === this.plan ? error.message : `Step \`${step.label}\` of \`${this.plan.label}\`: ${error.message}`;
    const failed = new ExecutionError(message, result, error.errorCode);
    failed.cause = error;
    return failed;
  }

  /** Runs a step's dependencies, then its command; resolves with the result of what ran last. */
  private step(step: ResolvedTask, signal: AbortSignal): Promise<TaskResult | undefined> {
    let run = this.runs.get(step);
    if (!run) {
      run = (async () => {
        const fromDeps = await this.dependencies(step, signal);
        return step.command === undefined ? fromDeps : this.command(step, step.command, signal);
      })();
      this.runs.set(step, run);
    }
    return run;
  }

  private async dependencies(step: ResolvedTask, signal: AbortSignal): Promise<TaskResult | undefined> {
    let last: TaskResult | undefined;
    if (step.dependsOrder === 'sequence') {
      for (const dep of step.dependsOn) last = await this.step(dep, signal);
      return last;
    }
    if (step.dependsOn.length === 0) return undefined;
    // Siblings share a signal of their own: the first failure aborts it, and every sibling is waited
    // for, so that no process is left running when the task settles.
    const siblings = new AbortController();
    const forward = (): void => siblings.abort(signal.reason);
    if (signal.aborted) forward();
    else signal.addEventListener('abort', forward, { once: true });
    let failure: unknown;
    const settled = await Promise.allSettled(
      step.dependsOn.map((dep) =>
        this.step(dep, siblings.signal).catch((err: unknown) => {
          if (!(err instanceof SiblingFailed)) failure ??= err;
          if (!siblings.signal.aborted) siblings.abort(new SiblingFailed(`Stopped: a sibling step of \`${step.label}\` failed`));
          throw err;
        }),
      ),
    );
    signal.removeEventListener('abort', forward);
    if (failure !== undefined) throw failure;
    for (const s of settled) {
      // Stopped with no failure among these siblings: a failure further up stopped them all.
      if (s.status === 'rejected') throw s.reason;
      last = s.value;
    }
    return last;
  }

  private async command(step: ResolvedTask, command: string, signal: AbortSignal): Promise<TaskResult> {
    const write = this.writer(step);
    const { ctx } = this;
    try {
      return await this.shell.execute({
        ...ctx,
        signal,
        onOutput: write.chunk,
        task: { ...ctx.task, spec: { ...ctx.task.spec, kind: 'shell', command, cwd: step.cwd, env: { ...ctx.task.spec.env, ...step.env } } },
      });
    } catch (err) {
      // A cancel or a timeout is the task's outcome as it is; a failed step is named by the caller.
      if (err === signal.reason || err instanceof StepFailure) throw err;
      throw new StepFailure(step, err);
    } finally {
      write.end();
    }
  }

  /** Where a step's output goes: the task's tail and live output, by whole lines with `[label] ` when prefixed. */
  private writer(step: ResolvedTask): { chunk: (text: string) => void; end: () => void } {
    const emit = (text: string): void => {
      this.tail.push(text);
      try {
        this.ctx.onOutput?.(text);
      } catch {
        // A listener's failure is not the task's failure.
      }
    };
    if (!this.prefixed) return { chunk: emit, end: () => undefined };
    const prefix = `[${step.label}] `;
    let partial = '';
    return {
      chunk: (text) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        if (partial.length > MAX_PARTIAL_LINE) {
          lines.push(partial);
          partial = '';
        }
        if (lines.length) emit(lines.map((l) => `${prefix}${l}\n`).join(''));
      },
      end: () => {
        if (partial) emit(`${prefix}${partial}\n`);
        partial = '';
      },
    };
  }
}

/** The number of distinct commands a plan runs. */
function commandsOf(plan: ResolvedTask): number {
  const seen = new Set<ResolvedTask>();
  const visit = (t: ResolvedTask): void => {
    if (seen.has(t)) return;
    seen.add(t);
    t.dependsOn.forEach(visit);
  };
  visit(plan);
  return [...seen].filter((t) => t.command !== undefined).length;
}
