// The dashboard in a real extension host with a real webview: the panel opens, its page says `ready`,
// the host answers with a snapshot, the page renders it (`applied`), and the figures it holds are the
// orchestrator's own. Read through the panel's test accessor (dashboardPanel.ts), which reports the
// message types both ways and the last snapshot the page was sent.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { PerformanceMetrics } from '../../src/core/metrics/metricsTypes';
import type { Orchestrator } from '../../src/core/orchestrator/orchestratorTypes';
import type { FeedState } from '../../src/extension/dashboard/dashboardFeed';
import { DASHBOARD_TEST_STATE_COMMAND } from '../../src/extension/dashboard/dashboardPanel';
import { CommandIds, EXTENSION_ID } from '../../src/extension/ids';
import { DASHBOARD_VIEW_TYPE } from '../../src/dashboardProtocol/protocol';

type TestOrchestrator = Orchestrator & { readonly monitor: { getPerformanceMetrics(): PerformanceMetrics } };

interface TestingApi {
  testing?: { orchestrator: TestOrchestrator };
}

async function orchestrator(): Promise<TestOrchestrator> {
  const ext = vscode.extensions.getExtension<TestingApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded in this host`);
  await ext.activate();
  const o = ext.exports?.testing?.orchestrator;
  assert.ok(o, 'the extension exposes its orchestrator to extension tests (api.testing.orchestrator)');
  return o;
}

function feedState(): Thenable<FeedState | undefined> {
  return vscode.commands.executeCommand<FeedState | undefined>(DASHBOARD_TEST_STATE_COMMAND);
}

/** Polls until `check` returns a value, or fails naming what it waited for. */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The feed once the page has rendered everything posted so far. */
function settled(): Promise<FeedState> {
  return until('the page to render the last message', async () => {
    const s = await feedState();
    return s && s.ready && s.seq > 0 && s.lastApplied === s.seq ? s : undefined;
  });
}

/** The open dashboard tabs (webview tab inputs carry the view type with a prefix VS Code adds). */
function dashboardTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.includes(DASHBOARD_VIEW_TYPE));
}

describe('dashboard panel', function () {
  this.timeout(60_000);

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('opens from its command; the page says ready and receives a snapshot before anything else', async () => {
    await orchestrator();
    await vscode.commands.executeCommand(CommandIds.showDashboard);
    const s = await settled();
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
    assert.strictEqual(
      dashboardTabs().length,
      1,
      `one dashboard tab among ${tabs.map((t) => `${t.label} (${t.input instanceof vscode.TabInputWebview ? t.input.viewType : typeof t.input})`).join(', ')}`,
    );
    assert.strictEqual(s.received[0], 'ready', 'the first message from the page is ready');
    assert.strictEqual(s.posted[0], 'snapshot', 'the host posted nothing before ready, and a snapshot after it');
    assert.strictEqual(s.rejected, 0, 'the page sent nothing invalid');
    assert.strictEqual(s.receivedCounts.rejected, undefined, 'the page accepted everything the host sent');
    assert.ok(s.last, 'the page holds a snapshot');
  });

  it("shows the orchestrator's own figures after a batch of tasks", async () => {
    const o = await orchestrator();
    const before = o.getSystemStatus().counts;
    const ids = await o.scheduleWorkflow([
      ...Array.from({ length: 5 }, (_, i) => ({ key: `ok${i}`, name: `dashboard ok ${i}`, kind: 'function', run: () => i })),
      {
        key: 'bad',
        name: 'dashboard fails',
        kind: 'function',
        run: () => {
          throw new Error('planned failure');
        },
      },
    ]);
    assert.strictEqual(ids.length, 6);
    await o.whenIdle();
    const s = await until('the dashboard to show the batch', async () => {
      const st = await settled();
      const c = st.last?.status.counts;
      return c && c.completed >= before.completed + 5 && c.failed >= before.failed + 1 ? st : undefined;
    });
    const last = s.last!;
    assert.deepStrictEqual(last.status.counts, o.getSystemStatus().counts);
    const m = o.monitor.getPerformanceMetrics();
    assert.deepStrictEqual(last.headline.totals, m.totals);
    assert.strictEqual(last.headline.p95TaskDuration, m.p95TaskDuration);
    const failure = last.failures.find((f) => f.id === ids[5]);
    assert.ok(failure, 'the failed task is among the latest failures');
    assert.match(failure.reason, /planned failure/);
    assert.strictEqual(s.postedCounts.snapshot, 1, 'after the first snapshot only patches');
    assert.ok((s.postedCounts.patch ?? 0) > 0);
  });

  it('draws the newest workflow run on the timeline: a bar per task in ready order and its critical path', async () => {
    const o = await orchestrator();
    await vscode.commands.executeCommand(CommandIds.showDashboard);
    await settled();
    const pause = (ms: number) => () => new Promise<void>((resolve) => setTimeout(resolve, ms));
    // setup -> slow -> publish and setup -> quick -> publish: slow finishes last, so it released publish.
    const ids = await o.scheduleWorkflow([
      { key: 'setup', name: 'timeline setup', kind: 'function', run: pause(20) },
      { key: 'slow', name: 'timeline slow', kind: 'function', run: pause(300), dependsOn: ['setup'] },
      { key: 'quick', name: 'timeline quick', kind: 'function', run: pause(10), dependsOn: ['setup'] },
      { key: 'publish', name: 'timeline publish', kind: 'function', run: pause(20), dependsOn: ['slow', 'quick'] },
    ]);
    await o.whenIdle();
    const runId = o.getTask(ids[0]!)?.workflowId;
    assert.ok(runId, 'the workflow run has an id');
    const s = await until('the timeline to show the finished run', async () => {
      const st = await settled();
      const run = st.last?.timeline.run;
      return run?.id === runId && run.finished ? st : undefined;
    });
    const run = s.last!.timeline.run!;
    assert.strictEqual(s.last!.timeline.runs[0]?.id, runId, 'the newest run comes first in the picker');
    // slow and quick become ready at once, after setup; publish last.
    assert.deepStrictEqual(
      [run.bars[0]?.id, [run.bars[1]?.id, run.bars[2]?.id].sort(), run.bars[3]?.id],
      [ids[0], [ids[1], ids[2]].sort(), ids[3]],
      'bars in ready order',
    );
    assert.deepStrictEqual(
      run.bars.filter((b) => b.critical).map((b) => b.name),
      ['timeline setup', 'timeline slow', 'timeline publish'],
    );
    const records = ids.map((id) => o.getTask(id)!);
    const startedAt = Math.min(...records.map((r) => r.createdAt));
    assert.strictEqual(run.startedAt, startedAt);
    for (const bar of run.bars) {
      const r = records.find((x) => x.id === bar.id)!;
      assert.strictEqual(bar.status, 'completed');
      assert.strictEqual(bar.end, r.finishedAt! - startedAt, `${bar.name} ends at its finish`);
      assert.deepStrictEqual(
        bar.segments.map((seg) => seg.kind),
        ['wait', 'run'],
        `${bar.name}: waited, then ran`,
      );
      assert.strictEqual(bar.segments[1]!.from, r.startedAt! - startedAt, `${bar.name} runs from its start`);
    }
    const slow = run.bars.find((b) => b.id === ids[1])!;
    assert.ok(slow.segments[1]!.to! - slow.segments[1]!.from >= 250, 'the slow task ran about 300 ms');
    assert.ok(run.bars[3]!.ready! >= slow.end!, 'publish was ready once slow had finished');
    assert.strictEqual(run.criticalMs, run.bars[3]!.end! - run.bars[0]!.ready!);
    assert.deepStrictEqual(run.cache, { hits: 0, misses: 0, savedMs: 0 }, 'no task of the run declares a cache');
  });

  it('lists a Ready service in the Services section, with since when and what it waited for', async () => {
    const o = await orchestrator();
    await vscode.commands.executeCommand(CommandIds.showDashboard);
    await settled();
    const id = await o.scheduleTask({
      name: 'dashboard service',
      kind: 'shell',
      command: `node -e "console.log('ready'); setInterval(() => {}, 1000)"`,
      readyWhen: { output: 'ready' },
    });
    try {
      // settled(): the page rendered the message carrying the row (it says `applied` only after a render).
      const s = await until('the dashboard to show the service Ready', async () => {
        const st = await settled();
        return st.last?.services.find((r) => r.id === id && r.state === 'ready') ? st : undefined;
      });
      const row = s.last!.services.find((r) => r.id === id)!;
      const record = o.getTask(id);
      assert.ok(record?.ready, 'the record is Ready');
      assert.deepStrictEqual(row, { id, name: 'dashboard service', state: 'ready', readySince: record.ready.at, restarts: 0, waitsFor: 'output /ready/' });
      assert.strictEqual(s.receivedCounts.rejected, undefined, 'the page accepted the services section');
    } finally {
      await o.cancelTask(id);
    }
    await until('the cancelled service to leave the section', async () => {
      const st = await settled();
      return st.last && !st.last.services.some((r) => r.id === id) ? true : undefined;
    });
  });

  it('is one panel: the command again reveals it instead of opening another', async () => {
    const before = (await feedState())?.receivedCounts.ready;
    await vscode.commands.executeCommand(CommandIds.showDashboard);
    await new Promise((r) => setTimeout(r, 500));
    assert.strictEqual(dashboardTabs().length, 1);
    assert.strictEqual((await feedState())?.receivedCounts.ready, before, 'the same page, not a new one');
  });

  it('posts nothing while hidden, and starts over with a snapshot when shown again', async () => {
    await settled();
    const doc = await vscode.workspace.openTextDocument({ content: 'hides the dashboard' });
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Active, preview: false });
    const hidden = await until('the feed to see the panel hidden', async () => {
      const s = await feedState();
      return s && !s.visible ? s : undefined;
    });
    const o = await orchestrator();
    await o.scheduleTask({ name: 'while hidden', kind: 'function', run: () => 1 });
    await o.whenIdle();
    await new Promise((r) => setTimeout(r, 1500));
    const still = await feedState();
    assert.strictEqual(still?.seq, hidden.seq, 'nothing posted while hidden');
    assert.strictEqual(still?.builds, hidden.builds, 'nothing computed while hidden');

    await vscode.commands.executeCommand(CommandIds.showDashboard);
    const shown = await settled();
    assert.ok(shown.seq > hidden.seq);
    assert.strictEqual(shown.receivedCounts.ready, 2, 'the new page said ready again');
    assert.strictEqual(shown.postedCounts.snapshot, 2, 'and got a fresh snapshot');
    assert.strictEqual(shown.last?.status.counts.completed, o.getSystemStatus().counts.completed);
  });

  it('closes cleanly: no feed remains', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await until('the panel to be gone', async () => ((await feedState()) === undefined ? true : undefined));
  });
});
