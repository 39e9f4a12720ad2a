// The fleet as the dashboard shows it, read from Redis: the live workers (a heartbeat within
// WORKER_STALE_MS; older entries are ignored, not deleted, since a worker may only be slow) and the
// BullMQ counts of each queue a live worker serves or the coordinator uses. `waiting` includes
// BullMQ's `prioritized` state, where every job with a priority waits.
import { Queue, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { WORKER_STALE_MS, queuesFor, workersKey, type WorkerInfo } from './protocol';

export interface QueueCounts {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface FleetStatus {
  connected: boolean;
  workers: WorkerInfo[];
  queues: QueueCounts[];
}

function parseWorker(text: string): WorkerInfo | undefined {
  try {
    const value = JSON.parse(text) as Partial<WorkerInfo>;
    const shaped = typeof value.pools === 'object' && value.pools !== null && Array.isArray(value.kinds) && Number.isInteger(value.concurrency);
    if (typeof value.name === 'string' && typeof value.heartbeatAt === 'number' && shaped) return value as WorkerInfo;
  } catch {
    // Not a WorkerInfo: skipped.
  }
  return undefined;
}

/** The live workers (a heartbeat within WORKER_STALE_MS), by name. */
export async function liveWorkers(commands: Redis, prefix: string, now = Date.now()): Promise<WorkerInfo[]> {
  const entries = await commands.hgetall(workersKey(prefix));
  return Object.values(entries)
    .map(parseWorker)
    .filter((w): w is WorkerInfo => w !== undefined && now - w.heartbeatAt <= WORKER_STALE_MS)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function fleetStatus(commands: Redis, prefix: string, connected: boolean, ownQueues: string[], now = Date.now()): Promise<FleetStatus> {
  if (!connected) return { connected, workers: [], queues: [] };
  const workers = await liveWorkers(commands, prefix, now);
  const names = new Set(ownQueues);
  for (const w of workers) for (const q of queuesFor(prefix, Object.keys(w.pools))) names.add(q);
  const queues = await Promise.all(
    [...names].sort().map(async (name) => {
      // Read-only: without skipMetasUpdate a Queue rewrites the stream length the lane set (queueLane.ts).
      const queue = new Queue(name, { connection: commands as unknown as ConnectionOptions, prefix, skipMetasUpdate: true });
      try {
        const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
        return { name, waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
      } finally {
        await queue.close();
      }
    }),
  );
  return { connected, workers, queues };
}
