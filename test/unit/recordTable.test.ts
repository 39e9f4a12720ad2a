// RecordTable: records by id in a slab (ids of its own) or a Map (given ids), in creation order.
import * as assert from 'node:assert/strict';
import { HOME, IN_MAP, NOT_HELD, RecordTable } from '../../src/core/lifecycle/recordTable';
import { HeldRecord } from '../../src/core/lifecycle/taskRecord';

function rec(id: string): HeldRecord {
  return new HeldRecord(id, `name-${id}`, 'shell', 0, 0, { name: `name-${id}`, kind: 'shell' }, [], undefined);
}

/** A record with the table's next id, added to the slab. */
function addOwn(t: RecordTable<HeldRecord>): HeldRecord {
  const r = rec(t.nextId());
  t.add(r, true);
  return r;
}

/** The table's random id prefix: its first id is prefix + '0'. */
function prefixOf(t: RecordTable<HeldRecord>): string {
  const first = t.nextId();
  assert.ok(first.endsWith('0'), `a fresh table's first id ends in 0, got ${first}`);
  return first.slice(0, -1);
}

function ids(t: RecordTable<HeldRecord>): string[] {
  return [...t.values()].map((r) => r.id);
}

describe('recordTable', () => {
  describe('own ids (the slab)', () => {
    it('gives unique ids, one per added record, with a shared prefix and a base-36 sequence', () => {
      const t = new RecordTable<HeldRecord>();
      const prefix = prefixOf(t);
      const seen = new Set<string>();
      for (let i = 0; i < 2000; i++) {
        const id = t.nextId();
        assert.equal(t.nextId(), id, 'nextId does not use the id up until it is added');
        assert.ok(t.isFree(id));
        assert.equal(id, prefix + i.toString(36));
        const r = rec(id);
        t.add(r, true);
        assert.ok(!seen.has(id));
        seen.add(id);
        assert.ok(!t.isFree(id));
      }
      assert.equal(t.size, 2000);
      assert.equal(seen.size, 2000);
    });

    it('puts an own-id record in the slab: its HOME is its sequence number', () => {
      const t = new RecordTable<HeldRecord>();
      const a = rec(t.nextId());
      assert.equal(a[HOME], NOT_HELD, 'a new record is not held');
      t.add(a, true);
      const b = addOwn(t);
      const c = addOwn(t);
      assert.deepEqual([a[HOME], b[HOME], c[HOME]], [0, 1, 2]);
      assert.equal(t.get(a.id), a);
      assert.equal(t.get(b.id), b);
      assert.equal(t.get(c.id), c);
    });

    it('two tables make different ids', () => {
      const t1 = new RecordTable<HeldRecord>();
      const t2 = new RecordTable<HeldRecord>();
      assert.notEqual(t1.nextId(), t2.nextId());
      const a = addOwn(t1);
      assert.equal(t2.get(a.id), undefined);
      assert.ok(t2.isFree(a.id));
    });
  });

  describe('get', () => {
    it('finds held records and nothing for ids that only look like ours', () => {
      const t = new RecordTable<HeldRecord>();
      const prefix = prefixOf(t);
      const rs = Array.from({ length: 40 }, () => addOwn(t));
      for (const r of rs) assert.equal(t.get(r.id), r);
      const other = new RecordTable<HeldRecord>();
      const lookalikes = [
        other.nextId(), // another table's prefix, same sequence 0
        (prefix.startsWith('x') ? 'y' : 'x') + rs[0].id.slice(1), // wrong first character of the prefix
        rs[0].id.slice(1), // shorter: a prefix that does not match
        prefix, // the prefix alone
        prefix + '00', // parses to 0, but is not the id at 0
        prefix + '01',
        prefix + ' 1', // parseInt skips the space: 1, not the id at 1
        prefix + '1 ',
        prefix + 'A', // 10 in base 36, but our ids are lower case
        prefix + '0.5',
        prefix + '1x!', // a parsable start and garbage after it
        prefix + '!!', // unparsable
        prefix + '-1',
        prefix + '-0',
        prefix + (40).toString(36), // the next sequence number, not added yet
        prefix + (1_000_000).toString(36),
        prefix + 'zzzzzzzzzzzzzzzzzzzzzzzz',
        '',
        'unrelated',
      ];
      for (const id of lookalikes) {
        assert.equal(t.get(id), undefined, `get(${JSON.stringify(id)})`);
        assert.ok(t.isFree(id), `isFree(${JSON.stringify(id)})`);
      }
      assert.equal(t.size, 40);
    });

    it('finds nothing for the ids of deleted records, in the slab and in the Map', () => {
      const t = new RecordTable<HeldRecord>();
      const rs = Array.from({ length: 10 }, () => addOwn(t));
      const given = rec('given-1');
      t.add(given, false);
      assert.ok(t.delete(rs[3]));
      assert.ok(t.delete(rs[0]));
      assert.ok(t.delete(given));
      assert.equal(t.get(rs[3].id), undefined);
      assert.equal(t.get(rs[0].id), undefined);
      assert.equal(t.get('given-1'), undefined);
      assert.ok(t.isFree(rs[3].id));
      for (const i of [1, 2, 4, 5, 6, 7, 8, 9]) assert.equal(t.get(rs[i].id), rs[i]);
      assert.equal(t.size, 8);
    });
  });

  describe('given ids (the Map)', () => {
    it('puts a record with a given id in the Map and finds it', () => {
      const t = new RecordTable<HeldRecord>();
      const a = rec('restored-a');
      const b = rec('restored-b');
      t.add(a, false);
      t.add(b, false);
      assert.equal(a[HOME], IN_MAP);
      assert.equal(b[HOME], IN_MAP);
      assert.equal(t.get('restored-a'), a);
      assert.equal(t.get('restored-b'), b);
      assert.ok(!t.isFree('restored-a'));
      assert.equal(t.size, 2);
      const own = addOwn(t);
      assert.equal(t.get(own.id), own);
      assert.equal(t.size, 3);
    });

    it('finds a given id that looks like ours (our prefix) through the Map', () => {
      const t = new RecordTable<HeldRecord>();
      const prefix = prefixOf(t);
      const own0 = addOwn(t);
      // Same prefix, suffixes that parse to a held number or to garbage.
      const g1 = rec(prefix + '00');
      const g2 = rec(prefix + '!x');
      const g3 = rec(prefix + 'zz');
      for (const g of [g1, g2, g3]) t.add(g, false);
      assert.equal(t.get(own0.id), own0);
      assert.equal(t.get(g1.id), g1);
      assert.equal(t.get(g2.id), g2);
      assert.equal(t.get(g3.id), g3);
      assert.equal(t.size, 4);
    });

    it('nextId skips an id a caller has already used', () => {
      const t = new RecordTable<HeldRecord>();
      const prefix = prefixOf(t);
      const given = rec(prefix + '2');
      t.add(given, false);
      const a = addOwn(t);
      const b = addOwn(t);
      assert.equal(a.id, prefix + '0');
      assert.equal(b.id, prefix + '1');
      const next = t.nextId();
      assert.notEqual(next, given.id, 'the used id is not handed out again');
      assert.equal(next, prefix + '3');
      assert.ok(t.isFree(next));
      assert.equal(t.get(given.id), given);
      assert.equal(t.get(a.id), a);
      assert.equal(t.get(b.id), b);
      // The records after the skip are found, iterated and deleted at their own slots.
      const c = addOwn(t);
      const d = addOwn(t);
      assert.deepEqual([c.id, d.id], [prefix + '3', prefix + '4']);
      for (const r of [given, a, b, c, d]) assert.equal(t.get(r.id), r);
      assert.deepEqual(ids(t), [given.id, a.id, b.id, c.id, d.id]);
      assert.ok(t.delete(c));
      assert.equal(t.get(c.id), undefined);
      assert.equal(t.get(d.id), d, 'deleting one record leaves its neighbour');
      assert.equal(t.size, 4);
    });

    it('nextId skips a run of used ids', () => {
      const t = new RecordTable<HeldRecord>();
      const prefix = prefixOf(t);
      for (const s of ['0', '1', '2']) t.add(rec(prefix + s), false);
      assert.equal(t.nextId(), prefix + '3');
      assert.equal(t.size, 3);
    });
  });

  describe('delete and size', () => {
    it('deletes once (true), then returns false changing nothing', () => {
      const t = new RecordTable<HeldRecord>();
      const a = addOwn(t);
      const b = addOwn(t);
      const g = rec('given');
      t.add(g, false);
      assert.equal(t.size, 3);
      assert.equal(t.delete(b), true);
      assert.equal(b[HOME], NOT_HELD);
      assert.equal(t.size, 2);
      assert.equal(t.delete(b), false);
      assert.equal(t.size, 2);
      assert.equal(t.delete(g), true);
      assert.equal(g[HOME], NOT_HELD);
      assert.equal(t.delete(g), false);
      assert.equal(t.size, 1);
      assert.equal(t.get(a.id), a);
      assert.deepEqual(ids(t), [a.id]);
      assert.equal(t.delete(a), true);
      assert.equal(t.delete(a), false);
      assert.equal(t.size, 0);
      assert.deepEqual(ids(t), []);
    });

    it('refuses a record it never held', () => {
      const t = new RecordTable<HeldRecord>();
      const a = addOwn(t);
      assert.equal(t.delete(rec('stranger')), false);
      assert.equal(t.size, 1);
      assert.equal(t.get(a.id), a);
    });

    it('keeps size right through adds and deletes in any order', () => {
      const t = new RecordTable<HeldRecord>();
      const live = new Set<HeldRecord>();
      let seed = 3;
      const rand = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      const all: HeldRecord[] = [];
      for (let step = 0; step < 5000; step++) {
        const op = rand(10);
        if (op < 5) {
          const r = addOwn(t);
          all.push(r);
          live.add(r);
        } else if (op < 6) {
          const r = rec(`g${step}`);
          t.add(r, false);
          all.push(r);
          live.add(r);
        } else if (all.length > 0) {
          const r = all[rand(all.length)];
          assert.equal(t.delete(r), live.delete(r));
        }
        assert.equal(t.size, live.size);
      }
      for (const r of all) assert.equal(t.get(r.id), live.has(r) ? r : undefined);
    });
  });

  describe('values', () => {
    it('yields Map records first, then slab records in creation order, skipping deleted ones', () => {
      const t = new RecordTable<HeldRecord>();
      const o1 = addOwn(t);
      const g1 = rec('g1');
      t.add(g1, false);
      const o2 = addOwn(t);
      const o3 = addOwn(t);
      const g2 = rec('g2');
      t.add(g2, false);
      const o4 = addOwn(t);
      assert.deepEqual(ids(t), [g1.id, g2.id, o1.id, o2.id, o3.id, o4.id]);
      t.delete(o2);
      t.delete(g1);
      assert.deepEqual(ids(t), [g2.id, o1.id, o3.id, o4.id]);
      t.delete(o1);
      assert.deepEqual(ids(t), [g2.id, o3.id, o4.id]);
      t.delete(o4);
      assert.deepEqual(ids(t), [g2.id, o3.id]);
    });

    it('is empty for an empty table', () => {
      const t = new RecordTable<HeldRecord>();
      assert.deepEqual(ids(t), []);
      addOwn(t);
      t.delete([...t.values()][0]);
      assert.deepEqual(ids(t), []);
    });

    it('survives deleting the current record and records ahead while iterating', () => {
      const t = new RecordTable<HeldRecord>();
      const gs = Array.from({ length: 5 }, (_, i) => rec(`g${i}`));
      for (const g of gs) t.add(g, false);
      const os = Array.from({ length: 20 }, () => addOwn(t));
      const seen: string[] = [];
      for (const r of t.values()) {
        seen.push(r.id);
        if (r === gs[0]) {
          assert.ok(t.delete(gs[0]));
          assert.ok(t.delete(gs[3])); // ahead in the Map
          assert.ok(t.delete(os[5])); // ahead in the slab
        }
        if (r === os[2]) {
          assert.ok(t.delete(os[2]));
          assert.ok(t.delete(os[0])); // behind
          assert.ok(t.delete(os[19])); // the last
        }
      }
      const expected = [gs[0], gs[1], gs[2], gs[4], ...os.filter((_, i) => i !== 5 && i !== 19)].map((r) => r.id);
      assert.deepEqual(seen, expected);
      assert.equal(t.size, 25 - 6);
      assert.deepEqual(
        ids(t),
        [gs[1], gs[2], gs[4], ...os.filter((_, i) => ![0, 2, 5, 19].includes(i))].map((r) => r.id),
      );
    });

    it('visits every record once when each is deleted as it is visited (the head compacts meanwhile)', () => {
      const t = new RecordTable<HeldRecord>();
      const os = Array.from({ length: 20_000 }, () => addOwn(t));
      let n = 0;
      for (const r of t.values()) {
        assert.equal(r, os[n], `record ${n} in order`);
        n++;
        assert.ok(t.delete(r));
      }
      assert.equal(n, 20_000);
      assert.equal(t.size, 0);
      assert.deepEqual(ids(t), []);
      for (const r of os.slice(0, 50)) assert.equal(t.get(r.id), undefined);
      const fresh = addOwn(t);
      assert.equal(t.get(fresh.id), fresh);
      assert.deepEqual(ids(t), [fresh.id]);
    });

    it('visits every live record once when deletions behind the iterator move stragglers to the Map', () => {
      const t = new RecordTable<HeldRecord>();
      const N = 100_001;
      const os = Array.from({ length: N }, () => addOwn(t));
      const keep = (i: number): boolean => i % 1000 === 0;
      let n = 0;
      for (const r of t.values()) {
        assert.equal(r, os[n], `record ${n} in order`);
        if (!keep(n)) assert.ok(t.delete(r));
        n++;
      }
      assert.equal(n, N);
      const kept = os.filter((_, i) => keep(i));
      assert.equal(t.size, kept.length);
      assert.ok(
        kept.some((r) => r[HOME] === IN_MAP),
        'some kept records moved to the Map',
      );
      assert.deepEqual(
        ids(t),
        kept.map((r) => r.id),
      );
      for (const r of kept) assert.equal(t.get(r.id), r);
      assert.equal(t.get(os[1].id), undefined);
      assert.equal(t.get(os[N - 2].id), undefined);
    });
  });

  describe('values while stragglers move', () => {
    it('yields a live record ahead of the loop that deletions during the loop move to the Map', () => {
      const t = new RecordTable<HeldRecord>();
      const recs: HeldRecord[] = [];
      for (let i = 0; i < 100_001; i++) recs.push(addOwn(t));
      let first = true;
      let seen = false;
      let visited = 0;
      for (const r of t.values()) {
        visited++;
        if (r === recs[40_000]) seen = true;
        if (first) {
          first = false;
          for (let i = 1; i <= 80_000; i++) if (i !== 40_000) t.delete(recs[i]);
        }
      }
      assert.ok(seen, 'the record kept alive is visited');
      assert.equal(t.get(recs[40_000].id), recs[40_000]);
      assert.equal(recs[40_000][HOME], IN_MAP, 'it was moved to the Map meanwhile');
      assert.equal(t.size, 20_002);
      assert.equal(visited, 20_002, 'each live record once; deleted ones skipped');
    });

    it('does not visit records added during the loop', () => {
      const t = new RecordTable<HeldRecord>();
      addOwn(t);
      let visits = 0;
      for (const _r of t.values()) {
        visits++;
        addOwn(t);
      }
      assert.equal(visits, 1);
      assert.equal(t.size, 2);
    });
  });

  describe('clear', () => {
    it('empties the table and lets go of every record', () => {
      const t = new RecordTable<HeldRecord>();
      const os = Array.from({ length: 10 }, () => addOwn(t));
      const g = rec('g');
      t.add(g, false);
      t.delete(os[4]);
      t.clear();
      assert.equal(t.size, 0);
      assert.deepEqual(ids(t), []);
      for (const r of [...os, g]) {
        assert.equal(r[HOME], NOT_HELD);
        assert.equal(t.get(r.id), undefined);
        assert.equal(t.delete(r), false);
      }
      assert.equal(t.size, 0);
    });

    it('keeps working after a clear: new ids are new, and old ones stay unknown', () => {
      const t = new RecordTable<HeldRecord>();
      const old = Array.from({ length: 5 }, () => addOwn(t));
      t.clear();
      const fresh = Array.from({ length: 5 }, () => addOwn(t));
      for (const r of fresh) {
        assert.ok(!old.some((o) => o.id === r.id), 'no id is handed out twice');
        assert.equal(t.get(r.id), r);
      }
      for (const r of old) assert.equal(t.get(r.id), undefined);
      const g = rec('g');
      t.add(g, false);
      assert.deepEqual(ids(t), [g.id, ...fresh.map((r) => r.id)]);
      assert.equal(t.size, 6);
      assert.ok(t.delete(fresh[0]));
      assert.equal(t.size, 5);
    });
  });

  describe('compaction', () => {
    it('drops the dead head when records are created and then deleted in order (> 10,000)', () => {
      const t = new RecordTable<HeldRecord>();
      const N = 12_345;
      const os = Array.from({ length: N }, () => addOwn(t));
      for (let i = 0; i < N - 3; i++) assert.ok(t.delete(os[i]));
      assert.equal(t.size, 3);
      const rest = os.slice(N - 3);
      assert.deepEqual(
        ids(t),
        rest.map((r) => r.id),
      );
      for (const r of rest) assert.equal(t.get(r.id), r);
      for (const r of [os[0], os[4096], os[5000], os[N - 4]]) {
        assert.equal(t.get(r.id), undefined);
        assert.equal(t.delete(r), false);
      }
      const more = Array.from({ length: 3 }, () => addOwn(t));
      for (const r of more) assert.equal(t.get(r.id), r);
      assert.deepEqual(
        ids(t),
        [...rest, ...more].map((r) => r.id),
      );
      assert.equal(new Set([...os, ...more].map((r) => r.id)).size, N + 3, 'ids stay unique');
      for (const r of [...rest, ...more]) assert.ok(t.delete(r));
      assert.equal(t.size, 0);
    });

    it('stays correct under a FIFO stream of > 10,000 records created and deleted a few at a time', () => {
      const t = new RecordTable<HeldRecord>();
      const window: HeldRecord[] = [];
      const g = rec('restored');
      t.add(g, false);
      for (let i = 0; i < 30_000; i++) {
        window.push(addOwn(t));
        if (window.length > 7) assert.ok(t.delete(window.shift() as HeldRecord));
        if (i % 4999 === 0) {
          assert.deepEqual(ids(t), [g.id, ...window.map((r) => r.id)]);
          for (const r of window) assert.equal(t.get(r.id), r);
        }
      }
      assert.equal(t.size, 8);
      assert.deepEqual(ids(t), [g.id, ...window.map((r) => r.id)]);
      for (const r of window) assert.equal(t.get(r.id), r);
      assert.equal(t.get(g.id), g);
    });

    it('moves a straggler to the Map while > 70,000 others come and go, and keeps it in place', () => {
      const t = new RecordTable<HeldRecord>();
      const restored = rec('restored');
      t.add(restored, false);
      const straggler = addOwn(t);
      assert.equal(straggler[HOME], 0);
      const window: HeldRecord[] = [];
      const deleted: HeldRecord[] = [];
      for (let i = 0; i < 75_000; i++) {
        window.push(addOwn(t));
        if (window.length > 5) {
          const r = window.shift() as HeldRecord;
          assert.ok(t.delete(r));
          if (i % 10_000 === 0) deleted.push(r);
        }
      }
      assert.equal(straggler[HOME], IN_MAP, 'the straggler moved to the Map');
      assert.equal(t.get(straggler.id), straggler);
      assert.ok(!t.isFree(straggler.id));
      assert.equal(t.size, 2 + window.length);
      assert.deepEqual(ids(t), [restored.id, straggler.id, ...window.map((r) => r.id)]);
      for (const r of window) {
        assert.ok(r[HOME] >= 0, 'recent records are still in the slab');
        assert.equal(t.get(r.id), r);
      }
      for (const r of deleted) assert.equal(t.get(r.id), undefined);
      // It can still be deleted, once.
      assert.ok(t.delete(straggler));
      assert.equal(t.delete(straggler), false);
      assert.equal(t.get(straggler.id), undefined);
      assert.equal(t.size, 1 + window.length);
      assert.deepEqual(ids(t), [restored.id, ...window.map((r) => r.id)]);
    });

    it('keeps several stragglers in creation order, behind restored records and ahead of the slab', () => {
      const t = new RecordTable<HeldRecord>();
      const restored = [rec('r1'), rec('r2')];
      for (const r of restored) t.add(r, false);
      const stragglers: HeldRecord[] = [];
      const window: HeldRecord[] = [];
      for (let i = 0; i < 160_000; i++) {
        const r = addOwn(t);
        if (i % 40_000 === 0) {
          stragglers.push(r);
          continue;
        }
        window.push(r);
        if (window.length > 3) assert.ok(t.delete(window.shift() as HeldRecord));
      }
      assert.equal(stragglers.length, 4);
      assert.ok(
        stragglers.slice(0, 2).every((r) => r[HOME] === IN_MAP),
        'the older stragglers moved to the Map',
      );
      assert.equal(t.size, restored.length + stragglers.length + window.length);
      const live = [...restored, ...stragglers, ...window];
      assert.deepEqual(
        ids(t),
        live.map((r) => r.id),
      );
      for (const r of live) assert.equal(t.get(r.id), r);
      // Deleting a straggler from the middle keeps the others in order.
      assert.ok(t.delete(stragglers[1]));
      assert.deepEqual(
        ids(t),
        live.filter((r) => r !== stragglers[1]).map((r) => r.id),
      );
      // New records go after all of them.
      const late = addOwn(t);
      assert.equal(ids(t).at(-1), late.id);
      assert.equal(t.get(late.id), late);
    });
  });
});
