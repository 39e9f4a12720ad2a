// What one worker holds right now: attempt slots (its concurrency, shared by all its BullMQ Workers,
// one per queue) and units of each of its pools. Invariant: `take` succeeds only if every unit and
// a slot are free, and takes them all at once; `give` returns exactly what `take` took. A job that
// cannot be taken is moved back to its queue for another worker or a later moment, so a pool of 1 is
// never held twice on one worker.
export class Capacity {
  private running = 0;
  private readonly free: Map<string, number>;

  constructor(
    readonly concurrency: number,
    readonly pools: Readonly<Record<string, number>>,
  ) {
    this.free = new Map(Object.entries(pools));
  }

  get inUse(): number {
    return this.running;
  }

  /** Whether `need` could ever fit here (every pool known and large enough). */
  fits(need: Readonly<Record<string, number>>): boolean {
    return Object.entries(need).every(([pool, units]) => (this.pools[pool] ?? 0) >= units);
  }

  take(need: Readonly<Record<string, number>>): boolean {
    if (this.running >= this.concurrency) return false;
    for (const [pool, units] of Object.entries(need)) if ((this.free.get(pool) ?? 0) < units) return false;
    for (const [pool, units] of Object.entries(need)) this.free.set(pool, (this.free.get(pool) ?? 0) - units);
    this.running++;
    return true;
  }

  give(need: Readonly<Record<string, number>>): void {
    for (const [pool, units] of Object.entries(need)) this.free.set(pool, (this.free.get(pool) ?? 0) + units);
    this.running--;
  }
}
