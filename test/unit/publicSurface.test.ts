// The core's public surface (src/core/index.ts, built into dist/core.js) is the contract by name:
// adding a name is a decision, not a side effect of an `export *`.
import * as assert from 'node:assert/strict';
import * as core from '../../src/core/index';

const RUNTIME_NAMES = [
  'ALL_STATUSES',
  'BUILTIN_KINDS',
  'BackpressureError',
  'CancelledError',
  'Emitter',
  'ExecutionError',
  'IllegalTransitionError',
  'LIMITS',
  'MemoryStore',
  'MessageQueue',
  'NotFoundError',
  'OrchestratorError',
  'PerformanceMonitor',
  'ReadyQueue',
  'ResourcePools',
  'ServiceError',
  'StateCoordinator',
  'StoreWriteError',
  'TaskEngine',
  'TaskLifecycleManager',
  'TaskStatus',
  'TimeoutError',
  'ValidationError',
  'allowedEvents',
  'applySpecDefaults',
  'canTransition',
  'createOrchestrator',
  'isFinished',
  'systemClock',
  'toDisposable',
  'transition',
  'validateSpec',
  'validateWorkflow',
];

describe('publicSurface', () => {
  it("exports exactly the contract's runtime names", () => {
    assert.deepEqual(Object.keys(core).sort(), [...RUNTIME_NAMES].sort());
  });

  it('runs the README example through the public names only', async () => {
    const orch = await core.createOrchestrator({ concurrency: 2, store: new core.MemoryStore() });
    try {
      const [a, b] = await orch.scheduleWorkflow([
        { key: 'a', name: 'a', kind: 'function', run: () => 1 },
        { key: 'b', name: 'b', kind: 'function', run: () => 2, dependsOn: ['a'] },
      ]);
      await orch.whenIdle();
      assert.equal(orch.getTask(a!)?.status, core.TaskStatus.Completed);
      assert.deepEqual(orch.getTask(b!)?.result?.value, 2);
      await assert.rejects(orch.scheduleTask({ name: '', kind: 'shell' }), core.ValidationError);
    } finally {
      await orch.dispose();
    }
  });
});
