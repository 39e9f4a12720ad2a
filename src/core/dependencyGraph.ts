// Bookkeeping for Created tasks that wait for others (DESIGN.md: "the scheduler admits it when its
// dependencies are done"). A waiter holds a count of dependencies not yet completed; each dependency
// holds the list of its waiters. Completing a dependency decrements its waiters' counts and hands back
// those that reached zero; a dependency that fails or is cancelled hands back every transitive waiter,
// to be cancelled with a reason naming it, so no task is ever left waiting forever.
//
// Invariants:
// - `waiting` holds exactly the tasks still waiting; their count is > 0.
// - A waiter listed under a dependency that no longer waits for it (it was removed or cascaded) is
//   skipped when that dependency finishes: lists are cleaned lazily, so removal is O(1).
// - Every operation is O(edges touched); nothing scans all tasks.

const NONE: readonly string[] = Object.freeze([]);

export class DependencyGraph {
  /** Waiter id -> number of its dependencies not yet completed. */
  private readonly waiting = new Map<string, number>();
  /** Dependency id -> ids of tasks that were waiting for it when they were added. */
  private readonly dependents = new Map<string, string[]>();

  /** Tasks still waiting for at least one dependency. */
  get size(): number {
    return this.waiting.size;
  }

  isWaiting(id: string): boolean {
    return this.waiting.has(id);
  }

  /** How many of its dependencies `id` still waits for (0 when it is not waiting). */
  pendingCount(id: string): number {
    return this.waiting.get(id) ?? 0;
  }

  /** Waiters registered under `id` (some may have been removed since). */
  dependentsOf(id: string): readonly string[] {
    return this.dependents.get(id) ?? NONE;
  }

  /**
   * Registers `id` as waiting for those of `deps` that `isCompleted` says are not yet completed.
   * Returns true when there is nothing to wait for: the task is ready now and is not recorded.
   * The caller refuses or cancels a task whose dependency already failed or was cancelled; `deps`
   * are unique (validation guarantees it).
   */
  add(id: string, deps: readonly string[], isCompleted: (dep: string) => boolean): boolean {
    if (this.waiting.has(id)) throw new Error(`Task \`${id}\` is already waiting for dependencies`);
    let pending = 0;
    for (let i = 0; i < deps.length; i++) {
      const dep = deps[i];
      if (isCompleted(dep)) continue;
      pending++;
      const list = this.dependents.get(dep);
      if (list === undefined) this.dependents.set(dep, [id]);
      else list.push(id);
    }
    if (pending === 0) return true;
    this.waiting.set(id, pending);
    return false;
  }

  /** `id` completed successfully: returns the waiters that have nothing left to wait for, in the order they were added. */
  onCompleted(id: string): readonly string[] {
    // Most tasks have no dependents, and most orchestrators none at all: no lookup then.
    if (this.dependents.size === 0) return NONE;
    const list = this.dependents.get(id);
    if (list === undefined) return NONE;
    this.dependents.delete(id);
    let ready: string[] | undefined;
    for (let i = 0; i < list.length; i++) {
      const w = list[i];
      const left = this.waiting.get(w);
      if (left === undefined) continue;
      if (left > 1) {
        this.waiting.set(w, left - 1);
      } else {
        this.waiting.delete(w);
        (ready ??= []).push(w);
      }
    }
    return ready ?? NONE;
  }

  /**
   * `id` failed or was cancelled: returns every task that waited for it, directly or through others,
   * breadth first (nearest first), and forgets them. Iterative, so long chains cannot overflow the stack.
   */
  onFailedOrCancelled(id: string): readonly string[] {
    this.waiting.delete(id);
    if (!this.dependents.has(id)) return NONE;
    const out: string[] = [];
    const queue: string[] = [id];
    for (let head = 0; head < queue.length; head++) {
      const list = this.dependents.get(queue[head]);
      if (list === undefined) continue;
      this.dependents.delete(queue[head]);
      for (let i = 0; i < list.length; i++) {
        const w = list[i];
        // Deleting on first sight also keeps a diamond from listing a task twice.
        if (!this.waiting.delete(w)) continue;
        out.push(w);
        queue.push(w);
      }
    }
    return out;
  }

  /**
   * Forgets `id` as a waiter (it was cancelled or removed while waiting). Its own waiters are not
   * touched: the caller cascades them through onFailedOrCancelled.
   */
  remove(id: string): boolean {
    return this.waiting.delete(id);
  }

  clear(): void {
    this.waiting.clear();
    this.dependents.clear();
  }
}

/**
 * Finds a cycle in a directed graph given as node -> the nodes it points at (for dependencies: a task
 * -> the tasks it depends on). Targets that are not keys of `adjacency` are leaves. Returns the cycle
 * in edge order with its first node repeated at the end (`['build', 'test', 'build']`), or undefined.
 * Iterative depth-first search with an explicit stack: a 10,000-node chain cannot overflow the stack.
 * Deterministic: nodes and edges are visited in the order the map and its arrays give them.
 */
export function findCycle(adjacency: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const DONE = -1;
  // Node -> DONE once fully explored, or its position on the current path while on it.
  const state = new Map<string, number>();
  const path: string[] = [];
  const edgeIndex: number[] = [];
  for (const root of adjacency.keys()) {
    if (state.has(root)) continue;
    state.set(root, 0);
    path.push(root);
    edgeIndex.push(0);
    while (path.length > 0) {
      const top = path.length - 1;
      const node = path[top];
      const edges = adjacency.get(node) ?? [];
      if (edgeIndex[top] >= edges.length) {
        state.set(node, DONE);
        path.pop();
        edgeIndex.pop();
        continue;
      }
      const next = edges[edgeIndex[top]++];
      const s = state.get(next);
      if (s === undefined) {
        state.set(next, path.length);
        path.push(next);
        edgeIndex.push(0);
      } else if (s !== DONE) {
        // A back edge to a node on the current path: the path from it to here is the cycle.
        const cycle = path.slice(s);
        cycle.push(next);
        return cycle;
      }
    }
  }
  return undefined;
}
