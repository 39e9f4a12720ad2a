// Retry: a failed or cancelled task again; a compound's task schedules the whole compound again,
// since its steps are tasks of their own.
import type * as vscode from 'vscode';
import type { TaskRecord } from '../../core/model/model';
import { compoundPayload } from '../executors/compoundTasks';
import { CommandIds, VSCODE_TASK_KIND } from '../ids';
import { pickTask, recordOf, register, type CommandDeps } from './helpers';
import { TASKS_WHAT, WORKFLOWS_WHAT, scheduleVscodeTask } from './scheduling';

export function registerRetry(deps: CommandDeps): vscode.Disposable[] {
  return [
    register(CommandIds.retryTask, async (arg?: unknown) => {
      const record =
        arg === undefined
          ? await pickTask(deps.orchestrator, 'Retry which task?', (r) => r.status === 'failed' || r.status === 'cancelled')
          : recordOf(deps.orchestrator, arg);
      return record && runAgain(deps, record);
    }),
  ];
}

/**
 * Runs a task again (Retry, Run Without Cache): a compound's own task stands for its steps, so its
 * whole compound is scheduled again; any other task through `retryTask`, which refuses one still going.
 */
export function runAgain(deps: CommandDeps, record: Readonly<TaskRecord>, options?: { noCache?: boolean }): Promise<string | string[]> {
  if (record.kind === VSCODE_TASK_KIND) deps.trust.require(TASKS_WHAT);
  if (record.workflowId !== undefined) deps.trust.require(WORKFLOWS_WHAT);
  const compound = record.kind === VSCODE_TASK_KIND ? compoundPayload(record.spec.payload) : undefined;
  if (compound) {
    return scheduleVscodeTask(deps, { label: compound.label, ...(compound.folder !== undefined ? { folder: compound.folder } : {}) }, { name: record.name });
  }
  return deps.orchestrator.retryTask(record.id, options);
}
