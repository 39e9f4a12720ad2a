// Every command, view, setting and context-key id the extension uses, in one typed module.
// test/unit/ids.test.ts checks it against package.json's `contributes` both ways, so the two cannot
// drift. It imports only the names the CLI shares (workspaceFiles/names.ts), so plain Node tests can load it.

export const EXTENSION_ID = 'orchestrator-team.orchestrator';

export const ViewIds = {
  container: 'orchestrator',
  tasks: 'orchestrator.tasks',
  /** Finished runs from the run history, by day and workflow run (historyView/). */
  history: 'orchestrator.history',
} as const;

export const CommandIds = {
  refresh: 'orchestrator.refresh',
  scheduleTask: 'orchestrator.scheduleTask',
  runWorkflow: 'orchestrator.runWorkflow',
  cancelTask: 'orchestrator.cancelTask',
  cancelAll: 'orchestrator.cancelAll',
  retryTask: 'orchestrator.retryTask',
  /** A finished task again, run for real: its cached result is neither read nor kept in its stead. */
  runWithoutCache: 'orchestrator.runWithoutCache',
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
  /** The History view (historyView/): filter, paging, rerun, remove and output of finished runs. */
  searchHistory: 'orchestrator.searchHistory',
  clearHistoryFilter: 'orchestrator.clearHistoryFilter',
  loadMoreHistory: 'orchestrator.loadMoreHistory',
  rerunFromHistory: 'orchestrator.rerunFromHistory',
  rerunFailedFromHistory: 'orchestrator.rerunFailedFromHistory',
  retryFromHistory: 'orchestrator.retryFromHistory',
  removeFromHistory: 'orchestrator.removeFromHistory',
  showHistoryOutput: 'orchestrator.showHistoryOutput',
} as const;
export type CommandId = (typeof CommandIds)[keyof typeof CommandIds];

/**
 * Commands that need a tree item (or an argument) and make no sense typed in the palette; package.json
 * hides them there with `"when": "false"`. Cancel, Retry and Show Output stay: without an argument
 * they offer a quick pick.
 */
export const ItemOnlyCommands: readonly CommandId[] = [
  CommandIds.copyTaskId,
  CommandIds.removeTask,
  CommandIds.showMore,
  CommandIds.loadMoreHistory,
  CommandIds.rerunFromHistory,
  CommandIds.rerunFailedFromHistory,
  CommandIds.retryFromHistory,
  CommandIds.removeFromHistory,
  CommandIds.showHistoryOutput,
];

export const ConfigSection = 'orchestrator';
export { ConfigKeys, type ConfigKey } from '../workspaceFiles/names';

/** Context keys set with `setContext`, used in package.json `when` clauses. */
export const ContextKeys = {
  paused: 'orchestrator.paused',
  trusted: 'orchestrator.trusted',
  /** The History view has a filter: its title shows Clear Filter. */
  historyFiltered: 'orchestrator.historyFiltered',
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
  /** History view rows: a day, a workflow run (`.failed` when Rerun Failed applies), a task (`history.task.<status>`), Load more. */
  historyDay: 'history.day',
  historyRun: 'history.run',
  historyRunFailed: 'history.run.failed',
  historyTaskPrefix: 'history.task.',
  historyMore: 'history.more',
} as const;

export { WORKFLOW_FILE, VSCODE_TASK_KIND } from '../workspaceFiles/names';
export const SCHEMA_PATH = './dist/schema/orchestrator.schema.json';
