// The task records of one TaskLifecycleManager, by id, in creation order.
//
// Why not a Map. On the 100k no-op benchmark a Map<string, record> insert and delete per task were a
// sixth of the whole lifecycle: hashing into a table of 100,000 entries misses the cache, and the
// table rehashes as it grows and shrinks. The ids this table makes itself are a random prefix and a
// base-36 sequence number (see `nextId`), so a record's place is its number: records live in a slab
// (an array) at `seq - base`, an insert is an array push, a delete writes `undefined`, and a lookup
// parses the number and compares the id found there.
//
// Ids made elsewhere (restored records, a caller's own ids or id generator) go to a Map beside the
// slab. Iteration yields the Map first, then the slab: restored records are older than anything
// created here, so creation order holds as long as given ids are only used for restoring.
//
// The slab's dead head (deleted records) is dropped once large, amortised O(1) per record. A record
// that lives very long (a task stuck in Running while a million others come and go) would keep the
// slab from shrinking: when less than a quarter of the slab is alive, the live records of its older
// half move to the Map (they are older than every slab record, so the order holds) and that half goes.
import { nanoid } from 'nanoid';
import type { TaskRecord } from '../model/model';

/** Where a held record lives: its slab sequence number (>= 0), IN_MAP, or NOT_HELD once deleted. */
export const HOME: unique symbol = Symbol('orchestrator.home');
export const IN_MAP = -2;
export const NOT_HELD = -1;

export interface Homed extends TaskRecord {
  [HOME]: number;
}

const BASE36 = 36;

export class RecordTable<R extends Homed> {
  /** 8 URL-safe characters from nanoid (48 bits): unique across restarts and managers. */
  private readonly prefix = nanoid(8);
  private nextSeq = 0;
  // Invariant: slab[i] is undefined or a held record whose [HOME] is base + i; slab[0..head) are undefined.
  private slab: (R | undefined)[] = [];
  private head = 0;
  private base = 0;
  private inSlab = 0;
  private readonly map = new Map<string, R>();

  get size(): number {
    return this.inSlab + this.map.size;
  }

  /**
   * A new id: prefix + base-36 sequence number. Up to 36^4 tasks it stays under 13 characters,
   * which V8 stores flat (no cons string to flatten when it is compared or hashed). Skips a number
   * whose id a caller has already used (a given id that happens to look like ours).
   */
  nextId(): string {
    let id = this.prefix + this.nextSeq.toString(BASE36);
    while (this.map.size > 0 && this.map.has(id)) {
      this.nextSeq++;
      id = this.prefix + this.nextSeq.toString(BASE36);
    }
    return id;
  }

  /** True when `id` would be a new id here. */
  isFree(id: string): boolean {
    return this.get(id) === undefined;
  }

  /**
   * Adds a record. With `ownId` the record's id is the one `nextId()` just returned and goes to the
   * slab; otherwise to the Map (the caller has checked that the id is free).
   */
  add(record: R, ownId: boolean): void {
    if (ownId) {
      const seq = this.nextSeq++;
      // Numbers nextId skipped (ids a caller had taken) stay empty slots: a record's slot is its number.
      while (this.base + this.slab.length < seq) this.slab.push(undefined);
      record[HOME] = seq;
      this.slab.push(record);
      this.inSlab++;
    } else {
      record[HOME] = IN_MAP;
      this.map.set(record.id, record);
    }
  }

  get(id: string): R | undefined {
    const seq = this.seqOf(id);
    if (seq >= 0) {
      const r = this.slab[seq - this.base];
      if (r !== undefined && r.id === id) return r;
    }
    return this.map.size > 0 ? this.map.get(id) : undefined;
  }

  /** Deletes a record this table holds; false, changing nothing, if it holds it no longer. O(1). */
  delete(record: R): boolean {
    const home = record[HOME];
    if (home === NOT_HELD) return false;
    record[HOME] = NOT_HELD;
    if (home === IN_MAP) return this.map.delete(record.id);
    this.slab[home - this.base] = undefined;
    this.inSlab--;
    if (home - this.base === this.head) this.advance();
    else if (this.isSparse()) this.moveStragglers();
    return true;
  }

  /**
   * The records held when the call is made, in order. Records added while iterating are not
   * visited; records deleted meanwhile are skipped. (A copy is taken first: deletions during the loop
   * may move records from the slab to the Map, which a live walk of both would miss.)
   */
  *values(): IterableIterator<R> {
    const all = this.list();
    for (let i = 0; i < all.length; i++) {
      const record = all[i]!;
      if (record[HOME] !== NOT_HELD) yield record;
    }
  }

  /** The records held now, in order: a new array (no iterator per record, for whole-table walks). */
  list(): R[] {
    const all: R[] = this.map.size > 0 ? [...this.map.values()] : [];
    const slab = this.slab;
    for (let i = this.head; i < slab.length; i++) {
      const r = slab[i];
      if (r !== undefined) all.push(r);
    }
    return all;
  }

  clear(): void {
    for (const r of this.values()) r[HOME] = NOT_HELD;
    this.map.clear();
    this.base += this.slab.length;
    this.slab = [];
    this.head = 0;
    this.inSlab = 0;
  }

  /** The sequence number in an id of ours, else -1. */
  private seqOf(id: string): number {
    const p = this.prefix;
    if (id.length <= p.length || !id.startsWith(p)) return -1;
    const n = parseInt(id.slice(p.length), BASE36);
    return Number.isInteger(n) && n >= this.base ? n : -1;
  }

  /** Moves the head past deleted records; drops the dead head once large. */
  private advance(): void {
    const slab = this.slab;
    let h = this.head;
    while (h < slab.length && slab[h] === undefined) h++;
    this.head = h;
    if (h > 4096 && h * 2 > slab.length) this.dropHead(h);
    else if (this.isSparse()) this.moveStragglers();
  }

  /** Less than a quarter of a large slab alive. */
  private isSparse(): boolean {
    const span = this.slab.length - this.head;
    return span > 65_536 && this.inSlab * 4 < span;
  }

  /**
   * Long-lived records keep the head back: the live records of the older half move to the Map
   * (older than every record left in the slab, so iteration order holds) and that half goes.
   */
  private moveStragglers(): void {
    const slab = this.slab;
    const mid = this.head + ((slab.length - this.head) >> 1);
    for (let i = this.head; i < mid; i++) {
      const r = slab[i];
      if (r === undefined) continue;
      r[HOME] = IN_MAP;
      this.map.set(r.id, r);
      this.inSlab--;
    }
    this.dropHead(mid);
  }

  private dropHead(n: number): void {
    const slab = this.slab.slice(n);
    let h = 0;
    while (h < slab.length && slab[h] === undefined) h++;
    this.slab = slab;
    this.base += n;
    this.head = h;
  }
}
