// The triggers a workflow file declares (`"on"` on a workflow or on one task), read into one flat
// list the extension watches. Only usable workflows have triggers: a workflow with a problem (a
// cycle, a bad field) is refused as a whole, its triggers with it. Pure: a parsed file in, defs out.
import type { WorkflowFile, WorkflowTriggerDecl } from './workflowFile';

/** What a trigger does while a run it started is still in progress: cancel it and start again, run once more after it, or ignore the event. */
export type OnRunning = 'restart' | 'queue' | 'skip';

/** The one list of OnRunning values, in the order the schema's enum gives them. */
export const ON_RUNNING_VALUES: readonly OnRunning[] = ['restart', 'queue', 'skip'];

/** `onRunning` when neither the task nor its workflow says: the watch loop. */
export const DEFAULT_ON_RUNNING: OnRunning = 'restart';

/** `on.debounceMs` when the trigger does not say. */
export const DEFAULT_DEBOUNCE_MS = 300;

export interface TriggerDef {
  /** `workflow` or `workflow/taskKey`: unique in the file, stable across edits. */
  id: string;
  workflow: string;
  /** A task-level trigger runs this task and what it depends on (as the CLI's `--only`). */
  task?: string;
  /** Globs, relative to the workspace folder, of files whose save fires the trigger. */
  save: string[];
  /** Globs, relative to the workspace folder, of files whose creation, change or deletion fires it. */
  change: string[];
  debounceMs: number;
  onRunning: OnRunning;
}

function def(id: string, workflow: string, task: string | undefined, on: WorkflowTriggerDecl, onRunning: OnRunning | undefined): TriggerDef {
  return {
    id,
    workflow,
    ...(task !== undefined ? { task } : {}),
    save: [...(on.save ?? [])],
    change: [...(on.change ?? [])],
    debounceMs: on.debounceMs ?? DEFAULT_DEBOUNCE_MS,
    onRunning: onRunning ?? DEFAULT_ON_RUNNING,
  };
}

/**
 * Every trigger of the file's usable workflows, in file order: a workflow's own, then its tasks'.
 * A task's `onRunning` defaults to its workflow's, then to `restart`. Ids are unique: workflow names
 * are unique in the file and keys unique in a workflow, and a key cannot contain `/`.
 */
export function triggersOf(file: WorkflowFile): TriggerDef[] {
  const defs: TriggerDef[] = [];
  for (const [name, workflow] of Object.entries(file.workflows)) {
    if (workflow.on) defs.push(def(name, name, undefined, workflow.on, workflow.onRunning));
    for (const task of workflow.tasks) {
      if (task.on) defs.push(def(`${name}/${task.key}`, name, task.key, task.on, task.onRunning ?? workflow.onRunning));
    }
  }
  return defs;
}
