// The worker's output batcher: output and readiness leave as job progress in the order they came,
// and a posted `ready` sticks to every later output write (BullMQ keeps only a job's last progress).
import * as assert from 'node:assert/strict';
import { OutputBatcher } from '../../src/backends/redis/outputBatcher';
import type { JobProgress } from '../../src/backends/redis/protocol';

describe('OutputBatcher', () => {
  function batcher(): { b: OutputBatcher; sent: JobProgress[] } {
    const sent: JobProgress[] = [];
    const b = new OutputBatcher(
      async (p) => void sent.push(p),
      (err) => assert.fail(String(err)),
      // Writes here come from flush and post only: no timer fires during a test.
      60_000,
    );
    return { b, sent };
  }

  it('sends output before a posted ready and after it, in order', async () => {
    const { b, sent } = batcher();
    b.push('a');
    b.push('b');
    await b.post({ ready: { at: 1 } });
    b.push('c');
    await b.flush();
    assert.deepEqual(sent, [{ output: 'ab' }, { ready: { at: 1 } }, { output: 'c', ready: { at: 1 } }]);
  });

  it('makes readiness sticky: each later output carries the latest ready, none before it', async () => {
    const { b, sent } = batcher();
    b.push('before');
    await b.flush();
    await b.post({ ready: { at: 5, problems: { errors: 1, warnings: 0 } } });
    b.push('x');
    await b.flush();
    await b.post({ ready: { at: 6 } });
    b.push('y');
    await b.flush();
    assert.deepEqual(sent, [
      { output: 'before' },
      { ready: { at: 5, problems: { errors: 1, warnings: 0 } } },
      { output: 'x', ready: { at: 5, problems: { errors: 1, warnings: 0 } } },
      { ready: { at: 6 } },
      { output: 'y', ready: { at: 6 } },
    ]);
  });
});
