// Show Details: a read-only JSON document of a task's record, under the `orchestrator-task` scheme
// (a virtual document: no file, nothing to save). It updates while open as the task changes.
import * as vscode from 'vscode';
import type { Disposable, Event } from '../../core/util/events';
import type { TaskRecord } from '../../core/model/model';
import { formatDuration } from '../../core/util/formatDuration';

export const DETAILS_SCHEME = 'orchestrator-task';

export function detailsUri(record: Pick<TaskRecord, 'id' | 'name'>): vscode.Uri {
  // The name makes the tab readable; the id in the query is what the provider reads.
  const safe = record.name.replace(/[^\w .-]+/g, '_').slice(0, 60) || 'task';
  return vscode.Uri.from({ scheme: DETAILS_SCHEME, path: `/${safe}.json`, query: `id=${encodeURIComponent(record.id)}` });
}

export class TaskDetailsProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly subscription: Disposable;

  constructor(
    private readonly getTask: (id: string) => TaskRecord | undefined,
    onDidChangeTask: Event<TaskRecord>,
  ) {
    this.subscription = onDidChangeTask((record) => {
      // Only documents that are open get an event; a closed one is read afresh when opened.
      for (const doc of vscode.workspace.textDocuments) {
        if (doc.uri.scheme === DETAILS_SCHEME && idOf(doc.uri) === record.id) this.changed.fire(doc.uri);
      }
    });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const id = idOf(uri);
    const record = id === undefined ? undefined : this.getTask(id);
    return record ? JSON.stringify(record, readable, 2) + '\n' : `// No task with id ${JSON.stringify(id)}: it was removed.\n`;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/**
 * `ready.at` is epoch milliseconds: its `since` beside it says when, in the reader's terms. A cache
 * hit's `savedMs` gets its `saved` likewise (the result's `cached`, `cacheKey` and `flaky` are shown as kept).
 */
function readable(this: unknown, key: string, value: unknown): unknown {
  if (key === 'cached' && typeof value === 'object' && value !== null && typeof (value as { savedMs?: unknown }).savedMs === 'number') {
    return { saved: formatDuration((value as { savedMs: number }).savedMs), ...value };
  }
  if (key === 'ready' && typeof value === 'object' && value !== null && typeof (value as { at?: unknown }).at === 'number') {
    return { since: new Date((value as { at: number }).at).toISOString(), ...value };
  }
  return value;
}

function idOf(uri: vscode.Uri): string | undefined {
  const id = new URLSearchParams(uri.query).get('id');
  return id ?? undefined;
}
