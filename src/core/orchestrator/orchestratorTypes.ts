// The Orchestrator's public shape (DESIGN.md, "The core contract"), implemented in orchestrator.ts.
// The extension, the CLI, the dashboard and other extensions program against this.
import type { Disposable, Event } from '../util/events';
import type { SystemStatus, TaskRecord, TaskSpec } from '../model/model';
import type { Clock, Executor, HistoryArchive, Store } from '../ports';
import type { TaskEngine } from '../engine/engine';
import type { TaskLifecycleManager } from '../lifecycle/lifecycle';
import type { MessageQueue } from '../queue/messageQueue';
import type { PerformanceMonitor } from '../metrics/performanceMonitor';
import type { StateCoordinator } from '../state/stateCoordinator';

export interface OrchestratorOptions {
  /** Tasks running at once; default: the number of CPUs. */
  concurrency?: number;
  /** Named pools and their capacities, e.g. `{ gpu: 1, network: 4 }`. */
  resources?: Record<string, number>;
  /** Default: in memory. */
  store?: Store;
  /** Extra task kinds, by name. */
  executors?: Record<string, Executor>;
  /** Where finished records go when they leave the snapshot's byte budget. */
  archive?: HistoryArchive;
  clock?: Clock;
  /** Waiting this long counts as one priority level (aging). Infinity disables aging. */
  agingMs?: number;
  /** Finished records kept in memory and in the snapshot (newest first). */
  maxFinished?: number;
  /** Default per-attempt timeout for specs without one. */
  defaultTimeoutMs?: number;
  /** Default retries for specs without them. */
  defaultRetries?: number;
  /** Grace between SIGTERM and SIGKILL when stopping a process tree. */
  killGraceMs?: number;
  /**
   * Start paused, restored tasks included: nothing starts until `resume()`. For hosts that must
   * check something first (e.g. Workspace Trust) before restored work may go on.
   */
  startPaused?: boolean;
}

/** A change to a task: the record after it, and where it came from. */
export interface TaskChange {
  record: TaskRecord;
  from: TaskRecord['status'] | undefined;
}

export interface OrchestratorWarning {
  code: 'CORRUPT_STATE' | 'STORE_WRITE_FAILED' | 'ARCHIVE_FAILED' | 'RECOVERED' | 'LISTENER_FAILED' | 'QUEUE_FULL';
  message: string;
}

export interface Orchestrator {
  scheduleTask(spec: TaskSpec): Promise<string>;
  scheduleWorkflow(specs: TaskSpec[]): Promise<string[]>;
  cancelTask(id: string, reason?: string): Promise<void>;
  /** Cancels every unfinished task. */
  cancelAll(reason?: string): Promise<number>;
  /** Schedules a failed or cancelled task again as a new task with the same spec; returns the new id. */
  retryTask(id: string): Promise<string>;
  /** Removes a finished task from the records. */
  removeTask(id: string): Promise<void>;
  /** Removes every finished task; returns how many. */
  clearFinished(): Promise<number>;
  getTask(id: string): TaskRecord | undefined;
  /** Every known record, unfinished and retained finished ones, in creation order. */
  getTasks(): TaskRecord[];
  getTaskQueue(): TaskRecord[];
  getSystemStatus(): SystemStatus;
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  whenIdle(): Promise<void>;
  setConcurrency(limit: number): void;
  /** Finished records kept in memory; beyond it the oldest go to the archive at once. */
  setMaxFinished(limit: number): void;
  setResources(resources: Record<string, number>): void;
  registerExecutor(kind: string, executor: Executor): Disposable;
  onDidChangeTask: Event<TaskRecord>;
  onDidWarn: Event<OrchestratorWarning>;
  readonly engine: TaskEngine;
  readonly queue: MessageQueue;
  readonly lifecycle: TaskLifecycleManager;
  readonly state: StateCoordinator;
  readonly monitor: PerformanceMonitor;
  dispose(): Promise<void>;
}
