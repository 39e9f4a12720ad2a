// Every command, view and setting id the extension uses, in one typed module.
// test/host checks it against package.json's `contributes`, so the two cannot drift.

export const EXTENSION_ID = 'orchestrator-team.orchestrator';

export const ViewIds = {
  container: 'orchestrator',
  tasks: 'orchestrator.tasks',
} as const;

export const CommandIds = {
  refresh: 'orchestrator.refresh',
} as const;
export type CommandId = (typeof CommandIds)[keyof typeof CommandIds];
