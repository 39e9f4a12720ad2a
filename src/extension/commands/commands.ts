// Every command of the extension, one module per command or small family in this folder. Each command
// takes optional arguments, so keybindings, other extensions and tests can call it without UI; without
// arguments it asks through quick picks and input boxes.
//
// Errors: a command invoked from the UI tells the user (an error message naming the field) and
// resolves; invoked with an argument, the error rejects the call instead (see `register` in helpers.ts).
//
// A new command: its id in `../ids.ts`, its entry in package.json, a module here added to COMMANDS.
import type * as vscode from 'vscode';
import { registerCancel } from './cancel';
import { registerDetails } from './details';
import type { CommandDeps, CommandModule } from './helpers';
import { registerOutput } from './output';
import { registerPauseResume } from './pauseResume';
import { registerRemoveAndClear } from './removeAndClear';
import { registerRetry } from './retry';
import { registerRunWithoutCache } from './runWithoutCache';
import { registerRunWorkflow } from './runWorkflow';
import { registerScheduleTask } from './scheduleTask';
import { registerTasksView } from './tasksView';

export type { CommandDeps } from './helpers';

const COMMANDS: readonly CommandModule[] = [
  registerTasksView,
  registerScheduleTask,
  registerRunWorkflow,
  registerCancel,
  registerRetry,
  registerRunWithoutCache,
  registerPauseResume,
  registerRemoveAndClear,
  registerOutput,
  registerDetails,
];

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  return COMMANDS.flatMap((module) => module(deps));
}
