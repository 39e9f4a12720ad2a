// The public surface of the core, built into dist/core.js: the contract of DESIGN.md ("The core
// contract"), named one by one. What is not listed here is internal and may change without notice;
// a name is added here only when code outside src/core (the CLI, another program) needs it.
// The only barrel file of the project.

// The entry point and the facade.
export { createOrchestrator } from './orchestrator/orchestrator';
export type { OrchestratorImpl } from './orchestrator/orchestrator';
export type { Orchestrator, TaskChange, OutputChunk, WorkflowRunOptions } from './orchestrator/orchestratorTypes';
export type { OrchestratorOptions } from './orchestrator/options';
export type { OrchestratorWarning } from './model/warnings';

// The seed's components, reachable from an Orchestrator (engine, queue, lifecycle, state, monitor)
// and constructible alone.
export { TaskEngine } from './engine/engine';
export type { TaskEngineOptions } from './engine/engine';
export { MessageQueue } from './queue/messageQueue';
export type { MessageQueueOptions, DeadLetter, QueueSnapshot } from './queue/messageQueue';
export { TaskLifecycleManager } from './lifecycle/lifecycle';
export { transition, canTransition, allowedEvents } from './lifecycle/transition';
export type { LifecycleEvent, LifecycleEventType, TransitionPatch } from './lifecycle/transition';
export { StateCoordinator } from './state/stateCoordinator';
export type { Snapshot } from './state/snapshot';
export { PerformanceMonitor } from './metrics/performanceMonitor';
export type { PerformanceMonitorOptions } from './metrics/performanceMonitor';
// The scheduler's two parts, for the bare-scheduler benchmark and code that schedules on its own.
export { ReadyQueue } from './scheduler/readyQueue';
export type { ReadyEntry } from './scheduler/readyQueue';
export { ResourcePools } from './scheduler/resourcePools';
export type { ResourceDemand } from './scheduler/resourcePools';

// Specs, records and statuses.
export { ALL_STATUSES, BUILTIN_KINDS, TaskStatus, isFinished } from './model/model';
export type {
  BuiltinKind,
  HistoryEntry,
  PersistedSpec,
  PoolStatus,
  ProblemCounts,
  ReadyWhen,
  SystemStatus,
  TaskError,
  TaskRecord,
  TaskResult,
  TaskRunContext,
  TaskSpec,
} from './model/model';
export { LIMITS } from './model/limits';
export { applySpecDefaults } from './model/specDefaults';
export type { SpecDefaults } from './model/specDefaults';
export { validateSpec } from './model/specValidation';
export { validateWorkflow } from './model/workflowValidation';
export type { SpecContext, ValidSpec } from './model/specValidation';
export type { ValidWorkflow, WorkflowEntry } from './model/workflowValidation';

// Messages and metrics.
export type { Message, MessageHandler, MessageQueueApi, PublishInput, QueueStats, SubscribeOptions, TopicStats } from './queue/queueTypes';
export type { DurationHistogram, MetricsSeries, PerformanceMetrics, ResourceUsage } from './metrics/metricsTypes';

// Errors: named classes with a stable `code`.
export {
  BackpressureError,
  CancelledError,
  ExecutionError,
  IllegalTransitionError,
  NotFoundError,
  OrchestratorError,
  ServiceError,
  StoreWriteError,
  TimeoutError,
  ValidationError,
} from './model/errors';
export type { ErrorCode } from './model/errors';

// Ports: what the core asks of its host, and the in-memory defaults.
export { MemoryStore, systemClock } from './ports';
export type { Clock, ExecutionContext, Executor, HistoryArchive, ReadyInfo, Store } from './ports';

// Events, shaped like VS Code's so the extension hands them on unchanged.
export { Emitter, toDisposable } from './util/events';
export type { Disposable, Event } from './util/events';
