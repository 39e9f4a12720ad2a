import * as assert from 'node:assert/strict';
import type { TaskRecord } from '../../src/core/model/model';
import { failedRerunPlan, runRerunPlan, taskRerunSpec } from '../../src/extension/historyView/rerunSpecs';
import { record } from '../support/dashboardFixtures';

// lint -> build -> test, build -> package; `docs` alone. Spec dependsOn holds keys, record dependsOn ids.
function ciRun(statuses: Record<string, TaskRecord['status']>): TaskRecord[] {
  const deps: Record<string, string[]> = { lint: [], build: ['lint'], test: ['build'], package: ['build'], docs: [] };
  return Object.keys(deps).map((key, i) =>
    record(`id-${key}`, statuses[key] ?? 'completed', {
      name: key,
      createdAt: 1000 + i,
      workflowId: 'wf-1',
      failFast: true,
      spec: { name: key, kind: 'shell', command: `npm run ${key}`, key, timeoutMs: 5000, ...(deps[key]!.length ? { dependsOn: deps[key] } : {}) },
      dependsOn: deps[key]!.map((d) => `id-${d}`),
    }),
  );
}

describe('rerunSpecs (what Rerun and Rerun Failed schedule)', () => {
  it('reruns one task with its spec, without key or dependencies', () => {
    const [, build] = ciRun({});
    assert.deepEqual(taskRerunSpec(build!), { name: 'build', kind: 'shell', command: 'npm run build', timeoutMs: 5000 });
  });

  it('reruns a whole run with its keys, dependencies and failFast', () => {
    const plan = runRerunPlan(ciRun({ test: 'failed' }).reverse());
    assert.deepEqual(
      plan.specs.map((s) => [s.key, s.dependsOn ?? []]),
      [
        ['lint', []],
        ['build', ['lint']],
        ['test', ['build']],
        ['package', ['build']],
        ['docs', []],
      ],
    );
    assert.equal(plan.specs[2]!.command, 'npm run test');
    assert.deepEqual(plan.options, { failFast: true });
  });

  it('reruns only the failed and cancelled tasks and what depends on them', () => {
    const plan = failedRerunPlan(ciRun({ build: 'failed', test: 'cancelled', package: 'cancelled' }));
    assert.deepEqual(
      plan.specs.map((s) => [s.key, s.dependsOn ?? []]),
      [
        ['build', []],
        ['test', ['build']],
        ['package', ['build']],
      ],
    );
    // A completed task with a failed dependency (continueOnError upstream) still reruns after it.
    const tolerated = failedRerunPlan(ciRun({ lint: 'failed' }));
    assert.deepEqual(
      tolerated.specs.map((s) => s.key),
      ['lint', 'build', 'test', 'package'],
    );
    assert.deepEqual(failedRerunPlan(ciRun({})).specs, []);
  });

  it('gives a task without a key its old id as key, so keys stay unique', () => {
    const a = record('a', 'failed', { createdAt: 1, spec: { name: 'a', kind: 'shell', command: 'x' } });
    const b = record('b', 'cancelled', { createdAt: 2, dependsOn: ['a'], spec: { name: 'b', kind: 'shell', command: 'y' } });
    assert.deepEqual(
      runRerunPlan([a, b]).specs.map((s) => [s.key, s.dependsOn]),
      [
        ['a', undefined],
        ['b', ['a']],
      ],
    );
  });
});
