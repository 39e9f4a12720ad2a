import * as assert from 'node:assert/strict';
import type { TaskRecord } from '../../src/core/model/model';
import { JournalIndex } from '../../src/core/history/journalIndex';
import type { Located } from '../../src/core/history/journalFormat';
import { finishedRecord } from '../support/finishedRecord';

function record(id: string, finishedAt: number, workflowId?: string): TaskRecord {
  return finishedRecord(id, finishedAt, workflowId === undefined ? {} : { workflowId });
}

describe('journalIndex', () => {
  let dead: Located[] = [];
  let index: JournalIndex;
  let offset = 0;
  /** Appends a record as the journal does: at the next place of segment 1. */
  const add = (id: string, finishedAt: number, workflowId?: string) => {
    index.apply({ t: 'rec', r: record(id, finishedAt, workflowId) }, 1, offset, 10);
    offset += 10;
  };
  const del = (...ids: string[]) => index.apply({ t: 'del', ids }, 1, offset, 5);
  const order = () => index.liveSorted().map((s) => s.id);
  const pageIds = (p: { runs: Located[][] }) => p.runs.map((run) => run.map((s) => s.id));

  beforeEach(() => {
    dead = [];
    offset = 0;
    index = new JournalIndex((dropped) => dead.push(dropped));
  });

  it('keeps live records older first by finish time, ties in append order, whatever order they come in', () => {
    add('c', 300);
    add('a', 100);
    add('b2', 200);
    add('b1', 200);
    add('d', 400);
    assert.deepEqual(order(), ['a', 'b2', 'b1', 'c', 'd']);
    assert.equal(index.size, 5);
  });

  it('replaces an older record of the same task, reporting the replaced one dead once and dropping it from the order', () => {
    add('a', 100);
    add('b', 200);
    add('a', 300);
    assert.deepEqual(order(), ['b', 'a']);
    assert.deepEqual(
      dead.map((s) => [s.id, s.finishedAt, s.offset]),
      [['a', 100, 0]],
    );
    assert.equal(index.get('a')?.offset, 20);
    assert.equal(index.size, 2);
  });

  it('a tombstone removes a live record; that record again is still removed, a later finish of the task is not', () => {
    add('a', 100);
    add('b', 200);
    del('a', 'unknown');
    assert.deepEqual(order(), ['b']);
    assert.equal(index.get('a'), undefined);
    assert.deepEqual(
      dead.map((s) => s.id),
      ['a'],
    );
    assert.equal(index.wasRemoved(record('a', 100)), true);
    assert.equal(index.wasRemoved(record('a', 500)), false);
    assert.equal(index.wasRemoved(record('unknown', 100)), false);
  });

  it('lists the live records of one segment', () => {
    add('a', 100);
    index.apply({ t: 'rec', r: record('b', 200) }, 2, 0, 10);
    add('c', 300);
    add('a', 400);
    assert.deepEqual(
      index.inSegment(1).map((s) => s.id),
      ['c', 'a'],
    );
    assert.deepEqual(
      index.inSegment(2).map((s) => s.id),
      ['b'],
    );
  });

  it('expires records finished before the cutoff, and whole runs beyond the newest maxRuns', () => {
    add('old', 50);
    add('w1-a', 100, 'w1');
    add('w2-a', 150, 'w2');
    add('w1-b', 200, 'w1');
    add('solo', 300);
    index.expire(60, 2);
    // Newest first: solo, then w1 (its newest task at 200); w2 is the third run.
    assert.deepEqual(order(), ['w1-a', 'w1-b', 'solo']);
    assert.deepEqual(dead.map((s) => s.id).sort(), ['old', 'w2-a']);
    index.expire(60, undefined);
    assert.deepEqual(order(), ['w1-a', 'w1-b', 'solo']);
  });

  it('pages runs newest first, each where its newest kept record is, and says when another page follows', () => {
    add('w1-a', 100, 'w1');
    add('solo', 200);
    add('w1-b', 300, 'w1');
    add('w2-a', 400, 'w2');
    const all = () => true;
    const first = index.page(all, undefined, 2);
    assert.deepEqual(pageIds(first), [['w2-a'], ['w1-a', 'w1-b']]);
    assert.equal(first.more, true);
    assert.equal(first.last?.id, 'w1-b');
    const second = index.page(all, first.last, 2);
    assert.deepEqual(pageIds(second), [['solo']]);
    assert.equal(second.more, false);
    // A run whose newest task is not kept is placed by the newest one that is, with only the kept ones.
    const noB = index.page((s) => s.id !== 'w1-b', undefined, 10);
    assert.deepEqual(pageIds(noB), [['w2-a'], ['solo'], ['w1-a']]);
  });

  it('a run loses a forgotten task, and is gone from pages once its last one is', () => {
    add('w1-a', 100, 'w1');
    add('w1-b', 200, 'w1');
    index.forget('w1-b');
    assert.deepEqual(pageIds(index.page(() => true, undefined, 10)), [['w1-a']]);
    index.forget('w1-a');
    assert.deepEqual(pageIds(index.page(() => true, undefined, 10)), []);
  });

  it('clear() forgets records and tombstones without reporting them dead, and never reuses a seq', () => {
    add('a', 100);
    del('a');
    add('b', 200);
    const before = index.get('b')?.seq as number;
    dead = [];
    index.clear();
    assert.equal(index.size, 0);
    assert.deepEqual(order(), []);
    assert.deepEqual(dead, []);
    assert.equal(index.wasRemoved(record('a', 100)), false);
    add('c', 300);
    assert.ok((index.get('c')?.seq as number) > before);
  });
});
