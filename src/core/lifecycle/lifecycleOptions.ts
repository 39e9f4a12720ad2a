// What TaskLifecycleManager (lifecycle.ts) takes and tells: its options, create's init and the
// event of a transition.
import type { TaskRecord, TaskSpec, TaskStatus } from '../model/model';
import type { Clock } from '../ports';
import type { RecordClass } from './taskRecord';

export interface TransitionEvent {
  /** The record after the change (the live object: read it, do not mutate it). */
  readonly record: Readonly<TaskRecord>;
  /** undefined when the record was just created. */
  readonly from: TaskStatus | undefined;
  readonly to: TaskStatus;
  readonly reason?: string;
}

export interface CreateInit {
  /** Default: a new id from the manager (see RecordTable.nextId). */
  id?: string;
  /**
   * The spec is a fresh copy without `run` (validateSpec's) that nobody else will change: the record
   * keeps it as its spec instead of copying it.
   */
  ownedSpec?: boolean;
  /** Resolved dependency ids (inside a workflow, keys resolved to ids). Default: the spec's dependsOn. */
  dependsOn?: readonly string[];
  workflowId?: string;
  /** The workflow run's failFast policy, kept on the record (TaskRecord.failFast). */
  failFast?: boolean;
  /** Run without reading the cache, kept on the record (TaskRecord.noCache). */
  noCache?: boolean;
  /** The workflow run's name, kept on the record (TaskRecord.workflowName). */
  workflowName?: string;
}

export interface TaskLifecycleManagerOptions {
  clock?: Pick<Clock, 'now'>;
  /**
   * The class of the records (created and restored): HeldRecord, or a subclass in which an owner
   * keeps its own per-task state, found from the record with no lookup (the orchestrator's TaskRun).
   */
  recordClass?: RecordClass;
  generateId?: () => string;
  /** Checks a spec given to createTask. Default: a plain object with a string name and kind. */
  validate?: (spec: unknown) => TaskSpec;
  onListenerError?: (err: unknown) => void;
  /**
   * Called on every transition (creation included) before the onDidTransition listeners, with the
   * event's fields as arguments: the owner's bookkeeping without an event object and an emitter
   * dispatch per transition (four per task). What it throws goes to onListenerError, as a listener's.
   */
  observer?: TransitionObserver;
}

export type TransitionObserver = (record: Readonly<TaskRecord>, from: TaskStatus | undefined, to: TaskStatus, reason: string | undefined) => void;
