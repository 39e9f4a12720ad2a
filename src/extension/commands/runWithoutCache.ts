// Run Without Cache: a finished task again, run for real. The new task neither reads the cache nor
// is restored from it (its result is still stored for the next run); a task that declares no cache
// simply runs again. A compound's task stands for its steps, as in Retry: its steps run again.
import type * as vscode from 'vscode';
import { isFinished } from '../../core/model/model';
import { compoundPayload } from '../executors/compoundTasks';
import { CommandIds, VSCODE_TASK_KIND } from '../ids';
import { pickTask, recordOf, register, type CommandDeps } from './helpers';
import { TASKS_WHAT, WORKFLOWS_WHAT, scheduleVscodeTask } from './scheduling';

export function registerRunWithoutCache(deps: CommandDeps): vscode.Disposable[] {
  const { orchestrator, trust } = deps;
  return [
    register(CommandIds.runWithoutCache, async (arg?: unknown) => {
      const record =
        arg === undefined ? await pickTask(orchestrator, 'Run which task without the cache?', (r) => isFinished(r.status)) : recordOf(orchestrator, arg);
      if (!record) return undefined;
      if (record.kind === VSCODE_TASK_KIND) trust.require(TASKS_WHAT);
      if (record.workflowId !== undefined) trust.require(WORKFLOWS_WHAT);
      const compound = record.kind === VSCODE_TASK_KIND ? compoundPayload(record.spec.payload) : undefined;
      if (compound)
        return scheduleVscodeTask(
          deps,
          { label: compound.label, ...(compound.folder !== undefined ? { folder: compound.folder } : {}) },
          { name: record.name },
        );
      // The core refuses a task still going (IllegalTransitionError, shown to the user from the UI).
      return orchestrator.retryTask(record.id, { noCache: true });
    }),
  ];
}
