// Hands finished records to the HistoryArchive, each once, in order, never silently dropped.
//
// A record goes to the archive when it leaves the snapshot (outside the byte budget, or oversized)
// or leaves memory (evicted). `archived` marks those the snapshot builder handed over, so a record
// offered by every later snapshot is queued once. A failed append puts its batch back in front and
// is retried with the next flush. Without an archive nothing is queued, and that is said once.
// `unaccepted()` lists what the archive has not taken yet (queued or in flight): the state writer
// keeps those in the snapshot, so no write drops a record the archive does not hold.
import { errorMessage } from '../model/errors';
import type { TaskRecord } from '../model/model';
import type { OrchestratorWarning } from '../model/warnings';
import type { HistoryArchive } from '../ports';

export class ArchiveHandoff {
  /** Finished records already handed to the archive by the snapshot builder. */
  private readonly archived = new WeakSet<TaskRecord>();
  private queue: TaskRecord[] = [];
  private archiving: Promise<void> | undefined;
  /** The batch the archive is appending now. */
  private inFlight: readonly TaskRecord[] = [];
  private warnedNoArchive = false;

  constructor(
    private readonly archive: HistoryArchive | undefined,
    private readonly onWarn: (w: OrchestratorWarning) => void,
    /** Counts records the archive accepted. */
    private readonly stats: { archived: number },
  ) {}

  /** Records waiting for the next flush. */
  get pending(): number {
    return this.queue.length;
  }

  /** True when the archive has taken everything handed over (nothing queued, nothing in flight). */
  get allAccepted(): boolean {
    return this.queue.length === 0 && this.archiving === undefined;
  }

  /** Records handed over that the archive has not taken yet: the batch in flight, then the queue. */
  unaccepted(): TaskRecord[] {
    return this.inFlight.length ? [...this.inFlight, ...this.queue] : this.queue.slice();
  }

  /** A record that left the snapshot: archived once, however many snapshots leave it out. */
  toArchive(record: TaskRecord): void {
    if (this.archived.has(record)) return;
    this.archived.add(record);
    this.enqueue(record);
  }

  /** Finished records the orchestrator no longer keeps in memory: archive those not archived yet. */
  evicted(records: readonly TaskRecord[]): void {
    // An evicted record has left memory for good, so no later snapshot can offer it again: it needs
    // no mark in `archived`, and a finished task costs no WeakSet insert.
    for (const r of records) if (!this.archived.has(r)) this.enqueue(r);
  }

  /** `evicted` for one record, without an array. O(1), no allocation but the queue's slot. */
  evictedOne(record: TaskRecord): void {
    // Without an archive there is nothing to queue: skip the WeakSet lookup.
    if (this.archive === undefined) this.enqueue(record);
    else if (!this.archived.has(record)) this.enqueue(record);
  }

  /** Appends what is queued; resolves when the archive took it or refused it (then it stays queued). */
  flush(): Promise<void> {
    if (this.archiving) return this.archiving.then(() => (this.queue.length ? this.flush() : undefined));
    if (!this.archive || this.queue.length === 0) return Promise.resolve();
    const batch = this.queue;
    this.queue = [];
    this.inFlight = batch;
    const archive = this.archive;
    this.archiving = Promise.resolve()
      .then(() => archive.append(batch))
      .then(
        () => {
          this.stats.archived += batch.length;
        },
        (err: unknown) => {
          // Put them back in front: they are retried with the next flush, in order.
          this.queue = batch.concat(this.queue);
          this.onWarn({ code: 'ARCHIVE_FAILED', message: `Archiving ${batch.length} finished tasks failed, will retry: ${errorMessage(err)}` });
        },
      )
      .finally(() => {
        this.archiving = undefined;
        this.inFlight = [];
      });
    return this.archiving;
  }

  private enqueue(record: TaskRecord): void {
    if (!this.archive) {
      if (!this.warnedNoArchive) {
        this.warnedNoArchive = true;
        this.onWarn({
          code: 'ARCHIVE_FAILED',
          message: 'Finished tasks beyond the history budget are not kept after a restart: no history archive is configured',
        });
      }
      return;
    }
    this.queue.push(record);
  }
}
