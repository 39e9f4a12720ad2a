import * as assert from 'node:assert/strict';
import { demandSignature, ReadyQueue, type ReadyEntry } from '../../src/core/scheduler/readyQueue';
import { ResourcePools, type ResourceDemand } from '../../src/core/scheduler/resourcePools';

function task(id: string, priority = 0, resources?: ResourceDemand, enqueuedAt = 0): ReadyEntry {
  return resources === undefined ? { id, priority, enqueuedAt } : { id, priority, enqueuedAt, resources };
}

/** Takes tasks until nothing more may run now, holding their resources. */
function takeAll(q: ReadyQueue<ReadyEntry>, pools: ResourcePools): string[] {
  const out: string[] = [];
  for (let e = q.takeNext(pools); e; e = q.takeNext(pools)) out.push(e.id);
  return out;
}

describe('readyQueue', () => {
  it('runs a higher priority first and equal priorities in order, across demands', () => {
    const pools = new ResourcePools({ network: 100 });
    const q = new ReadyQueue({ agingMs: Infinity });
    q.push(task('a', 0));
    q.push(task('b', 2, { network: 1 }));
    q.push(task('c', 0, { network: 1 }));
    q.push(task('d', 2));
    q.push(task('e', 1));
    assert.deepEqual(
      q.orderedEntries().map((e) => e.id),
      ['b', 'd', 'e', 'a', 'c'],
    );
    assert.deepEqual(takeAll(q, pools), ['b', 'd', 'e', 'a', 'c']);
    assert.equal(q.size, 0);
    assert.equal(q.groupCount, 0, 'empty groups are dropped');
  });

  it('allocates the resources of the task it hands out', () => {
    const pools = new ResourcePools({ gpu: 2 });
    const q = new ReadyQueue();
    q.push(task('train', 0, { gpu: 2 }));
    assert.equal(q.takeNext(pools)?.id, 'train');
    assert.deepEqual(pools.status().gpu, { capacity: 2, inUse: 2 });
  });

  it('hands out nothing when no slot is free', () => {
    const q = new ReadyQueue();
    q.push(task('a'));
    assert.equal(q.takeNext(new ResourcePools(), false), undefined);
    assert.equal(q.size, 1);
  });

  it('does not let a task blocked on a pool block tasks that need nothing', () => {
    const pools = new ResourcePools({ gpu: 1 });
    pools.allocate({ gpu: 1 });
    const q = new ReadyQueue({ agingMs: Infinity });
    q.push(task('gpu-job', 10, { gpu: 1 }));
    q.push(task('lint', 0));
    q.push(task('format', 0));
    assert.deepEqual(takeAll(q, pools), ['lint', 'format']);
    assert.equal(q.size, 1);
    pools.release({ gpu: 1 });
    assert.equal(q.takeNext(pools)?.id, 'gpu-job');
  });

  it('reserves the pools of a blocked higher-priority task: smaller lower-priority demands on them wait', () => {
    const pools = new ResourcePools({ gpu: 4, network: 2 });
    pools.allocate({ gpu: 2 }); // two units busy: the big job needs all four
    const q = new ReadyQueue({ agingMs: Infinity });
    q.push(task('big', 5, { gpu: 4 }));
    q.push(task('small-1', 1, { gpu: 1 }));
    q.push(task('small-2', 1, { gpu: 1 }));
    q.push(task('download', 0, { network: 1 }));
    // The small gpu jobs would fit, but they must not eat the units the big job is waiting for.
    assert.deepEqual(takeAll(q, pools), ['download'], 'backfill only on other pools');
    pools.release({ gpu: 2 });
    assert.deepEqual(takeAll(q, pools), ['big']);
    pools.release({ gpu: 4 });
    assert.deepEqual(takeAll(q, pools), ['small-1', 'small-2']);
  });

  it('keeps a big demand from starving behind a stream of small ones', () => {
    const pools = new ResourcePools({ gpu: 2 });
    const q = new ReadyQueue({ agingMs: Infinity });
    const running: { id: string; demand: ResourceDemand }[] = [];
    q.push(task('s0', 1, { gpu: 1 }));
    q.push(task('s1', 1, { gpu: 1 }));
    for (let e = q.takeNext(pools); e; e = q.takeNext(pools)) running.push({ id: e.id, demand: e.resources ?? {} });
    q.push(task('big', 1, { gpu: 2 }));
    let bigRan = false;
    for (let i = 2; i < 20 && !bigRan; i++) {
      // One small job finishes and another arrives, each time.
      const done = running.shift();
      if (done) pools.release(done.demand);
      q.push(task(`s${i}`, 1, { gpu: 1 }));
      for (let e = q.takeNext(pools); e; e = q.takeNext(pools)) {
        running.push({ id: e.id, demand: e.resources ?? {} });
        if (e.id === 'big') bigRan = true;
      }
    }
    assert.ok(bigRan, 'the big job ran once the small ones drained');
  });

  it('lets a blocked head that could never fit reserve nothing', () => {
    const pools = new ResourcePools({ gpu: 4 });
    const q = new ReadyQueue({ agingMs: Infinity });
    q.push(task('huge', 5, { gpu: 4 }));
    q.push(task('small', 1, { gpu: 1 }));
    pools.setCapacities({ gpu: 2 }); // huge can now never run; the orchestrator will cancel it
    assert.deepEqual(takeAll(q, pools), ['small']);
  });

  it('ages tasks across groups with one shared ordering', () => {
    const pools = new ResourcePools({ network: 4 });
    const q = new ReadyQueue({ agingMs: 1_000 });
    q.push(task('old-low', 0, { network: 1 }, 0));
    q.push(task('new-high', 1, undefined, 1_500));
    assert.equal(q.takeNext(pools)?.id, 'old-low');
  });

  it('removes a queued task from whichever group holds it, by the handle its push returned', () => {
    const q = new ReadyQueue();
    const a = task('a', 0, { gpu: 1 });
    const b = task('b', 0);
    const na = q.push(a);
    const nb = q.push(b);
    assert.equal(na.entry, a);
    assert.ok(q.has(na));
    assert.equal(q.remove(na)?.id, 'a');
    assert.equal(q.remove(na), undefined);
    assert.ok(!q.has(na));
    assert.ok(!q.has(undefined) && q.remove(undefined) === undefined, 'no push, nothing queued');
    assert.ok(!new ReadyQueue().has(nb), 'queued in one ready queue is not queued in another');
    assert.equal(new ReadyQueue().remove(nb), undefined);
    assert.equal(q.groupCount, 1);
    assert.equal(q.size, 1);
    assert.deepEqual(Object.keys(b).sort(), Object.keys(task('b', 0)).sort(), 'the queue wrote nothing on the entry');
    assert.equal(q.takeNext(new ResourcePools({}))?.id, 'b');
    assert.ok(!q.has(nb), 'a taken task is no longer queued');
  });

  it('gives every demand one canonical signature', () => {
    assert.equal(demandSignature(undefined), '');
    assert.equal(demandSignature({}), '');
    assert.equal(demandSignature({ gpu: 1 }), 'gpu:1');
    assert.equal(demandSignature({ network: 2, gpu: 1 }), demandSignature({ gpu: 1, network: 2 }));
    assert.notEqual(demandSignature({ gpu: 1 }), demandSignature({ gpu: 2 }));
  });

  it('dispatches 100,000 tasks over a few demands in O(n log n)', () => {
    const pools = new ResourcePools({ gpu: 1, network: 4 });
    const q = new ReadyQueue();
    const demands: (ResourceDemand | undefined)[] = [undefined, { network: 1 }, { gpu: 1 }, { network: 2, gpu: 1 }];
    const started = Date.now();
    for (let i = 0; i < 100_000; i++) q.push(task(`t${i}`, i % 5, demands[i % 4], i));
    let taken = 0;
    for (let e = q.takeNext(pools); e; e = q.takeNext(pools)) {
      taken++;
      pools.release(e.resources); // finishes at once
    }
    assert.equal(taken, 100_000);
    assert.ok(Date.now() - started < 2_000, `${Date.now() - started} ms`);
  });
});
