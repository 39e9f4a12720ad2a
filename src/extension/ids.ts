// Every command, view, setting and context-key id the extension uses, in one typed module.
// test/unit/ids.test.ts checks it against package.json's `contributes` both ways, so the two cannot
// drift. It imports only the names the CLI shares (workspaceFiles/names.ts), so plain Node tests can load it.

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
  /** Keeps the `redis` backend's password in SecretStorage (backend.ts), never in settings.json. */
  setRedisPassword: 'orchestrator.setRedisPassword',
  clearRedisPassword: 'orchestrator.clearRedisPassword',
  /** A trigger of the workflow file (a Watching row, an id, or picked) stops or starts firing. */
  pauseTrigger: 'orchestrator.pauseTrigger',
  resumeTrigger: 'orchestrator.resumeTrigger',
} as const;
export type CommandId = (typeof CommandIds)[keyof typeof CommandIds];

/**
 * Commands that need a tree item (or an argument) and make no sense typed in the palette; package.json
 * hides them there with `"when": "false"`. Cancel, Retry and Show Output stay: without an argument
 * they offer a quick pick.
 */
export const ItemOnlyCommands: readonly CommandId[] = [CommandIds.copyTaskId, CommandIds.removeTask, CommandIds.showMore];

export const ConfigSection = 'orchestrator';
export { ConfigKeys, type ConfigKey } from '../workspaceFiles/names';

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
  /** The Watching node and its trigger rows (Pause Trigger on active ones, Resume Trigger on paused ones). */
  watching: 'watching',
  triggerActive: 'trigger.active',
  triggerPaused: 'trigger.paused',
} as const;

export { WORKFLOW_FILE, VSCODE_TASK_KIND } from '../workspaceFiles/names';
export const SCHEMA_PATH = './dist/schema/orchestrator.schema.json';
