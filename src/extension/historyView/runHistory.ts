// What the History view needs of the run history (issue 17's contract, src/core/history/historyTypes.ts):
// reading, removing and the change event. Appending is the orchestrator's business, so a test can
// hand the view an in-memory history without it.
import type { RunHistory } from '../../core/history/historyTypes';

export type { HistoryPage, HistoryQuery, HistoryRun, RunHistory } from '../../core/history/historyTypes';

export type HistoryReader = Pick<RunHistory, 'search' | 'output' | 'remove' | 'onDidAppend'>;
