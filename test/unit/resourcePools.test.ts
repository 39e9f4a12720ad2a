import * as assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/model/errors';
import { ResourcePools } from '../../src/core/scheduler/resourcePools';

describe('resourcePools', () => {
  it('reports each pool with its capacity and units in use', () => {
    const pools = new ResourcePools({ gpu: 1, network: 4 });
    assert.deepEqual(pools.status(), { gpu: { capacity: 1, inUse: 0 }, network: { capacity: 4, inUse: 0 } });
    assert.deepEqual(pools.capacities(), { gpu: 1, network: 4 });
  });

  it('always fits a task that needs nothing', () => {
    const pools = new ResourcePools();
    assert.ok(pools.canAllocate(undefined));
    assert.ok(pools.allocate({}));
    assert.ok(pools.allocate(undefined));
  });

  it('allocates all or nothing, never part of a demand', () => {
    const pools = new ResourcePools({ gpu: 1, network: 4 });
    assert.ok(pools.allocate({ network: 3 }));
    assert.equal(pools.canAllocate({ gpu: 1, network: 2 }), false);
    assert.equal(pools.allocate({ gpu: 1, network: 2 }), false);
    assert.deepEqual(pools.status(), { gpu: { capacity: 1, inUse: 0 }, network: { capacity: 4, inUse: 3 } }, 'the gpu was not taken');
    assert.ok(pools.allocate({ gpu: 1, network: 1 }));
    assert.equal(pools.available('network'), 0);
    pools.release({ gpu: 1, network: 1 });
    pools.release({ network: 3 });
    assert.deepEqual(pools.status(), { gpu: { capacity: 1, inUse: 0 }, network: { capacity: 4, inUse: 0 } });
  });

  it('never fits a demand on an unknown pool', () => {
    const pools = new ResourcePools({ gpu: 1 });
    assert.equal(pools.canAllocate({ tpu: 1 }), false);
    assert.equal(pools.allocate({ gpu: 1, tpu: 1 }), false);
    assert.equal(pools.available('gpu'), 1);
  });

  it('refuses to release more than is in use, changing nothing', () => {
    const pools = new ResourcePools({ gpu: 2, network: 1 });
    pools.allocate({ gpu: 1 });
    assert.throws(() => pools.release({ gpu: 1, network: 1 }), /only 0 in use/);
    assert.equal(pools.status().gpu.inUse, 1);
  });

  it('grows a pool at once', () => {
    const pools = new ResourcePools({ gpu: 1 });
    pools.allocate({ gpu: 1 });
    assert.equal(pools.canAllocate({ gpu: 1 }), false);
    pools.setCapacities({ gpu: 2 });
    assert.ok(pools.allocate({ gpu: 1 }));
  });

  it('shrinks a pool below its use without taking units back; new allocations wait', () => {
    const pools = new ResourcePools({ network: 4 });
    pools.allocate({ network: 3 });
    pools.setCapacities({ network: 2 });
    assert.deepEqual(pools.status().network, { capacity: 2, inUse: 3 });
    assert.equal(pools.available('network'), 0);
    assert.equal(pools.allocate({ network: 1 }), false);
    pools.release({ network: 2 });
    assert.equal(pools.allocate({ network: 1 }), true, 'room again once use is below the new capacity');
  });

  it('removes an idle pool at once and retires one in use until its units come back', () => {
    const pools = new ResourcePools({ gpu: 1, network: 4, disk: 2 });
    pools.allocate({ gpu: 1 });
    assert.deepEqual(pools.setCapacities({ network: 4 }), ['gpu']);
    assert.ok(!pools.has('disk') && !('disk' in pools.status()), 'idle pool gone');
    assert.ok(!pools.has('gpu'));
    assert.deepEqual(pools.status().gpu, { capacity: 0, inUse: 1 }, 'retiring pool still visible');
    assert.deepEqual(pools.capacities(), { network: 4 }, 'validation no longer offers it');
    assert.equal(pools.canAllocate({ gpu: 1 }), false);
    pools.release({ gpu: 1 });
    assert.ok(!('gpu' in pools.status()), 'gone once released');
  });

  it('revives a retiring pool listed again', () => {
    const pools = new ResourcePools({ gpu: 1 });
    pools.allocate({ gpu: 1 });
    pools.setCapacities({});
    pools.setCapacities({ gpu: 3 });
    assert.deepEqual(pools.status().gpu, { capacity: 3, inUse: 1 });
    assert.ok(pools.allocate({ gpu: 2 }));
  });

  it('refuses bad capacities, changing nothing', () => {
    const pools = new ResourcePools({ gpu: 1 });
    assert.throws(
      () => pools.setCapacities({ gpu: 2, network: 0 }),
      (e: unknown) => e instanceof ValidationError && e.field === 'resources.network',
    );
    assert.throws(() => pools.setCapacities({ 'bad name': 1 }), ValidationError);
    assert.deepEqual(pools.capacities(), { gpu: 1 });
  });

  it('tells whether a queued demand could still ever run after capacities change', () => {
    const pools = new ResourcePools({ gpu: 2, network: 1 });
    assert.equal(pools.checkFits({ gpu: 2 }), undefined);
    assert.ok(pools.couldEverFit({ gpu: 2, network: 1 }));
    pools.setCapacities({ gpu: 1 });
    assert.ok(!pools.couldEverFit({ gpu: 2 }));
    assert.ok(!pools.couldEverFit({ network: 1 }));
    assert.match(pools.checkFits({ gpu: 2 })?.message ?? '', /needs 2 of `gpu` but the pool now holds 1/);
    assert.match(pools.checkFits({ network: 1 })?.message ?? '', /`network` no longer exists; the configured pools are `gpu`/);
  });
});
