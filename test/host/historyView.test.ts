// The History view over the real run journal: runs grouped by day and workflow run, search, Rerun,
// Rerun Failed, Remove on a selection, Show Output, and paging beyond one page.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { TaskRecord } from '../../src/core/model/model';
import type { RunHistory } from '../../src/core/history/historyTypes';
import type { HistoryNode, HistoryTreeProvider } from '../../src/extension/historyView/historyTree';
import { CommandIds } from '../../src/extension/ids';
import { clearTaskCache, getApi, labelOf, rejection, reset, waitFor, waitForStatus, workspaceFolder } from './helpers';

interface Hooks {
  history: RunHistory;
  tree: HistoryTreeProvider;
  view: vscode.TreeView<HistoryNode>;
}

async function hooks(): Promise<Hooks> {
  const { testing } = await getApi();
  assert.ok(testing.history && testing.historyTree && testing.historyView, 'the History view is wired to the run journal');
  return { history: testing.history, tree: testing.historyTree, view: testing.historyView };
}

/** Forgets every run the journal holds, so each test sees only its own. */
async function clearHistory(): Promise<void> {
  const { history, tree } = await hooks();
  // Records that finished just before (an earlier test's) reach the journal in a batch: let it land
  // first, or it would bring them back after the clear.
  await (await getApi()).testing.historyFeed?.flush();
  for (;;) {
    const page = await history.search({}, undefined, 1000);
    const ids = page.runs.flatMap((r) => r.tasks.map((t) => t.id));
    if (!ids.length) break;
    await history.remove(ids);
  }
  await vscode.commands.executeCommand(CommandIds.clearHistoryFilter);
  await tree.reload();
}

/** The rows under `node` (the roots without one), with their items. */
async function rows(node?: HistoryNode): Promise<{ node: HistoryNode; item: vscode.TreeItem }[]> {
  const { tree } = await hooks();
  const nodes = await tree.getChildren(node);
  return nodes.map((n) => ({ node: n, item: tree.getTreeItem(n) }));
}

/** The run rows of every day shown, in order. */
async function runRows(): Promise<{ node: HistoryNode; item: vscode.TreeItem }[]> {
  const out: { node: HistoryNode; item: vscode.TreeItem }[] = [];
  for (const day of await rows()) if (day.node.type === 'history.day') out.push(...(await rows(day.node)));
  return out;
}

/** Runs a small workflow: `a` prints, then `b` fails with exit 3 and `c` completes, both after `a`. */
async function runSmallWorkflow(): Promise<TaskRecord[]> {
  const api = await getApi();
  const { history } = await hooks();
  const ids = await api.scheduleWorkflow([
    { key: 'a', name: 'hv: a', kind: 'shell', command: 'echo history-view-output-a' },
    { key: 'b', name: 'hv: b', kind: 'shell', command: 'exit 3', dependsOn: ['a'] },
    { key: 'c', name: 'hv: c', kind: 'shell', command: 'true', dependsOn: ['a'] },
  ]);
  const records = await Promise.all(ids.map((id) => waitForStatus(api, id, ['completed', 'failed', 'cancelled'])));
  const workflowId = records[0]!.workflowId;
  assert.ok(workflowId);
  // Finished records reach the journal through the orchestrator's archive.
  await waitFor(async () => (await history.search({ workflow: workflowId })).runs[0]?.tasks.length === 3, 'the run in the journal');
  return records;
}

function record(i: number, at: number): TaskRecord {
  return {
    id: `hv-page-${i}`,
    name: `paged ${i}`,
    kind: 'shell',
    status: 'completed',
    priority: 0,
    attempts: 1,
    createdAt: at,
    startedAt: at,
    finishedAt: at + 10,
    history: [
      { status: 'created', at },
      { status: 'completed', at: at + 10 },
    ],
    result: { exitCode: 0, output: `out ${i}\n` },
    spec: { name: `paged ${i}`, kind: 'shell', command: 'true' },
    dependsOn: [],
  };
}

describe('History view', () => {
  before(async () => {
    await reset(await getApi());
    await clearHistory();
  });
  afterEach(async () => {
    await reset(await getApi());
    await clearHistory();
  });

  it('lists a finished workflow run under Today, with its counts and its tasks', async () => {
    const records = await runSmallWorkflow();
    const { tree } = await hooks();
    await tree.reload();
    const days = await rows();
    assert.deepStrictEqual(
      days.map((d) => labelOf(d.item)),
      ['Today'],
    );
    const runs = await runRows();
    assert.strictEqual(runs.length, 1);
    const run = runs[0]!;
    assert.strictEqual(labelOf(run.item), 'hv');
    assert.match(String(run.item.description), /2 completed · 1 failed/);
    assert.strictEqual(run.item.contextValue, 'history.run.failed');
    const tasks = await rows(run.node);
    assert.deepStrictEqual(
      tasks.map((t) => [labelOf(t.item), t.item.contextValue]),
      [
        ['hv: a', 'history.task.completed'],
        ['hv: b', 'history.task.failed'],
        ['hv: c', 'history.task.completed'],
      ],
    );
    assert.match(String(tasks[1]!.item.description), /exit 3/);
    assert.strictEqual((tasks[1]!.item.iconPath as vscode.ThemeIcon).id, 'error');
    assert.deepStrictEqual(
      tasks.map((t) => (t.node as { id: string }).id),
      records.map((r) => r.id),
    );
  });

  it('filters with Search History and shows the filter, which Clear Filter removes', async () => {
    await runSmallWorkflow();
    const { tree, view } = await hooks();
    assert.strictEqual(await vscode.commands.executeCommand(CommandIds.searchHistory, 'status:failed exit:3'), 'status:failed exit:3');
    assert.strictEqual(view.description, 'Filter: status:failed exit:3');
    let runs = await runRows();
    assert.strictEqual(runs.length, 1);
    assert.deepStrictEqual(
      (await rows(runs[0]!.node)).map((t) => labelOf(t.item)),
      ['hv: b'],
    );
    await vscode.commands.executeCommand(CommandIds.searchHistory, 'status:failed exit:7');
    assert.deepStrictEqual(await runRows(), []);
    assert.match(tree.message ?? '', /No runs match `status:failed exit:7`/);
    // A malformed filter is refused and changes nothing.
    assert.match((await rejection(vscode.commands.executeCommand(CommandIds.searchHistory, 'since:yesterday'))).message, /Expected `since` to be a date/);
    assert.strictEqual(view.description, 'Filter: status:failed exit:7');
    await vscode.commands.executeCommand(CommandIds.clearHistoryFilter);
    assert.strictEqual(view.description, undefined);
    runs = await runRows();
    assert.strictEqual((await rows(runs[0]!.node)).length, 3);
  });

  it('reruns a run with the same specs, and one task alone', async () => {
    const api = await getApi();
    const old = await runSmallWorkflow();
    const { tree } = await hooks();
    await tree.reload();
    const [run] = await runRows();
    const ids = (await vscode.commands.executeCommand(CommandIds.rerunFromHistory, run!.node)) as string[];
    assert.strictEqual(ids.length, 3);
    const fresh = ids.map((id) => api.getTask(id)!);
    assert.deepStrictEqual(
      fresh.map((r) => [r.name, r.spec.command, r.spec.key]),
      old.map((r) => [r.name, r.spec.command, r.spec.key]),
    );
    assert.ok(fresh[0]!.workflowId && fresh[0]!.workflowId !== old[0]!.workflowId, 'a new workflow run');
    assert.deepStrictEqual(fresh[1]!.dependsOn, [ids[0]], 'b waits for the new a');
    await Promise.all(ids.map((id) => waitForStatus(api, id, ['completed', 'failed'])));

    const taskRow = (await rows(run!.node))[2]!;
    const [one] = (await vscode.commands.executeCommand(CommandIds.rerunFromHistory, taskRow.node)) as string[];
    const single = api.getTask(one!)!;
    assert.strictEqual(single.spec.command, 'true');
    assert.deepStrictEqual(single.dependsOn, []);
    assert.strictEqual(single.workflowId, undefined);
  });

  it('reruns only the failed part of a run with Rerun Failed', async () => {
    const api = await getApi();
    await runSmallWorkflow();
    const { tree } = await hooks();
    await tree.reload();
    const [run] = await runRows();
    const ids = (await vscode.commands.executeCommand(CommandIds.rerunFailedFromHistory, run!.node)) as string[];
    assert.deepStrictEqual(
      ids.map((id) => api.getTask(id)?.name),
      ['hv: b'],
    );
    assert.deepStrictEqual(api.getTask(ids[0]!)?.dependsOn, [], 'what completed is not waited for');
    await waitForStatus(api, ids[0]!, 'failed');
  });

  it('removes a multi-selection from the history', async () => {
    const { history, tree } = await hooks();
    const now = Date.now();
    await history.append([record(1, now - 3000), record(2, now - 2000), record(3, now - 1000)]);
    await tree.reload();
    const runs = await runRows();
    assert.deepStrictEqual(
      runs.map((r) => labelOf(r.item)),
      ['paged 3', 'paged 2', 'paged 1'],
    );
    // VS Code passes the clicked row and the selection.
    const removed = await vscode.commands.executeCommand(CommandIds.removeFromHistory, runs[0]!.node, [runs[0]!.node, runs[2]!.node]);
    assert.deepStrictEqual(removed, ['hv-page-3', 'hv-page-1']);
    assert.deepStrictEqual(
      (await runRows()).map((r) => labelOf(r.item)),
      ['paged 2'],
    );
    assert.deepStrictEqual(
      (await history.search({})).runs.map((r) => r.tasks[0]!.id),
      ['hv-page-2'],
    );
  });

  it('shows a task output from the journal in a read-only document', async () => {
    const records = await runSmallWorkflow();
    const { tree } = await hooks();
    await tree.reload();
    const [run] = await runRows();
    const first = (await rows(run!.node))[0]!;
    assert.strictEqual(await vscode.commands.executeCommand(CommandIds.showHistoryOutput, first.node), records[0]!.id);
    const doc = await waitFor(() => vscode.window.activeTextEditor?.document, 'the output document');
    assert.strictEqual(doc.uri.scheme, 'orchestrator-history');
    assert.match(doc.getText(), /history-view-output-a/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('marks a task restored from the cache, as the Tasks view does', async () => {
    const api = await getApi();
    const { history, tree } = await hooks();
    await clearTaskCache();
    try {
      const spec = {
        key: 'k',
        name: 'hv: cached',
        kind: 'shell',
        command: 'echo cached-run',
        cwd: workspaceFolder().uri.fsPath,
        cache: { inputs: ['package.json'] },
      };
      const ids: string[] = [];
      for (let n = 0; n < 2; n++) {
        const [id] = await api.scheduleWorkflow([spec]);
        await waitForStatus(api, id!, 'completed');
        ids.push(id!);
      }
      assert.ok(api.getTask(ids[1]!)?.result?.cached, 'the second run was restored');
      await waitFor(async () => (await history.search({})).runs.length === 2, 'both runs in the journal');
      await tree.reload();
      const [newest, older] = await runRows();
      assert.match(String(newest!.item.description), /1 completed · 1 cached/);
      assert.doesNotMatch(String(older!.item.description), /cached/);
      const [task] = await rows(newest!.node);
      assert.match(String(task!.item.description), /cached · saved \d/);
      assert.strictEqual((task!.item.iconPath as vscode.ThemeIcon).id, 'database');
      const [ran] = await rows(older!.node);
      assert.doesNotMatch(String(ran!.item.description), /cached/);
    } finally {
      await clearTaskCache();
    }
  });

  it('loads one page at a time through "Load more…", and refreshes on appends', async () => {
    const { history, tree } = await hooks();
    const now = Date.now();
    await history.append(Array.from({ length: 60 }, (_, i) => record(i, now - 100_000 + i * 100)));
    await tree.reload();
    let runs = await runRows();
    assert.strictEqual(runs.length, 50, 'the first page');
    const roots = await rows();
    const more = roots[roots.length - 1]!;
    assert.strictEqual(labelOf(more.item), 'Load more…');
    assert.strictEqual(more.item.command?.command, CommandIds.loadMoreHistory);
    assert.strictEqual(labelOf(runs[0]!.item), 'paged 59', 'newest first');
    await vscode.commands.executeCommand(CommandIds.loadMoreHistory);
    runs = await runRows();
    assert.strictEqual(runs.length, 60);
    assert.ok(!tree.hasMore);
    assert.ok((await rows()).every((r) => r.node.type !== 'history.more'));

    // An append reloads the view once, throttled, and keeps the pages loaded.
    // Only a visible view reloads on appends (a hidden one when it shows again).
    await vscode.commands.executeCommand('orchestrator.history.focus');
    await waitFor(async () => (await hooks()).view.visible, 'the History view to show');
    // A reload the first 60 appends scheduled may still be pending: let it land first, so the loads
    // counted below are the burst's own.
    await tree.whenIdle();
    let loads = 0;
    const loaded = new Promise<void>((resolve) => {
      const sub = tree.onDidLoad(() => {
        loads++;
        if (tree.loadedRuns().length < 63) return;
        sub.dispose();
        resolve();
      });
    });
    // A burst of appends is coalesced: fewer reloads than appends, the last one holding them all.
    await history.append([record(60, now - 30)]);
    await history.append([record(61, now - 20)]);
    await history.append([record(62, now - 10)]);
    await loaded;
    assert.ok(loads < 3, `${loads} reloads for a burst of 3 appends`);
    runs = await runRows();
    assert.strictEqual(runs.length, 63);
    assert.strictEqual(labelOf(runs[0]!.item), 'paged 62');
  });
});
