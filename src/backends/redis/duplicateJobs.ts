// What an attempt does when BullMQ says its job id is taken already (`duplicated`): job ids are
// `<task>.<attempt>`, and core task ids start again with each session, so the id may be this very
// attempt's job (queued by it, or by an earlier session of the same record) or another run's.
// Invariants:
//  - ours (the same record: task id and createdAt) and still queued or running: it is followed, not
//    added again; one already running is told started (a start before the lane listened is not lost);
//  - another run's, finished or waiting, or gone: it is removed and this attempt's job added;
//  - another run's still running cannot be removed: the attempt is `foreign` until that job ends
//    (its outcome is never reported as this attempt's), then replaced.
import { Job, type Queue } from 'bullmq';
import type { JobData, JobReturn } from './protocol';
import type { RemoteAttempt } from './remoteAttempt';

export interface DuplicateHandling {
  queueOf(a: RemoteAttempt): Queue<JobData, JobReturn>;
  add(a: RemoteAttempt): Promise<void>;
  started(a: RemoteAttempt): void;
}

/** The attempt's job id was taken when its job was added: see the invariants above. */
export async function onDuplicated(h: DuplicateHandling, a: RemoteAttempt): Promise<void> {
  const job = await Job.fromId<JobData, JobReturn>(h.queueOf(a), a.jobId);
  const state = job ? await job.getState() : 'unknown';
  if (a.reported) return;
  const task = (job?.data as Partial<JobData> | undefined)?.task;
  const ours = task?.id === a.task.id && task?.createdAt === a.task.createdAt;
  if (state === 'completed' || state === 'failed' || state === 'unknown') return replace(h, a);
  if (ours) return state === 'active' ? h.started(a) : undefined;
  if (state === 'active') {
    a.foreign = true;
    return;
  }
  return replace(h, a);
}

/** Removes whatever job holds this attempt's id and adds the attempt's own. */
export async function replace(h: DuplicateHandling, a: RemoteAttempt): Promise<void> {
  a.foreign = false;
  const removed = await h.queueOf(a).remove(a.jobId);
  // Locked meanwhile (another run's job became active): wait for its end as above.
  if (removed !== 1) {
    a.foreign = true;
    return;
  }
  await h.add(a);
}
