// Retry: a failed or cancelled task again; a compound's task schedules the whole compound again,
// since its steps are tasks of their own.
import type * as vscode from 'vscode';
import { compoundPayload } from '../executors/compoundTasks';
import { CommandIds, VSCODE_TASK_KIND } from '../ids';
import { pickTask, recordOf, register, type CommandDeps } from './helpers';
import { TASKS_WHAT, WORKFLOWS_WHAT, scheduleVscodeTask } from './scheduling';

export function registerRetry(deps: CommandDeps): vscode.Disposable[] {
  const { orchestrator, trust } = deps;
  return [
    register(CommandIds.retryTask, async (arg?: unknown) => {
      const record =
        arg === undefined
          ? await pickTask(orchestrator, 'Retry which task?', (r) => r.status === 'failed' || r.status === 'cancelled')
          : recordOf(orchestrator, arg);
      if (!record) return undefined;
      if (record.kind === VSCODE_TASK_KIND) trust.require(TASKS_WHAT);
      if (record.workflowId !== undefined) trust.require(WORKFLOWS_WHAT);
      // A compound's own task stands for its steps: retrying it schedules the whole compound again.
      const compound = record.kind === VSCODE_TASK_KIND ? compoundPayload(record.spec.payload) : undefined;
      if (compound)
        return scheduleVscodeTask(
          deps,
          { label: compound.label, ...(compound.folder !== undefined ? { folder: compound.folder } : {}) },
          { name: record.name },
        );
      return orchestrator.retryTask(record.id);
    }),
  ];
}
