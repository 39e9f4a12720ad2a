import * as assert from 'node:assert/strict';
import { PriorityQueue, QueueOrdering, type QueueEntry } from '../../src/core/scheduler/priorityQueue';
import { HandledQueue } from '../support/handledQueue';
import { ValidationError } from '../../src/core/model/errors';
import { ManualClock } from '../support/manualClock';

function entry(id: string, priority = 0, enqueuedAt = 0): QueueEntry {
  return { id, priority, enqueuedAt };
}

function drain<T extends QueueEntry>(q: PriorityQueue<T>): string[] {
  const out: string[] = [];
  for (let e = q.pop(); e; e = q.pop()) out.push(e.id);
  return out;
}

describe('priorityQueue', () => {
  it('runs a higher priority first and equal priorities in order', () => {
    const q = new HandledQueue({ agingMs: Infinity });
    q.push(entry('a', 0));
    q.push(entry('b', 5));
    q.push(entry('c', 0));
    q.push(entry('d', 5));
    q.push(entry('e', -3));
    q.push(entry('f', 0));
    assert.deepEqual(drain(q), ['b', 'd', 'a', 'c', 'f', 'e']);
  });

  it('keeps arrival order among many equal priorities (the heap is not stable by itself)', () => {
    const q = new HandledQueue({ agingMs: Infinity });
    const ids = Array.from({ length: 1000 }, (_, i) => `t${i}`);
    for (const id of ids) q.push(entry(id, 1));
    assert.deepEqual(drain(q), ids);
  });

  it('peeks without removing, and reports size and membership', () => {
    const q = new HandledQueue();
    assert.equal(q.peek(), undefined);
    assert.equal(q.pop(), undefined);
    const low = entry('low', 1);
    q.push(low);
    q.push(entry('high', 2));
    assert.equal(q.peek()?.id, 'high');
    assert.equal(q.size, 2);
    assert.ok(q.has(low));
    assert.ok(!q.has(entry('low', 1)), 'another entry with the same id is not the queued one');
    assert.ok(!new HandledQueue().has(low), 'queued in one queue is not queued in another');
    assert.equal(q.pop()?.id, 'high');
    assert.equal(q.pop(), low);
    assert.ok(!q.has(low));
    assert.deepEqual(low, { id: 'low', priority: 1, enqueuedAt: 0 }, 'the queue wrote nothing on the entry');
  });

  it('gives each push its own handle: the same entry pushed twice is queued twice', () => {
    const q = new PriorityQueue({ agingMs: Infinity });
    const a = entry('a');
    const first = q.push(a);
    const second = q.push(a);
    assert.notEqual(first, second);
    assert.equal(q.size, 2);
    assert.equal(q.remove(first), a);
    assert.ok(!q.has(first) && q.has(second), 'removing one push leaves the other queued');
    const other = new PriorityQueue();
    const there = other.push(a);
    assert.ok(!q.has(there) && q.remove(there) === undefined, 'a handle of another queue is not queued here');
    assert.equal(q.pop(), a);
    assert.equal(q.size, 0);
    assert.equal(other.size, 1);
  });

  it('removes any entry and keeps the order of the rest', () => {
    const q = new HandledQueue({ agingMs: Infinity });
    const es = Array.from({ length: 50 }, (_, i) => entry(`t${i}`, i % 7));
    for (const e of es) q.push(e);
    assert.equal(q.remove(es[13])?.id, 't13');
    assert.equal(q.remove(es[13]), undefined);
    assert.equal(q.remove(es[49])?.id, 't49');
    assert.equal(q.remove(es[0])?.id, 't0');
    assert.ok(!q.has(es[13]));
    const expected = Array.from({ length: 50 }, (_, i) => i)
      .filter((i) => i !== 13 && i !== 49 && i !== 0)
      .sort((a, b) => (b % 7) - (a % 7) || a - b)
      .map((i) => `t${i}`);
    assert.deepEqual(
      q.toSortedArray().map((e) => e.id),
      expected,
    );
    assert.equal(q.size, 47);
    assert.deepEqual(drain(q), expected);
  });

  it('matches a sorted reference under random pushes, pops and removals', () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const q = new HandledQueue({ agingMs: Infinity });
    const ref: { id: string; priority: number; seq: number; entry: QueueEntry }[] = [];
    let seq = 0;
    const sortRef = (): void => void ref.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    for (let step = 0; step < 5000; step++) {
      const op = rand(10);
      if (op < 5) {
        const priority = rand(5);
        const e = { id: `x${seq}`, priority, seq: seq++, entry: entry(`x${seq - 1}`, priority) };
        q.push(e.entry);
        ref.push(e);
      } else if (op < 8) {
        sortRef();
        assert.equal(q.pop()?.id, ref.shift()?.id);
      } else if (ref.length > 0) {
        const victim = ref.splice(rand(ref.length), 1)[0];
        assert.equal(q.remove(victim.entry)?.id, victim.id);
      }
      assert.equal(q.size, ref.length);
    }
    sortRef();
    assert.deepEqual(
      drain(q),
      ref.map((e) => e.id),
    );
  });

  it('matches a sorted reference when entries mostly arrive in order (the sorted run beside the heap)', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const q = new HandledQueue({ agingMs: Infinity });
    const ref: { id: string; priority: number; seq: number; entry: QueueEntry }[] = [];
    let seq = 0;
    const sortRef = (): void => void ref.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    for (let step = 0; step < 20_000; step++) {
      const op = rand(20);
      if (op < 10) {
        // Mostly equal priorities in arrival order; now and then a higher or lower one.
        const priority = op === 0 ? 1 : op === 1 ? -1 : 0;
        const e = { id: `x${seq}`, priority, seq: seq++, entry: { id: `x${seq - 1}`, priority, enqueuedAt: 0 } as QueueEntry };
        q.push(e.entry);
        ref.push(e);
      } else if (op < 17) {
        sortRef();
        assert.equal(q.peek()?.id, ref[0]?.id);
        assert.equal(q.pop()?.id, ref.shift()?.id);
      } else if (ref.length > 0) {
        const victim = ref.splice(rand(ref.length), 1)[0];
        assert.equal(q.remove(victim.entry)?.id, victim.id);
        assert.equal(q.has(victim.entry), false);
      }
      assert.equal(q.size, ref.length);
    }
    sortRef();
    assert.deepEqual(
      q.toSortedArray().map((e) => e.id),
      ref.map((e) => e.id),
    );
    assert.deepEqual(
      drain(q),
      ref.map((e) => e.id),
    );
    assert.equal(q.size, 0);
  });

  it('ages a waiting entry: one priority level per agingMs waited', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const q = new HandledQueue({ agingMs: 10_000 });
    q.push(entry('old-low', 0, clock.now()));
    clock.advanceSync(9_999);
    const youngHigh = entry('young-high', 1, clock.now());
    q.push(youngHigh);
    assert.equal(q.peek()?.id, 'young-high', 'not yet aged a full level');
    q.remove(youngHigh);
    clock.advanceSync(2);
    q.push(entry('younger-high', 1, clock.now()));
    assert.equal(q.peek()?.id, 'old-low', 'aged past one level');
  });

  it('does not let a priority-0 task starve behind a stream of priority-1 tasks', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const agingMs = 1_000;
    const q = new HandledQueue({ agingMs });
    const t0 = clock.now();
    q.push(entry('starving', 0, t0));
    // A new priority-1 task arrives every 100 ms and the worker takes one task every 100 ms.
    const ran: { id: string; at: number }[] = [];
    for (let i = 0; i < 40; i++) {
      q.push(entry(`p1-${i}`, 1, clock.now()));
      const next = q.pop();
      if (next) ran.push({ id: next.id, at: clock.now() });
      clock.advanceSync(100);
    }
    const starving = ran.find((r) => r.id === 'starving');
    assert.ok(starving, 'the low-priority task ran');
    // It runs as soon as the arriving tasks are younger than it by a full level: at t0 + agingMs.
    assert.ok(starving.at <= t0 + agingMs + 100, `ran at t0+${starving.at - t0}`);
    assert.ok(starving.at >= t0 + agingMs, 'but not before it had aged a full level');
  });

  it('runs a priority-0 task queued at t0 before priority-1 tasks arriving after t0 + agingMs', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const q = new HandledQueue({ agingMs: 10_000 });
    const t0 = clock.now();
    q.push(entry('p1-early', 1, t0 + 5_000));
    q.push(entry('p0', 0, t0));
    for (let i = 1; i <= 5; i++) q.push(entry(`p1-late-${i}`, 1, t0 + 10_000 + i));
    assert.deepEqual(drain(q), ['p1-early', 'p0', 'p1-late-1', 'p1-late-2', 'p1-late-3', 'p1-late-4', 'p1-late-5']);
  });

  it('disables aging with agingMs = Infinity', () => {
    const q = new HandledQueue({ agingMs: Infinity });
    q.push(entry('ancient-low', 0, 0));
    q.push(entry('new-high', 1, 1e12));
    assert.equal(q.pop()?.id, 'new-high');
  });

  it('keeps order stable while time passes (keys do not depend on the current time)', () => {
    const q = new HandledQueue({ agingMs: 1_000 });
    q.push(entry('a', 3, 0));
    q.push(entry('b', 1, 500));
    q.push(entry('c', 2, 2_000));
    // Effective priorities at any t: a = 3 + t/1000, b = 0.5 + t/1000, c = 0 + t/1000.
    assert.deepEqual(
      q.toSortedArray().map((e) => e.id),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(drain(q), ['a', 'b', 'c']);
  });

  it('compares entries of heaps that share one ordering', () => {
    const ordering = new QueueOrdering(Infinity);
    const a = new HandledQueue({ ordering });
    const b = new HandledQueue({ ordering });
    a.push(entry('a1', 1));
    b.push(entry('b1', 1));
    const na = a.peekNode();
    const nb = b.peekNode();
    assert.ok(na && nb && na.key === nb.key && na.seq < nb.seq && na.entry.id === 'a1');
  });

  it('refuses a non-positive agingMs', () => {
    assert.throws(
      () => new HandledQueue({ agingMs: 0 }),
      (e: unknown) => e instanceof ValidationError && e.field === 'agingMs' && /`0` \(number\)/.test(e.message),
    );
    assert.throws(() => new HandledQueue({ agingMs: NaN }), /`NaN` \(number\)/);
  });

  it("handles 100,000 entries with a third removed, in order (its speed is the bench's business)", () => {
    const q = new HandledQueue({ agingMs: Infinity });
    const es = Array.from({ length: 100_000 }, (_, i) => entry(`t${i}`, i % 10, i));
    for (const e of es) q.push(e);
    for (let i = 0; i < 100_000; i += 3) q.remove(es[i]);
    let count = 0;
    let prev: QueueEntry | undefined;
    for (let e = q.pop(); e !== undefined; e = q.pop()) {
      if (prev) assert.ok(prev.priority > e.priority || (prev.priority === e.priority && prev.enqueuedAt < e.enqueuedAt), `${prev.id} before ${e.id}`);
      prev = e;
      count++;
    }
    assert.equal(count, 66_666);
  });
  it('an entry removed from the end of a run and pushed again with an earlier time runs first', () => {
    // Its old slot is dead; the run must end at its last live entry, not at the entry's new fields.
    const q = new HandledQueue({ agingMs: 1_000, baseTime: 0 });
    const a = entry('a', 0, 10);
    const b = entry('b', 0, 20);
    q.push(a);
    q.push(b);
    q.remove(b);
    Object.assign(b, { enqueuedAt: 5 }); // ready again, on a clock that stepped back
    q.push(b);
    const c = entry('c', 0, 30);
    q.push(c);
    assert.deepEqual(drain(q), ['b', 'a', 'c']);
    assert.equal(q.size, 0);
  });

  it('an entry removed from the middle of a run and pushed again is popped once, at its new place', () => {
    const q = new HandledQueue({ agingMs: Infinity });
    const es = ['a', 'b', 'c', 'd'].map((id) => entry(id, 0));
    for (const e of es) q.push(e);
    q.remove(es[1]);
    q.push(es[1]);
    assert.equal(q.size, 4);
    assert.deepEqual(drain(q), ['a', 'c', 'd', 'b']);
  });
});
