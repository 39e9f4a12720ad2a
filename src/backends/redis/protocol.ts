// What the coordinator (the editor or `orchestrator run --backend redis`) and the workers
// (`orchestrator worker`) say to each other through Redis, on BullMQ. One attempt of one task is one
// BullMQ job; everything else here is names and shapes both sides must agree on. Bump
// PROTOCOL_VERSION on any incompatible change: a worker refuses jobs of another version.
//
// Routing: one BullMQ queue per pool signature, the sorted set of pool names a task holds
// (`<prefix>.run.any` for none, `<prefix>.run.cpu+gpu` for cpu and gpu). A worker listens only on
// the queues whose pools it has, so a job needing a pool a worker lacks never reaches it; a job
// needing more units than the worker has free right now is moved back (delayed briefly) for another
// worker or a later moment. The coordinator still admits tasks against the fleet's pools, so a pool
// of 1 is never held twice at once anywhere.
import type { ProblemCounts, TaskRecord, TaskResult } from '../../core/model/model';
import type { ReadyInfo } from '../../core/ports';

export const PROTOCOL_VERSION = 2;

/** Key prefix of everything the orchestrator keeps in Redis; several fleets may share a Redis by prefix. */
export const DEFAULT_PREFIX = 'orchestrator';

/** The queue of a pool signature. Pool names match the core's NAME_PATTERN (no `+`, no `:`). */
export function queueName(prefix: string, pools: Iterable<string>): string {
  const names = [...new Set(pools)].sort();
  return `${prefix}.run.${names.length ? names.join('+') : 'any'}`;
}

/** Every queue a worker with these pools listens on: each subset of its pool names (the empty one included). */
export function queuesFor(prefix: string, pools: Iterable<string>): string[] {
  const names = [...new Set(pools)].sort();
  if (names.length > 8) throw new Error(`A worker serves at most 8 pools (one queue per subset), got ${names.length}`);
  const out: string[] = [];
  for (let mask = 0; mask < 1 << names.length; mask++)
    out.push(
      queueName(
        prefix,
        names.filter((_, i) => mask & (1 << i)),
      ),
    );
  return out;
}

/**
 * The BullMQ job id of an attempt: stable, so a restarted coordinator finds its running jobs again.
 * BullMQ refuses `:` in a custom id, so `%` and `:` of a task id are percent-encoded (one-to-one).
 */
export function jobId(taskId: string, attempt: number): string {
  return `${taskId.replace(/%/g, '%25').replace(/:/g, '%3A')}.${attempt}`;
}

/** BullMQ priority (1 first, up to 2^21) of a task priority (higher first, -1e6..1e6). */
export function bullPriority(priority: number): number {
  return Math.min(2 ** 21, Math.max(1, Math.round(1_000_001 - priority)));
}

/**
 * What a job carries of its task: what a worker needs to run it (the persisted spec carries command,
 * cwd, env…; `createdAt` tells one session's task from another's of the same id). Its status,
 * history and dependencies stay with the coordinator: every byte here is written, read and parsed
 * once per job (version 1 carried the whole record).
 */
export type WireTask = Pick<TaskRecord, 'id' | 'name' | 'kind' | 'createdAt' | 'spec'>;

/** A job's data. */
export interface JobData {
  v: typeof PROTOCOL_VERSION;
  task: WireTask;
  attempt: number;
  /** Per-attempt limit the worker enforces too; absent: none. */
  timeoutMs?: number;
  /** The coordinator that enqueued it (its name, for the worker's log). */
  coordinator: string;
}

/** What a job returns on success. */
export interface JobReturn {
  result: TaskResult;
  worker: string;
  /**
   * The `createdAt` of the record it ran. A completed job is removed and this return stays only in
   * the events stream, where a job id of an earlier session may have completed too: this tells them apart.
   */
  createdAt?: number;
}

/**
 * How a worker reports a failed attempt: BullMQ keeps only a string (`failedReason`), so the worker
 * throws an Error whose message is this, as JSON.
 */
export interface JobFailure {
  /** `execution` (the work failed), `timeout`, `cancelled`, `refused` (a kind or protocol the worker does not run). */
  kind: 'execution' | 'timeout' | 'cancelled' | 'refused';
  message: string;
  /** The error's code where it had one (e.g. `TASK_ALREADY_RUNNING`, `INTERRUPTED`). */
  code?: string;
  result?: TaskResult;
  worker: string;
}

export function encodeFailure(failure: JobFailure): string {
  return JSON.stringify(failure);
}

/** The failure a `failedReason` carries; BullMQ's own reasons (a stalled job, a lost lock) become `execution` failures coded INTERRUPTED. */
export function decodeFailure(reason: string | undefined): JobFailure {
  if (reason) {
    try {
      const parsed = JSON.parse(reason) as Partial<JobFailure>;
      if (parsed && typeof parsed.message === 'string' && typeof parsed.kind === 'string') return parsed as JobFailure;
    } catch {
      // Not ours: BullMQ's.
    }
  }
  return { kind: 'execution', message: `The worker running it was lost (${reason ?? 'no reason given'})`, code: 'INTERRUPTED', worker: 'unknown' };
}

/** Pub/sub channel on which the coordinator asks workers to stop an attempt: a JSON CancelMessage. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}

export interface CancelMessage {
  jobId: string;
  reason: string;
}

/**
 * Live output travels as job progress: `{ output: chunk }`, batched by the worker; once the attempt
 * has sent a ReadyProgress, each output carries its latest `ready` too (the sticky rule, below).
 */
export interface OutputProgress {
  output: string;
  ready?: ReadyProgress['ready'];
}

/**
 * Readiness seen on the worker travels as job progress too: `{ ready: { at, problems? } }`, sent
 * after every output chunk before it. It comes from a `readyWhen` port or HTTP probe the worker
 * runs on its own machine while the attempt runs (at most once per attempt), or from the executor's
 * reportReady (once per cycle). `at` is the worker's wall time, for its log only: the coordinator
 * stamps Ready with its own clock. An output pattern is matched by the coordinator, on `{ output }`.
 * A coordinator that does not know `ready` ignores it (its service waits out readyTimeoutMs).
 *
 * Sticky: BullMQ keeps only a job's last progress, and a Ready sent while no coordinator listened
 * (a window reload) would otherwise be lost. So once an attempt has sent `{ ready }`, every later
 * progress of it carries that same `ready` (the latest one) beside its `output`, and a coordinator
 * that re-attaches reads Ready from the job's progress. `at` is strictly increasing per attempt, so
 * the coordinator takes a progress as a ready signal of its own exactly when its `ready.at` differs
 * from the last `at` it saw for that attempt, with or without `output` beside it; a sticky copy it
 * has seen is no new signal.
 */
export interface ReadyProgress {
  ready: { at: number; problems?: ProblemCounts };
}

/** What a worker's `{ ready }` progress says, as the core's ReadyInfo (the core checks the counts). */
export function readyInfo(ready: object): ReadyInfo | undefined {
  const problems = (ready as { problems?: unknown }).problems;
  return typeof problems === 'object' && problems !== null ? { problems: problems as ReadyInfo['problems'] } : undefined;
}

/** Everything a worker sends as job progress. */
export type JobProgress = OutputProgress | ReadyProgress;

/** The hash of live workers' heartbeats: field = worker name, value = a JSON WorkerInfo. */
export function workersKey(prefix: string): string {
  return `${prefix}:workers`;
}

export interface WorkerInfo {
  name: string;
  pools: Record<string, number>;
  kinds: string[];
  concurrency: number;
  /** Attempts running on it now. */
  running: number;
  startedAt: number;
  /** Wall time of the last heartbeat; a worker silent for WORKER_STALE_MS counts as gone. */
  heartbeatAt: number;
  /** Draining after SIGTERM: it takes no new job. */
  draining?: boolean;
}

export const HEARTBEAT_MS = 2_000;
export const WORKER_STALE_MS = 3 * HEARTBEAT_MS;
