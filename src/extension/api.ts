// The API `activate` returns to other extensions (`vscode.extensions.getExtension(id).exports`).
// Versioned: `version` changes only with an incompatible change. Everything a caller passes is
// `unknown` until checked here or by the core, which refuses with a ValidationError naming the field.
import * as vscode from 'vscode';
import { ValidationError, describeValue, fieldError } from '../core/model/errors';
import type { Event } from '../core/util/events';
import { plainRecord } from '../core/lifecycle/taskRecord';
import { BUILTIN_KINDS, type TaskRecord, type TaskResult, type TaskSpec } from '../core/model/model';
import type { ExecutionContext, Executor } from '../core/ports';
import type { WorkflowRunOptions } from '../core/orchestrator/failurePolicies';
import type { Message, MessageHandler, PublishInput, SubscribeOptions } from '../core/queue/queueTypes';
import { NAME_PATTERN } from '../core/model/fieldChecks';
import type { HostOrchestrator } from './hostOrchestrator';
import { VSCODE_TASK_KIND } from './ids';
import { specDefaultsOf, type Settings } from './settings';
import { applySpecDefaults } from '../core/model/specDefaults';
import type { TaskStatusBar } from './tasksView/statusBar';
import type { TaskOutput } from './tasksView/taskOutput';
import type { TaskTreeProvider, TreeNode } from './tasksView/taskTree';
import type { HistoryFeed } from './historyView/historyFeed';
import type { HistoryNode, HistoryTreeProvider } from './historyView/historyTree';
import type { RunHistory } from '../core/history/historyTypes';
import type { TriggerService } from './triggers/triggerService';
import type { RedisBackend } from './backend/redisBackend';
import { isObjectLike } from '../core/model/guards';

export interface OrchestratorApiV1 {
  readonly version: 1;
  /** Schedules one task; resolves with its id. Rejects with a ValidationError, creating nothing. */
  scheduleTask(spec: TaskSpec): Promise<string>;
  /**
   * Schedules tasks whose `dependsOn` may name each other's `key`; all or nothing. `options.failFast`:
   * a failure (after retries, not `continueOnError`) cancels the run's tasks not yet started. Default false.
   */
  scheduleWorkflow(specs: TaskSpec[], options?: WorkflowRunOptions): Promise<string[]>;
  cancelTask(id: string, reason?: string): Promise<void>;
  /** A copy of the task's record, or undefined. */
  getTask(id: string): TaskRecord | undefined;
  /** Every change of every task, after the change is stored. */
  readonly onDidChangeTask: Event<TaskRecord>;
  /** Adds a task kind; tasks with `kind` run through `executor`. Dispose to remove it. */
  registerExecutor(kind: string, executor: Executor): vscode.Disposable;
  /** The message queue: lifecycle topics (`task.created`, `task.completed`...) and your own. */
  publish<T>(message: PublishInput<T>): Promise<Message<T>>;
  subscribe<T>(topic: string, handler: MessageHandler<T>, options?: SubscribeOptions): vscode.Disposable;
  /**
   * NOT PART OF THE API: internals for this extension's own host tests. Present only when the
   * extension runs in development or test mode; never rely on it.
   */
  readonly testing?: TestingHooks;
}

/** Internals the host tests inspect (tree items, context values, the status bar, output). */
export interface TestingHooks {
  readonly orchestrator: HostOrchestrator;
  readonly tree: TaskTreeProvider;
  readonly treeView: vscode.TreeView<TreeNode>;
  /** The run history the History view reads, and the view (absent only while the journal is not wired). */
  readonly history?: RunHistory;
  readonly historyTree?: HistoryTreeProvider;
  readonly historyView?: vscode.TreeView<HistoryNode>;
  /** Feeds finished records to the history in batches: `flush()` resolves once all so far are in. */
  readonly historyFeed?: Pick<HistoryFeed, 'flush'>;
  readonly statusBar: TaskStatusBar;
  readonly output: TaskOutput;
  /** The workflow files' triggers (Watching). */
  readonly triggers: TriggerService;
  /**
   * A Memento the extension does not use (globalState), for the Store conformance suite: running it
   * on workspaceState would overwrite the live orchestrator's snapshot.
   */
  readonly spareMemento: vscode.Memento;
  settings(): Settings;
  /** The redis backend, when `orchestrator.backend` was `redis` at activation. */
  readonly backend?: RedisBackend;
}

const RESERVED_KINDS = new Set<string>([...BUILTIN_KINDS, VSCODE_TASK_KIND]);

function checkString(value: unknown, field: string): string {
  if (typeof value !== 'string' || !value) throw fieldError(field, 'a non-empty string', value);
  return value;
}

function checkObject(value: unknown, field: string, shape: string): Record<string, unknown> {
  if (!isObjectLike(value)) throw fieldError(field, shape, value);
  return value as Record<string, unknown>;
}

/** A result from another extension's executor, checked before the core records it. */
function checkResult(value: unknown, kind: string): TaskResult {
  if (value === undefined || value === null) return {};
  const r = checkObject(value, `result of executor \`${kind}\``, 'an object like { exitCode?, value?, output? } or undefined');
  const out: TaskResult = {};
  if (r.exitCode !== undefined) {
    if (typeof r.exitCode !== 'number' || !Number.isInteger(r.exitCode))
      throw new ValidationError(`Expected \`exitCode\` of executor \`${kind}\` to be an integer, got ${describeValue(r.exitCode)}`, 'exitCode');
    out.exitCode = r.exitCode;
  }
  if (r.output !== undefined) out.output = String(r.output);
  if (r.value !== undefined) {
    try {
      // Records are persisted as JSON: a value that is not JSON would be lost or break the snapshot.
      out.value = JSON.parse(JSON.stringify(r.value)) as unknown;
    } catch {
      throw new ValidationError(`Expected \`value\` of executor \`${kind}\` to be JSON, got ${describeValue(r.value)}`, 'value');
    }
  }
  return out;
}

export interface ApiDeps {
  orchestrator: HostOrchestrator;
  settings: () => Settings;
  /** Throws (telling the user) when the workspace is untrusted; see trust.ts. */
  requireTrust: (what: string) => void;
  testing?: TestingHooks;
}

export function createApi(deps: ApiDeps): OrchestratorApiV1 {
  const { orchestrator } = deps;

  const withDefaults = (spec: unknown, field: string): TaskSpec => {
    const s = checkObject(spec, field, 'a task spec object like { name, kind, command }');
    // In Restricted Mode the kind has no executor; say why instead of "unknown kind".
    if (s.kind === VSCODE_TASK_KIND) deps.requireTrust('Tasks from tasks.json and task providers');
    const out: Record<string, unknown> = { ...s };
    // The core checks every field (and refuses unknown ones); this only fills the settings' defaults.
    return applySpecDefaults(out, specDefaultsOf(deps.settings())) as unknown as TaskSpec;
  };

  const api: OrchestratorApiV1 = {
    version: 1,
    scheduleTask: async (spec: unknown) => orchestrator.scheduleTask(withDefaults(spec, 'spec')),
    scheduleWorkflow: async (specs: unknown, options?: unknown) => {
      if (!Array.isArray(specs)) throw fieldError('specs', 'an array of task specs', specs);
      // The core checks `options` (a ValidationError naming the field) before creating anything.
      return orchestrator.scheduleWorkflow(
        specs.map((s, i) => withDefaults(s, `[${i}]`)),
        options as WorkflowRunOptions | undefined,
      );
    },
    cancelTask: async (id: unknown, reason?: unknown) => {
      if (reason !== undefined && typeof reason !== 'string') throw fieldError('reason', 'a string', reason);
      return orchestrator.cancelTask(checkString(id, 'id'), reason);
    },
    getTask: (id: unknown) => {
      if (typeof id !== 'string') return undefined;
      const record = orchestrator.getTask(id);
      // A copy: a caller that mutates what it got must not change our records. Plain first:
      // structuredClone copies data properties only, and a record's history is a getter.
      return record === undefined ? undefined : structuredClone(plainRecord(record));
    },
    onDidChangeTask: orchestrator.onDidChangeTask,
    registerExecutor: (kind: unknown, executor: unknown) => {
      const k = checkString(kind, 'kind');
      if (!NAME_PATTERN.test(k)) throw fieldError('kind', 'a letter then up to 63 letters, digits, `_`, `.` or `-`', k);
      if (RESERVED_KINDS.has(k)) throw new ValidationError(`Expected \`kind\` to be a new kind, got the built-in ${describeValue(k)}`, 'kind');
      const e = checkObject(executor, 'executor', 'an object with execute(ctx)');
      if (typeof e.execute !== 'function') throw fieldError('executor.execute', 'a function', e.execute);
      const execute = e.execute as (ctx: ExecutionContext) => unknown;
      const wrapped: Executor = {
        execute: async (ctx) => checkResult(await execute.call(executor, ctx), k),
      };
      const registration = orchestrator.registerExecutor(k, wrapped);
      return new vscode.Disposable(() => registration.dispose());
    },
    publish: async <T>(message: PublishInput<T>) => {
      const m = checkObject(message, 'message', 'an object like { topic, payload }');
      checkString(m.topic, 'topic');
      return orchestrator.queue.publish<T>(message);
    },
    subscribe: <T>(topic: string, handler: MessageHandler<T>, options?: SubscribeOptions) => {
      checkString(topic, 'topic');
      if (typeof handler !== 'function') throw fieldError('handler', 'a function', handler);
      if (options !== undefined) checkObject(options, 'options', 'an object of subscribe options');
      const subscription = orchestrator.queue.subscribe<T>(topic, handler, options);
      return new vscode.Disposable(() => subscription.dispose());
    },
  };
  if (deps.testing) return { ...api, testing: deps.testing };
  return api;
}
