import * as assert from 'node:assert/strict';
import { applySpecDefaults } from '../../src/core/model/specDefaults';
import type { TaskSpec } from '../../src/core/model/model';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';

describe('specDefaults', () => {
  it('fills an unset timeoutMs and retries and keeps what the spec sets, 0 included', () => {
    const spec: TaskSpec = { name: 'a', kind: 'shell', command: 'x' };
    assert.deepEqual(applySpecDefaults(spec, { timeoutMs: 500, retries: 2 }), { ...spec, timeoutMs: 500, retries: 2 });
    assert.deepEqual(applySpecDefaults({ ...spec, timeoutMs: 10, retries: 0 }, { timeoutMs: 500, retries: 2 }), { ...spec, timeoutMs: 10, retries: 0 });
    assert.deepEqual(applySpecDefaults({ ...spec, retries: 1 }, { timeoutMs: 500, retries: 2 }), { ...spec, timeoutMs: 500, retries: 1 });
  });

  it('treats a default of 0 or none as no default, and then returns the spec itself', () => {
    const spec: TaskSpec = { name: 'a', kind: 'shell', command: 'x' };
    assert.strictEqual(applySpecDefaults(spec, { timeoutMs: 0, retries: 0 }), spec);
    assert.strictEqual(applySpecDefaults(spec, {}), spec);
    assert.deepEqual(applySpecDefaults(spec, { timeoutMs: 0, retries: 3 }), { ...spec, retries: 3 });
  });

  it("never changes the caller's object", () => {
    const spec: TaskSpec = { name: 'a', kind: 'shell', command: 'x' };
    const out = applySpecDefaults(spec, { timeoutMs: 500 });
    assert.notStrictEqual(out, spec);
    assert.deepEqual(spec, { name: 'a', kind: 'shell', command: 'x' });
  });

  it('is how the orchestrator applies its defaultTimeoutMs and defaultRetries options', async () => {
    const o = await createOrchestrator({ defaultTimeoutMs: 700, defaultRetries: 1, startPaused: true });
    try {
      const a = o.getTask(await o.scheduleTask({ name: 'a', kind: 'function', run: () => 1 }));
      const b = o.getTask(await o.scheduleTask({ name: 'b', kind: 'function', run: () => 1, timeoutMs: 5, retries: 0 }));
      assert.deepEqual([a?.spec.timeoutMs, a?.spec.retries], [700, 1]);
      assert.deepEqual([b?.spec.timeoutMs, b?.spec.retries], [5, 0]);
    } finally {
      await o.dispose();
    }
  });
});
