// The dispatcher of Scheduled tasks: which ready task runs next, given the pools' free units.
//
// Grouping. Tasks are grouped by resource signature (the exact demand, e.g. `gpu:1,network:2`; tasks
// needing nothing form the group ''), with one priority heap per group. All tasks of a group need
// the same units, so if a group's head does not fit, none of the group fits: looking at the heads is
// enough, and a task blocked on `gpu` never hides the tasks behind it that need nothing. Groups are
// few (one per distinct demand in use), so takeNext is O(G + log n) without scanning tasks.
//
// Reservation (conservative backfill). Heads are considered best first, in the shared priority order
// (with aging; see priorityQueue.ts). A head that does not fit now RESERVES the pools it needs: no
// head after it may take units of those pools in this pass, even if it would fit. Heads needing only
// other pools still run (backfill). So a big demand waiting for units to drain cannot be starved by a
// stream of smaller, lower-priority demands on the same pool; the cost is that some units may idle
// while they drain. A head whose demand exceeds a pool's whole capacity (capacities shrank) can never
// run and reserves nothing; the orchestrator cancels it (ResourcePools.checkFits says why).
//
// Ordering across groups is consistent because every group's heap shares one QueueOrdering: same
// base time, same aging, one sequence counter.
import { precedes, PriorityQueue, QueueOrdering, type QueueEntry, type QueueNode } from './priorityQueue';
import type { ResourceDemand, ResourcePools } from './resourcePools';

export interface ReadyEntry extends QueueEntry {
  /** Units held while running; absent or empty for a task that needs no pool. */
  readonly resources?: ResourceDemand;
}

interface Group<T extends ReadyEntry> {
  readonly signature: string;
  readonly heap: PriorityQueue<T>;
  /** Position in `groups`, kept for O(1) removal. */
  index: number;
}

/** A canonical key for a demand: pool names sorted, each with its units. '' for no demand. */
export function demandSignature(demand: ResourceDemand | undefined): string {
  if (demand === undefined) return '';
  let only: string | undefined;
  let names: string[] | undefined;
  for (const name in demand) {
    if (only === undefined && names === undefined) only = name;
    else (names ??= [only as string]).push(name);
  }
  if (only === undefined) return '';
  if (names === undefined) return `${only}:${demand[only]}`;
  names.sort();
  let s = '';
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    s += `${i > 0 ? ',' : ''}${name}:${demand[name]}`;
  }
  return s;
}

export class ReadyQueue<T extends ReadyEntry> {
  readonly ordering: QueueOrdering;
  private readonly bySignature = new Map<string, Group<T>>();
  // Invariant: holds exactly the non-empty groups; groups[g.index] === g.
  private readonly groups: Group<T>[] = [];
  private count = 0;

  constructor(options: { agingMs?: number; baseTime?: number } = {}) {
    this.ordering = new QueueOrdering(options.agingMs, options.baseTime);
  }

  get size(): number {
    return this.count;
  }

  /** Number of distinct demands queued. */
  get groupCount(): number {
    return this.groups.length;
  }

  /** Queues `entry`; returns the handle to this push, for `has` and `remove`. O(log n). */
  push(entry: T): QueueNode<T> {
    const signature = demandSignature(entry.resources);
    let group = this.bySignature.get(signature);
    if (group === undefined) {
      group = { signature, heap: new PriorityQueue<T>({ ordering: this.ordering }), index: this.groups.length };
      this.bySignature.set(signature, group);
      this.groups.push(group);
    }
    this.count++;
    return group.heap.push(entry);
  }

  /** True while the push `node` stands for is queued here (false for no push). O(1). */
  has(node: QueueNode<T> | undefined): boolean {
    return node !== undefined && this.groupOf(node) !== undefined;
  }

  /** Takes the push `node` stands for out; undefined, changing nothing, when it is not queued here. O(log n). */
  remove(node: QueueNode<T> | undefined): T | undefined {
    if (node === undefined) return undefined;
    const g = this.groupOf(node);
    if (g === undefined) return undefined;
    const entry = g.heap.remove(node);
    this.afterTake(g);
    return entry;
  }

  /** The group whose heap holds `node`, if one of ours does: the group of its entry's demand. */
  private groupOf(node: QueueNode<T>): Group<T> | undefined {
    const g = this.bySignature.get(demandSignature(node.entry.resources));
    return g !== undefined && g.heap.has(node) ? g : undefined;
  }

  /**
   * The best ready task whose resources are free now, with its resources already allocated from
   * `pools`; undefined when nothing may run (no slot, nothing queued, or every head blocked or
   * behind a reservation). See the header for the reservation rule.
   */
  takeNext(pools: ResourcePools, canRunMore = true): T | undefined {
    if (!canRunMore || this.count === 0) return undefined;
    const groups = this.groups;
    // Fast path: the best head overall fits (always so when nothing needs a pool). count > 0, and
    // `groups` holds exactly the non-empty groups, so groups[0] exists.
    let best = groups[0]!;
    for (let i = 1; i < groups.length; i++) {
      const g = groups[i]!;
      if (precedes(g.heap.peekNode() as QueueNode<T>, best.heap.peekNode() as QueueNode<T>)) best = g;
    }
    const head = best.heap.peek() as T;
    if (pools.allocate(head.resources)) return this.take(best);
    if (groups.length === 1) return undefined;

    // Slow path: heads in order; blocked heads reserve their pools for this pass.
    const ordered = groups.slice().sort((a, b) => (precedes(a.heap.peekNode() as QueueNode<T>, b.heap.peekNode() as QueueNode<T>) ? -1 : 1));
    let reserved: Set<string> | undefined;
    for (let i = 0; i < ordered.length; i++) {
      const g = ordered[i]!;
      const demand = (g.heap.peek() as T).resources;
      if (reserved !== undefined && touches(demand, reserved)) continue;
      if (g === best) {
        // Already tried above: it did not fit.
      } else if (pools.allocate(demand)) {
        return this.take(g);
      }
      if (demand !== undefined && pools.couldEverFit(demand)) {
        reserved ??= new Set<string>();
        for (const name in demand) reserved.add(name);
      }
    }
    return undefined;
  }

  /** Every queued entry in dispatch order if pools were unlimited (for getTaskQueue). O(n log n). */
  orderedEntries(): T[] {
    const nodes: QueueNode<T>[] = [];
    for (const g of this.groups) for (const n of g.heap.nodes()) nodes.push(n);
    nodes.sort((a, b) => (precedes(a, b) ? -1 : precedes(b, a) ? 1 : 0));
    return nodes.map((n) => n.entry);
  }

  clear(): void {
    this.bySignature.clear();
    this.groups.length = 0;
    this.count = 0;
  }

  private take(g: Group<T>): T {
    const e = g.heap.pop() as T;
    this.afterTake(g);
    return e;
  }

  private afterTake(g: Group<T>): void {
    this.count--;
    if (g.heap.size > 0) return;
    // Drop the empty group so takeNext only ever looks at groups with a head.
    this.bySignature.delete(g.signature);
    const last = this.groups.pop() as Group<T>;
    if (last !== g) {
      this.groups[g.index] = last;
      last.index = g.index;
    }
  }
}

function touches(demand: ResourceDemand | undefined, reserved: ReadonlySet<string>): boolean {
  if (demand === undefined) return false;
  for (const name in demand) if (reserved.has(name)) return true;
  return false;
}
