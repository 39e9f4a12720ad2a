// Remove Task, Clear Finished and Clear History: a removed task leaves the orchestrator, the tree, the
// status bar's counts and its output file together.
import type * as vscode from 'vscode';
import { isFinished } from '../../core/model/model';
import { CommandIds } from '../ids';
import { recordOf, register, type CommandDeps } from './helpers';

export function registerRemoveAndClear(deps: CommandDeps): vscode.Disposable[] {
  const { orchestrator, output } = deps;
  return [
    register(CommandIds.clearFinished, () => clearFinished(deps)),

    register(CommandIds.clearHistory, async () => {
      const n = await clearFinished(deps);
      await deps.archive?.clear();
      await output.clear(new Set(orchestrator.getTasks().map((r) => r.id)));
      return n;
    }),

    register(CommandIds.removeTask, async (arg?: unknown) => {
      const record = recordOf(orchestrator, arg);
      await orchestrator.removeTask(record.id);
      await afterRemoval(deps, [record.id]);
      return record.id;
    }),
  ];
}

async function afterRemoval({ tree, statusBar, output }: CommandDeps, ids: readonly string[]): Promise<void> {
  tree.resync();
  statusBar.schedule();
  await output.forget(ids);
}

/** Removes every finished task from the orchestrator, the tree and the output files. */
async function clearFinished(deps: CommandDeps): Promise<number> {
  const finished = deps.orchestrator
    .getTasks()
    .filter((r) => isFinished(r.status))
    .map((r) => r.id);
  const n = await deps.orchestrator.clearFinished();
  await afterRemoval(deps, finished);
  return n;
}
