// The cache as an execution port: a decorator around the port that runs attempts (LocalExecution or
// RoutedExecution). A task whose spec has `cache` gets a key (cacheKey.ts: kind, command or payload,
// cwd, the named environment values, the content of its input files, its dependencies' keys); a hit
// restores the outputs and the output log and completes the task without running it; a miss runs
// the inner port and stores the outputs on success. Every other task goes straight to the inner port:
// no promise, no allocation, no file read.
//
// Invariants, beyond the port's contract (executionPort.ts):
//  - `done` is called exactly once per `start`, never synchronously: a cached task's key is computed
//    after `start` returned (async fs), so its outcome always comes later.
//  - Before the inner attempt starts (hashing, looking up, restoring), `cancel` and `dispose` report
//    CancelledError at once; the background work then finds its handle settled and reports nothing.
//  - A hit never restores an entry the store did not verify (CacheStore.get checks every blob's hash).
//  - An input that cannot be read makes the attempt run uncached, with a warning naming the file: a
//    key that cannot see a file could restore a result that file would have changed.
//  - `noCache` on the record skips the lookup only: the attempt runs and its result is stored, so
//    the next run can be restored and a flaky key is still noticed.
//  - A result restored or stored never carries `cached`, `cacheKey` or `flaky` of an earlier run:
//    those describe this attempt.
import * as path from 'node:path';
import { CancelledError, ExecutionError, OrchestratorError, TimeoutError } from '../model/errors';
import type { CacheSpec, TaskRecord, TaskResult, TaskSpec } from '../model/model';
import type { OrchestratorWarning } from '../model/warnings';
import type { Disposable } from '../util/events';
import type { Executor } from '../ports';
import type { ExecutionHandle, ExecutionPort, ExecutorRegistry, OutcomeCallback, OutputCallback, StartArgs } from '../execution/executionPort';
import { cacheKey } from './cacheKey';
import type { CacheEntry, CacheStore } from './cacheStore';
import type { InputIndex } from './inputIndex';

export interface CachingExecutionOptions {
  store: Pick<CacheStore, 'get' | 'restore' | 'put' | 'noteOutcome'>;
  index: Pick<InputIndex, 'hashFiles' | 'save'>;
  /** The workspace folder: the cwd of tasks that give none, and what a relative cwd resolves against. */
  root: string;
  /** The record of a task by id: a dependency's `result.cacheKey` is part of its dependents' keys. */
  lookup: (id: string) => Readonly<TaskRecord> | undefined;
  onWarn: (warning: OrchestratorWarning) => void;
  /** False: every task runs uncached and nothing is stored. Default true. */
  enabled?: boolean;
  /**
   * Tasks that run elsewhere (a remote backend's kinds): they go straight to the inner port, uncached,
   * because their outputs are written where they run, not under this process's folder.
   */
  runsElsewhere?: (task: TaskRecord) => boolean;
  /** Wall time in ms, for the run time an entry records (what a hit then saves). Default Date.now. */
  now?: () => number;
  /** The environment the named `cache.env` values are read from when the spec's own env lacks them. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** The inner port, with the registry the orchestrator needs (LocalExecution and RoutedExecution both are). */
export type InnerExecution = ExecutionPort & ExecutorRegistry;

/** An attempt of a cached task, from `start` until its outcome has been reported. */
class CachedAttempt implements ExecutionHandle {
  /** The inner attempt, once the key missed (or could not be computed) and the task runs. */
  inner: ExecutionHandle | undefined;
  settled = false;
  /** Resolves once `done` has been called. */
  readonly reported: Promise<void>;
  private resolveReported!: () => void;

  constructor(
    readonly task: TaskRecord,
    private readonly done: OutcomeCallback,
  ) {
    this.reported = new Promise((resolve) => (this.resolveReported = resolve));
  }

  /** Reports the outcome, once: later calls (the background work of a cancelled attempt) do nothing. */
  report(result: TaskResult | undefined, error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveReported();
    this.done(result, error, this.task);
  }
}

export class CachingExecution implements ExecutionPort, ExecutorRegistry {
  private readonly attempts = new Set<CachedAttempt>();
  private readonly now: () => number;
  private disposed = false;
  /** The index is saved after hashing, coalesced: at most one save runs and one more waits. */
  private saving: Promise<void> | undefined;
  private saveAgain = false;

  constructor(
    readonly inner: InnerExecution,
    private readonly options: CachingExecutionOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  start(
    task: TaskRecord,
    attempt: number,
    timeoutMs: number | undefined,
    run: TaskSpec['run'],
    onOutput: OutputCallback | undefined,
    done: OutcomeCallback,
  ): ExecutionHandle | undefined {
    const cache = task.spec.cache;
    if (cache === undefined || this.options.enabled === false || this.disposed || this.options.runsElsewhere?.(task) === true) {
      return this.inner.start(task, attempt, timeoutMs, run, onOutput, done);
    }
    const a = new CachedAttempt(task, done);
    this.attempts.add(a);
    void a.reported.then(() => this.attempts.delete(a));
    this.runCached(a, cache, attempt, timeoutMs, run, onOutput).catch((err: unknown) => a.report(undefined, asFailure(err)));
    return a;
  }

  async cancel(handle: ExecutionHandle, reason?: string): Promise<void> {
    if (!(handle instanceof CachedAttempt)) return this.inner.cancel(handle, reason);
    if (handle.inner !== undefined) await this.inner.cancel(handle.inner, reason);
    else handle.report(undefined, new CancelledError(reason));
    await handle.reported;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const a of this.attempts) if (a.inner === undefined) a.report(undefined, new CancelledError('Cancelled: the orchestrator is disposed'));
    await this.inner.dispose();
    // Attempts storing a result the inner port already reported finish storing first.
    await Promise.all([...this.attempts].map((a) => a.reported));
    await this.saving;
    await this.saveIndex();
  }

  registerExecutor(kind: string, executor: Executor): Disposable {
    return this.inner.registerExecutor(kind, executor);
  }

  hasExecutor(kind: string): boolean {
    return this.inner.hasExecutor(kind);
  }

  /** A restored Scheduled task's attempt on a remote backend (RoutedExecution.resume): remote attempts are never cached. */
  resume(...args: StartArgs): ExecutionHandle | undefined {
    const inner = this.inner as InnerExecution & { resume?: CachingExecution['resume'] };
    return inner.resume ? inner.resume(...args) : this.start(...args);
  }

  /** A restored attempt still running on a remote backend is followed by the inner port: it was not cached. */
  reattach(task: TaskRecord, attempt: number, onOutput: OutputCallback | undefined, done: OutcomeCallback): ExecutionHandle | undefined {
    const inner = this.inner as InnerExecution & { reattach?: CachingExecution['reattach'] };
    return inner.reattach?.(task, attempt, onOutput, done);
  }

  // ------------------------------------------------------------------ one cached attempt

  private async runCached(
    a: CachedAttempt,
    cache: CacheSpec,
    attempt: number,
    timeoutMs: number | undefined,
    run: TaskSpec['run'],
    onOutput: OutputCallback | undefined,
  ): Promise<void> {
    const task = a.task;
    const cwd = path.resolve(this.options.root, task.spec.cwd ?? '.');
    const key = await this.keyOf(task, cache, cwd);
    if (a.settled) return;
    if (key !== undefined && task.noCache !== true) {
      const entry = await this.lookupEntry(key);
      if (a.settled) return;
      if (entry !== undefined && (await this.restored(entry, cwd, task))) {
        if (a.settled) return;
        if (onOutput !== undefined && entry.output.length > 0) onOutput(entry.output);
        a.report({ ...freshResult(entry.result), output: entry.output, cached: { key, savedMs: entry.durationMs }, cacheKey: key }, undefined);
        return;
      }
      if (a.settled) return;
    }
    const started = this.now();
    a.inner = this.inner.start(task, attempt, timeoutMs, run, onOutput, (result, error) => {
      if (key === undefined) return a.report(result, error);
      this.stored(key, cache, cwd, started, result, error).then(
        ([r, e]) => a.report(r, e),
        () => a.report(result, error),
      );
    });
  }

  /** The task's key, or undefined (warned) when an input cannot be read: the task then runs uncached. */
  private async keyOf(task: TaskRecord, cache: CacheSpec, cwd: string): Promise<string | undefined> {
    let hashed: Awaited<ReturnType<InputIndex['hashFiles']>>;
    try {
      hashed = await this.options.index.hashFiles(cwd, cache.inputs);
    } catch (err) {
      this.warn('CACHE_INPUT_UNREADABLE', `Task \`${task.name}\` ran without the cache: its inputs could not be read (${messageOf(err)})`);
      return undefined;
    }
    this.scheduleIndexSave();
    if (hashed.unreadable !== undefined) {
      this.warn('CACHE_INPUT_UNREADABLE', `Task \`${task.name}\` ran without the cache: input \`${hashed.unreadable}\` could not be read`);
      return undefined;
    }
    const env: Record<string, string | undefined> = {};
    const source = this.options.env ?? process.env;
    for (const name of cache.env ?? []) env[name] = task.spec.env?.[name] ?? source[name];
    const spec = task.spec;
    return cacheKey({
      kind: spec.kind,
      ...(spec.command !== undefined ? { command: spec.command } : {}),
      ...(spec.payload !== undefined ? { payload: spec.payload } : {}),
      // Relative to the workspace folder: a clone elsewhere computes the same key.
      cwd: path.relative(this.options.root, cwd).split(path.sep).join('/') || '.',
      env,
      files: hashed.files,
      dependencyKeys: task.dependsOn.map((id) => this.dependencyKey(id)),
    });
  }

  /**
   * A dependency's part of the key: its cache key, or, for one that ran without the cache (no
   * `cache`, or an unreadable input), its definition. A dependent that reads what such a
   * dependency writes names those files in its own inputs.
   */
  private dependencyKey(id: string): string {
    const dep = this.options.lookup(id);
    if (dep === undefined) return `gone:${id}`;
    const k = dep.result?.cacheKey;
    if (k !== undefined) return k;
    return `uncached:${JSON.stringify([dep.spec.key ?? dep.name, dep.kind, dep.spec.command ?? null, dep.spec.payload ?? null])}`;
  }

  private async lookupEntry(key: string): Promise<CacheEntry | undefined> {
    try {
      return await this.options.store.get(key);
    } catch (err) {
      this.warn('CACHE_FAILED', `The cache entry ${key.slice(0, 12)} could not be read (${messageOf(err)}); the task runs`);
      return undefined;
    }
  }

  /** True once the entry's outputs are back under `cwd`; false (warned) when they could not be restored: the task then runs. */
  private async restored(entry: CacheEntry, cwd: string, task: TaskRecord): Promise<boolean> {
    try {
      await this.options.store.restore(entry, cwd);
      return true;
    } catch (err) {
      this.warn('CACHE_FAILED', `Task \`${task.name}\`: its cached outputs could not be restored (${messageOf(err)}); it runs`);
      return false;
    }
  }

  /**
   * After the inner attempt: a success is stored (outputs and result) and reported with its key; a
   * failure or timeout is noted against the key. Either may make the key flaky. The store failing
   * never changes the outcome, only warns.
   */
  private async stored(
    key: string,
    cache: CacheSpec,
    cwd: string,
    started: number,
    result: TaskResult | undefined,
    error: unknown,
  ): Promise<[TaskResult | undefined, unknown]> {
    const store = this.options.store;
    if (error === undefined) {
      const ok = result ?? {};
      try {
        await store.put(key, cwd, cache.outputs ?? [], {
          output: typeof ok.output === 'string' ? ok.output : '',
          result: freshResult(ok),
          durationMs: Math.max(0, this.now() - started),
          createdAt: this.now(),
        });
      } catch (err) {
        this.warn('CACHE_FAILED', `The result of cache key ${key.slice(0, 12)} could not be stored (${messageOf(err)})`);
      }
      const flaky = await this.noted(key, 'completed');
      return [{ ...ok, cacheKey: key, ...(flaky ? { flaky: true } : {}) }, undefined];
    }
    if (!(error instanceof ExecutionError) && !(error instanceof TimeoutError)) return [result, error];
    const flaky = await this.noted(key, 'failed');
    if (!(error instanceof ExecutionError)) return [result, error];
    const failed = new ExecutionError(error.message, { ...error.result, cacheKey: key, ...(flaky ? { flaky: true } : {}) }, error.errorCode);
    failed.cause = error.cause ?? error;
    if (error.stack !== undefined) failed.stack = error.stack;
    return [undefined, failed];
  }

  private async noted(key: string, status: 'completed' | 'failed'): Promise<boolean> {
    try {
      return await this.options.store.noteOutcome(key, status);
    } catch (err) {
      this.warn('CACHE_FAILED', `The outcome of cache key ${key.slice(0, 12)} could not be recorded (${messageOf(err)})`);
      return false;
    }
  }

  private warn(code: OrchestratorWarning['code'], message: string): void {
    this.options.onWarn({ code, message });
  }

  private scheduleIndexSave(): void {
    if (this.saving !== undefined) {
      this.saveAgain = true;
      return;
    }
    this.saving = this.saveIndex().finally(() => {
      this.saving = undefined;
      if (this.saveAgain) {
        this.saveAgain = false;
        this.scheduleIndexSave();
      }
    });
  }

  private async saveIndex(): Promise<void> {
    try {
      await this.options.index.save();
    } catch (err) {
      this.warn('CACHE_FAILED', `The cache's input index could not be saved (${messageOf(err)}); unchanged files are hashed again next time`);
    }
  }
}

/** A result without what describes one attempt's relation to the cache: an entry's result is restored as a fresh one. */
function freshResult(result: TaskResult): TaskResult {
  const { cached: _cached, cacheKey: _key, flaky: _flaky, output: _output, ...rest } = result;
  return rest;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What the background work threw, as the attempt's failure (a bug there must still settle the attempt). */
function asFailure(err: unknown): unknown {
  return err instanceof OrchestratorError ? err : new ExecutionError(`The cache failed: ${messageOf(err)}`);
}
