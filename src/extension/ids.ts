// Every command, view, setting and context-key id the extension uses, in one typed module.
// test/unit/ids.test.ts checks it against package.json's `contributes` both ways, so the two cannot
// drift. This file imports nothing, so plain Node tests can load it.

export const EXTENSION_ID = 'orchestrator-team.orchestrator';

export const ViewIds = {
  container: 'orchestrator',
  tasks: 'orchestrator.tasks',
} as const;

export const CommandIds = {
  refresh: 'orchestrator.refresh',
  scheduleTask: 'orchestrator.scheduleTask',
  runWorkflow: 'orchestrator.runWorkflow',
  cancelTask: 'orchestrator.cancelTask',
  cancelAll: 'orchestrator.cancelAll',
  retryTask: 'orchestrator.retryTask',
  pause: 'orchestrator.pause',
  resume: 'orchestrator.resume',
  clearFinished: 'orchestrator.clearFinished',
  clearHistory: 'orchestrator.clearHistory',
  showOutput: 'orchestrator.showOutput',
  /** Opens the Problems view for a VS Code task's problem-matcher results. */
  showProblems: 'orchestrator.showProblems',
  showDetails: 'orchestrator.showDetails',
  copyTaskId: 'orchestrator.copyTaskId',
  removeTask: 'orchestrator.removeTask',
  showTasks: 'orchestrator.showTasks',
  /** Item-only: the "N more…" row of a stage shows the next page. Hidden from the palette. */
  showMore: 'orchestrator.showMore',
  /** Opens the metrics dashboard (dashboardPanel.ts). */
  showDashboard: 'orchestrator.showDashboard',
} as const;
export type CommandId = (typeof CommandIds)[keyof typeof CommandIds];

/**
 * Commands that need a tree item (or an argument) and make no sense typed in the palette; package.json
 * hides them there with `"when": "false"`. Cancel, Retry and Show Output stay: without an argument
 * they offer a quick pick.
 */
export const ItemOnlyCommands: readonly CommandId[] = [CommandIds.copyTaskId, CommandIds.removeTask, CommandIds.showMore];

export const ConfigSection = 'orchestrator';
export const ConfigKeys = {
  concurrency: 'orchestrator.concurrency',
  resources: 'orchestrator.resources',
  maxFinished: 'orchestrator.history.maxFinished',
  defaultTimeoutMs: 'orchestrator.defaults.timeoutMs',
  defaultRetries: 'orchestrator.defaults.retries',
} as const;
export type ConfigKey = (typeof ConfigKeys)[keyof typeof ConfigKeys];

/** Context keys set with `setContext`, used in package.json `when` clauses. */
export const ContextKeys = {
  paused: 'orchestrator.paused',
  trusted: 'orchestrator.trusted',
} as const;

/** The `viewItem` values of tree items; package.json menus match them with `=~` on the status suffix. */
export const ViewItems = {
  stage: 'stage',
  more: 'more',
  /** `task.<status>`, e.g. `task.running`; a VS Code task's row adds `.vscodeTask` (Show Problems). */
  taskPrefix: 'task.',
  vscodeTaskSuffix: '.vscodeTask',
} as const;

/** The workflow file, relative to a workspace folder; its schema is contributed by jsonValidation. */
export const WORKFLOW_FILE = '.vscode/orchestrator.json';
export const SCHEMA_PATH = './dist/schema/orchestrator.schema.json';

/** The executor kind this extension adds: a VS Code task (tasks.json or a provider's). */
export const VSCODE_TASK_KIND = 'vscodeTask';
