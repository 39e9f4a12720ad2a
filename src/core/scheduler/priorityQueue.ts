// A binary max-heap of queued entries, so push, pop and remove(node) are O(log n) and has/peek/size
// are O(1). The queue's bookkeeping is its own: each push makes a node (the entry, its key and
// sequence number, where it sits) and returns it as the caller's handle to that push, which `has`
// and `remove` take. Entries are never written to, so a thing may be queued while it is also a
// record or an engine's task. There is no index by entry: the owner keeps the handle (the
// orchestrator keeps one per task, TaskRun.readyNode), so a push and a pop touch no Map.
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
// its level's run when the run is empty or its last live node precedes the new one, else the heap (a
// clock that stepped back). The runs' heads sit in a small heap of their own (one slot per level in
// use), and the queue's head is the better of the two roots. A FIFO stream then costs O(1) per push
// and pop; a backlog over L interleaved levels O(log L), with L in a few cache lines; out of order,
// nothing is worse than the heap alone. A node removed from a run is only marked (index REMOVED) and
// skipped when it reaches the front; a node serves one push, so a marked node stays dead.
//
// Several heaps can share one `QueueOrdering` (as ReadyQueue's per-group heaps do); their keys and
// sequence numbers are then comparable, and `precedes` orders nodes of different heaps.

import { describeValue, ValidationError } from '../model/errors';
import { DEFAULT_AGING_MS } from '../model/orchestratorOptions';

export { DEFAULT_AGING_MS };

/** A queued thing. The queue reads these and writes nothing to it. */
export interface QueueEntry {
  readonly id: string;
  /** Higher first. */
  readonly priority: number;
  /** When the entry became ready to run, in ms on the clock the orchestrator uses. */
  readonly enqueuedAt: number;
}

/** Where a node sits: its heap position (>= 0), IN_RUN, or REMOVED once popped or removed. */
const IN_RUN = -2;
const REMOVED = -1;

/** What a queue shows of one push: the entry, and what orders it among heaps of one ordering. */
export interface QueueNode<T extends QueueEntry = QueueEntry> {
  readonly entry: T;
  /** The ordering key given at push (see the file comment). */
  readonly key: number;
  /** Arrival order among equal keys. */
  readonly seq: number;
}

/** Keys and sequence numbers of every heap built on one ordering are comparable with each other. */
export class QueueOrdering {
  /** Set by the first key computed, unless given. */
  private baseTime: number | undefined;
  private nextSeq = 0;

  constructor(
    readonly agingMs: number = DEFAULT_AGING_MS,
    baseTime?: number,
  ) {
    if (!(agingMs > 0))
      throw new ValidationError(`Expected \`agingMs\` to be a positive number of ms, or Infinity to disable aging, got ${describeValue(agingMs)}`, 'agingMs');
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

/** The queue's record of one push; it serves that push only. */
class Node<T extends QueueEntry> implements QueueNode<T> {
  /** Where the node sits (see IN_RUN, REMOVED); a heap index when >= 0. */
  index = REMOVED;
  /** The run holding the node while index is IN_RUN. */
  run: Run<T> | undefined = undefined;

  constructor(
    readonly queue: PriorityQueue<T>,
    readonly entry: T,
    readonly key: number,
    readonly seq: number,
  ) {}
}

/** The nodes of one priority level that arrived in order, oldest first, from `head` on. */
interface Run<T extends QueueEntry> {
  readonly priority: number;
  nodes: Node<T>[];
  head: number;
  /** Position in the queue's heap of runs; -1 while the run is empty. */
  slot: number;
}

/** True when `a` runs before `b`: a higher key, or an equal key and an earlier arrival. */
export function precedes(a: QueueNode, b: QueueNode): boolean {
  return a.key > b.key || (a.key === b.key && a.seq < b.seq);
}

function compareNodes(a: QueueNode, b: QueueNode): number {
  return precedes(a, b) ? -1 : precedes(b, a) ? 1 : 0;
}

export class PriorityQueue<T extends QueueEntry> {
  readonly ordering: QueueOrdering;
  // Invariant: for every i > 0, heap[parent(i)] precedes-or-equals heap[i]; heap[i].index === i.
  private readonly heap: Node<T>[] = [];
  // Invariant: each run's live nodes (index IN_RUN) from head on are in order (each precedes the
  // next); node head, if any, is live; a run is in `runHeap` (at its slot) iff it holds a live
  // node, ordered by its head.
  private readonly runs = new Map<number, Run<T>>();
  private readonly runHeap: Run<T>[] = [];
  /** The run pushed to last: a FIFO stream finds it without the Map. */
  private lastRun: Run<T> | undefined = undefined;
  /** The number of queued nodes (index IN_RUN or >= 0). */
  private count = 0;

  constructor(options: { agingMs?: number; baseTime?: number; ordering?: QueueOrdering } = {}) {
    this.ordering = options.ordering ?? new QueueOrdering(options.agingMs ?? DEFAULT_AGING_MS, options.baseTime);
  }

  get size(): number {
    return this.count;
  }

  /** True while the push `node` stands for is queued here (not popped, removed or cleared). */
  has(node: QueueNode<T>): boolean {
    return node instanceof Node && node.queue === this && node.index !== REMOVED;
  }

  /**
   * Queues `entry`; returns the handle to this push, for `has` and `remove`. Pushing an entry that is
   * queued already queues it twice: its owner knows whether it is (by its handle).
   */
  push(entry: T): QueueNode<T> {
    const node = new Node(this, entry, this.ordering.key(entry.priority, entry.enqueuedAt), this.ordering.sequence());
    this.count++;
    const run = this.runOf(entry.priority);
    const nodes = run.nodes;
    if (run.slot === -1) {
      // An empty run starts again at 0.
      nodes.length = 0;
      run.head = 0;
      this.joinRun(run, node);
      run.slot = this.runHeap.length;
      this.runHeap.push(run);
      this.siftRunUp(run.slot);
      return node;
    }
    // Dead nodes at the end go first: only a live last node says where the run ends. The head is
    // live, so this stops there (and `nodes` is never empty here).
    while (nodes[nodes.length - 1]!.index !== IN_RUN) nodes.pop();
    if (precedes(nodes[nodes.length - 1]!, node)) {
      this.joinRun(run, node);
      return node;
    }
    node.index = this.heap.length;
    this.heap.push(node);
    this.siftUp(node.index);
    return node;
  }

  peek(): T | undefined {
    return this.peekNode()?.entry;
  }

  /** The head's node, whose key and seq compare heads of heaps that share an ordering. */
  peekNode(): QueueNode<T> | undefined {
    return this.head();
  }

  private head(): Node<T> | undefined {
    const top = this.heap.length > 0 ? this.heap[0] : undefined;
    if (this.runHeap.length === 0) return top;
    // A run in the run heap is non-empty and its head is live.
    const best = this.runHeap[0]!;
    const first = best.nodes[best.head]!;
    return top === undefined || precedes(first, top) ? first : top;
  }

  pop(): T | undefined {
    const node = this.head();
    return node === undefined ? undefined : this.detach(node);
  }

  /** Takes the push `node` stands for out; undefined, changing nothing, when it is not queued here. */
  remove(node: QueueNode<T>): T | undefined {
    return this.has(node) ? this.detach(node as Node<T>) : undefined;
  }

  /** Takes a queued node out, from its run or the heap. */
  private detach(node: Node<T>): T {
    this.count--;
    if (node.index === IN_RUN) {
      node.index = REMOVED;
      // Marked: it is skipped when it reaches the front of its run.
      const run = node.run as Run<T>;
      node.run = undefined;
      if (run.nodes[run.head] === node) this.advanceRun(run);
    } else {
      this.removeAt(node.index);
    }
    return node.entry;
  }

  clear(): void {
    for (const node of this.heap) node.index = REMOVED;
    for (const run of this.runHeap) {
      for (let i = run.head; i < run.nodes.length; i++) {
        const node = run.nodes[i]!;
        if (node.index === IN_RUN) {
          node.index = REMOVED;
          node.run = undefined;
        }
      }
      run.nodes = [];
      run.head = 0;
      run.slot = -1;
    }
    this.count = 0;
    this.heap.length = 0;
    this.runHeap.length = 0;
    this.runs.clear();
    this.lastRun = undefined;
  }

  /** The queued nodes in no particular order, for merging several heaps. A new array. */
  nodes(): QueueNode<T>[] {
    const out: QueueNode<T>[] = this.heap.slice();
    for (const run of this.runHeap) {
      for (let i = run.head; i < run.nodes.length; i++) {
        const node = run.nodes[i]!;
        if (node.index === IN_RUN) out.push(node);
      }
    }
    return out;
  }

  /** Entries in the order `pop` would return them. O(n log n); for display, not the hot path. */
  toSortedArray(): T[] {
    return this.nodes()
      .sort(compareNodes)
      .map((n) => n.entry);
  }

  private joinRun(run: Run<T>, node: Node<T>): void {
    node.index = IN_RUN;
    node.run = run;
    run.nodes.push(node);
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

  /** The run's head left: skips dead nodes, then re-places the run by its new head (or drops it, empty). */
  private advanceRun(run: Run<T>): void {
    const nodes = run.nodes;
    const n = nodes.length;
    let h = run.head + 1;
    while (h < n && nodes[h]!.index !== IN_RUN) h++;
    if (h === n) {
      nodes.length = 0;
      run.head = 0;
      this.removeRunAt(run.slot);
      return;
    }
    if (h > 1024 && h * 2 > n) {
      run.nodes = nodes.slice(h);
      h = 0;
    }
    run.head = h;
    // A later node of a sorted run never precedes the one before it: the run can only sink.
    this.siftRunDown(run.slot);
  }
  // The remove and sift helpers below take a slot inside their heap (0 <= i < length) and read only
  // its parent (< i) and children (< length), so each `heap[...]!` reads a filled slot, and `pop()!`
  // a heap that holds slot i.
  private removeRunAt(i: number): void {
    const heap = this.runHeap;
    const run = heap[i]!;
    const last = heap.pop()!;
    run.slot = -1;
    if (i < heap.length) {
      heap[i] = last;
      last.slot = i;
      if (i > 0 && runPrecedes(last, heap[(i - 1) >> 1]!)) this.siftRunUp(i);
      else this.siftRunDown(i);
    }
  }

  private siftRunUp(i: number): void {
    const heap = this.runHeap;
    const run = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
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
    const run = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && runPrecedes(heap[r]!, heap[l]!) ? r : l;
      const child = heap[c]!;
      if (!runPrecedes(child, run)) break;
      heap[i] = child;
      child.slot = i;
      i = c;
    }
    heap[i] = run;
    run.slot = i;
  }

  private removeAt(i: number): void {
    const heap = this.heap;
    const e = heap[i]!;
    const last = heap.pop()!;
    if (i < heap.length) {
      heap[i] = last;
      last.index = i;
      // The moved entry may belong above or below its new place, never both.
      if (i > 0 && precedes(last, heap[(i - 1) >> 1]!)) this.siftUp(i);
      else this.siftDown(i);
    }
    e.index = -1;
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const e = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (!precedes(e, parent)) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = e;
    e.index = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const e = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && precedes(heap[r]!, heap[l]!) ? r : l;
      const child = heap[c]!;
      if (!precedes(child, e)) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = e;
    e.index = i;
  }
}

/** Orders non-empty runs by their heads. */
function runPrecedes<T extends QueueEntry>(a: Run<T>, b: Run<T>): boolean {
  return precedes(a.nodes[a.head]!, b.nodes[b.head]!);
}
