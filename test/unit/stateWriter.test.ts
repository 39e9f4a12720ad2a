import * as assert from 'node:assert/strict';
import { MemoryStore } from '../../src/core/ports';
import { ArchiveHandoff } from '../../src/core/state/archiveHandoff';
import { StateWriter, WRITE_SHARE } from '../../src/core/state/stateWriter';
import type { Snapshot } from '../../src/core/state/snapshot';
import { ManualClock } from '../support/manualClock';

/** A writer whose every snapshot takes `costMs` of the (manual) clock to build. */
function writerWith(costMs: number) {
  const clock = new ManualClock(1000);
  const store = new MemoryStore();
  const writesAt: number[] = [];
  const stats = { writes: 0, failedWrites: 0, archived: 0, lastBytes: 0 };
  const writer = new StateWriter({
    store,
    clock,
    minIntervalMs: () => 250,
    writeTimeoutMs: 10_000,
    disposeTimeoutMs: 2000,
    onWarn: () => undefined,
    handoff: new ArchiveHandoff(undefined, () => undefined, stats),
    build: () => {
      writesAt.push(clock.monotonic());
      clock.set(clock.monotonic() + costMs);
      return { version: 1 } as unknown as Snapshot;
    },
    written: () => undefined,
    stats,
  });
  return { clock, writer, writesAt };
}

describe('stateWriter', () => {
  it('spaces writes by the minimum interval while writing is cheap', async () => {
    const { clock, writer, writesAt } = writerWith(1);
    writer.markDirty();
    await clock.advance(0);
    writer.markDirty();
    await clock.advance(1000);
    assert.deepEqual(writesAt, [1000, 1250]);
  });

  it('keeps writing to at most WRITE_SHARE of the time when a snapshot is costly to build', async () => {
    const { clock, writer, writesAt } = writerWith(100);
    writer.markDirty();
    await clock.advance(0);
    writer.markDirty();
    await clock.advance(2000);
    // 100 ms of work may be followed by 900 ms without a write: 10 % of the thread at most.
    const spacing = (100 * (1 - WRITE_SHARE)) / WRITE_SHARE;
    assert.equal(writesAt.length, 2);
    assert.equal(writesAt[1]! - writesAt[0]!, spacing);
  });
});

describe('an orchestrator given no store', () => {
  it('builds and writes no snapshot, since nothing could read it; one given a store does', async () => {
    const { createOrchestrator } = await import('../../src/core/orchestrator/orchestrator');
    const own = await createOrchestrator();
    const store = new MemoryStore();
    const given = await createOrchestrator({ store });
    try {
      for (const o of [own, given]) {
        await o.scheduleTask({ name: 'a', kind: 'function', run: () => 1 });
        await o.whenIdle();
        await o.state.synchronizeState();
      }
      assert.equal(own.state.stats.writes, 0);
      assert.ok(given.state.stats.writes >= 1);
      assert.ok(store.keys().length >= 1);
    } finally {
      await own.dispose();
      await given.dispose();
    }
  });
});
