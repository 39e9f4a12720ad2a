// PriorityQueue's sorted runs (one per priority level) beside its heap, against a brute-force reference.
import * as assert from 'node:assert/strict';
import { PriorityQueue, type QueueEntry } from '../../src/core/scheduler/priorityQueue';
import { HandledQueue } from '../support/handledQueue';

function entry(id: string, priority: number, enqueuedAt = 0): QueueEntry {
  return { id, priority, enqueuedAt };
}

function drain(q: PriorityQueue<QueueEntry>): QueueEntry[] {
  const out: QueueEntry[] = [];
  for (let e = q.pop(); e !== undefined; e = q.pop()) out.push(e);
  return out;
}

function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n: number): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
}

/**
 * The order the queue promises, by brute force: key = priority - (enqueuedAt - base) / agingMs, with
 * base the first enqueuedAt pushed, higher key first, then push order (a re-pushed entry is a new push).
 */
class Reference {
  private items: { e: QueueEntry; key: number; seq: number }[] = [];
  private base: number | undefined;
  private seq = 0;
  constructor(private readonly agingMs: number) {}

  get size(): number {
    return this.items.length;
  }
  push(e: QueueEntry): void {
    if (this.base === undefined) this.base = e.enqueuedAt;
    this.items.push({ e, key: e.priority - (e.enqueuedAt - this.base) / this.agingMs, seq: this.seq++ });
  }
  private bestIndex(): number {
    let best = -1;
    for (let i = 0; i < this.items.length; i++) {
      const x = this.items[i];
      if (best === -1) best = i;
      else {
        const b = this.items[best];
        if (x.key > b.key || (x.key === b.key && x.seq < b.seq)) best = i;
      }
    }
    return best;
  }
  peek(): QueueEntry | undefined {
    const i = this.bestIndex();
    return i === -1 ? undefined : this.items[i].e;
  }
  pop(): QueueEntry | undefined {
    const i = this.bestIndex();
    return i === -1 ? undefined : this.items.splice(i, 1)[0].e;
  }
  remove(e: QueueEntry): boolean {
    const i = this.items.findIndex((x) => x.e === e);
    if (i === -1) return false;
    this.items.splice(i, 1);
    return true;
  }
  has(e: QueueEntry): boolean {
    return this.items.some((x) => x.e === e);
  }
  sorted(): QueueEntry[] {
    return this.items
      .slice()
      .sort((a, b) => (a.key !== b.key ? b.key - a.key : a.seq - b.seq))
      .map((x) => x.e);
  }
}

function assertAgrees(q: PriorityQueue<QueueEntry>, ref: Reference, what: string, full = true): void {
  assert.equal(q.size, ref.size, `${what}: size`);
  assert.equal(q.peek(), ref.peek(), `${what}: peek`);
  if (full) {
    assert.deepEqual(
      q.toSortedArray().map((e) => e.id),
      ref.sorted().map((e) => e.id),
      `${what}: toSortedArray`,
    );
    assert.equal(q.nodes().length, ref.size, `${what}: nodes`);
  }
}

describe('priorityQueue (sorted runs per level)', () => {
  it('pops 20,000 entries over 100 interleaved levels in priority-then-arrival order', () => {
    const q = new HandledQueue({ agingMs: Infinity });
    const es = Array.from({ length: 20_000 }, (_, i) => entry(`e${i}`, i % 100));
    for (const e of es) q.push(e);
    assert.equal(q.size, 20_000);
    const expected = es
      .map((e, i) => ({ e, i }))
      .sort((a, b) => b.e.priority - a.e.priority || a.i - b.i)
      .map((x) => x.e);
    assert.equal(q.peek(), expected[0]);
    assert.deepEqual(
      q.toSortedArray().map((e) => e.id),
      expected.map((e) => e.id),
    );
    const out = drain(q);
    assert.equal(out.length, 20_000);
    for (let i = 0; i < out.length; i++) assert.equal(out[i], expected[i], `pop ${i}`);
    assert.equal(q.size, 0);
    assert.equal(q.peek(), undefined);
    for (const e of es) assert.ok(!q.has(e));
  });

  it('keeps the order when pops and pushes interleave over many levels', () => {
    const q = new HandledQueue({ agingMs: Infinity });
    const ref = new Reference(Infinity);
    const es = Array.from({ length: 6000 }, (_, i) => entry(`e${i}`, (i * 37) % 100));
    let next = 0;
    for (let round = 0; round < 60; round++) {
      for (let k = 0; k < 100; k++) {
        q.push(es[next]);
        ref.push(es[next]);
        next++;
      }
      for (let k = 0; k < 50; k++) assert.equal(q.pop(), ref.pop(), `round ${round} pop ${k}`);
      assertAgrees(q, ref, `round ${round}`, round % 10 === 0);
    }
    assert.deepEqual(drain(q), ref.sorted());
  });

  it('removes entries at the head and in the middle of a level, and takes the same entry object again', () => {
    const q = new HandledQueue({ agingMs: Infinity });
    const ref = new Reference(Infinity);
    const levels = [5, 3, 1];
    const byLevel = new Map<number, QueueEntry[]>();
    for (let i = 0; i < 30; i++) {
      const p = levels[i % 3];
      const e = entry(`p${p}-${i}`, p);
      if (!byLevel.has(p)) byLevel.set(p, []);
      (byLevel.get(p) as QueueEntry[]).push(e);
      q.push(e);
      ref.push(e);
    }
    const top = byLevel.get(5) as QueueEntry[];
    const mid = byLevel.get(3) as QueueEntry[];
    // The head of the best level: the queue's head moves on.
    assert.equal(q.peek(), top[0]);
    assert.equal(q.remove(top[0]), top[0]);
    ref.remove(top[0]);
    assert.ok(!q.has(top[0]));
    assert.equal(q.remove(top[0]), undefined, 'a second remove changes nothing');
    assert.equal(q.peek(), top[1]);
    assertAgrees(q, ref, 'after removing the head');
    // The middle of a level, then its head: the marked node is skipped when it reaches the front.
    assert.equal(q.remove(mid[4]), mid[4]);
    ref.remove(mid[4]);
    assert.equal(q.remove(mid[1]), mid[1]);
    ref.remove(mid[1]);
    assert.equal(q.remove(mid[0]), mid[0]);
    ref.remove(mid[0]);
    assertAgrees(q, ref, 'after removing in the middle');
    // The same entry objects again: each goes behind the rest of its level.
    for (const e of [mid[1], top[0], mid[4]]) {
      q.push(e);
      ref.push(e);
      assert.ok(q.has(e));
    }
    assertAgrees(q, ref, 'after pushing the removed entries again');
    const order = drain(q);
    assert.deepEqual(order, ref.sorted());
    assert.equal(order.indexOf(top[0]), top.length - 1, 'the re-pushed head is now last of its level');
    assert.equal(order[top.length - 2], top[top.length - 1]);
  });

  it('empties a level by removals, and a level emptied by removals starts again cleanly', () => {
    const q = new HandledQueue({ agingMs: Infinity });
    const ref = new Reference(Infinity);
    const a = Array.from({ length: 10 }, (_, i) => entry(`a${i}`, 2));
    const b = Array.from({ length: 10 }, (_, i) => entry(`b${i}`, 1));
    for (const e of [...a, ...b]) {
      q.push(e);
      ref.push(e);
    }
    // Remove level 2 from the back, so every node but the last is marked before the head goes.
    for (let i = a.length - 1; i >= 0; i--) {
      assert.equal(q.remove(a[i]), a[i]);
      ref.remove(a[i]);
    }
    assertAgrees(q, ref, 'level 2 removed');
    assert.equal(q.peek(), b[0]);
    for (const e of [a[3], a[7], a[0]]) {
      q.push(e);
      ref.push(e);
    }
    assertAgrees(q, ref, 'level 2 again');
    assert.deepEqual(
      drain(q).map((e) => e.id),
      ['a3', 'a7', 'a0', ...b.map((e) => e.id)],
    );
  });

  it('takes back a popped entry object, and pops it in its new place', () => {
    const q = new HandledQueue({ agingMs: Infinity });
    const es = Array.from({ length: 5 }, (_, i) => entry(`e${i}`, 1));
    for (const e of es) q.push(e);
    const first = q.pop() as QueueEntry;
    assert.equal(first, es[0]);
    q.push(first);
    assert.deepEqual(drain(q), [es[1], es[2], es[3], es[4], es[0]]);
  });

  it('orders by aged key and push order, as a brute-force reference does (small agingMs, increasing enqueuedAt)', () => {
    const rand = lcg(11);
    const agingMs = 7;
    const q = new HandledQueue({ agingMs });
    const ref = new Reference(agingMs);
    let t = 1_700_000_000_000;
    const levels = [0, 1, 2, 5, 10, -3];
    for (let i = 0; i < 4000; i++) {
      t += rand(4); // sometimes the same instant
      const e = entry(`e${i}`, levels[rand(levels.length)], t);
      q.push(e);
      ref.push(e);
      if (rand(3) === 0) assert.equal(q.pop(), ref.pop(), `pop after push ${i}`);
      if (i % 500 === 0) assertAgrees(q, ref, `push ${i}`);
    }
    assertAgrees(q, ref, 'before draining');
    assert.deepEqual(drain(q), ref.sorted());
  });

  it('lets an old low-priority entry overtake newer higher ones (aging), as the reference says', () => {
    const q = new HandledQueue({ agingMs: 10 });
    const ref = new Reference(10);
    const old = entry('old', 0, 0);
    q.push(old);
    ref.push(old);
    // Each newer one is priority 2 but 10 ms later: its key falls by 1 each time.
    for (let i = 1; i <= 5; i++) {
      const e = entry(`new${i}`, 2, i * 10);
      q.push(e);
      ref.push(e);
    }
    const order = drain(q).map((e) => e.id);
    assert.deepEqual(
      order,
      ref.sorted().map((e) => e.id),
    );
    // Keys: old 0, new1 1, new2 0 (after old: pushed later), new3 -1, ...
    assert.deepEqual(order, ['new1', 'old', 'new2', 'new3', 'new4', 'new5']);
  });

  it('pops in the right order when the clock steps back within a level', () => {
    const q = new HandledQueue({ agingMs: 100 });
    const a = entry('a', 1, 1000);
    const b = entry('b', 1, 1500);
    const c = entry('c', 1, 1200); // earlier than b: waited longer, so it goes before b
    const d = entry('d', 1, 900); // earlier than all: goes first
    const e = entry('e', 1, 1500); // same instant as b: after b
    for (const x of [a, b, c, d, e]) q.push(x);
    assert.equal(q.peek(), d);
    assert.deepEqual(
      q.toSortedArray().map((x) => x.id),
      ['d', 'a', 'c', 'b', 'e'],
    );
    assert.deepEqual(
      drain(q).map((x) => x.id),
      ['d', 'a', 'c', 'b', 'e'],
    );
  });

  it('matches the reference when the clock wanders back and forth over several levels', () => {
    const rand = lcg(99);
    const agingMs = 5;
    const q = new HandledQueue({ agingMs });
    const ref = new Reference(agingMs);
    let t = 10_000;
    const live: QueueEntry[] = [];
    for (let i = 0; i < 3000; i++) {
      t += rand(7) - 3; // steps back now and then
      const e = entry(`e${i}`, rand(4), t);
      q.push(e);
      ref.push(e);
      live.push(e);
      const op = rand(6);
      if (op === 0) {
        const popped = q.pop();
        assert.equal(popped, ref.pop());
        live.splice(live.indexOf(popped as QueueEntry), 1);
      } else if (op === 1 && live.length > 0) {
        const victim = live.splice(rand(live.length), 1)[0];
        assert.equal(q.remove(victim), victim);
        assert.ok(ref.remove(victim));
      }
      if (i % 300 === 0) assertAgrees(q, ref, `step ${i}`);
    }
    assertAgrees(q, ref, 'end');
    assert.deepEqual(drain(q), ref.sorted());
  });

  it('stays correct with more than 64 distinct levels used over time (fractional priorities)', () => {
    const rand = lcg(5);
    const q = new HandledQueue({ agingMs: Infinity });
    const ref = new Reference(Infinity);
    let n = 0;
    for (let wave = 0; wave < 20; wave++) {
      // 30 fresh fractional levels per wave, a few entries each, some levels shared with the last wave.
      for (let k = 0; k < 30; k++) {
        const p = wave + k / 30 + (k % 7 === 0 ? 0 : 1 / 3);
        for (let j = 0; j < 1 + rand(3); j++) {
          const e = entry(`e${n++}`, p);
          q.push(e);
          ref.push(e);
        }
      }
      // Pop about two thirds: many levels empty, and their runs can go.
      const pops = Math.floor((ref.size * 2) / 3);
      for (let k = 0; k < pops; k++) assert.equal(q.pop(), ref.pop(), `wave ${wave} pop ${k}`);
      assertAgrees(q, ref, `wave ${wave}`);
    }
    assert.deepEqual(drain(q), ref.sorted());
  });

  it('stays correct with more than 64 levels non-empty at once, then reusing levels after they emptied', () => {
    const q = new HandledQueue({ agingMs: Infinity });
    const ref = new Reference(Infinity);
    const push = (e: QueueEntry): void => {
      q.push(e);
      ref.push(e);
    };
    // 100 levels held at once: none may be dropped.
    for (let i = 0; i < 100; i++) push(entry(`a${i}`, i / 10));
    for (let i = 0; i < 100; i++) push(entry(`b${i}`, i / 10));
    assertAgrees(q, ref, '100 levels');
    // Empty the top 80 levels, then push to 80 new levels (the empty ones' runs get dropped) and to old ones.
    for (let i = 0; i < 160; i++) assert.equal(q.pop(), ref.pop());
    assertAgrees(q, ref, 'top levels emptied');
    for (let i = 0; i < 80; i++) push(entry(`c${i}`, 100 + i + 0.5));
    for (let i = 0; i < 100; i += 3) push(entry(`d${i}`, i / 10));
    assertAgrees(q, ref, 'new and reused levels');
    assert.deepEqual(drain(q), ref.sorted());
  });

  it('uses the same level after its run was dropped (the last level pushed to included)', () => {
    const q = new HandledQueue({ agingMs: Infinity });
    const ref = new Reference(Infinity);
    const x1 = entry('x1', 0.25);
    q.push(x1);
    ref.push(x1);
    assert.equal(q.pop(), x1);
    ref.pop();
    // 70 other levels, each pushed and popped: level 0.25's empty run is dropped along the way.
    for (let i = 0; i < 70; i++) {
      const e = entry(`o${i}`, 1 + i * 0.01);
      q.push(e);
      ref.push(e);
      assert.equal(q.pop(), ref.pop());
    }
    const x2 = entry('x2', 0.25);
    const x3 = entry('x3', 0.25);
    const y = entry('y', 0.5);
    for (const e of [x2, y, x3]) {
      q.push(e);
      ref.push(e);
    }
    assertAgrees(q, ref, 'level reused');
    assert.deepEqual(drain(q), [y, x2, x3]);
  });

  it('agrees with the reference on size, peek and toSortedArray through a long random mix of push, pop and remove', () => {
    const rand = lcg(2024);
    const agingMs = 50;
    const q = new HandledQueue({ agingMs });
    const ref = new Reference(agingMs);
    const pool = Array.from({ length: 400 }, (_, i) => i);
    const made: QueueEntry[] = [];
    let t = 0;
    for (let step = 0; step < 6000; step++) {
      const op = rand(10);
      if (op < 5) {
        // A new entry, or a queued-before one taken back: entries are reused objects.
        let e: QueueEntry;
        const idle = made.length > 0 ? made[rand(made.length)] : undefined;
        if (idle !== undefined && !q.has(idle) && rand(3) === 0) e = idle;
        else {
          t += rand(10) - (rand(8) === 0 ? 15 : 0);
          const level = rand(12) === 0 ? pool[rand(pool.length)] / 7 : rand(6);
          e = entry(`e${made.length}`, level, t);
          made.push(e);
        }
        assert.equal(q.has(e), ref.has(e));
        q.push(e);
        ref.push(e);
      } else if (op < 8) {
        assert.equal(q.pop(), ref.pop(), `step ${step}: pop`);
      } else if (made.length > 0) {
        const victim = made[rand(made.length)];
        const queued = ref.remove(victim);
        assert.equal(q.remove(victim), queued ? victim : undefined, `step ${step}: remove`);
      }
      assertAgrees(q, ref, `step ${step}`, step % 25 === 0);
    }
    assertAgrees(q, ref, 'end');
    assert.deepEqual(drain(q), ref.sorted());
    for (const e of made) assert.ok(!q.has(e), 'drained entries are not queued');
    assert.equal(q.size, 0);
  });

  it('clear empties every level and the heap, and the entries can be queued again', () => {
    const q = new HandledQueue({ agingMs: 10 });
    const es = Array.from({ length: 300 }, (_, i) => entry(`e${i}`, i % 70, 1000 + i));
    for (const e of es) q.push(e);
    // An arrival out of order within its level (earlier than the last one there) sits in the heap.
    const early = entry('early', 3, 0);
    q.push(early);
    assert.equal(q.size, 301);
    q.clear();
    assert.equal(q.size, 0);
    assert.equal(q.peek(), undefined);
    assert.equal(q.pop(), undefined);
    assert.deepEqual(q.toSortedArray(), []);
    assert.deepEqual(q.nodes(), []);
    for (const e of [...es, early]) assert.ok(!q.has(e));
    assert.equal(q.remove(early), undefined);
    const ref = new Reference(10);
    // The reference's base is the queue's: the first enqueuedAt it ever saw.
    ref.push(entry('base', 0, 1000));
    ref.pop();
    for (const e of [es[5], es[75], es[1], early, es[299]]) {
      q.push(e);
      ref.push(e);
    }
    assertAgrees(q, ref, 'after clear');
    assert.deepEqual(drain(q), ref.sorted());
  });
});
