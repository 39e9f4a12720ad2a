// The coordinator's check that no outcome is lost to a gap in what its QueueEvents read: a stream
// trimmed past the last entry it read (the coordinator slept, or fell far behind, while the fleet
// and other coordinators went on writing) loses those jobs' events without a trace. Each watchdog
// tick (redisExecution.ts) looks at the jobs of up to AUDIT_PER_TICK attempts, those in Redis for
// longer than a heartbeat, least recently looked at first. Invariants:
//  - a job kept as failed is reported from its `failedReason`, as its `failed` event would be;
//  - a job Redis no longer holds, on two looks in a row (a completed job is removed at once, and its
//    event may be on its way at the first), is reported from its `completed` entry in the stream; with
//    none there, it fails INTERRUPTED, and the task's retry policy decides what runs again;
//  - an attempt already reported, decided here (a cancel or a timeout), or foreign is not looked at;
//    whichever of the event and the look comes first reports, the other finds nothing to report;
//  - a tick costs one pipelined round trip (EXISTS and a ZSCORE in the failed set per attempt); only
//    what it finds costs more.
import type { Redis } from 'ioredis';
import { Job } from 'bullmq';
import { HEARTBEAT_MS, type JobData, type JobReturn } from './protocol';
import type { Lane } from './queueLane';
import type { RemoteAttempt } from './remoteAttempt';

/** Attempts looked at per tick at most: bounds a tick's round trip whatever is in flight. */
export const AUDIT_PER_TICK = 200;

export interface AuditOutcomes {
  completed(a: RemoteAttempt, returnvalue: string): void;
  failed(a: RemoteAttempt, failedReason: string): void;
  lost(a: RemoteAttempt): void;
}

interface Look {
  at: number;
  /** Looks in a row that found no job. */
  missing: number;
}

export class OutcomeAudit {
  private readonly looks = new WeakMap<RemoteAttempt, Look>();

  constructor(
    private readonly commands: Redis,
    private readonly laneOf: (queue: string) => Lane,
    private readonly outcomes: AuditOutcomes,
  ) {}

  async tick(attempts: Iterable<RemoteAttempt>, now = Date.now()): Promise<void> {
    const due: RemoteAttempt[] = [];
    for (const a of attempts) if (a.inRedis && !a.reported && !a.decided && !a.foreign && now - a.queuedAt > HEARTBEAT_MS) due.push(a);
    if (due.length === 0) return;
    const lookedAt = (a: RemoteAttempt): number => this.looks.get(a)?.at ?? 0;
    const batch = due.length <= AUDIT_PER_TICK ? due : due.sort((x, y) => lookedAt(x) - lookedAt(y)).slice(0, AUDIT_PER_TICK);
    const pipeline = this.commands.pipeline();
    for (const a of batch) {
      const queue = this.laneOf(a.queue).queue;
      pipeline.exists(queue.toKey(a.jobId));
      pipeline.zscore(queue.toKey('failed'), a.jobId);
    }
    const replies = (await pipeline.exec()) ?? [];
    await Promise.all(
      batch.map((a, i) => {
        const [existsErr, exists] = replies[2 * i] ?? [];
        const [failedErr, failedScore] = replies[2 * i + 1] ?? [];
        if (existsErr || failedErr || a.reported) return undefined;
        const look = this.looks.get(a) ?? { at: 0, missing: 0 };
        look.at = now;
        look.missing = exists === 1 ? 0 : look.missing + 1;
        this.looks.set(a, look);
        if (exists === 1 && failedScore !== null && failedScore !== undefined) return this.reportFailed(a);
        if (look.missing >= 2) return this.reportGone(a);
        return undefined;
      }),
    );
  }

  private async reportFailed(a: RemoteAttempt): Promise<void> {
    const job = await Job.fromId<JobData, JobReturn>(this.laneOf(a.queue).queue, a.jobId);
    if (job && !a.reported) this.outcomes.failed(a, job.failedReason);
  }

  private async reportGone(a: RemoteAttempt): Promise<void> {
    const returnvalue = await this.laneOf(a.queue).completed.find(a.jobId, a.task.createdAt);
    if (a.reported) return;
    if (returnvalue !== undefined) this.outcomes.completed(a, returnvalue);
    else this.outcomes.lost(a);
  }
}
