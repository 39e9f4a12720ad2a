// Adds a queue's jobs in bulk: every `add` made in the same turn of the event loop goes to Redis in
// `addBulk`s (one MULTI round trip each) instead of one round trip per job. A turn's first bulk is
// FIRST_BULK jobs and each next one twice the last, up to MAX_BULK: Redis runs a MULTI whole before
// a worker sees any of its jobs, so a small first bulk lets the fleet start while the rest is sent.
// Invariants:
//  - each `add` settles exactly once: resolved once its job is in Redis, or rejected with BullMQ's
//    own refusal of that job;
//  - one job BullMQ refuses never refuses the others: a refused bulk is retried job by job, so only
//    the job at fault is rejected;
//  - jobs reach Redis in the order `add` was called.
import type { JobsOptions, Queue } from 'bullmq';
import type { JobData, JobReturn } from './protocol';

/** Jobs per `addBulk` call at most: bounds one MULTI's size (and the time Redis spends on it at once). */
export const MAX_BULK = 1000;
/** Jobs in a turn's first `addBulk`: about a millisecond of Redis's time, so a worker gets one at once. */
export const FIRST_BULK = 32;

interface Pending {
  name: string;
  data: JobData;
  opts: JobsOptions;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class AddBatcher {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(private readonly queue: Queue<JobData, JobReturn>) {}

  add(name: string, data: JobData, opts: JobsOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ name, data, opts, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the current turn's microtasks: every start made in one dispatch pass joins the batch.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    for (let i = 0, size = FIRST_BULK; i < batch.length; i += size, size = Math.min(MAX_BULK, size * 2)) await this.send(batch.slice(i, i + size));
  }

  private async send(jobs: Pending[]): Promise<void> {
    try {
      await this.queue.addBulk(jobs.map(({ name, data, opts }) => ({ name, data, opts })));
      for (const job of jobs) job.resolve();
    } catch {
      for (const job of jobs) await this.queue.add(job.name, job.data, job.opts).then(job.resolve, job.reject);
    }
  }
}
