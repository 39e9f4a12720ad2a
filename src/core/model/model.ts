// What is asked (TaskSpec), what happened (TaskRecord), and the statuses in between.
// Imports nothing but the limits table, so the dashboard's protocol and the webview may read it.
import { LIMITS } from './limits';

/**
 * The six statuses, in lifecycle order: the one list. The tree's stages, the dashboard's counts, the
 * record checks and the status command all iterate it, so a seventh status is added here only.
 */
export const ALL_STATUSES = ['created', 'scheduled', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof ALL_STATUSES)[number];

/** The statuses by name, for code that prefers `TaskStatus.Completed` to a string literal. */
export const TaskStatus: { readonly [K in Capitalize<TaskStatus>]: Uncapitalize<K> } = /* @__PURE__ */ Object.freeze(
  Object.fromEntries(ALL_STATUSES.map((s) => [s.charAt(0).toUpperCase() + s.slice(1), s])) as { [K in Capitalize<TaskStatus>]: Uncapitalize<K> },
);

/** Completed, Failed and Cancelled are final: no event leaves them. The one definition of "finished". */
export function isFinished(status: TaskStatus): boolean {
  // Comparisons rather than a Set lookup: this runs several times per task.
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

export interface TaskRunContext {
  signal: AbortSignal;
  attempt: number;
}

/** The kinds every orchestrator runs without a registered executor: the one list. */
export const BUILTIN_KINDS = ['shell', 'function'] as const;
export type BuiltinKind = (typeof BUILTIN_KINDS)[number];

/** When a service counts as ready: a line of its output matches, a TCP connect succeeds, or an HTTP GET answers 2xx. */
export type ReadyWhen = { output: string } | { port: number; host?: string } | { http: string };

/** What `stopWhen` may say: the one list. */
export const STOP_WHEN_VALUES = ['dependentsDone'] as const;
/** What `restart` may say: the one list. */
export const RESTART_VALUES = ['on-failure'] as const;

/**
 * What a cached task hashes and keeps: the key covers its kind, command (or payload), cwd, the named
 * environment values, the content of every input file and its dependencies' keys. Globs are relative
 * to the task's cwd (or the workspace folder) and never absolute or with `..`: a cache never reads
 * or writes outside it.
 */
export interface CacheSpec {
  /** At least one glob of the files whose content is part of the key. */
  inputs: string[];
  /** Globs of the files stored on success and restored on a hit. */
  outputs?: string[];
  /** Names of environment variables whose values are part of the key. */
  env?: string[];
}

export interface TaskSpec {
  name: string;
  /** A BUILTIN_KINDS entry, or the kind of a registered executor. */
  kind: BuiltinKind | (string & {});
  command?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** For `function` tasks; not persisted, so such tasks cannot resume after a restart. */
  run?: (ctx: TaskRunContext) => unknown;
  /** For registered executors; must be JSON-serialisable. */
  payload?: unknown;
  /** Higher first; equal priorities in arrival order. Default 0. */
  priority?: number;
  /** Task ids, or keys of other specs inside `scheduleWorkflow`. */
  dependsOn?: string[];
  /** Units of each named pool held while running. */
  resources?: Record<string, number>;
  /** Per attempt. On expiry the work is stopped, process tree included. */
  timeoutMs?: number;
  /** Extra attempts after a failure. Default 0. */
  retries?: number;
  /** Base delay of the exponential backoff between attempts. */
  retryDelayMs?: number;
  /**
   * A cleanup step: it waits until every dependency is final and then runs, whether they completed,
   * failed or were cancelled (it reads how they ended from their records). A failed or cancelled
   * dependency does not cancel it; its own dependents wait for its outcome as usual. Default false.
   */
  runAlways?: boolean;
  /** Makes the task a service: it goes Running, then Ready; its dependents start when it is Ready, not when it exits. */
  readyWhen?: ReadyWhen;
  /** How long a service may take to become Ready; then it fails (TIMEOUT), process tree stopped. Default 60000. */
  readyTimeoutMs?: number;
  /** 'dependentsDone': stop the service (process tree) once every task depending on it is final; it then ends Completed. */
  stopWhen?: (typeof STOP_WHEN_VALUES)[number];
  /**
   * 'on-failure': a service that exits (non-zero, or a signal) starts again after a backoff; a crash loop
   * (RESTART_LIMIT restarts within RESTART_WINDOW_MS) fails it with the last output tail in the error.
   */
  restart?: (typeof RESTART_VALUES)[number];
  /** Two workflow runs scheduling a shared service with the same key and cwd share one running instance. */
  shared?: boolean;
  /** Its failure does not cancel its dependents: they run as if it had completed. */
  continueOnError?: boolean;
  /** Name of the spec inside a workflow. */
  key?: string;
  /** Restore the task from the cache when its inputs are unchanged (see CacheSpec). */
  cache?: CacheSpec;
}

export interface HistoryEntry {
  status: TaskStatus;
  at: number;
  reason?: string;
}

export interface TaskResult {
  exitCode?: number;
  signal?: string;
  value?: unknown;
  /** The tail of the output, bounded. */
  output?: string;
  /** Errors and warnings a problem matcher reported for the run (VS Code tasks), where known. */
  problems?: ProblemCounts;
  /** The worker that ran the attempt, when it ran on another process or machine (a remote backend). */
  worker?: string;
  /** Set when the result was restored from the cache instead of running: its key and the run time it saved. */
  cached?: { key: string; savedMs: number };
  /** The cache key the attempt ran or was restored under (hits and misses), for dependents' keys and history. */
  cacheKey?: string;
  /** The same key once completed and once failed: the task is flaky. */
  flaky?: boolean;
}

export interface ProblemCounts {
  errors: number;
  warnings: number;
}

export interface TaskError {
  message: string;
  code?: string;
}

export interface TaskRecord {
  id: string;
  name: string;
  kind: string;
  status: TaskStatus;
  priority: number;
  attempts: number;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  history: HistoryEntry[];
  result?: TaskResult;
  error?: TaskError;
  /** The persisted part of the spec (everything but `run`). */
  spec: PersistedSpec;
  /** Ids this task waits for. */
  dependsOn: string[];
  /** The workflow run this task belongs to, if any. */
  workflowId?: string;
  /**
   * Its workflow run was scheduled with `failFast: true` (set on each of the run's records, so a
   * restored run keeps it): a failure in the run cancels the run's tasks that have not started.
   */
  failFast?: boolean;
  /** The name its workflow run was scheduled under (scheduleWorkflow's `name`), e.g. `ci`. */
  workflowName?: string;
  /** Set while Running once the task is Ready (a service, or a background VS Code task); cleared when it restarts. */
  ready?: { at: number; problems?: ProblemCounts };
  /** Times a `restart: 'on-failure'` service was started again. */
  restarts?: number;
  /**
   * The fleet worker that runs its latest attempt, or ran it (a remote backend's), once the backend
   * knows it; kept when the attempt ends, cleared when another attempt starts.
   */
  worker?: string;
  /** Run without reading the cache (retryTask's or scheduleWorkflow's `noCache`): a restart keeps it. */
  noCache?: true;
}

export type PersistedSpec = Omit<TaskSpec, 'run'>;

export interface PoolStatus {
  capacity: number;
  inUse: number;
}

export interface SystemStatus {
  counts: Record<TaskStatus, number>;
  pools: Record<string, PoolStatus>;
  concurrency: {
    limit: number;
    running: number;
    /** Present while the limit is automatic (the setting 0): its parts, this machine's CPUs and a remote fleet's live slots. */
    automatic?: { cpus: number; fleet: number };
  };
  paused: boolean;
  total: number;
}

/** The longest reason or error message a record keeps: LIMITS.messageLength. */
export const MAX_MESSAGE_LENGTH = LIMITS.messageLength;

/** `text` if it is at most `max` characters, else its head and a marker saying how much was cut. */
export function boundText(text: string, max = MAX_MESSAGE_LENGTH): string {
  if (text.length <= max) return text;
  // The marker takes at most 47 characters (a 16-digit count): the head leaves room for it.
  const head = text.slice(0, Math.max(0, max - 47));
  return `${head} … [truncated ${text.length - head.length} more characters]`;
}
