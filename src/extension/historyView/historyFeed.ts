// Feeds every record to the run history as it finishes, so the History view shows a run when it ends
// rather than when the record later leaves workspace state (the orchestrator's archive handoff).
//
// Invariants:
// - appends are batched: one `append` per `delayMs` at most, however many tasks finish meanwhile;
// - a record is appended once per finish (a record the archive hands over later is appended again,
//   which the journal treats as a replacement of the same id, so the history holds it once);
// - `flush()` resolves when every record finished so far is in the history; `dispose()` flushes.
import type { Disposable, Event } from '../../core/util/events';
import { plainRecord } from '../../core/lifecycle/taskRecord';
import { isFinished, type TaskRecord } from '../../core/model/model';
import type { RunHistory } from './runHistory';

export class HistoryFeed implements Disposable {
  private pending = new Map<string, TaskRecord>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private last: Promise<void> = Promise.resolve();
  private readonly subscription: Disposable;

  constructor(
    private readonly history: Pick<RunHistory, 'append'>,
    onDidChangeTask: Event<TaskRecord>,
    private readonly onError: (err: unknown) => void,
    private readonly delayMs = 200,
  ) {
    this.subscription = onDidChangeTask((record) => {
      if (!isFinished(record.status)) return;
      this.pending.set(record.id, plainRecord(record));
      this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
    });
  }

  /** Appends what is pending now; resolves after it (and every earlier batch) is in the history. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size) {
      const batch = [...this.pending.values()];
      this.pending = new Map();
      this.last = this.last.then(() => this.history.append(batch)).catch((err: unknown) => this.onError(err));
    }
    return this.last;
  }

  dispose(): void {
    this.subscription.dispose();
    void this.flush();
  }
}
