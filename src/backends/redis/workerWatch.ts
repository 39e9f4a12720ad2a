// The coordinator's look at the workers running its attempts, each HEARTBEAT_MS (redisExecution.ts's
// watchdog). Invariants: a running attempt not yet named is named from its job's `processedBy`; one
// running longer than WORKER_STALE_MS, not decided by the coordinator, on a worker whose heartbeat
// is older than that, fails INTERRUPTED, even when no other worker is left to run BullMQ's stalled
// check. Only running attempts cost a look-up; a Redis error rejects (the next tick tries again).
import type { Redis } from 'ioredis';
import { ExecutionError } from '../../core/model/errors';
import { liveWorkers } from './fleetStatus';
import { WORKER_STALE_MS } from './protocol';
import type { RemoteAttempt } from './remoteAttempt';

export async function watchWorkers(
  running: RemoteAttempt[],
  commands: Redis,
  prefix: string,
  /** The worker BullMQ says holds the attempt's job (its `processedBy`). */
  holder: (a: RemoteAttempt) => Promise<string | undefined>,
  named: (a: RemoteAttempt, worker: string | undefined) => void,
  now = Date.now(),
): Promise<void> {
  const unnamed = running.filter((a) => a.worker === undefined);
  const names = await Promise.all(unnamed.map(holder));
  unnamed.forEach((a, i) => named(a, names[i]));
  const suspects = running.filter((a) => !a.decided && now - a.activeAt > WORKER_STALE_MS);
  if (suspects.length === 0) return;
  const live = new Set((await liveWorkers(commands, prefix)).map((w) => w.name));
  for (const a of suspects)
    if (a.worker !== undefined && !a.reported && !live.has(a.worker))
      a.report(undefined, new ExecutionError(`Worker \`${a.worker}\` stopped heartbeating while running it`, undefined, 'INTERRUPTED'));
}
