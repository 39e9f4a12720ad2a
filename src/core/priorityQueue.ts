// A binary max-heap of queued entries with an id -> node index, so push, pop and remove(id) are
// O(log n) and has/peek/size are O(1).
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
  /** Position in the heap array; -1 once the node has left the heap. */
  index: number;
}

/** True when `a` runs before `b`: a higher key, or an equal key and an earlier arrival. */
export function precedes<T>(a: HeapNode<T>, b: HeapNode<T>): boolean {
  return a.key > b.key || (a.key === b.key && a.seq < b.seq);
}

function compareNodes<T>(a: HeapNode<T>, b: HeapNode<T>): number {
  return precedes(a, b) ? -1 : precedes(b, a) ? 1 : 0;
}

export class PriorityQueue<T extends QueueEntry> {
  readonly ordering: QueueOrdering;
  // Invariant: for every i > 0, heap[parent(i)] precedes-or-equals heap[i]; heap[i].index === i.
  private readonly heap: HeapNode<T>[] = [];
  // Invariant: byId holds exactly the nodes in `heap`.
  private readonly byId = new Map<string, HeapNode<T>>();

  constructor(options: { agingMs?: number; baseTime?: number; ordering?: QueueOrdering } = {}) {
    this.ordering = options.ordering ?? new QueueOrdering(options.agingMs ?? DEFAULT_AGING_MS, options.baseTime);
  }

  get size(): number {
    return this.heap.length;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): T | undefined {
    return this.byId.get(id)?.entry;
  }

  /** Throws if an entry with the same id is already queued: an id is queued at most once. */
  push(entry: T): void {
    if (this.byId.has(entry.id)) throw new Error(`Entry \`${entry.id}\` is already queued`);
    const node: HeapNode<T> = { entry, key: this.ordering.key(entry.priority, entry.enqueuedAt), seq: this.ordering.sequence(), index: this.heap.length };
    this.heap.push(node);
    this.byId.set(entry.id, node);
    this.siftUp(node.index);
  }

  peek(): T | undefined {
    return this.heap.length > 0 ? this.heap[0].entry : undefined;
  }

  /** The head with its key and sequence, for comparing heads of heaps that share an ordering. */
  peekNode(): Readonly<HeapNode<T>> | undefined {
    return this.heap.length > 0 ? this.heap[0] : undefined;
  }

  pop(): T | undefined {
    if (this.heap.length === 0) return undefined;
    return this.removeAt(0).entry;
  }

  remove(id: string): T | undefined {
    const node = this.byId.get(id);
    return node === undefined ? undefined : this.removeAt(node.index).entry;
  }

  clear(): void {
    for (const n of this.heap) n.index = -1;
    this.heap.length = 0;
    this.byId.clear();
  }

  /** The nodes in heap (not dispatch) order; read-only view for merging several heaps. */
  nodes(): readonly Readonly<HeapNode<T>>[] {
    return this.heap;
  }

  /** Entries in the order `pop` would return them. O(n log n); for display, not the hot path. */
  toSortedArray(): T[] {
    return this.heap.slice().sort(compareNodes).map((n) => n.entry);
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
    this.byId.delete(node.entry.id);
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
