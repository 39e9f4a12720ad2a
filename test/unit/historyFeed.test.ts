import * as assert from 'node:assert/strict';
import type { TaskRecord } from '../../src/core/model/model';
import { Emitter } from '../../src/core/util/events';
import { HistoryFeed } from '../../src/extension/historyView/historyFeed';
import { record } from '../support/dashboardFixtures';

describe('historyFeed (finished records to the run history)', () => {
  function setup(append: (records: readonly TaskRecord[]) => Promise<void>) {
    const changes = new Emitter<TaskRecord>();
    const errors: unknown[] = [];
    // A delay no test waits out: batches are cut by flush().
    const feed = new HistoryFeed({ append }, changes.event, (err) => errors.push(err), 60_000);
    return { changes, errors, feed };
  }

  it('appends finished records in one batch, once per id, and nothing unfinished', async () => {
    const batches: string[][] = [];
    const { changes, feed } = setup(async (records) => void batches.push(records.map((r) => `${r.id}:${r.status}`)));
    changes.fire(record('a', 'running'));
    changes.fire(record('a', 'completed'));
    changes.fire(record('b', 'failed'));
    changes.fire(record('c', 'scheduled'));
    changes.fire(record('b', 'failed'));
    assert.deepEqual(batches, [], 'nothing before the batch is cut');
    await feed.flush();
    assert.deepEqual(batches, [['a:completed', 'b:failed']]);
    await feed.flush();
    assert.equal(batches.length, 1, 'an empty batch is not appended');
    feed.dispose();
  });

  it('keeps batches in order and reports a failed append without losing later ones', async () => {
    const batches: string[][] = [];
    let fail = true;
    const { changes, errors, feed } = setup(async (records) => {
      if (fail) {
        fail = false;
        throw new Error('disk full');
      }
      batches.push(records.map((r) => r.id));
    });
    changes.fire(record('a', 'completed'));
    const first = feed.flush();
    changes.fire(record('b', 'cancelled'));
    await Promise.all([first, feed.flush()]);
    assert.deepEqual(
      errors.map((e) => (e as Error).message),
      ['disk full'],
    );
    assert.deepEqual(batches, [['b']]);
    feed.dispose();
  });

  it('appends what is pending when disposed, and listens no more', async () => {
    const batches: string[][] = [];
    const { changes, feed } = setup(async (records) => void batches.push(records.map((r) => r.id)));
    changes.fire(record('a', 'completed'));
    feed.dispose();
    changes.fire(record('b', 'completed'));
    await feed.flush();
    assert.deepEqual(batches, [['a']]);
  });
});
