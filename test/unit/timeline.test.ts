import * as assert from 'node:assert/strict';
import type { HistoryEntry, TaskRecord, TaskStatus } from '../../src/core/model/model';
import { isSnapshot, MAX_TIMELINE_BARS, MAX_TIMELINE_RUNS } from '../../src/dashboardProtocol/protocol';
import { CacheTally, RunLog, cacheFigures, criticalPath, runName, segmentsOf, timelineRun, type PathNode } from '../../src/extension/dashboard/timeline';
import { record, snapshot } from '../support/dashboardFixtures';

/**
 * A record of run `wf` created at 1000 whose history is `steps`: [status, at] pairs after Created.
 * Finished when the last step is final.
 */
function task(id: string, steps: [TaskStatus, number][], extra: Partial<TaskRecord> = {}): TaskRecord {
  const history: HistoryEntry[] = [{ status: 'created', at: 1000 }, ...steps.map(([status, at]) => ({ status, at }))];
  const last = steps[steps.length - 1];
  const status = last ? last[0] : 'created';
  const final = status === 'completed' || status === 'failed' || status === 'cancelled';
  return record(id, status, {
    name: `ci: ${id}`,
    spec: { name: `ci: ${id}`, kind: 'shell', command: 'true', key: id },
    workflowId: 'wf',
    history,
    finishedAt: final && last ? last[1] : undefined,
    error: undefined,
    ...extra,
  });
}

function node(id: string, ready: number, end: number, dependsOn: string[] = [], runMs = end - ready): PathNode {
  return { id, ready, end, runMs, dependsOn };
}

describe('timeline model', () => {
  describe('segments from a record history', () => {
    it('shades waiting (Scheduled -> Running) and running (Running -> final) apart', () => {
      const r = task('a', [
        ['scheduled', 1100],
        ['running', 1400],
        ['completed', 2000],
      ]);
      assert.deepEqual(segmentsOf(r), [
        { kind: 'wait', from: 1100, to: 1400 },
        { kind: 'run', from: 1400, to: 2000 },
      ]);
    });

    it('gives a retried task a second wait and run, and leaves the last one open while it runs', () => {
      const r = task('a', [
        ['scheduled', 1100],
        ['running', 1200],
        ['scheduled', 1500],
        ['running', 1700],
      ]);
      assert.deepEqual(segmentsOf(r), [
        { kind: 'wait', from: 1100, to: 1200 },
        { kind: 'run', from: 1200, to: 1500 },
        { kind: 'wait', from: 1500, to: 1700 },
        { kind: 'run', from: 1700 },
      ]);
    });

    it('has no segment for a task cancelled before it was ready, and a wait for one cancelled while queued', () => {
      assert.deepEqual(segmentsOf(task('a', [['cancelled', 1500]])), []);
      assert.deepEqual(
        segmentsOf(
          task('b', [
            ['scheduled', 1100],
            ['cancelled', 1500],
          ]),
        ),
        [{ kind: 'wait', from: 1100, to: 1500 }],
      );
    });
  });

  describe('critical path', () => {
    it('follows the dependency that finished last, back from the task that finished last', () => {
      // a -> b -> d, a -> c -> d; c finishes after b, so c released d.
      const nodes = [node('a', 0, 10), node('b', 10, 20, ['a']), node('c', 10, 40, ['a']), node('d', 40, 50, ['b', 'c']), node('e', 0, 30)];
      assert.deepEqual(criticalPath(nodes), ['a', 'c', 'd']);
    });

    it('breaks a tie in finish time by the longer chain behind, then by the earlier node', () => {
      // b and c both finish at 40; c has 35 ms of run time behind it (a + c), b only 5 (it ran alone and waited).
      const nodes = [node('a', 0, 10), node('b', 0, 40, [], 5), node('c', 10, 40, ['a'], 25), node('d', 40, 50, ['b', 'c'])];
      assert.deepEqual(criticalPath(nodes), ['a', 'c', 'd']);
      // Equal chains too: the node given first wins, whatever dependsOn's order.
      const even = [node('x', 0, 40), node('y', 0, 40), node('z', 40, 50, ['y', 'x'])];
      assert.deepEqual(criticalPath(even), ['x', 'z']);
      // Two tasks ending the run at once: the longer chain ends the path.
      assert.deepEqual(criticalPath([node('p', 0, 50, [], 10), node('q', 0, 50, [], 30)]), ['q']);
    });

    it('walks a chain of 40,000 tasks without overflowing the stack', () => {
      const n = 40_000;
      const nodes = Array.from({ length: n }, (_, i) => node(`t${i}`, i, i + 1, i > 0 ? [`t${i - 1}`] : []));
      // Equal finish times everywhere: the tie-break computes every chain length.
      nodes.push(node('twin', n - 1, n, [`t${n - 2}`], 0));
      const path = criticalPath(nodes);
      assert.equal(path.length, n);
      assert.equal(path[n - 1], `t${n - 1}`, 'the twin has less run time behind it');
    });

    it('ignores tasks that never got an end, and survives a cycle', () => {
      assert.deepEqual(criticalPath([{ id: 'a', runMs: 0, dependsOn: [] }]), []);
      assert.deepEqual(criticalPath([node('a', 0, 10, ['b']), node('b', 0, 20, ['a'])]), ['a', 'b']);
    });
  });

  describe('a run as bars', () => {
    const run = (): TaskRecord[] => [
      task('lint', [
        ['scheduled', 1000],
        ['running', 1000],
        ['completed', 1300],
      ]),
      task(
        'build',
        [
          ['scheduled', 1000],
          ['running', 1200],
          ['completed', 1250],
        ],
        { result: { exitCode: 0, cached: { key: 'k1', savedMs: 4000 }, cacheKey: 'k1' } },
      ),
      task(
        'test',
        [
          ['scheduled', 1300],
          ['running', 1300],
          ['failed', 1900],
        ],
        { dependsOn: ['lint', 'build'], result: { exitCode: 1, cacheKey: 'k2' } },
      ),
      task('package', [['cancelled', 1900]], { dependsOn: ['test'] }),
    ];

    it('orders bars by ready time, in ms after the run start, with cached marks and the critical path', () => {
      const t = timelineRun('wf', run(), 5000);
      assert.equal(t.name, 'ci');
      assert.equal(t.startedAt, 1000);
      assert.equal(t.finished, true);
      assert.deepEqual(
        t.bars.map((b) => [b.name, b.status, b.ready, b.end, b.critical, b.cached?.savedMs]),
        [
          ['ci: build', 'completed', 0, 250, false, 4000],
          ['ci: lint', 'completed', 0, 300, true, undefined],
          ['ci: test', 'failed', 300, 900, true, undefined],
          ['ci: package', 'cancelled', undefined, 900, false, undefined],
        ],
      );
      assert.deepEqual(t.bars[0]?.segments, [
        { kind: 'wait', from: 0, to: 200 },
        { kind: 'run', from: 200, to: 250 },
      ]);
      assert.equal(t.criticalMs, 900);
      assert.deepEqual(t.cache, { hits: 1, misses: 1, savedMs: 4000 });
      assert.equal(isSnapshot(JSON.parse(JSON.stringify(snapshot({ timeline: { runs: [], run: t } })))), true, 'the bars validate');
    });

    it('ends the path of an unfinished run at now, and leaves the running bar open', () => {
      const records = run().slice(0, 2);
      records.push(
        task(
          'test',
          [
            ['scheduled', 1300],
            ['running', 1300],
          ],
          { dependsOn: ['lint', 'build'] },
        ),
      );
      const t = timelineRun('wf', records, 3000);
      assert.equal(t.finished, false);
      const test = t.bars.find((b) => b.name === 'ci: test');
      assert.deepEqual(test?.segments.at(-1), { kind: 'run', from: 300 });
      assert.equal(test?.end, undefined);
      assert.deepEqual(
        t.bars.filter((b) => b.critical).map((b) => b.name),
        ['ci: lint', 'ci: test'],
      );
      assert.equal(t.criticalMs, 2000);
    });

    it(`keeps the first ${MAX_TIMELINE_BARS} bars by ready time and counts the rest`, () => {
      const records = Array.from({ length: MAX_TIMELINE_BARS + 7 }, (_, i) =>
        task(`t${i}`, [
          ['scheduled', 1000 + i],
          ['running', 1000 + i],
          ['completed', 2000 + i],
        ]),
      );
      const t = timelineRun('wf', records.reverse(), 9000);
      assert.equal(t.bars.length, MAX_TIMELINE_BARS);
      assert.equal(t.omitted, 7);
      assert.equal(t.bars[0]?.name, 'ci: t0');
      // The last one to finish ends the path even though it has no bar.
      assert.equal(
        t.bars.some((b) => b.critical),
        false,
      );
    });

    it('names a run by the prefix of its tasks default names, else by its first task', () => {
      assert.equal(runName(run()), 'ci');
      assert.equal(runName([record('a', 'completed', { name: 'Deploy' })]), 'Deploy');
    });
  });

  describe('runs and cache figures kept from task changes', () => {
    it('offers the newest runs first, at most ten, and shows the picked one while it is among them', () => {
      const log = new RunLog();
      const all = new Map<string, TaskRecord>();
      for (let i = 0; i < 12; i++) {
        const r = task(`r${i}`, [], { workflowId: `wf${i}`, createdAt: 1000 + i * 100 });
        all.set(r.id, r);
        log.observe(r);
      }
      const section = log.read((id) => all.get(id), 5000);
      assert.equal(section.runs.length, MAX_TIMELINE_RUNS);
      assert.equal(section.runs[0]?.id, 'wf11');
      assert.equal(section.run?.id, 'wf11');
      assert.equal(section.selected, undefined);
      const picked = log.read((id) => all.get(id), 5000, 'wf4');
      assert.equal(picked.run?.id, 'wf4');
      assert.equal(picked.selected, 'wf4');
      // Too old to be offered: the newest is shown instead.
      assert.equal(log.read((id) => all.get(id), 5000, 'wf0').run?.id, 'wf11');
      // A run whose tasks were all removed leaves the list.
      all.delete('r11');
      assert.equal(log.read((id) => all.get(id), 5000).run?.id, 'wf10');
    });

    it("reuses a finished run's timeline until one of its records changes or goes", () => {
      const log = new RunLog();
      const all = new Map<string, TaskRecord>();
      const add = (r: TaskRecord): void => {
        all.set(r.id, r);
        log.observe(r);
      };
      add(
        task('a', [
          ['scheduled', 1000],
          ['running', 1000],
          ['completed', 1200],
        ]),
      );
      add(
        task(
          'b',
          [
            ['scheduled', 1200],
            ['running', 1200],
            ['completed', 1500],
          ],
          { dependsOn: ['a'] },
        ),
      );
      const first = log.read((id) => all.get(id), 5000).run;
      assert.equal(log.read((id) => all.get(id), 6000).run, first, 'the same object: not rebuilt');
      add(
        task(
          'b',
          [
            ['scheduled', 1200],
            ['running', 1200],
            ['completed', 1700],
          ],
          { dependsOn: ['a'] },
        ),
      );
      const changed = log.read((id) => all.get(id), 6000).run;
      assert.notEqual(changed, first);
      assert.equal(changed?.bars[1]?.end, 700);
      all.delete('a');
      assert.deepEqual(
        log.read((id) => all.get(id), 6000).run?.bars.map((b) => b.id),
        ['b'],
        'a removed record leaves the bars',
      );
      // An unfinished run follows the clock: rebuilt every read.
      add(
        task(
          'c',
          [
            ['scheduled', 1700],
            ['running', 1700],
          ],
          { dependsOn: ['b'] },
        ),
      );
      const open = log.read((id) => all.get(id), 7000).run;
      assert.notEqual(log.read((id) => all.get(id), 8000).run, open);
    });

    it('shows no run when no task belongs to one', () => {
      const log = new RunLog();
      log.reset([record('solo', 'completed')]);
      assert.deepEqual(
        log.read(() => undefined, 0),
        { runs: [], run: null },
      );
    });

    it('counts each task once by its latest outcome: hits, misses and the time saved', () => {
      const miss = task('a', [['completed', 2000]], { result: { cacheKey: 'k' } });
      const hit = task('b', [['completed', 2000]], { result: { cacheKey: 'k', cached: { key: 'k', savedMs: 1500 } } });
      const plain = task('c', [['completed', 2000]], { result: { exitCode: 0 } });
      const running = task('d', [['running', 1500]], { result: { cacheKey: 'k' } });
      assert.deepEqual(cacheFigures([miss, hit, plain, running]), { hits: 1, misses: 1, savedMs: 1500 });
      const tally = new CacheTally();
      tally.reset([miss, plain, running]);
      assert.deepEqual(tally.read(), { hits: 0, misses: 1, savedMs: 0 });
      tally.observe({ ...miss, result: { cacheKey: 'k', cached: { key: 'k', savedMs: 700 } } });
      tally.observe(hit);
      assert.deepEqual(tally.read(), { hits: 2, misses: 0, savedMs: 2200 });
    });
  });
});
