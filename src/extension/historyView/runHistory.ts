// The run history as the History view reads it: the shape issue 17's contract gives JOURNAL's store.
// Kept here, as an interface only, so the view depends on the contract and not on one store: the
// journal, or an in-memory one in tests.
import type { Event } from '../../core/util/events';
import type { TaskRecord, TaskStatus } from '../../core/model/model';

export interface HistoryQuery {
  text?: string;
  status?: TaskStatus[];
  exitCode?: number;
  workflow?: string;
  from?: number;
  to?: number;
}

/** Newest first; `next` is the cursor of the following page, absent on the last. */
export interface HistoryPage {
  runs: HistoryRun[];
  next?: string;
}

/** A workflow run (its tasks), or a single task not in one (`workflowId` absent, one task). */
export interface HistoryRun {
  workflowId?: string;
  workflowName?: string;
  startedAt: number;
  finishedAt?: number;
  tasks: TaskRecord[];
}

export interface RunHistory {
  search(query: HistoryQuery, cursor?: string, pageSize?: number): Promise<HistoryPage>;
  output(taskId: string): Promise<string | undefined>;
  remove(taskIds: readonly string[]): Promise<void>;
  onDidAppend: Event<void>;
}
