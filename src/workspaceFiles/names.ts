// Names the workspace's files and both hosts (the extension, the CLI) agree on.

/** The workflow file, relative to a workspace folder; its schema is contributed by jsonValidation. */
export const WORKFLOW_FILE = '.vscode/orchestrator.json';

/** The task cache's default folder, relative to a workspace folder (git-ignored: `.orchestrator/`). */
export const CACHE_DIR = '.orchestrator/cache';

/** The VS Code tasks file, relative to a workspace folder. */
export const TASKS_FILE = '.vscode/tasks.json';

/** The folder's settings, where the `orchestrator.*` keys live. */
export const SETTINGS_FILE = '.vscode/settings.json';

/** The kind of a task that runs a VS Code task by label: tasks.json's, or a provider's in the editor. */
export const VSCODE_TASK_KIND = 'vscodeTask';

/** The settings both hosts read: the editor from its configuration, the CLI from SETTINGS_FILE. */
export const ConfigKeys = {
  concurrency: 'orchestrator.concurrency',
  resources: 'orchestrator.resources',
  maxFinished: 'orchestrator.history.maxFinished',
  historyRetentionDays: 'orchestrator.history.retentionDays',
  defaultTimeoutMs: 'orchestrator.defaults.timeoutMs',
  defaultRetries: 'orchestrator.defaults.retries',
  backend: 'orchestrator.backend',
  redisUrl: 'orchestrator.redis.url',
  redisCaFile: 'orchestrator.redis.caFile',
  cacheEnabled: 'orchestrator.cache.enabled',
  cacheMaxSizeMB: 'orchestrator.cache.maxSizeMB',
  cacheDirectory: 'orchestrator.cache.directory',
} as const;
export type ConfigKey = (typeof ConfigKeys)[keyof typeof ConfigKeys];
