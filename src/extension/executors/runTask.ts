// Runs one VS Code task through `vscode.tasks.executeTask` and settles when it ends: its exit code,
// the problems its matchers reported (counted from diagnostics by source), the output read from its
// terminal through shell integration. Cancel (the signal) terminates the execution, also one whose
// process has not started yet. A task VS Code is already running is refused, not started twice.
// A background task never ends by itself: it is ready each time its matchers' background patterns say
// a cycle ended in its output (backgroundCycles.ts) and its problems have settled.
import * as vscode from 'vscode';
import { CancelledError, ExecutionError } from '../../core/model/errors';
import type { ProblemCounts, TaskResult } from '../../core/model/model';
import { BackgroundCycles, type BackgroundPattern } from './backgroundCycles';
import { countProblems, taskProblemSources, watchProblems } from './taskProblems';
import { vscodeLabel } from './taskResolver';
import { TerminalOutputReader } from './taskTerminalOutput';
import type { VscodeTaskRuns } from './vscodeTaskRuns';

/** What runTask keeps beside the result, for the record that runs the task. */
export interface RunTaskOptions {
  /** The record running the task: it claims the task in `runs` (VS Code runs a task once at a time). */
  id?: string;
  runs?: VscodeTaskRuns;
  /** The label VS Code shows; the task's name by default. */
  label?: string;
  /** Receives the output read from the task's terminal, where shell integration allows. */
  onOutput?: (chunk: string) => void;
  /** Diagnostic sources of its problem matchers (taskProblemSources); default: the task's own. */
  problemSources?: readonly string[];
  /**
   * Set for a background task (`isBackground`): its matchers' background patterns (backgroundPatterns),
   * empty when they have none. Without it the task is only done when its process ends.
   */
  background?: readonly BackgroundPattern[];
  /**
   * A background task is ready: a cycle ended (or, without patterns or a readable terminal, its process
   * started) and its diagnostics settled. Called again on each later cycle, with that cycle's counts;
   * undefined counts when its matchers have no diagnostic source to count by.
   */
  onReady?: (problems: ProblemCounts | undefined) => void;
}

/**
 * How long the end of a task waits for its last diagnostics and terminal output. Measured in 1.139:
 * a matcher's last file's problems reach the extension 190-260 ms after onDidEndTaskProcess and
 * onDidEndTask, which come together; no event marks their arrival, so the end waits for a quiet spell.
 */
const DIAGNOSTICS_QUIET_MS = 500;
const SETTLE_MAX_MS = 2000;
/**
 * How long after its process starts a background task's terminal may take to be found through shell
 * integration. Measured in 1.139 (code-server, a shell and a process task): its shell execution starts
 * in the same millisecond as onDidStartTaskProcess; one not found by then will not be, and the task's
 * cycles cannot be followed. The margin is for a slow or loaded machine.
 */
const TERMINAL_FOUND_MS = 5000;

/**
 * Runs a task and settles when its process (or, for a custom execution, the task) ends. While it runs,
 * the problems its matchers report are counted into `runs` (a background task never ends by itself);
 * the result carries the last counts, and the output read from its terminal goes to `onOutput`.
 */
export function runTask(task: vscode.Task, signal: AbortSignal, options: RunTaskOptions = {}): Promise<TaskResult> {
  const { id, runs, onOutput } = options;
  const label = options.label ?? vscodeLabel(task);
  let release = (): void => undefined;
  if (id !== undefined && runs) {
    try {
      release = runs.claim(task, id, label);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  const sources = options.problemSources ?? taskProblemSources(task, undefined);
  let problems: ProblemCounts | undefined;
  /** Set while a background task's readiness follows its diagnostics (no cycles to follow). */
  let onProblemsChanged: (() => void) | undefined;
  const problemWatch = sources.length
    ? watchProblems(sources, (counts) => {
        problems = counts;
        if (id !== undefined) runs?.setProblems(id, counts);
        onProblemsChanged?.();
      })
    : undefined;
  const { background, onReady } = options;
  // Set once a cycle's readiness is pending, bumped by a new cycle: only the latest cycle reports.
  let readyGeneration = 0;
  let readyOnce = false;
  let cycles: BackgroundCycles | undefined;
  const reader =
    onOutput || (background?.length && onReady)
      ? new TerminalOutputReader((chunk) => {
          onOutput?.(chunk);
          cycles?.write(chunk);
        })
      : undefined;

  return new Promise<TaskResult>((resolve, reject) => {
    let execution: vscode.TaskExecution | undefined;
    let settled = false;
    let ending = false;
    let launched = false;
    // Events can arrive before executeTask resolves: keep them until the execution is known.
    const startedProcesses = new Map<vscode.TaskExecution, number>();
    const endedProcesses = new Map<vscode.TaskExecution, number | undefined>();
    const endedTasks = new Set<vscode.TaskExecution>();
    const subscriptions: vscode.Disposable[] = [];

    /** Reports ready once the diagnostics of the cycle that just ended have settled. */
    const becomeReady = (): void => {
      if (!onReady || settled || ending) return;
      const generation = ++readyGeneration;
      void (sources.length ? diagnosticsQuiet() : Promise.resolve()).then(() => {
        if (generation !== readyGeneration || settled || ending) return;
        let counts: ProblemCounts | undefined;
        if (sources.length) {
          counts = problems = countProblems(sources);
          if (id !== undefined) runs?.setProblems(id, counts);
        }
        onReady(counts);
      });
    };
    if (background?.length && onReady) {
      cycles = new BackgroundCycles(background, (event) => {
        if (event === 'end') becomeReady();
        // A new cycle makes a pending report of the previous one stale.
        else readyGeneration++;
      });
    }
    /**
     * A background task whose cycles cannot be followed (its matchers have no background patterns, or
     * its terminal cannot be read) is ready once its process has started and its problems have settled,
     * and again, with fresh counts, each time they change and settle: its builds show only there.
     */
    const followDiagnostics = (): void => {
      onProblemsChanged = becomeReady;
      becomeReady();
    };
    const onProcessStarted = (): void => {
      if (!background || !onReady || readyOnce) return;
      readyOnce = true;
      if (!cycles) return followDiagnostics();
      const timer = setTimeout(() => {
        if (reader?.matched) return;
        onOutput?.(
          `> The terminal of "${label}" cannot be read (no shell integration), so the end of its build cycles cannot be seen: it counts as ready now that it has started, with the problems it reports\n`,
        );
        followDiagnostics();
      }, TERMINAL_FOUND_MS);
      subscriptions.push({ dispose: () => clearTimeout(timer) });
    };

    const settle = (fn: () => void, keepClaim = false): void => {
      if (settled) return;
      settled = true;
      for (const s of subscriptions) s.dispose();
      signal.removeEventListener('abort', onAbort);
      problemWatch?.dispose();
      reader?.dispose();
      if (!keepClaim) release();
      fn();
    };
    const withProblems = (result: TaskResult): TaskResult => (problems ? { ...result, problems } : result);
    /** The process has ended: its last diagnostics and terminal output come a moment later. */
    const finish = async (result: TaskResult): Promise<void> => {
      ending = true;
      await Promise.all([sources.length ? diagnosticsQuiet() : undefined, reader?.drain(SETTLE_MAX_MS)]);
      if (sources.length) {
        problems = countProblems(sources);
        if (id !== undefined) runs?.setProblems(id, problems);
      }
      if (reader && !reader.matched) {
        onOutput?.(
          `> Nothing could be read from the terminal "${label}": VS Code lets an extension read a task's terminal only through shell integration, which this terminal did not have (\`terminal.integrated.shellIntegration.enabled\` is off, or VS Code cannot integrate its shell). Its output is only in its terminal.\n`,
        );
      }
      settle(() => resolve(withProblems(result)));
    };
    const check = (): void => {
      if (!execution || ending) return;
      if (startedProcesses.has(execution)) {
        const pid = startedProcesses.get(execution) as number;
        if (id !== undefined) runs?.setProcess(id, pid);
        reader?.setProcessId(pid);
        onProcessStarted();
      }
      if (endedProcesses.has(execution)) {
        const exitCode = endedProcesses.get(execution);
        void finish(exitCode === undefined ? {} : { exitCode });
      } else if (endedTasks.has(execution)) {
        // A task without a process (CustomExecution) ends without onDidEndTaskProcess; a process task
        // fires onDidEndTaskProcess first, so by now it would have settled.
        void finish({});
      }
    };
    const onAbort = (): void => {
      stopWhenStarted();
      const reason: unknown = signal.reason;
      // The claim lasts until the execution has ended: VS Code would hand its execution to a new run.
      const keepClaim = launched && !(execution && (endedProcesses.has(execution) || endedTasks.has(execution)));
      settle(() => reject(reason instanceof Error ? reason : new CancelledError()), keepClaim);
    };
    // `terminate()` on an execution whose process has not started yet does nothing (measured in
    // code-server 1.139): keep terminating as it starts, until it ends or a minute has passed.
    const stopWhenStarted = (): void => {
      execution?.terminate();
      const killer: vscode.Disposable[] = [];
      const stop = (): void => {
        killer.forEach((d) => d.dispose());
        release();
      };
      const timer = setTimeout(stop, 60_000);
      killer.push(
        { dispose: () => clearTimeout(timer) },
        vscode.tasks.onDidStartTask((e) => {
          if (e.execution === execution) e.execution.terminate();
        }),
        vscode.tasks.onDidStartTaskProcess((e) => {
          if (e.execution === execution) e.execution.terminate();
        }),
        vscode.tasks.onDidEndTask((e) => {
          if (e.execution === execution) stop();
        }),
      );
    };

    subscriptions.push(
      vscode.tasks.onDidStartTaskProcess((e) => {
        startedProcesses.set(e.execution, e.processId);
        check();
      }),
      vscode.tasks.onDidEndTaskProcess((e) => {
        endedProcesses.set(e.execution, e.exitCode);
        check();
      }),
      vscode.tasks.onDidEndTask((e) => {
        endedTasks.add(e.execution);
        check();
      }),
    );
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) return onAbort();

    launched = true;
    vscode.tasks.executeTask(task).then(
      (exec) => {
        execution = exec;
        if (settled) exec.terminate();
        else check();
      },
      (err: unknown) =>
        settle(() =>
          reject(
            new ExecutionError(
              `Could not start VS Code task \`${label}\`: ${err instanceof Error ? err.message : String(err)}`,
              undefined,
              'TASK_START_FAILED',
            ),
          ),
        ),
    );
  });
}

/** Resolves once diagnostics have not changed for DIAGNOSTICS_QUIET_MS, or after SETTLE_MAX_MS. */
function diagnosticsQuiet(): Promise<void> {
  return new Promise<void>((resolve) => {
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const done = (): void => {
      clearTimeout(quiet);
      clearTimeout(cap);
      sub.dispose();
      resolve();
    };
    const cap = setTimeout(done, SETTLE_MAX_MS);
    const sub = vscode.languages.onDidChangeDiagnostics(() => {
      clearTimeout(quiet);
      quiet = setTimeout(done, DIAGNOSTICS_QUIET_MS);
    });
    quiet = setTimeout(done, DIAGNOSTICS_QUIET_MS);
  });
}
