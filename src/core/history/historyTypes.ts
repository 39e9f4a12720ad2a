// The run history's shape, as the History view and the CLI read it (issue 17's shared contract).
// A run is a workflow run (its tasks share `workflowId`) or one task scheduled on its own.
import type { TaskRecord, TaskStatus } from '../model/model';
import type { Event } from '../util/events';

/** What `search` filters on; every field given must match (an empty query matches everything). */
export interface HistoryQuery {
  /** Case-insensitive substring of a task's name, command, workflow id or name, or error message. */
  text?: string;
  status?: TaskStatus[];
  exitCode?: number;
  /** A workflow run's id, or its workflow's name (`ci`): every run of that workflow. */
  workflow?: string;
  /** Finished at or after, in ms since the epoch. */
  from?: number;
  /** Finished at or before, in ms since the epoch. */
  to?: number;
}

/** One page of runs, newest first; `next` asks for the following page, absent on the last. */
export interface HistoryPage {
  runs: HistoryRun[];
  next?: string /* cursor */;
}

/** A workflow run, or a task scheduled alone. `tasks` are those of the run that match the query, oldest first. */
export interface HistoryRun {
  workflowId?: string;
  workflowName?: string;
  startedAt: number;
  finishedAt?: number;
  tasks: TaskRecord[];
}

export interface RunHistory {
  /** Appends finished records (and so implements the core's HistoryArchive); resolves once they are durable. */
  append(records: readonly TaskRecord[]): Promise<void>;
  /** Runs matching `query`, newest first, `pageSize` at a time; `cursor` is a previous page's `next`. */
  search(query: HistoryQuery, cursor?: string, pageSize?: number): Promise<HistoryPage>;
  /** The output tail the journal holds for a task, or undefined when it holds none. */
  output(taskId: string): Promise<string | undefined>;
  /** Forgets tasks: later searches and reads never return them, and compaction drops them from disk. */
  remove(taskIds: readonly string[]): Promise<void>;
  /** Fired after records were appended or removed. */
  onDidAppend: Event<void>;
}
