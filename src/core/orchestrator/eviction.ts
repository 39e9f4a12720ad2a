// Eviction: at most `limit` finished records stay in memory; beyond it the oldest-finished leave the
// lifecycle and go to the archive (through the StateCoordinator).
//
// Invariant: `order[head..]` holds the finished records in the order they finished, the records
// themselves (not ids), so evicting one needs no lookup. In steady state each finished task evicts
// at most one record: no array, no scan. The dead head is compacted once it is large, so the cost
// stays amortised O(1) per finished task.
import type { TaskLifecycleManager } from '../lifecycle/lifecycle';
import { isFinished, type TaskRecord } from '../model/model';
import type { StateCoordinator } from '../state/stateCoordinator';

/** Default number of finished records kept in memory; older ones go to the archive. */
export const DEFAULT_MAX_FINISHED = 10_000;

export class FinishedRecords {
  private order: TaskRecord[] = [];
  private head = 0;

  constructor(
    private readonly lifecycle: TaskLifecycleManager,
    private readonly state: StateCoordinator,
    private limit: number,
  ) {}

  /** A record just reached a final status. */
  note(record: TaskRecord): void {
    this.order.push(record);
    if (this.order.length - this.head > this.limit) this.evict();
  }

  /** The finished records of a restored snapshot, oldest-finished first; call before any `note`. */
  restore(records: readonly TaskRecord[]): void {
    const finished: TaskRecord[] = [];
    for (const r of records) if (isFinished(r.status)) finished.push(r);
    finished.sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
    for (const r of finished) this.order.push(this.lifecycle.get(r.id) as TaskRecord);
  }

  setLimit(limit: number): void {
    this.limit = limit;
    if (this.order.length - this.head > limit) this.evict();
  }

  /** Every finished record was removed (clearFinished). */
  clear(): void {
    this.order = [];
    this.head = 0;
  }

  private evict(): void {
    while (this.order.length - this.head > this.limit) {
      const r = this.order[this.head++] as TaskRecord;
      // Skips a record removed meanwhile (removeTask, clearFinished). A function task's runtime
      // (its `run`) leaves with the record.
      if (this.lifecycle.deleteHeld(r)) this.state.evictedOne(r);
    }
    if (this.head > 4096 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
