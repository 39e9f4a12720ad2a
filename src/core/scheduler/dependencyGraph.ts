// Bookkeeping for Created tasks that wait for others (DESIGN.md: "the scheduler admits it when its
// dependencies are done"). A waiter holds a count of dependencies not yet done; each dependency
// holds the list of its waiters. Completing a dependency decrements its waiters' counts and hands back
// those that reached zero; a dependency that fails or is cancelled hands back every transitive waiter,
// to be cancelled with a reason naming it, so no task is ever left waiting forever.
//
// A runAlways waiter (a cleanup step) waits until each dependency is final in any status: a failure
// or cancel reaching it counts as done, like a completion, and the cascade stops there. Its own
// waiters are not cascaded: they wait for its outcome as for any task's.
//
// Invariants:
// - `waiting` holds exactly the tasks still waiting; their count is > 0.
// - `always` holds exactly the runAlways tasks among them; it exists once a runAlways task was added,
//   so tasks without runAlways cost no allocation and graphs without any no lookup.
// - A waiter listed under a dependency that no longer waits for it (it was removed or cascaded) is
//   skipped when that dependency finishes: lists are cleaned lazily, so removal is O(1).
// - Every operation is O(edges touched); nothing scans all tasks.

const NONE: readonly string[] = Object.freeze([]);

/** What a failed or cancelled dependency leads to: waiters to cancel, and runAlways waiters now ready. */
export interface FailureOutcome {
  /** Every task that waited for it, directly or through others, breadth first (nearest first). */
  readonly cancelled: readonly string[];
  /** runAlways waiters that have nothing left to wait for, in the order they were reached. */
  readonly ready: readonly string[];
}

const NO_OUTCOME: FailureOutcome = Object.freeze({ cancelled: NONE, ready: NONE });

export class DependencyGraph {
  /** Waiter id -> number of its dependencies not yet completed. */
  private readonly waiting = new Map<string, number>();
  /** Dependency id -> ids of tasks that were waiting for it when they were added. */
  private readonly dependents = new Map<string, string[]>();
  /** The runAlways tasks among `waiting`; created with the first one. */
  private always: Set<string> | undefined = undefined;

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
   * Registers `id` as waiting for those of `deps` that `isDone` says are not yet done: completed, or
   * for a `runAlways` task final in any status. Returns true when there is nothing to wait for: the
   * task is ready now and is not recorded. The caller refuses or cancels a task (not runAlways) whose
   * dependency already failed or was cancelled; `deps` are unique (validation guarantees it).
   */
  add(id: string, deps: readonly string[], isDone: (dep: string) => boolean, runAlways = false): boolean {
    if (this.waiting.has(id)) throw new Error(`Task \`${id}\` is already waiting for dependencies`);
    let pending = 0;
    for (let i = 0; i < deps.length; i++) {
      const dep = deps[i]!;
      if (isDone(dep)) continue;
      pending++;
      const list = this.dependents.get(dep);
      if (list === undefined) this.dependents.set(dep, [id]);
      else list.push(id);
    }
    if (pending === 0) return true;
    this.waiting.set(id, pending);
    if (runAlways) (this.always ??= new Set()).add(id);
    return false;
  }

  /** One dependency of waiter `w` is done: true when that was its last. */
  private release(w: string, left: number): boolean {
    if (left > 1) {
      this.waiting.set(w, left - 1);
      return false;
    }
    this.waiting.delete(w);
    this.always?.delete(w);
    return true;
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
      const w = list[i]!;
      const left = this.waiting.get(w);
      if (left === undefined) continue;
      if (this.release(w, left)) (ready ??= []).push(w);
    }
    return ready ?? NONE;
  }

  /**
   * `id` is Ready (a service, still running): its waiters are released as by a completion, except
   * runAlways waiters, which wait for it to be final and stay listed under it. A dependent added
   * later is not registered for it at all: the caller's `isDone` counts a Ready task done.
   */
  onReady(id: string): readonly string[] {
    if (this.dependents.size === 0) return NONE;
    const list = this.dependents.get(id);
    if (list === undefined) return NONE;
    const always = this.always;
    let kept: string[] | undefined;
    let ready: string[] | undefined;
    for (let i = 0; i < list.length; i++) {
      const w = list[i]!;
      const left = this.waiting.get(w);
      if (left === undefined) continue;
      if (always !== undefined && always.has(w)) (kept ??= []).push(w);
      else if (this.release(w, left)) (ready ??= []).push(w);
    }
    if (kept === undefined) this.dependents.delete(id);
    else this.dependents.set(id, kept);
    return ready ?? NONE;
  }

  /**
   * `id` failed or was cancelled: every task that waited for it, directly or through others, is to be
   * cancelled and forgotten, except runAlways waiters, which count it as done (and may become ready)
   * and shield their own waiters. Iterative, so long chains cannot overflow the stack.
   */
  onFailedOrCancelled(id: string): FailureOutcome {
    this.waiting.delete(id);
    this.always?.delete(id);
    if (!this.dependents.has(id)) return NO_OUTCOME;
    const always = this.always;
    const cancelled: string[] = [];
    let ready: string[] | undefined;
    const queue: string[] = [id];
    for (let head = 0; head < queue.length; head++) {
      const at = queue[head]!;
      const list = this.dependents.get(at);
      if (list === undefined) continue;
      this.dependents.delete(at);
      for (let i = 0; i < list.length; i++) {
        const w = list[i]!;
        if (always !== undefined && always.has(w)) {
          // Reached once per edge: each cancelled or failed dependency on the way is one done.
          const left = this.waiting.get(w);
          if (left !== undefined && this.release(w, left)) (ready ??= []).push(w);
          continue;
        }
        // Deleting on first sight also keeps a diamond from listing a task twice.
        if (!this.waiting.delete(w)) continue;
        cancelled.push(w);
        queue.push(w);
      }
    }
    return { cancelled, ready: ready ?? NONE };
  }

  /**
   * Forgets `id` as a waiter (it was cancelled or removed while waiting). Its own waiters are not
   * touched: the caller cascades them through onFailedOrCancelled.
   */
  remove(id: string): boolean {
    this.always?.delete(id);
    return this.waiting.delete(id);
  }

  clear(): void {
    this.waiting.clear();
    this.dependents.clear();
    this.always = undefined;
  }
}

// The cycle search is shared with the workflow and restore checks, which sit below the scheduler.
export { findCycle } from '../util/findCycle';
