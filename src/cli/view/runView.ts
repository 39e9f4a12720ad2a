// What the CLI shows of a run, whichever way it is shown: the live terminal view (a TTY), plain
// prefixed lines (CI, a pipe), or one JSON event per line (`--json`). The run drives one RunView;
// a view only writes to the stream it was given and never touches the orchestrator.
import type { TaskRecord, TaskStatus } from '../../core/model/model';

/** The run as it starts: what will run, in what order it was declared, and with what limits. */
export interface RunStart {
  /** The records just scheduled, in the workflow's declared order (each `spec.key` set for a workflow). */
  tasks: readonly TaskRecord[];
  /** Workflow names run (empty for `exec` or a resumed run). */
  workflows: readonly string[];
  /** The limit at the start; with `automatic`, it follows the fleet's slots (a remote backend). */
  concurrency: number;
  /** The setting was 0: one per CPU, plus the fleet's live slots. */
  automatic?: boolean;
  /** Pool capacities, e.g. `{ cpu: 2 }`. */
  pools: Readonly<Record<string, number>>;
}

/** The run as it ends. */
export interface RunSummary {
  /** Final records of every task of the run, in declared order. */
  tasks: readonly TaskRecord[];
  counts: Readonly<Record<TaskStatus, number>>;
  /** Wall time of the whole run, ms. */
  elapsedMs: number;
  /** The exit code the CLI is about to exit with (exitCodes.ts). */
  exitCode: number;
  /** True when the run ended by Ctrl-C (SIGINT) or SIGTERM. */
  interrupted: boolean;
  /** Tasks completed from the cache instead of running, and the run time that saved (their stored runs' durations), ms. */
  cached: number;
  savedMs: number;
}

export interface RunView {
  start(run: RunStart): void;
  /** A task changed: a new status, or a new attempt (retry). `from` is the status before. */
  change(record: TaskRecord, from: TaskStatus | undefined): void;
  /** A running task became Ready (a service, a background task), or Ready again with new problem counts. */
  ready(record: TaskRecord): void;
  /** A piece of a running task's live output (stdout and stderr interleaved as they came). */
  output(id: string, chunk: string): void;
  /** A warning from the orchestrator or the CLI, one line. */
  warn(message: string): void;
  /** Writes the closing summary; resolves when everything written has been flushed. */
  finish(summary: RunSummary): Promise<void>;
}

/** The name a task is shown by: its workflow key, else its name. */
export function taskLabel(record: TaskRecord): string {
  return record.spec.key ?? record.name;
}
