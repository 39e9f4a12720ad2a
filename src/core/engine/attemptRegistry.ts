// Where the engine keeps its running attempts: all of them in a doubly linked list in start order
// (O(1) in and out, no hashing), and those started by id (executeTask, runAttempt) also in a Map by
// id, which refuses a second attempt of the same task. Attempts the orchestrator starts with
// `startAttempt` are only in the list: it holds their handles and its lifecycle already allows one
// attempt per task, so no Map entry is made or deleted per attempt (bench row 1).
// The list's links live on the attempts themselves: joining and leaving allocate nothing.

/** What the registry holds: an attempt, with the links the registry owns. */
export interface RegisteredAttempt<A> {
  readonly task: { readonly id: string };
  prev: A | undefined;
  next: A | undefined;
}

export class AttemptRegistry<A extends RegisteredAttempt<A>> {
  private readonly byId = new Map<string, A>();
  private first: A | undefined = undefined;
  private last: A | undefined = undefined;
  /** How many are in the list only: a lookup by id walks the list only when some are. */
  private unindexed = 0;

  /** Adds `a` at the end of the list, and to the index by id when `indexed`. */
  add(a: A, indexed: boolean): void {
    a.prev = this.last;
    if (this.last === undefined) this.first = a;
    else this.last.next = a;
    this.last = a;
    if (indexed) this.byId.set(a.task.id, a);
    else this.unindexed++;
  }

  /** Removes `a`, added with the same `indexed`. */
  remove(a: A, indexed: boolean): void {
    if (a.prev === undefined) this.first = a.next;
    else a.prev.next = a.next;
    if (a.next === undefined) this.last = a.prev;
    else a.next.prev = a.prev;
    a.prev = a.next = undefined;
    if (indexed) this.byId.delete(a.task.id);
    else this.unindexed--;
  }

  /** The running attempt of a task, by id: the index, else a walk of the list (those startAttempt began). */
  find(taskId: string): A | undefined {
    const indexed = this.byId.get(taskId);
    if (indexed !== undefined || this.unindexed === 0) return indexed;
    for (let a = this.first; a !== undefined; a = a.next) if (a.task.id === taskId) return a;
    return undefined;
  }

  /** Running attempts in start order. */
  list(): A[] {
    const out: A[] = [];
    for (let a = this.first; a !== undefined; a = a.next) out.push(a);
    return out;
  }
}
