// The `--json` format: one JSON object per line on stdout, nothing else on stdout. Other tools read
// it, so the names below are a published format: a field may be added, none renamed or removed.
//
//   run.started                     once, first
//   task.created … task.cancelled   one per transition of a task, in the order they happened
//   task.ready                      a running task became Ready (a service), or Ready again
//   task.output                     a piece of a running task's output, as it came
//   warning                         a warning from the orchestrator or the CLI
//   run.finished                    once, last
import type { TaskStatus } from '../../core/model/model';

/** Fields every event has. */
interface EventBase {
  /** When it happened, ISO 8601 in UTC (`2026-01-31T12:00:00.000Z`). */
  time: string;
}

/** A task of the run as `run.started` lists it. */
export interface RunEventTask {
  /** The task's id, unique in the orchestrator; every later event names the task by it. */
  id: string;
  /** Its key in the workflow file, or null for a task that has none (`exec`). */
  key: string | null;
  name: string;
  /** `shell`, `function`, or a registered executor's kind. */
  kind: string;
  /** What it waits for: each dependency's key where it has one, else its id. */
  dependsOn: string[];
  /** Units of each pool it holds while running, e.g. `{ "cpu": 1 }`; `{}` for none. */
  resources: Record<string, number>;
  /** Its status as the run starts: `created` for new work; a resumed run's tasks may have any. */
  status: TaskStatus;
}

export interface RunStartedEvent extends EventBase {
  type: 'run.started';
  /** Workflow names run; empty for `exec` or a resumed run. */
  workflows: string[];
  /** Tasks running at once, at most, at the start (0 as the setting: one per CPU plus the fleet's live slots, followed as they change). */
  concurrency: number;
  /** Capacity of each pool, e.g. `{ "cpu": 2 }`. */
  pools: Record<string, number>;
  /** Every task of the run, in the order the workflow declares them. */
  tasks: RunEventTask[];
}

/** A task reached `status`. `task.scheduled` with `from: "running"` is a retry after a failed attempt. */
export interface TaskTransitionEvent extends EventBase {
  type: `task.${TaskStatus}`;
  id: string;
  /** As in `run.started`: its workflow key, or null. */
  key: string | null;
  name: string;
  /** The status it reached (the type's suffix). */
  status: TaskStatus;
  /** The status it left; null when first seen. */
  from: TaskStatus | null;
  /** Attempts started so far (1 while the first runs; 0 before any has). */
  attempt: number;
  /** Why, when the transition says: a cancel's reason, a retry's backoff. */
  reason?: string;
  /** The process's exit code, when the attempt that just ended had one. */
  exitCode?: number;
  /** The signal that ended the process (`SIGTERM`), when one did. */
  signal?: string;
  /** What went wrong: on `task.failed`, and on a retry's `task.scheduled`. */
  error?: { message: string; code?: string };
  /** On completed, failed and cancelled after a start: ms from its first start to its end, retries included. */
  durationMs?: number;
  /** The worker that ran the attempt, when a remote backend ran it (`--backend redis`): on its end, a retry or a cancel. */
  worker?: string;
  /** On `task.completed`: restored from the cache instead of running. */
  cached?: true;
  /** With `cached`: the run time the cache saved (the stored run's duration), ms. */
  savedMs?: number;
  /** On completed or failed: its cache key both completed and failed once (a flaky task). */
  flaky?: true;
}

/** A running task became Ready: its dependents may start. Again on each later cycle of a background task. */
export interface TaskReadyEvent extends EventBase {
  type: 'task.ready';
  id: string;
  key: string | null;
  name: string;
  /** Errors and warnings its problem matcher reported for the cycle, where known. */
  problems?: { errors: number; warnings: number };
}

export interface TaskOutputEvent extends EventBase {
  type: 'task.output';
  id: string;
  key: string | null;
  /** The output as it came: stdout and stderr interleaved, any terminal escape sequences kept. */
  chunk: string;
}

export interface WarningEvent extends EventBase {
  type: 'warning';
  /** One line. */
  message: string;
}

export interface RunFinishedEvent extends EventBase {
  type: 'run.finished';
  /** What the CLI exits with: 0 all completed, 1 a failure, 130 interrupted (see the README). */
  exitCode: number;
  /** True when Ctrl-C (SIGINT) or SIGTERM ended the run. */
  interrupted: boolean;
  /** Wall time of the whole run, ms. */
  elapsedMs: number;
  /** Tasks of the run by final status. */
  counts: Record<TaskStatus, number>;
  /** Completed tasks restored from the cache, and the run time they saved, ms. */
  cached: number;
  savedMs: number;
}

export type RunEvent = RunStartedEvent | TaskTransitionEvent | TaskReadyEvent | TaskOutputEvent | WarningEvent | RunFinishedEvent;
