// A binary max-heap of queued entries, so push, pop and remove(entry) are O(log n) and has/peek/size
// are O(1). The queue's bookkeeping lives on the entry itself (its `queue*` fields, see QueueEntry):
// no node object per push, and no index by id (whose Map insert, lookup and delete per task were a
// sixth of the 100k no-op benchmark).
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
// worse than the heap alone. An entry removed from a run is only marked (queueIndex -1) and skipped
// when it reaches the front; each run slot keeps the sequence number the entry had when it went
// there, so an entry pushed again meanwhile (a retry) is never mistaken for its old slot.
//
// Several heaps can share one `QueueOrdering` (as ReadyQueue's per-group heaps do); their keys and
// sequence numbers are then comparable, and `precedes` orders nodes of different heaps.

import { describeValue, ValidationError } from '../model/errors';
import { DEFAULT_AGING_MS } from '../model/orchestratorOptions';

export { DEFAULT_AGING_MS };

/** What the queue writes on an entry it holds. */
export interface QueueFields {
  /** The ordering key given at push (see the file comment). */
  queueKey: number;
  /** The sequence number given at push: arrival order among equal keys. */
  queueSeq: number;
  /** Position in the heap; IN_RUN in a sorted run; -1 (or undefined) when not queued. */
  queueIndex: number;
  /** The queue holding the entry (or that last held it). */
  queueOwner: object;
  /** The run holding the entry while queueIndex is IN_RUN. */
  queueRun: object | undefined;
}

/**
 * A queued thing. The `queue*` fields belong to the queue holding the entry (an entry is in at most
 * one queue at a time); owners of many entries declare them (as undefined) so their objects keep one
 * shape, and plain objects get them on their first push.
 */
export interface QueueEntry extends Partial<QueueFields> {
  readonly id: string;
  /** Higher first. */
  readonly priority: number;
  /** When the entry became ready to run, in ms on the clock the orchestrator uses. */
  readonly enqueuedAt: number;
}

/** An entry while (or after) a queue holds it: its queue fields are set. */
export type Queued<T extends QueueEntry = QueueEntry> = T & QueueFields;

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

/** The entries of one priority level that arrived in order, oldest first, from `head` on. */
interface Run<T extends QueueEntry> {
  readonly priority: number;
  entries: Queued<T>[];
  /** Each slot's entry's queueSeq when it went there: the slot is live while they still agree. */
  seqs: number[];
  head: number;
  /** Position in the queue's heap of runs; -1 while the run is empty. */
  slot: number;
}

/** True when `a` runs before `b`: a higher key, or an equal key and an earlier arrival. */
export function precedes(a: Queued, b: Queued): boolean {
  return a.queueKey > b.queueKey || (a.queueKey === b.queueKey && a.queueSeq < b.queueSeq);
}

/** queueIndex of an entry in a sorted run. */
const IN_RUN = -2;

function compareEntries(a: Queued, b: Queued): number {
  return precedes(a, b) ? -1 : precedes(b, a) ? 1 : 0;
}

/** The run's slot i holds its entry still (not removed, not pushed again since). */
function live<T extends QueueEntry>(run: Run<T>, i: number): boolean {
  const e = run.entries[i];
  return e.queueIndex === IN_RUN && e.queueSeq === run.seqs[i];
}

export class PriorityQueue<T extends QueueEntry> {
  readonly ordering: QueueOrdering;
  // Invariant: for every i > 0, heap[parent(i)] precedes-or-equals heap[i]; heap[i].queueIndex === i.
  // Invariant: an entry is queued here iff its queueOwner is this and its queueIndex is IN_RUN or >= 0.
  private readonly heap: Queued<T>[] = [];
  // Invariant: each run's live slots from head on are in order (each precedes the next); slot head, if
  // any, is live; a run is in `runHeap` (at its slot) iff it holds a live entry, ordered by its head.
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
    const i = entry.queueIndex;
    return i !== undefined && i !== -1 && entry.queueOwner === this;
  }

  /** Throws if the entry is already queued (here or in another queue): an entry is queued at most once. */
  push(entry: T): void {
    const i = entry.queueIndex;
    if (i !== undefined && i !== -1) throw new Error(`Entry \`${entry.id}\` is already queued`);
    const e = entry as Queued<T>;
    e.queueKey = this.ordering.key(entry.priority, entry.enqueuedAt);
    e.queueSeq = this.ordering.sequence();
    e.queueIndex = IN_RUN;
    e.queueOwner = this;
    this.count++;
    const run = this.runOf(entry.priority);
    const entries = run.entries;
    if (run.slot === -1) {
      // An empty run starts again at 0.
      entries.length = 0;
      run.seqs.length = 0;
      run.head = 0;
      this.joinRun(run, e);
      run.slot = this.runHeap.length;
      this.runHeap.push(run);
      this.siftRunUp(run.slot);
      return;
    }
    // Dead slots at the end go first: their entries' fields may have changed since (pushed again),
    // so only a live last slot says where the run ends. The head is live, so this stops there.
    while (!live(run, entries.length - 1)) {
      entries.pop();
      run.seqs.pop();
    }
    if (precedes(entries[entries.length - 1], e)) {
      this.joinRun(run, e);
      return;
    }
    e.queueRun = undefined;
    e.queueIndex = this.heap.length;
    this.heap.push(e);
    this.siftUp(e.queueIndex);
  }

  peek(): T | undefined {
    return this.peekNode();
  }

  /** The head, whose queueKey and queueSeq compare heads of heaps that share an ordering. */
  peekNode(): Queued<T> | undefined {
    const top = this.heap.length > 0 ? this.heap[0] : undefined;
    if (this.runHeap.length === 0) return top;
    const best = this.runHeap[0];
    const first = best.entries[best.head];
    return top === undefined || precedes(first, top) ? first : top;
  }

  pop(): T | undefined {
    const e = this.peekNode();
    return e === undefined ? undefined : this.detach(e);
  }

  /** Takes `entry` out of the queue; undefined, changing nothing, when it is not queued here. */
  remove(entry: T): T | undefined {
    return this.has(entry) ? this.detach(entry as Queued<T>) : undefined;
  }

  /** Takes a queued entry out, from its run or the heap. */
  private detach(e: Queued<T>): T {
    this.count--;
    if (e.queueIndex === IN_RUN) {
      e.queueIndex = -1;
      const run = e.queueRun as Run<T>;
      e.queueRun = undefined;
      // Marked: its slot is skipped when it reaches the front.
      if (run.entries[run.head] === e) this.advanceRun(run);
    } else {
      this.removeAt(e.queueIndex);
    }
    return e;
  }

  clear(): void {
    for (const e of this.heap) e.queueIndex = -1;
    for (const run of this.runHeap) {
      for (let i = run.head; i < run.entries.length; i++) {
        if (live(run, i)) {
          run.entries[i].queueIndex = -1;
          run.entries[i].queueRun = undefined;
        }
      }
      run.entries = [];
      run.seqs = [];
      run.head = 0;
      run.slot = -1;
    }
    this.heap.length = 0;
    this.runHeap.length = 0;
    this.runs.clear();
    this.lastRun = undefined;
    this.count = 0;
  }

  /** The queued entries in no particular order; read-only view for merging several heaps. */
  nodes(): readonly Queued<T>[] {
    if (this.runHeap.length === 0) return this.heap;
    const out = this.heap.slice();
    for (const run of this.runHeap) {
      for (let i = run.head; i < run.entries.length; i++) if (live(run, i)) out.push(run.entries[i]);
    }
    return out;
  }

  /** Entries in the order `pop` would return them. O(n log n); for display, not the hot path. */
  toSortedArray(): T[] {
    return this.nodes().slice().sort(compareEntries);
  }

  private joinRun(run: Run<T>, e: Queued<T>): void {
    run.entries.push(e);
    run.seqs.push(e.queueSeq);
    e.queueRun = run;
  }

  /** The run of a priority level, made if there is none. */
  private runOf(priority: number): Run<T> {
    const last = this.lastRun;
    if (last !== undefined && last.priority === priority) return last;
    let run = this.runs.get(priority);
    if (run === undefined) {
      // Runs of levels no longer in use go, so many distinct priorities over time leave nothing behind.
      if (this.runs.size >= 64) for (const [p, r] of this.runs) if (r.slot === -1) this.runs.delete(p);
      run = { priority, entries: [], seqs: [], head: 0, slot: -1 };
      this.runs.set(priority, run);
    }
    this.lastRun = run;
    return run;
  }

  /** The run's head left: skips dead slots, then re-places the run by its new head (or drops it, empty). */
  private advanceRun(run: Run<T>): void {
    const n = run.entries.length;
    let h = run.head + 1;
    while (h < n && !live(run, h)) h++;
    if (h === n) {
      run.entries.length = 0;
      run.seqs.length = 0;
      run.head = 0;
      this.removeRunAt(run.slot);
      return;
    }
    if (h > 1024 && h * 2 > n) {
      run.entries = run.entries.slice(h);
      run.seqs = run.seqs.slice(h);
      h = 0;
    }
    run.head = h;
    // A later entry of a sorted run never precedes the one before it: the run can only sink.
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

  private removeAt(i: number): void {
    const heap = this.heap;
    const e = heap[i];
    const last = heap.pop() as Queued<T>;
    if (i < heap.length) {
      heap[i] = last;
      last.queueIndex = i;
      // The moved entry may belong above or below its new place, never both.
      if (i > 0 && precedes(last, heap[(i - 1) >> 1])) this.siftUp(i);
      else this.siftDown(i);
    }
    e.queueIndex = -1;
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const e = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p];
      if (!precedes(e, parent)) break;
      heap[i] = parent;
      parent.queueIndex = i;
      i = p;
    }
    heap[i] = e;
    e.queueIndex = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const e = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && precedes(heap[r], heap[l]) ? r : l;
      const child = heap[c];
      if (!precedes(child, e)) break;
      heap[i] = child;
      child.queueIndex = i;
      i = c;
    }
    heap[i] = e;
    e.queueIndex = i;
  }
}

/** Orders non-empty runs by their heads. */
function runPrecedes<T extends QueueEntry>(a: Run<T>, b: Run<T>): boolean {
  return precedes(a.entries[a.head], b.entries[b.head]);
}
