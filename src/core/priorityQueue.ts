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
// Sorted run. Entries usually arrive already in order (equal priorities, in time: FIFO), and a heap
// of 100,000 such entries still pays O(log n) cache-missing comparisons per push and pop. So beside
// the heap the queue keeps a run: a FIFO of nodes each of which the one before precedes. A pushed node
// joins the run when the run is empty or its last node precedes the new one, else the heap; the head is
// the better of the heap's root and the run's first node. In order, push and pop are then O(1); out of
// order, nothing is worse than the heap alone. A node removed from the run is only marked (index -1)
// and skipped when it reaches the front.
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
  // Invariant: run[runHead..] precedes in order (each node precedes the next); run[runHead], if any, is
  // not marked removed; marked nodes (index -1) elsewhere in it are skipped when they reach the front.
  private run: HeapNode<T>[] = [];
  private runHead = 0;
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
    const node: HeapNode<T> = { entry, key: this.ordering.key(entry.priority, entry.enqueuedAt), seq: this.ordering.sequence(), index: IN_RUN, owner: this };
    entry.queueNode = node as HeapNode<QueueEntry>;
    this.count++;
    const run = this.run;
    if (this.runHead === run.length || precedes(run[run.length - 1], node)) {
      run.push(node);
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
    if (this.runHead === this.run.length) return top;
    const first = this.run[this.runHead];
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

  /** Takes a queued node out, from the run or the heap, and returns its entry. */
  private detach(node: HeapNode<T>): T {
    // The entry lets go of its node (and the node of nothing else): a retained entry keeps no garbage.
    node.entry.queueNode = undefined;
    if (node.index === IN_RUN) {
      this.leaveRun(node);
      // Marked: dropped from the run when it reaches the front.
      this.advanceRun();
    } else {
      this.removeAt(node.index);
    }
    return node.entry;
  }

  clear(): void {
    for (const n of this.heap) n.index = -1;
    for (let i = this.runHead; i < this.run.length; i++) this.run[i].index = -1;
    this.heap.length = 0;
    this.run = [];
    this.runHead = 0;
    this.count = 0;
  }

  /** The queued nodes in no particular order; read-only view for merging several heaps. */
  nodes(): readonly Readonly<HeapNode<T>>[] {
    if (this.runHead === this.run.length) return this.heap;
    const out = this.heap.slice();
    for (let i = this.runHead; i < this.run.length; i++) if (this.run[i].index === IN_RUN) out.push(this.run[i]);
    return out;
  }

  /** Entries in the order `pop` would return them. O(n log n); for display, not the hot path. */
  toSortedArray(): T[] {
    return this.nodes().slice().sort(compareNodes).map((n) => n.entry);
  }

  private leaveRun(node: HeapNode<T>): void {
    node.index = -1;
    this.count--;
  }

  /** Drops marked nodes from the front of the run; compacts its dead head once it is large. */
  private advanceRun(): void {
    const run = this.run;
    let h = this.runHead;
    while (h < run.length && run[h].index !== IN_RUN) h++;
    if (h === run.length) {
      run.length = 0;
      h = 0;
    } else if (h > 1024 && h * 2 > run.length) {
      this.run = run.slice(h);
      h = 0;
    }
    this.runHead = h;
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
    this.count--;
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
