// The Orchestrator's public shape (DESIGN.md, "The core contract"), implemented in orchestrator.ts.
// The extension, the CLI, the dashboard and other extensions program against this.
import type { Disposable, Event } from '../util/events';
import type { SystemStatus, TaskRecord, TaskSpec } from '../model/model';
import type { Executor } from '../ports';
import type { TaskEngine } from '../engine/engine';
import type { TaskLifecycleManager } from '../lifecycle/lifecycle';
import type { MessageQueue } from '../queue/messageQueue';
import type { PerformanceMonitor } from '../metrics/performanceMonitor';
import type { StateCoordinator } from '../state/stateCoordinator';
import type { OrchestratorWarning } from '../model/warnings';
import type { RetryOptions, WorkflowRunOptions } from './failurePolicies';

export type { OrchestratorOptions } from './options';
export type { OrchestratorWarning } from '../model/warnings';
export type { RetryOptions, WorkflowRunOptions } from './failurePolicies';

/** A change to a task: the record after it, and where it came from. */
export interface TaskChange {
  record: TaskRecord;
  from: TaskRecord['status'] | undefined;
}

export interface Orchestrator {
  scheduleTask(spec: TaskSpec): Promise<string>;
  /** All or nothing; `options.failFast`: a failure cancels the run's tasks that have not started (default false). */
  scheduleWorkflow(specs: TaskSpec[], options?: WorkflowRunOptions): Promise<string[]>;
  cancelTask(id: string, reason?: string): Promise<void>;
  /** Cancels every unfinished task. */
  cancelAll(reason?: string): Promise<number>;
  /**
   * Schedules a failed or cancelled task again as a new task with the same spec; returns the new id.
   * `options.noCache`: the new task runs without reading the cache (a completed task may be run again so).
   */
  retryTask(id: string, options?: RetryOptions): Promise<string>;
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

/** A piece of a running task's live output. */
export interface OutputChunk {
  id: string;
  chunk: string;
}
