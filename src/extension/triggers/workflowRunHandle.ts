// A trigger's run as the TriggerRunner sees it: the tasks one `scheduleWorkflow` call created.
// `done` settles once every one of them is final (watched through the records, never polled) and says
// how the run ended; `cancel` cancels those not yet final. Imports nothing from 'vscode'.
import type { RunHandle, RunResult } from '../../core/triggers/triggerRunner';
import type { TaskRecord, TaskStatus } from '../../core/model/model';
import type { Event } from '../../core/util/events';

/** What the handle reads of the orchestrator. */
export interface RunTasks {
  getTask(id: string): TaskRecord | undefined;
  cancelTask(id: string, reason?: string): Promise<void>;
  onDidChangeTask: Event<TaskRecord>;
}

const FINAL: ReadonlySet<TaskStatus> = new Set<TaskStatus>(['completed', 'failed', 'cancelled']);

/**
 * The handle of the run made of `ids`. A record gone from the orchestrator (removed, pruned) counts as
 * final: nothing of it can still run. The run failed if a task failed, was cancelled if one was
 * cancelled (and none failed), else completed.
 */
export function workflowRunHandle(tasks: RunTasks, ids: readonly string[]): RunHandle {
  const pending = new Set(ids.filter((id) => !isFinal(tasks.getTask(id))));
  const done = new Promise<RunResult>((resolve) => {
    if (!pending.size) {
      resolve(resultOf(tasks, ids));
      return;
    }
    const subscription = tasks.onDidChangeTask((record) => {
      if (!pending.has(record.id) || !FINAL.has(record.status)) return;
      pending.delete(record.id);
      // A record that left without an event (removed) is final too: checked when the next one ends.
      for (const id of pending) if (isFinal(tasks.getTask(id))) pending.delete(id);
      if (pending.size) return;
      subscription.dispose();
      resolve(resultOf(tasks, ids));
    });
  });
  return {
    done,
    cancel: async (reason) => {
      await Promise.all(ids.filter((id) => !isFinal(tasks.getTask(id))).map((id) => tasks.cancelTask(id, reason).catch(() => undefined)));
    },
  };
}

function isFinal(record: TaskRecord | undefined): boolean {
  return record === undefined || FINAL.has(record.status);
}

function resultOf(tasks: RunTasks, ids: readonly string[]): RunResult {
  const records = ids.map((id) => tasks.getTask(id)).filter((r): r is TaskRecord => r !== undefined);
  const failed = records.filter((r) => r.status === 'failed');
  if (failed.length) {
    const first = failed[0] as TaskRecord;
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : '';
    return { outcome: 'failed', reason: `\`${first.spec.key ?? first.name}\` failed${first.error ? `: ${first.error.message}` : ''}${more}` };
  }
  const cancelled = records.find((r) => r.status === 'cancelled');
  if (cancelled) {
    const reason = cancelled.history[cancelled.history.length - 1]?.reason;
    return { outcome: 'cancelled', ...(reason !== undefined ? { reason } : {}) };
  }
  return { outcome: 'completed' };
}
