// A binary max-heap of queued entries, so push, pop and remove(entry) are O(log n) and has/peek/size
// are O(1). An entry holds its own node (`queueNode`) while queued: finding it needs no index by id,
// whose Map insert, lookup and delete per task were a sixth of the 100k no-op benchmark.
//
// Order. Higher effective priority first; equal effective priorities in arrival order (a sequence
// number given at push, never reused).
//
// Aging. A low-priority entry must not starve behind a stream of higher ones, so an entry's
// effective priority grows with the time it has waited:
//
//     effective(t) = priority + (t - enqueuedAt) / agingMs
//
// With the default agingMs of 10,000, waiting 10 s counts as one priority level. Comparing two
// entries at the same time t, the t cancels out, so the order never changes while entries wait and
// the heap invariant holds without re-keying anything. Each node is keyed once, at push, by
//
//     key = priority - (enqueuedAt - baseTime) / agingMs
//
// where baseTime is the first enqueuedAt the ordering saw: subtracting it keeps the quotient small,
// so float precision is spent on the priority and not on the epoch. `agingMs = Infinity` disables
// aging (the quotient is 0 and the key is the priority).
//
// Sorted runs. Entries usually arrive in order within their priority level (equal priorities, in
// time: FIFO, and with aging a later arrival has the lower key), and a heap of 100,000 such entries
// pays O(log n) cache-missing comparisons per push and pop. So beside the heap the queue keeps one
// run per priority level: a FIFO of nodes each of which the one before precedes. A pushed node joins
// its level's run when the run is empty or its last node precedes the new one, else the heap (a clock
// that stepped back). The runs' heads sit in a small heap of their own (one slot per level in use), and
// the queue's head is the better of the two roots. A FIFO stream then costs O(1) per push and pop; a
// backlog over L interleaved levels O(log L), with L in a few cache lines; out of order, nothing is
// worse than the heap alone. A node removed from a run is only marked (index -1) and skipped when it
// reaches the front.
//
// Several heaps can share one `QueueOrdering` (as ReadyQueue's per-group heaps do); their keys and
// sequence numbers are then comparable, and `precedes` orders nodes of different heaps.

import { describeValue, ValidationError } from './errors';

export const DEFAULT_AGING_MS = 10_000;

export interface QueueEntry {
  readonly id: string;
  /** Higher first. */
  readonly priority: number;
  /** When the entry became ready to run, in ms on the clock the orchestrator uses. */
  readonly enqueuedAt: number;
  /**
   * Set by the queue: the entry's node while it is queued (an entry is in at most one queue at a
   * time). Owners of many entries declare it (as undefined) so their objects keep one shape.
   */
  queueNode?: HeapNode<QueueEntry> | undefined;
}

/** Keys and sequence numbers of every heap built on one ordering are comparable with each other. */
export class QueueOrdering {
  /** Set by the first key computed, unless given. */
  private baseTime: number | undefined;
  private nextSeq = 0;

  constructor(readonly agingMs: number = DEFAULT_AGING_MS, baseTime?: number) {
    if (!(agingMs > 0)) throw new ValidationError(`Expected \`agingMs\` to be a positive number of ms, or Infinity to disable aging, got ${describeValue(agingMs)}`, 'agingMs');
    this.baseTime = baseTime;
  }

  key(priority: number, enqueuedAt: number): number {
    if (this.baseTime === undefined) this.baseTime = enqueuedAt;
    // Infinity: x / Infinity is (+/-)0, so the key is the priority itself.
    return priority - (enqueuedAt - this.baseTime) / this.agingMs;
  }

  sequence(): number {
    return this.nextSeq++;
  }
}

export interface HeapNode<T> {
  readonly entry: T;
  readonly key: number;
  readonly seq: number;
  /** Position in the heap array; IN_RUN while in the sorted run; -1 once the node has left the queue. */
  index: number;
  /** The queue the node is in (or was, once index is -1). */
  readonly owner: object;
  /** The run holding the node while index is IN_RUN. */
  run: Run<T> | undefined;
}

/** The nodes of one priority level that arrived in order, oldest first, from `head` on. */
interface Run<T> {
  readonly priority: number;
  nodes: HeapNode<T>[];
  head: number;
  /** Position in the queue's heap of runs; -1 while the run is empty. */
  slot: number;
}

/** True when `a` runs before `b`: a higher key, or an equal key and an earlier arrival. */
export function precedes<T>(a: HeapNode<T>, b: HeapNode<T>): boolean {
  return a.key > b.key || (a.key === b.key && a.seq < b.seq);
}

/** HeapNode.index of a node in the sorted run. */
const IN_RUN = -2;

function compareNodes<T>(a: HeapNode<T>, b: HeapNode<T>): number {
  return precedes(a, b) ? -1 : precedes(b, a) ? 1 : 0;
}

export class PriorityQueue<T extends QueueEntry> {
  readonly ordering: QueueOrdering;
  // Invariant: for every i > 0, heap[parent(i)] precedes-or-equals heap[i]; heap[i].index === i.
  // Invariant: an entry is queued here iff entry.queueNode.owner === this and its index is not -1.
  private readonly heap: HeapNode<T>[] = [];
  // Invariant: each run's nodes[head..] are in order (each precedes the next); nodes[head], if any, is
  // not marked removed; a run is in `runHeap` (at its slot) iff it holds a node, ordered by its head.
  private readonly runs = new Map<number, Run<T>>();
  private readonly runHeap: Run<T>[] = [];
  /** The run pushed to last: a FIFO stream finds it without the Map. */
  private lastRun: Run<T> | undefined = undefined;
  private count = 0;

  constructor(options: { agingMs?: number; baseTime?: number; ordering?: QueueOrdering } = {}) {
    this.ordering = options.ordering ?? new QueueOrdering(options.agingMs ?? DEFAULT_AGING_MS, options.baseTime);
  }

  get size(): number {
    return this.count;
  }

  /** True while `entry` is queued here. */
  has(entry: T): boolean {
    const node = entry.queueNode;
    return node !== undefined && node.index !== -1 && node.owner === this;
  }

  /** Throws if the entry is already queued (here or in another queue): an entry is queued at most once. */
  push(entry: T): void {
    const held = entry.queueNode;
    if (held !== undefined && held.index !== -1) throw new Error(`Entry \`${entry.id}\` is already queued`);
    const node: HeapNode<T> = { entry, key: this.ordering.key(entry.priority, entry.enqueuedAt), seq: this.ordering.sequence(), index: IN_RUN, owner: this, run: undefined };
    entry.queueNode = node as HeapNode<QueueEntry>;
    this.count++;
    const run = this.runOf(entry.priority);
    const nodes = run.nodes;
    if (run.slot === -1) {
      // An empty run starts again at 0.
      nodes.length = 0;
      run.head = 0;
      nodes.push(node);
      node.run = run;
      run.slot = this.runHeap.length;
      this.runHeap.push(run);
      this.siftRunUp(run.slot);
      return;
    }
    if (precedes(nodes[nodes.length - 1], node)) {
      nodes.push(node);
      node.run = run;
      return;
    }
    node.index = this.heap.length;
    this.heap.push(node);
    this.siftUp(node.index);
  }

  peek(): T | undefined {
    return this.peekNode()?.entry;
  }

  /** The head with its key and sequence, for comparing heads of heaps that share an ordering. */
  peekNode(): Readonly<HeapNode<T>> | undefined {
    const top = this.heap.length > 0 ? this.heap[0] : undefined;
    if (this.runHeap.length === 0) return top;
    const best = this.runHeap[0];
    const first = best.nodes[best.head];
    return top === undefined || precedes(first, top) ? first : top;
  }

  pop(): T | undefined {
    const node = this.peekNode() as HeapNode<T> | undefined;
    return node === undefined ? undefined : this.detach(node);
  }

  /** Takes `entry` out of the queue; undefined, changing nothing, when it is not queued here. */
  remove(entry: T): T | undefined {
    return this.has(entry) ? this.detach(entry.queueNode as HeapNode<T>) : undefined;
  }

  /** Takes a queued node out, from its run or the heap, and returns its entry. */
  private detach(node: HeapNode<T>): T {
    // The entry lets go of its node (and the node of nothing else): a retained entry keeps no garbage.
    node.entry.queueNode = undefined;
    this.count--;
    if (node.index === IN_RUN) {
      node.index = -1;
      const run = node.run as Run<T>;
      node.run = undefined;
      // Marked: dropped from the run when it reaches the front.
      if (run.nodes[run.head] === node) this.advanceRun(run);
    } else {
      this.removeAt(node.index);
    }
    return node.entry;
  }

  clear(): void {
    for (const n of this.heap) n.index = -1;
    for (const run of this.runHeap) {
      for (let i = run.head; i < run.nodes.length; i++) run.nodes[i].index = -1;
      run.nodes = [];
      run.head = 0;
      run.slot = -1;
    }
    this.heap.length = 0;
    this.runHeap.length = 0;
    this.runs.clear();
    this.lastRun = undefined;
    this.count = 0;
  }

  /** The queued nodes in no particular order; read-only view for merging several heaps. */
  nodes(): readonly Readonly<HeapNode<T>>[] {
    if (this.runHeap.length === 0) return this.heap;
    const out = this.heap.slice();
    for (const run of this.runHeap) {
      for (let i = run.head; i < run.nodes.length; i++) if (run.nodes[i].index === IN_RUN) out.push(run.nodes[i]);
    }
    return out;
  }

  /** Entries in the order `pop` would return them. O(n log n); for display, not the hot path. */
  toSortedArray(): T[] {
    return this.nodes().slice().sort(compareNodes).map((n) => n.entry);
  }

  /** The run of a priority level, made if there is none. */
  private runOf(priority: number): Run<T> {
    const last = this.lastRun;
    if (last !== undefined && last.priority === priority) return last;
    let run = this.runs.get(priority);
    if (run === undefined) {
      // Runs of levels no longer in use go, so many distinct priorities over time leave nothing behind.
      if (this.runs.size >= 64) for (const [p, r] of this.runs) if (r.slot === -1) this.runs.delete(p);
      run = { priority, nodes: [], head: 0, slot: -1 };
      this.runs.set(priority, run);
    }
    this.lastRun = run;
    return run;
  }

  /** The run's head left: skips marked nodes, then re-places the run by its new head (or drops it, empty). */
  private advanceRun(run: Run<T>): void {
    const nodes = run.nodes;
    let h = run.head + 1;
    while (h < nodes.length && nodes[h].index !== IN_RUN) h++;
    if (h === nodes.length) {
      nodes.length = 0;
      run.head = 0;
      this.removeRunAt(run.slot);
      return;
    }
    if (h > 1024 && h * 2 > nodes.length) {
      run.nodes = nodes.slice(h);
      h = 0;
    }
    run.head = h;
    // A later node of a sorted run never precedes the one before it: the run can only sink.
    this.siftRunDown(run.slot);
  }

  private removeRunAt(i: number): void {
    const heap = this.runHeap;
    const run = heap[i];
    const last = heap.pop() as Run<T>;
    run.slot = -1;
    if (i < heap.length) {
      heap[i] = last;
      last.slot = i;
      if (i > 0 && runPrecedes(last, heap[(i - 1) >> 1])) this.siftRunUp(i);
      else this.siftRunDown(i);
    }
  }

  private siftRunUp(i: number): void {
    const heap = this.runHeap;
    const run = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p];
      if (!runPrecedes(run, parent)) break;
      heap[i] = parent;
      parent.slot = i;
      i = p;
    }
    heap[i] = run;
    run.slot = i;
  }

  private siftRunDown(i: number): void {
    const heap = this.runHeap;
    const n = heap.length;
    const run = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && runPrecedes(heap[r], heap[l]) ? r : l;
      const child = heap[c];
      if (!runPrecedes(child, run)) break;
      heap[i] = child;
      child.slot = i;
      i = c;
    }
    heap[i] = run;
    run.slot = i;
  }

  private removeAt(i: number): HeapNode<T> {
    const heap = this.heap;
    const node = heap[i];
    const last = heap.pop() as HeapNode<T>;
    if (i < heap.length) {
      heap[i] = last;
      last.index = i;
      // The moved node may belong above or below its new place, never both.
      if (i > 0 && precedes(last, heap[(i - 1) >> 1])) this.siftUp(i);
      else this.siftDown(i);
    }
    node.index = -1;
    return node;
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const node = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p];
      if (!precedes(node, parent)) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = node;
    node.index = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const node = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && precedes(heap[r], heap[l]) ? r : l;
      const child = heap[c];
      if (!precedes(child, node)) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = node;
    node.index = i;
  }
}

/** Orders non-empty runs by their heads. */
function runPrecedes<T>(a: Run<T>, b: Run<T>): boolean {
  return precedes(a.nodes[a.head], b.nodes[b.head]);
}
