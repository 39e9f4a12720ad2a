// Show Output (the task's channel, and a VS Code task's terminal) and Show Problems.
import * as vscode from 'vscode';
import { ValidationError } from '../../core/model/errors';
import { CommandIds, VSCODE_TASK_KIND } from '../ids';
import { pickTask, recordOf, register, type CommandDeps } from './helpers';

export function registerOutput({ orchestrator, output, runs }: CommandDeps): vscode.Disposable[] {
  return [
    register(CommandIds.showOutput, async (arg?: unknown) => {
      const record = arg === undefined ? await pickTask(orchestrator, 'Show the output of which task?', () => true) : recordOf(orchestrator, arg);
      if (!record) return undefined;
      await output.show(record);
      // A VS Code task's own output is its terminal (what shell integration let us read is in the
      // channel): reveal it last, so it is the panel's visible part.
      if (record.kind === VSCODE_TASK_KIND) {
        const terminal = await runs?.terminal(record.id);
        if (terminal) terminal.show(true);
        else output.append(record.id, `> The terminal of this VS Code task is closed or was never opened in this window.\n`);
      }
      return record.id;
    }),

    register(CommandIds.showProblems, async (arg?: unknown) => {
      const record =
        arg === undefined
          ? await pickTask(orchestrator, 'Show the problems of which VS Code task?', (r) => r.kind === VSCODE_TASK_KIND)
          : recordOf(orchestrator, arg);
      if (!record) return undefined;
      if (record.kind !== VSCODE_TASK_KIND) {
        throw new ValidationError(`Show Problems is for VS Code tasks; \`${record.name}\` is a \`${record.kind}\` task`, 'id');
      }
      // No command sets the Problems view's filter (VS Code 1.139): the view opens unfiltered.
      await vscode.commands.executeCommand('workbench.actions.view.problems');
      return record.id;
    }),
  ];
}
