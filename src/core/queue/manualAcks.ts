// The copies awaiting a manual acknowledgement, by message id and by receipt. A copy is indexed
// from its first delivery (an ack by id must not settle a copy not yet delivered) until it is
// settled or its subscriber leaves, so a late ack, arriving during the backoff, still finds it.
import type { Entry } from './subscription';

export class ManualAckIndex {
  private readonly byId = new Map<string, Entry[]>();
  private readonly byReceipt = new Map<string, Entry>();

  /** Indexes `e` unless it already is; gives it its receipt (`@<subscription>:<id>`) on first use. */
  add(e: Entry): void {
    if (e.receipt !== undefined && this.byReceipt.get(e.receipt) === e) return;
    e.receipt ??= `@${e.sub.id}:${e.id}`;
    this.byReceipt.set(e.receipt, e);
    const list = this.byId.get(e.id);
    if (list) list.push(e);
    else this.byId.set(e.id, [e]);
  }

  remove(e: Entry): void {
    if (e.receipt === undefined || this.byReceipt.get(e.receipt) !== e) return;
    this.byReceipt.delete(e.receipt);
    const list = this.byId.get(e.id);
    if (!list) return;
    const i = list.indexOf(e);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byId.delete(e.id);
  }

  /** The copies a key settles: the one copy of a receipt, or every indexed copy of a message id. A new array. */
  lookup(key: string, isReceipt: boolean): Entry[] {
    if (isReceipt) {
      const one = this.byReceipt.get(key);
      return one ? [one] : [];
    }
    const all = this.byId.get(key);
    return all ? [...all] : [];
  }
}
