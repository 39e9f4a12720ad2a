// One run of the CLI on the core: an orchestrator on the given store, the run's tasks scheduled,
// shown through a RunView until each has finished, then the exit code. The orchestrator is the same
// as the extension's (createOrchestrator): the CLI only adds the tasks.json executor and the signals.
//
// Invariants: the view sees every transition of the run's tasks, in order, after `start`; the run
// ends when every one of its tasks has finished; Ctrl-C cancels the run and stops every process tree
// (exit 130), a second Ctrl-C kills them at once; nothing this run started outlives it.
import { plainRecord } from '../core/lifecycle/taskRecord';
import { isFinished, type TaskRecord, type TaskStatus } from '../core/model/model';
import { createOrchestrator, type OrchestratorImpl } from '../core/orchestrator/orchestrator';
import type { Store } from '../core/ports';
import type { RemoteExecution } from '../core/execution/routedExecution';
import type { CacheOptions } from '../core/orchestrator/options';
import { VSCODE_TASK_KIND } from '../workspaceFiles/names';
import { ExitCode } from './exitCodes';
import { killEverythingStarted } from './killNow';
import { TasksFileExecutor } from './tasks/tasksFileExecutor';
import type { RunSummary, RunView } from './view/runView';

export interface SessionOptions {
  store: Store;
  /** 0: automatic (one per CPU, plus the fleet's live slots with a remote). */
  concurrency: number;
  resources: Record<string, number>;
  maxFinished?: number;
  /** The workspace folder: where tasks.json is read for `task` steps. */
  folder: string;
  view: RunView;
  /** Workflow names, for the view. */
  workflows: readonly string[];
  /**
   * Puts this run's work on the orchestrator (still paused) and returns the ids of its tasks, in
   * the order they should be shown.
   */
  schedule(orchestrator: OrchestratorImpl): Promise<string[]>;
  /**
   * A remote backend for the kinds it runs (the Redis workers of `--backend redis`), connected once
   * the session can show its warnings. Absent: everything runs in this process.
   */
  remote?: (warn: (message: string) => void) => Promise<RemoteExecution>;
  /** The task cache (tasks with `cache` are restored from it); absent: none. */
  cache?: CacheOptions;
  /** Where SIGINT and SIGTERM come from; `process` unless a test gives its own. */
  signals?: Pick<NodeJS.Process, 'on' | 'off'>;
}

export interface SessionResult {
  exitCode: number;
  summary: RunSummary;
}

function emptyCounts(): Record<TaskStatus, number> {
  return { created: 0, scheduled: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
}

export function exitCodeOf(tasks: readonly TaskRecord[], interruptedBy: NodeJS.Signals | undefined): number {
  if (interruptedBy === 'SIGINT') return ExitCode.interrupted;
  if (interruptedBy === 'SIGTERM') return 143;
  return tasks.every((t) => t.status === 'completed') ? ExitCode.ok : ExitCode.failed;
}

export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const { view } = options;
  const signals = options.signals ?? process;
  const started = Date.now();
  // Warnings before the view has started wait in `early`; the session's own `warn` takes over below.
  const early: string[] = [];
  let warnTo: (message: string) => void = (message) => void early.push(message);
  const remote = options.remote ? await options.remote((message) => warnTo(message)) : undefined;
  let orchestrator: OrchestratorImpl;
  try {
    orchestrator = await createOrchestrator({
      ...(remote ? { remote } : {}),
      store: options.store,
      concurrency: options.concurrency,
      resources: options.resources,
      ...(options.maxFinished !== undefined ? { maxFinished: options.maxFinished } : {}),
      ...(options.cache !== undefined ? { cache: options.cache } : {}),
      startPaused: true,
    });
  } catch (err) {
    // Once created, the orchestrator disposes the remote port with itself.
    await remote?.dispose();
    throw err;
  }
  try {
    const shell = orchestrator.engine.executorOf('shell');
    if (shell) orchestrator.registerExecutor(VSCODE_TASK_KIND, new TasksFileExecutor({ folder: options.folder, shell }));
    // What happens before the view has started (restored tasks resuming, tasks starting while the
    // workflow is scheduled, warnings) is held, then replayed after `start`, so the view sees each
    // task's whole history in order.
    const held: ({ record: TaskRecord; from: TaskStatus | undefined } | { warning: string })[] = [];
    const last = new Map<string, { status: TaskStatus; attempts: number; readyAt?: number }>();
    const ids = new Set<string>();
    let viewStarted = false;
    let unfinished = 0;
    let settle: () => void = () => undefined;
    const allFinished = new Promise<void>((resolve) => (settle = resolve));
    const warn = (message: string): void => {
      if (viewStarted) view.warn(message);
      else held.push({ warning: message });
    };
    for (const message of early) warn(message);
    warnTo = warn;
    for (const w of orchestrator.warnings) warn(w.message);
    orchestrator.onDidWarn((w) => warn(w.message));
    orchestrator.onDidChangeTask((record) => {
      const before = last.get(record.id);
      const readyAt = record.ready?.at;
      if (before && before.status === record.status && before.attempts === record.attempts) {
        // Ready is no transition: the status stays Running and only `ready` changes.
        if (readyAt === undefined || readyAt === before.readyAt) return;
        before.readyAt = readyAt;
        if (viewStarted && ids.has(record.id)) view.ready(record);
        return;
      }
      last.set(record.id, { status: record.status, attempts: record.attempts, readyAt });
      const from = before?.status;
      if (!viewStarted) held.push({ record: structuredClone(plainRecord(record)), from });
      else if (ids.has(record.id)) {
        view.change(record, from);
        if ((from === undefined || !isFinished(from)) && isFinished(record.status) && --unfinished === 0) settle();
      }
    });
    orchestrator.onDidOutput(({ id, chunk }) => {
      if (ids.has(id)) view.output(id, chunk);
    });

    let interruptedBy: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (interruptedBy === undefined) {
        interruptedBy = signal;
        warn(`${signal === 'SIGINT' ? 'Interrupted (Ctrl-C)' : 'Terminated'}: cancelling the run and stopping its processes; Ctrl-C again kills them at once`);
        void orchestrator.cancelAll(signal === 'SIGINT' ? 'Interrupted (Ctrl-C)' : 'Terminated (SIGTERM)').catch(() => undefined);
        return;
      }
      warn('Killing every process the run started');
      void killEverythingStarted().finally(() => process.exit(exitCodeOf([], interruptedBy)));
    };
    signals.on('SIGINT', onSignal);
    signals.on('SIGTERM', onSignal);
    let order: string[];
    try {
      // Started paused so the tasks.json executor exists before restored tasks may run; from here
      // on, tasks start as soon as they are scheduled.
      orchestrator.resume();
      order = await options.schedule(orchestrator);
      for (const id of order) ids.add(id);
      const records = order.map((id) => orchestrator.getTask(id)).filter((r): r is TaskRecord => r !== undefined);
      for (const r of records) if (!last.has(r.id)) last.set(r.id, { status: r.status, attempts: r.attempts });
      // The view starts from each task as it was before the held changes it is about to replay.
      const before = new Map<string, TaskStatus>();
      for (const h of held) if ('record' in h && !before.has(h.record.id)) before.set(h.record.id, h.from ?? h.record.status);
      const atStart = records.map((r) => {
        const status = before.get(r.id);
        return status === undefined ? r : { ...structuredClone(plainRecord(r)), status };
      });
      view.start({
        tasks: atStart,
        workflows: options.workflows,
        concurrency: orchestrator.getSystemStatus().concurrency.limit,
        ...(options.concurrency === 0 ? { automatic: true } : {}),
        pools: options.resources,
      });
      viewStarted = true;
      for (const h of held) {
        if ('warning' in h) view.warn(h.warning);
        else if (ids.has(h.record.id)) view.change(h.record, h.from);
      }
      held.length = 0;
      // Counted after the replay, in the same synchronous step: every later finish goes through the listener.
      unfinished = records.filter((r) => !isFinished(r.status)).length;
      if (unfinished === 0) settle();
      await allFinished;
    } finally {
      signals.off('SIGINT', onSignal);
      signals.off('SIGTERM', onSignal);
    }

    const tasks = order.map((id) => orchestrator.getTask(id)).filter((r): r is TaskRecord => r !== undefined);
    const counts = emptyCounts();
    let cached = 0;
    let savedMs = 0;
    for (const t of tasks) {
      counts[t.status]++;
      if (t.status === 'completed' && t.result?.cached !== undefined) {
        cached++;
        savedMs += t.result.cached.savedMs;
      }
    }
    const summary: RunSummary = {
      tasks,
      counts,
      elapsedMs: Date.now() - started,
      exitCode: exitCodeOf(tasks, interruptedBy),
      interrupted: interruptedBy !== undefined,
      cached,
      savedMs,
    };
    await view.finish(summary);
    return { exitCode: summary.exitCode, summary };
  } finally {
    await orchestrator.dispose();
  }
}
