// Show Output of a history row: the output tail the run history kept, as a read-only virtual
// document under the `orchestrator-history` scheme (nothing to save; closing it loses nothing).
import * as vscode from 'vscode';
import type { TaskRecord } from '../../core/model/model';
import type { HistoryReader } from './runHistory';

export const HISTORY_OUTPUT_SCHEME = 'orchestrator-history';

export function historyOutputUri(record: Pick<TaskRecord, 'id' | 'name'>): vscode.Uri {
  // The name makes the tab readable; the id in the query is what the provider reads.
  const safe = record.name.replace(/[^\w .-]+/g, '_').slice(0, 60) || 'task';
  return vscode.Uri.from({ scheme: HISTORY_OUTPUT_SCHEME, path: `/${safe}.log`, query: `id=${encodeURIComponent(record.id)}` });
}

export class HistoryOutputProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly history: Pick<HistoryReader, 'output'>) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const id = new URLSearchParams(uri.query).get('id') ?? '';
    const output = await this.history.output(id);
    return output ?? `No output was kept for task ${JSON.stringify(id)}: it printed nothing, or it was removed from the history.\n`;
  }
}
