// Named resource pools (`{ gpu: 1, network: 4 }`): a task holds the units its spec asks for while
// it runs.
//
// All or nothing. `allocate` takes every unit a demand names or none of them. A task never holds part
// of what it needs while waiting for the rest, so two tasks can never deadlock each holding what the
// other waits for.
//
// Capacity changes at run time (settings). Growing a pool frees room at once. Shrinking below the
// units in use is allowed: nothing is taken back from running tasks, new allocations of that pool
// simply wait until enough units are released. Removing a pool is deferred while it is in use: the
// pool retires (capacity 0, so nothing new is allocated from it, and it no longer appears in
// `capacities()`, so validation refuses new specs naming it) and disappears when its last unit is
// released. Listing it again before then revives it with the new capacity.
//
// Invariant: for every pool, 0 <= inUse; a pool that is retiring has inUse > 0.
// `demand[name]!` and `next[name]!` read a key that `for (const name in ...)` just gave for that object.
import { ValidationError } from '../model/errors';
import type { PoolStatus } from '../model/model';
import { validateResourceCapacities } from '../model/resourceCapacities';

/** Units of each named pool. An absent or empty demand needs nothing and always fits. */
export type ResourceDemand = Readonly<Record<string, number>>;

interface Pool {
  capacity: number;
  inUse: number;
  retiring: boolean;
}

export class ResourcePools {
  private readonly pools = new Map<string, Pool>();

  /** Capacities are validated like the `resources` option: names match NAME_PATTERN, positive integers. */
  constructor(capacities: Readonly<Record<string, number>> = {}) {
    this.setCapacities(capacities);
  }

  /** True when the pool exists and accepts new allocations (is not retiring). */
  has(name: string): boolean {
    const p = this.pools.get(name);
    return p !== undefined && !p.retiring;
  }

  /** Capacities of the pools that accept allocations: what SpecContext.pools expects. */
  capacities(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, p] of this.pools) if (!p.retiring) out[name] = p.capacity;
    return out;
  }

  /** Every pool with its capacity and units in use; a retiring pool shows capacity 0. */
  status(): Record<string, PoolStatus> {
    const out: Record<string, PoolStatus> = {};
    for (const [name, p] of this.pools) out[name] = { capacity: p.retiring ? 0 : p.capacity, inUse: p.inUse };
    return out;
  }

  /** Units of a pool free now (0 for an unknown or retiring pool, or one shrunk below its use). */
  available(name: string): number {
    const p = this.pools.get(name);
    return p === undefined || p.retiring ? 0 : Math.max(0, p.capacity - p.inUse);
  }

  /** True when every unit of `demand` is free now. An unknown pool never fits. */
  canAllocate(demand: ResourceDemand | undefined): boolean {
    if (demand === undefined) return true;
    for (const name in demand) {
      const p = this.pools.get(name);
      if (p === undefined || p.retiring || p.capacity - p.inUse < demand[name]!) return false;
    }
    return true;
  }

  /** Takes every unit of `demand` and returns true, or takes nothing and returns false. */
  allocate(demand: ResourceDemand | undefined): boolean {
    if (demand === undefined) return true;
    if (!this.canAllocate(demand)) return false;
    for (const name in demand) (this.pools.get(name) as Pool).inUse += demand[name]!;
    return true;
  }

  /**
   * Gives back what `allocate` took. Releasing more than is in use is a bookkeeping bug and throws
   * before changing anything.
   */
  release(demand: ResourceDemand | undefined): void {
    if (demand === undefined) return;
    for (const name in demand) {
      const p = this.pools.get(name);
      if (p === undefined || p.inUse < demand[name]!) {
        throw new Error(`Cannot release ${demand[name]} of pool \`${name}\`: only ${p?.inUse ?? 0} in use`);
      }
    }
    for (const name in demand) {
      const p = this.pools.get(name) as Pool;
      p.inUse -= demand[name]!;
      if (p.retiring && p.inUse === 0) this.pools.delete(name);
    }
  }

  /**
   * Replaces the set of pools (see the header for shrinking and removing). Validates first: a refused
   * record throws ValidationError and changes nothing. Returns the pools that retire instead of
   * disappearing because units are still in use.
   */
  setCapacities(capacities: Readonly<Record<string, number>>, field = 'resources'): string[] {
    const next = validateResourceCapacities(capacities, field);
    const retiring: string[] = [];
    for (const [name, p] of this.pools) {
      if (Object.prototype.hasOwnProperty.call(next, name)) continue;
      if (p.inUse > 0) {
        p.retiring = true;
        retiring.push(name);
      } else {
        this.pools.delete(name);
      }
    }
    for (const name in next) {
      const p = this.pools.get(name);
      if (p === undefined) this.pools.set(name, { capacity: next[name]!, inUse: 0, retiring: false });
      else {
        p.capacity = next[name]!;
        p.retiring = false;
      }
    }
    return retiring;
  }

  /** True when `demand` would fit if every unit were free: false means it can never run as configured. */
  couldEverFit(demand: ResourceDemand | undefined): boolean {
    if (demand === undefined) return true;
    for (const name in demand) {
      const p = this.pools.get(name);
      if (p === undefined || p.retiring || demand[name]! > p.capacity) return false;
    }
    return true;
  }

  /**
   * The demand refused as it could never be met by the current capacities, or undefined when it could
   * (with every unit free). For tasks already queued when capacities shrink.
   */
  checkFits(demand: ResourceDemand | undefined): ValidationError | undefined {
    if (demand === undefined) return undefined;
    for (const name in demand) {
      const p = this.pools.get(name);
      if (p === undefined || p.retiring)
        return new ValidationError(
          `Pool \`${name}\` no longer exists; the configured pools are ${
            Object.keys(this.capacities())
              .map((n) => `\`${n}\``)
              .join(', ') || 'none'
          }`,
          `resources.${name}`,
        );
      if (demand[name]! > p.capacity)
        return new ValidationError(
          `The task needs ${demand[name]} of \`${name}\` but the pool now holds ${p.capacity}, so it could never run`,
          `resources.${name}`,
        );
    }
    return undefined;
  }
}
