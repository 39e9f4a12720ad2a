// One source per fact: the lists and tables of src/core/model are the ones every layer reads.
import * as assert from 'node:assert/strict';
import { ALL_STATUSES, BUILTIN_KINDS, TaskStatus } from '../../src/core/model/model';
import { TaskEngine } from '../../src/core/engine/engine';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import { LIMITS } from '../../src/core/model/limits';
import { STAGES, STAGE_LABELS } from '../../src/dashboardProtocol/protocol';

describe('model', () => {
  describe('statuses', () => {
    it('are one list: the dashboard stages are the same array, in lifecycle order', () => {
      assert.deepEqual([...ALL_STATUSES], ['created', 'scheduled', 'running', 'completed', 'failed', 'cancelled']);
      assert.strictEqual(STAGES, ALL_STATUSES);
      assert.deepEqual(Object.keys(STAGE_LABELS), [...ALL_STATUSES]);
    });

    it('are also named, for `TaskStatus.Completed`, derived from the list', () => {
      assert.deepEqual(Object.values(TaskStatus), [...ALL_STATUSES]);
      assert.equal(TaskStatus.Cancelled, 'cancelled');
      assert.ok(Object.isFrozen(TaskStatus));
    });
  });

  describe('built-in kinds', () => {
    it('are the kinds an engine runs before any executor is registered', async () => {
      const engine = new TaskEngine();
      try {
        assert.deepEqual(engine.kinds(), [...BUILTIN_KINDS]);
      } finally {
        await engine.dispose();
      }
    });
  });

  describe('limits', () => {
    it('are one table: the setters accept what the options accept, and refuse one more', async () => {
      const o = await createOrchestrator({ concurrency: LIMITS.concurrency, maxFinished: LIMITS.maxFinished, startPaused: true });
      try {
        o.setConcurrency(LIMITS.concurrency);
        assert.equal(o.getSystemStatus().concurrency.limit, LIMITS.concurrency);
        o.setMaxFinished(LIMITS.maxFinished);
        assert.throws(
          () => o.setConcurrency(LIMITS.concurrency + 1),
          new RegExp(
            `Expected \\\`concurrency\\\` to be an integer number of tasks \\(0: automatic, one per CPU plus a remote fleet's slots\\) from 0 to ${LIMITS.concurrency}, got \\\`${LIMITS.concurrency + 1}\\\` \\(number\\)`,
          ),
        );
        assert.throws(
          () => o.setMaxFinished(LIMITS.maxFinished + 1),
          new RegExp(`Expected \\\`maxFinished\\\` to be an integer number of records from 0 to ${LIMITS.maxFinished}`),
        );
        assert.equal(o.getSystemStatus().concurrency.limit, LIMITS.concurrency, 'a refused value changes nothing');
      } finally {
        await o.dispose();
      }
    });
  });
});
