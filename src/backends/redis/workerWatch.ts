// The coordinator's look at the fleet, each HEARTBEAT_MS (redisExecution.ts's watchdog tick).
// Invariants:
//  - a running attempt not yet named is named from its job's `processedBy`;
//  - one running longer than WORKER_STALE_MS, not decided by the coordinator, on a worker whose
//    heartbeat is older than that, fails INTERRUPTED, even when no other worker is left to run
//    BullMQ's stalled check;
//  - attempts waiting longer than HEARTBEAT_MS in a queue no live, undrained worker serves (none has
//    their pools, or none is up) are warned of once per queue, naming what they need and who is up:
//    they would otherwise wait unseen; the queue is warned of again only after it was served;
//  - `slots` is the concurrency summed over the live, undrained workers that run one of the kinds this
//    coordinator sends (0 with none), as of the last tick; each change fires onDidChangeSlots once;
//  - a tick reads the workers' hash once; only attempts in flight cost a job look-up each; a Redis
//    error rejects the tick (the next one tries again).
import type { Redis } from 'ioredis';
import { ExecutionError } from '../../core/model/errors';
import { Emitter, type Disposable } from '../../core/util/events';
import { liveWorkers } from './fleetStatus';
import { HEARTBEAT_MS, WORKER_STALE_MS, queuesFor, type WorkerInfo } from './protocol';
import type { RemoteAttempt } from './remoteAttempt';

export class WorkerWatch {
  /** Queues warned of as served by no live worker, until they are. */
  private readonly unservedWarned = new Set<string>();
  private slotCount = 0;
  private readonly slotsChanged = new Emitter<number>();

  constructor(
    private readonly commands: Redis,
    private readonly prefix: string,
    /** The kinds this coordinator sends: a worker that runs none of them adds no slots. */
    private readonly kinds: ReadonlySet<string>,
    /** The worker BullMQ says holds the attempt's job (its `processedBy`). */
    private readonly holder: (a: RemoteAttempt) => Promise<string | undefined>,
    private readonly named: (a: RemoteAttempt, worker: string | undefined) => void,
    private readonly warn: (message: string) => void,
  ) {}

  /** Attempts the fleet runs at once, as of the last tick. */
  get slots(): number {
    return this.slotCount;
  }

  onDidChangeSlots(listener: (slots: number) => void): Disposable {
    return this.slotsChanged.event(listener);
  }

  async tick(attempts: Iterable<RemoteAttempt>, now = Date.now()): Promise<void> {
    const live = await liveWorkers(this.commands, this.prefix, now);
    this.countSlots(live);
    const inFlight = [...attempts].filter((a) => !a.reported && !a.foreign);
    if (inFlight.length === 0) return;
    const running = inFlight.filter((a) => a.active);
    const unnamed = running.filter((a) => a.worker === undefined);
    const names = await Promise.all(unnamed.map(this.holder));
    unnamed.forEach((a, i) => this.named(a, names[i]));
    const alive = new Set(live.map((w) => w.name));
    for (const a of running)
      if (!a.decided && now - a.activeAt > WORKER_STALE_MS && a.worker !== undefined && !a.reported && !alive.has(a.worker))
        a.report(undefined, new ExecutionError(`Worker \`${a.worker}\` stopped heartbeating while running it`, undefined, 'INTERRUPTED'));
    this.warnUnserved(
      inFlight.filter((a) => !a.active && now - a.queuedAt > HEARTBEAT_MS),
      live,
    );
  }

  private countSlots(live: WorkerInfo[]): void {
    let slots = 0;
    for (const w of live) if (w.draining !== true && w.kinds.some((k) => this.kinds.has(k))) slots += w.concurrency;
    if (slots === this.slotCount) return;
    this.slotCount = slots;
    this.slotsChanged.fire(slots);
  }

  private warnUnserved(waiting: RemoteAttempt[], live: WorkerInfo[]): void {
    const served = new Set<string>();
    for (const w of live) if (w.draining !== true) for (const q of queuesFor(this.prefix, Object.keys(w.pools))) served.add(q);
    const stuck = new Map<string, RemoteAttempt[]>();
    for (const a of waiting) if (!served.has(a.queue)) stuck.set(a.queue, [...(stuck.get(a.queue) ?? []), a]);
    for (const q of this.unservedWarned) if (!stuck.has(q)) this.unservedWarned.delete(q);
    for (const [q, attempts] of stuck) {
      if (this.unservedWarned.has(q)) continue;
      this.unservedWarned.add(q);
      this.warn(unservedWarning(attempts, live));
    }
  }
}

/** The warning for the attempts `stuck` in one queue no live worker serves: what they need, who is up, what to do. */
function unservedWarning(stuck: RemoteAttempt[], live: WorkerInfo[]): string {
  const shown = stuck.slice(0, 3).map((a) => `\`${a.task.name}\``);
  const tasks = `${stuck.length} task${stuck.length === 1 ? '' : 's'} (${shown.join(', ')}${stuck.length > 3 ? ', …' : ''})`;
  const up = live.filter((w) => w.draining !== true);
  if (up.length === 0) {
    const draining = live.length ? ` (${live.map((w) => w.name).join(', ')} draining)` : '';
    return `${tasks} wait in Redis: no worker takes new jobs${draining}; start one with \`orchestrator worker --redis URL\``;
  }
  const pools = Object.keys(stuck[0]?.task.spec.resources ?? {}).sort();
  const has = (w: WorkerInfo): string => {
    const p = Object.entries(w.pools);
    return `${w.name} (${p.length ? p.map(([name, n]) => `${name}×${n}`).join(', ') : 'no pools'})`;
  };
  return (
    `${tasks} wait in Redis for a worker with pools ${pools.join(', ')}: no live worker has them (up: ${up.map(has).join(', ')}); ` +
    `they start once one joins, e.g. \`orchestrator worker --resources ${pools.map((p) => `${p}=1`).join(',')}\``
  );
}
