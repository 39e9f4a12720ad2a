// The Tasks view's own commands: Refresh, Show Tasks (focus the view) and Show More (the next page of
// a stage's rows).
import * as vscode from 'vscode';
import { ValidationError, describeValue } from '../../core/model/errors';
import { ALL_STATUSES, type TaskStatus } from '../../core/model/model';
import { CommandIds, ViewIds } from '../ids';
import { register, type CommandDeps } from './helpers';

export function registerTasksView({ tree }: CommandDeps): vscode.Disposable[] {
  return [
    register(CommandIds.refresh, () => tree.refreshAll()),

    register(CommandIds.showTasks, () => vscode.commands.executeCommand(`${ViewIds.tasks}.focus`)),

    register(CommandIds.showMore, (arg?: unknown) => {
      if (typeof arg !== 'string' || !(ALL_STATUSES as readonly string[]).includes(arg)) {
        throw new ValidationError(`Expected a stage (${ALL_STATUSES.join(', ')}), got ${describeValue(arg)}`, 'status');
      }
      tree.showMore(arg as TaskStatus);
    }),
  ];
}
