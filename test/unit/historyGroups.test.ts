import * as assert from 'node:assert/strict';
import type { TaskRecord } from '../../src/core/model/model';
import {
  dayKey,
  dayLabel,
  groupByDay,
  isSingleTask,
  runKey,
  runName,
  runSummary,
  statusSummary,
  taskSummary,
} from '../../src/extension/historyView/historyGroups';
import type { HistoryRun } from '../../src/extension/historyView/runHistory';
import { record } from '../support/dashboardFixtures';

const at = (d: number, h = 12): number => new Date(2026, 10, d, h).getTime();
const run = (startedAt: number, tasks: TaskRecord[], workflowId?: string): HistoryRun => ({
  startedAt,
  tasks,
  ...(workflowId ? { workflowId, workflowName: 'ci' } : {}),
});

describe('historyGroups (how the History view groups runs)', () => {
  it('names today and yesterday, and other days by their date', () => {
    const now = at(30, 9);
    assert.equal(dayLabel(dayKey(at(30, 0)), now), 'Today');
    assert.equal(dayLabel(dayKey(at(29, 23)), now), 'Yesterday');
    assert.match(dayLabel(dayKey(at(3)), now), /2026/);
  });

  it('groups runs by their local start day, keeping the order given', () => {
    const runs = [run(at(30, 10), [record('a', 'completed')]), run(at(30, 8), [record('b', 'failed')], 'wf-1'), run(at(28), [record('c', 'completed')])];
    const days = groupByDay(runs);
    assert.deepEqual([...days.keys()], ['2026-11-30', '2026-11-28']);
    assert.deepEqual(days.get('2026-11-30')?.map(runKey), ['task:a', 'wf-1']);
    assert.ok(isSingleTask(runs[0]!));
    assert.ok(!isSingleTask(runs[1]!));
  });

  it("names a run by its workflow, its tasks' shared prefix, or its first task and how many more", () => {
    const named = (names: string[], workflowName?: string) =>
      runName({
        ...run(
          at(30),
          names.map((n, i) => record(`t${i}`, 'completed', { name: n, createdAt: i })),
          'wf-9',
        ),
        workflowName,
      });
    assert.equal(named(['ci: lint', 'ci: build'], 'nightly'), 'nightly');
    assert.equal(named(['ci: lint', 'ci: build']), 'ci');
    assert.equal(named(['Install dependencies', 'Lint', 'Build']), 'Install dependencies +2');
    assert.equal(named(['Lint']), 'Lint');
  });

  it('sums a run up as counts in lifecycle order, with its duration', () => {
    const tasks = ['completed', 'failed', 'completed', 'cancelled', 'completed'].map((s, i) => record(`t${i}`, s as TaskRecord['status']));
    assert.equal(statusSummary(tasks), '3 completed · 1 failed · 1 cancelled');
    const r = run(at(30), [record('x', 'completed', { finishedAt: at(30) + 12_000 })], 'wf-2');
    assert.match(runSummary(r), /· 1 completed · 12(\.0+)? ?s$/);
  });

  it('describes a task by its duration, exit code, and a cached marker', () => {
    const t = record('t', 'failed', { startedAt: 1000, finishedAt: 4000, result: { exitCode: 2 } });
    assert.match(taskSummary(t), /^3(\.0+)? ?s · exit 2$/);
    const cached = record('c', 'completed', {
      startedAt: 1000,
      finishedAt: 1005,
      result: { exitCode: 0, cached: { key: 'k', savedMs: 41_000 } },
    });
    assert.match(taskSummary(cached), /exit 0 · cached · saved 41(\.0+)? ?s$/);
    assert.match(runSummary(run(at(30), [t, cached], 'wf-3')), / · 1 completed · 1 failed · 1 cached · /);
  });
});
