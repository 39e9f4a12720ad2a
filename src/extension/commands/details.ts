// Show Details (the record as read-only JSON) and Copy Task Id.
import * as vscode from 'vscode';
import { CommandIds } from '../ids';
import { detailsUri } from '../tasksView/taskDetails';
import { pickTask, recordOf, register, type CommandDeps } from './helpers';

export function registerDetails({ orchestrator }: CommandDeps): vscode.Disposable[] {
  return [
    register(CommandIds.showDetails, async (arg?: unknown) => {
      const record = arg === undefined ? await pickTask(orchestrator, 'Show the details of which task?', () => true) : recordOf(orchestrator, arg);
      if (!record) return undefined;
      const doc = await vscode.workspace.openTextDocument(detailsUri(record));
      await vscode.languages.setTextDocumentLanguage(doc, 'json');
      await vscode.window.showTextDocument(doc, { preview: true });
      return record.id;
    }),

    register(CommandIds.copyTaskId, async (arg?: unknown) => {
      const record = recordOf(orchestrator, arg);
      await vscode.env.clipboard.writeText(record.id);
      return record.id;
    }),
  ];
}
