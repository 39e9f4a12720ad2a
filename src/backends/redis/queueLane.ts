// One lane per queue the coordinator uses: its BullMQ Queue (on the coordinator's shared command
// connection) and its QueueEvents (a blocking connection of its own). Invariant: the QueueEvents
// reads the stream from the id that was last when the lane was opened, and `ready` resolves only
// once it listens, so an event of a job added after `ready` is never missed. The stream keeps about
// EVENTS_MAX_LEN entries (BullMQ trims it on each write), so an event is lost to trimming only when
// the coordinator falls more than that many events behind: about EVENTS_MAX_LEN / 5 jobs, at about
// 5 events a job (added, waiting, active, completed, removed) without output; the outcome is then
// found by outcomeAudit.ts.
import { Queue, QueueEvents, type ConnectionOptions } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { AddBatcher } from './addBatcher';
import { CompletedInStream } from './completedInStream';
import type { JobData, JobReturn } from './protocol';

export interface Lane {
  queue: Queue<JobData, JobReturn>;
  /** Adds the queue's jobs, in bulk per turn of the event loop. */
  adds: AddBatcher;
  /** Completions found in the events stream, for jobs removed on completion (completedInStream.ts). */
  completed: CompletedInStream;
  /** Made once the stream's last id is known (see `ready`). */
  events: QueueEvents | undefined;
  ready: Promise<void>;
}

/**
 * Entries kept in a queue's events stream. BullMQ's default, 10,000, is 2,000 jobs' worth: a
 * 10,000-task burst left the coordinator that far behind and the trimmed outcomes never came.
 */
export const EVENTS_MAX_LEN = 100_000;

/** How long dispose waits for one BullMQ object to close before it lets go of it (Redis may be down). */
export const CLOSE_BOUND_MS = 1000;

/** Resolves when `p` settles or after `ms`, whichever is first. */
export function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]).finally(() => clearTimeout(timer));
}

/** Opens the lane of `name`; `listen` is given its QueueEvents before it reads; `disposed` stops a lane opened too late. */
export function openLane(
  name: string,
  prefix: string,
  commands: Redis,
  connection: RedisOptions,
  listen: (events: QueueEvents) => void,
  disposed: () => boolean,
): Lane {
  const queue = new Queue<JobData, JobReturn>(name, {
    connection: commands as unknown as ConnectionOptions,
    prefix,
    streams: { events: { maxLen: EVENTS_MAX_LEN } },
  });
  queue.on('error', () => undefined);
  const lane: Lane = {
    queue,
    adds: new AddBatcher(queue),
    completed: new CompletedInStream(commands, queue.toKey('events')),
    events: undefined,
    ready: Promise.resolve(),
  };
  lane.ready = (async () => {
    const last = await commands.xrevrange(queue.toKey('events'), '+', '-', 'COUNT', 1);
    if (disposed()) throw new Error('The Redis execution is disposed');
    const lastEventId = last[0]?.[0] ?? '0-0';
    const events = new QueueEvents(name, { connection: connection as ConnectionOptions, prefix, lastEventId });
    lane.events = events;
    listen(events);
    await events.waitUntilReady();
  })();
  // Awaited by each add; this keeps a lane dropped by dispose from an unhandled rejection.
  lane.ready.catch(() => undefined);
  return lane;
}
