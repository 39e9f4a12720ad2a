// Cancel Task… (one task, or every selected row of the tree) and Cancel All.
import type * as vscode from 'vscode';
import { isFinished } from '../../core/model/model';
import { CommandIds } from '../ids';
import { pickTask, recordOf, register, taskIdOf, type CommandDeps } from './helpers';

export function registerCancel({ orchestrator }: CommandDeps): vscode.Disposable[] {
  return [
    register(CommandIds.cancelTask, async (arg?: unknown, selection?: unknown) => {
      // From the tree with several rows selected, VS Code passes the clicked row and the selection.
      const many = Array.isArray(selection) ? selection.map(taskIdOf).filter((id): id is string => id !== undefined) : [];
      if (many.length > 1) {
        await Promise.all(many.map((id) => orchestrator.cancelTask(id, 'Cancelled by the user')));
        return many;
      }
      const record = arg === undefined ? await pickTask(orchestrator, 'Cancel which task?', (r) => !isFinished(r.status)) : recordOf(orchestrator, arg);
      if (!record) return undefined;
      await orchestrator.cancelTask(record.id, 'Cancelled by the user');
      return record.id;
    }),

    register(CommandIds.cancelAll, () => orchestrator.cancelAll('Cancelled by the user (Cancel All)')),
  ];
}
