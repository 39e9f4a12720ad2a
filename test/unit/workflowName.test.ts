// A workflow run's name (scheduleWorkflow's `name`) on its records: kept through a restart, and read
// by the run history (search by `workflow: 'ci'`), the History view's reruns and the timeline.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import { MemoryStore } from '../../src/core/ports';
import { RunJournal } from '../../src/core/history/runJournal';
import { runRerunPlan } from '../../src/extension/historyView/rerunSpecs';
import { runName } from '../../src/extension/dashboard/timeline';

const specs = () => [
  { key: 'a', name: 'Step A', kind: 'function', run: () => 1 },
  { key: 'b', name: 'Step B', kind: 'function', run: () => 2, dependsOn: ['a'] },
];

describe('a workflow run’s name', () => {
  it('is kept on each record of the run and survives a restart', async () => {
    const store = new MemoryStore();
    const o = await createOrchestrator({ store, startPaused: true });
    const ids = await o.scheduleWorkflow(specs(), { name: 'ci' });
    assert.deepEqual(
      ids.map((id) => o.getTask(id)?.workflowName),
      ['ci', 'ci'],
    );
    await o.dispose();
    const again = await createOrchestrator({ store, startPaused: true });
    try {
      assert.deepEqual(
        ids.map((id) => again.getTask(id)?.workflowName),
        ['ci', 'ci'],
      );
    } finally {
      await again.dispose();
    }
  });

  it('is refused when it is not a non-empty string, and nothing is scheduled', async () => {
    const o = await createOrchestrator();
    try {
      await assert.rejects(o.scheduleWorkflow(specs(), { name: '' }), /Expected `options.name` to be a workflow name/);
      await assert.rejects(o.scheduleWorkflow(specs(), { name: 7 } as never), /options.name/);
      assert.equal(o.getTasks().length, 0);
    } finally {
      await o.dispose();
    }
  });

  it('names the run in the history, where `workflow: name` finds every run of it; reruns and the timeline keep it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-wfname-'));
    const o = await createOrchestrator();
    const journal = new RunJournal({ dir });
    try {
      const first = await o.scheduleWorkflow(specs(), { name: 'ci' });
      const second = await o.scheduleWorkflow(specs(), { name: 'ci' });
      await o.scheduleWorkflow(specs(), { name: 'nightly' });
      await o.whenIdle();
      await journal.append(o.getTasks());
      const page = await journal.search({ workflow: 'ci' });
      assert.equal(page.runs.length, 2);
      for (const run of page.runs) assert.equal(run.workflowName, 'ci');
      assert.deepEqual(page.runs.map((r) => r.tasks.map((t) => t.id).sort()).sort(), [first.slice().sort(), second.slice().sort()].sort());
      const records = first.map((id) => o.getTask(id)!);
      assert.equal(runRerunPlan(records).options.name, 'ci');
      assert.equal(runName(records), 'ci');
    } finally {
      await journal.close();
      await o.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
