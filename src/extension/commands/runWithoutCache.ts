// Run Without Cache: a finished task again, run for real. The new task neither reads the cache nor
// is restored from it (its result is still stored for the next run); a task that declares no cache
// simply runs again. A compound's task stands for its steps, as in Retry: its steps run again.
import type * as vscode from 'vscode';
import { isFinished } from '../../core/model/model';
import { CommandIds } from '../ids';
import { pickTask, recordOf, register, type CommandDeps } from './helpers';
import { runAgain } from './retry';

export function registerRunWithoutCache(deps: CommandDeps): vscode.Disposable[] {
  return [
    register(CommandIds.runWithoutCache, async (arg?: unknown) => {
      const record =
        arg === undefined
          ? await pickTask(deps.orchestrator, 'Run which task without the cache?', (r) => isFinished(r.status))
          : recordOf(deps.orchestrator, arg);
      return record && runAgain(deps, record, { noCache: true });
    }),
  ];
}
