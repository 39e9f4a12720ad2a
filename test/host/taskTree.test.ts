// The Tasks tree as VS Code sees it: items, icons, context values per status, tooltips, paging, and
// coalesced change events (never a full refresh per task event).
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { TaskStatus } from '../../src/core/model/model';
import { CommandIds } from '../../src/extension/ids';
import type { TreeNode } from '../../src/extension/tasksView/taskTree';
import { getApi, labelOf, reset, waitFor, waitForStatus } from './helpers';

async function rowsOf(status: TaskStatus): Promise<{ node: TreeNode; item: vscode.TreeItem }[]> {
  const { tree } = (await getApi()).testing;
  tree.flush();
  return Promise.all(tree.getChildren(tree.stage(status)).map(async (node) => ({ node, item: await tree.getTreeItem(node) })));
}

describe('Tasks tree', () => {
  before(async () => reset(await getApi()));
  afterEach(async () => reset(await getApi()));

  it('shows each status with its icon and context value, and menus by status', async () => {
    const api = await getApi();
    const completed = await api.scheduleTask({ name: 'ok', kind: 'shell', command: 'true' });
    const failed = await api.scheduleTask({ name: 'bad', kind: 'shell', command: 'echo boom >&2; exit 4' });
    await waitForStatus(api, completed, 'completed');
    await waitForStatus(api, failed, 'failed');
    // Running, and Scheduled behind it: both ask for the whole `cpu` pool of the demo settings (2).
    const running = await api.scheduleTask({ name: 'long', kind: 'shell', command: 'sleep 30', resources: { cpu: 2 } });
    const scheduled = await api.scheduleTask({ name: 'waits for cpu', kind: 'shell', command: 'true', resources: { cpu: 2 } });
    await waitForStatus(api, running, 'running');
    await waitForStatus(api, scheduled, 'scheduled');
    const created = await api.scheduleTask({ name: 'waits for long', kind: 'shell', command: 'true', dependsOn: [running] });
    const cancelled = await api.scheduleTask({ name: 'to cancel', kind: 'shell', command: 'sleep 30', dependsOn: [running] });
    await api.cancelTask(cancelled);
    await waitForStatus(api, created, 'created');

    const expected: [TaskStatus, string, string, string][] = [
      ['created', created, 'waits for long', 'circle-large-outline'],
      ['scheduled', scheduled, 'waits for cpu', 'clock'],
      ['running', running, 'long', 'loading~spin'],
      ['completed', completed, 'ok', 'pass'],
      ['failed', failed, 'bad', 'error'],
      ['cancelled', cancelled, 'to cancel', 'circle-slash'],
    ];
    for (const [status, id, label, icon] of expected) {
      const rows = await rowsOf(status);
      assert.strictEqual(rows.length, 1, `one ${status} row`);
      const { node, item } = rows[0];
      assert.deepStrictEqual(node, { type: 'task', id, status });
      assert.strictEqual(labelOf(item), label);
      assert.strictEqual(item.contextValue, `task.${status}`);
      assert.strictEqual(item.id, `task:${status}:${id}`);
      assert.strictEqual((item.iconPath as vscode.ThemeIcon).id, icon);
    }
    // Stage rows carry their counts.
    const { tree } = api.testing;
    const stage = await tree.getTreeItem(tree.stage('running'));
    assert.strictEqual(labelOf(stage), 'Running');
    assert.strictEqual(stage.description, '1');

    // The tooltip has the details: command, exit code, error, resources, dependencies, history.
    const failedRow = (await rowsOf('failed'))[0];
    const tip = (await tree.resolveTreeItem(failedRow.item, failedRow.node)).tooltip as vscode.MarkdownString;
    assert.match(tip.value, /echo boom/);
    assert.match(tip.value, /Exit code:\*\* 4/);
    const waitingRow = (await rowsOf('scheduled'))[0];
    assert.match(((await tree.resolveTreeItem(waitingRow.item, waitingRow.node)).tooltip as vscode.MarkdownString).value, /cpu(&nbsp;| )×(&nbsp;| )2/);
    const createdRow = (await rowsOf('created'))[0];
    assert.match(((await tree.resolveTreeItem(createdRow.item, createdRow.node)).tooltip as vscode.MarkdownString).value, /Depends on:\*\* long/);
    // Running rows show the elapsed time; finished ones their total.
    assert.match(String((await rowsOf('running'))[0].item.description), /\d/);
    assert.match(String((await rowsOf('failed'))[0].item.description), /exit 4/);
  });

  it('lists a stage newest first', async () => {
    const api = await getApi();
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const id = await api.scheduleTask({ name: `t${n}`, kind: 'shell', command: 'true' });
      await waitForStatus(api, id, 'completed');
      ids.push(id);
    }
    const rows = await rowsOf('completed');
    assert.deepStrictEqual(
      rows.map((r) => labelOf(r.item)),
      ['t3', 't2', 't1'],
    );
  });

  it('pages a big stage with an "N more…" row, keeps maxFinished, and stays coalesced', async function () {
    this.timeout(60_000);
    const api = await getApi();
    const { tree, orchestrator } = api.testing;
    const maxFinished = api.testing.settings().maxFinished;
    const total = maxFinished + 500;
    const events: (TreeNode[] | undefined)[] = [];
    let lastCompleted = '';
    const sub2 = api.onDidChangeTask((r) => {
      if (r.status === 'completed') lastCompleted = r.name;
    });
    const sub = tree.onDidChangeTreeData((e) => events.push(e === undefined || e === null ? undefined : Array.isArray(e) ? e : [e]));
    try {
      const specs = Array.from({ length: total }, (_, i) => ({ name: `fn ${i}`, key: `k${i}`, kind: 'function', run: () => i }));
      await api.scheduleWorkflow(specs);
      await orchestrator.whenIdle();
      await new Promise((r) => setTimeout(r, 250));
      tree.flush();
      // Each event names a few stage rows (or task rows); never `undefined`, never one per task event
      // (there were four per task: created, scheduled, running, completed).
      assert.ok(
        events.every((e) => e !== undefined),
        'no full refresh',
      );
      assert.ok(events.length < 100, `${events.length} refresh events for ${total} tasks`);
      // The core keeps the newest maxFinished finished records (older ones go to the archive file);
      // the tree follows it although pruning emits no task event.
      assert.strictEqual((await tree.getTreeItem(tree.stage('completed'))).description, String(maxFinished));
      const rows = tree.getChildren(tree.stage('completed'));
      assert.strictEqual(rows.length, 201, 'one page of 200 and the "more" row');
      const moreItem = await tree.getTreeItem(rows[200]);
      assert.strictEqual(moreItem.contextValue, 'more');
      assert.strictEqual(labelOf(moreItem), `${maxFinished - 200} more…`);
      assert.strictEqual(moreItem.command?.command, CommandIds.showMore);
      assert.strictEqual(labelOf(await tree.getTreeItem(rows[0])), lastCompleted, 'newest first');
      await vscode.commands.executeCommand(CommandIds.showMore, 'completed');
      assert.strictEqual(tree.getChildren(tree.stage('completed')).length, 401);
    } finally {
      sub.dispose();
      sub2.dispose();
    }
  });

  it('stays fast with 10,000 tasks waiting: one page, counts, coalesced events', async function () {
    this.timeout(60_000);
    const api = await getApi();
    const { tree, orchestrator } = api.testing;
    await vscode.commands.executeCommand(CommandIds.pause);
    let events = 0;
    const sub = tree.onDidChangeTreeData(() => events++);
    try {
      const specs = Array.from({ length: 10_000 }, (_, i) => ({ name: `w ${i}`, key: `w${i}`, kind: 'function', run: () => i }));
      await api.scheduleWorkflow(specs);
      await new Promise((r) => setTimeout(r, 250));
      tree.flush();
      const started = Date.now();
      const rows = tree.getChildren(tree.stage('created'));
      const items = await Promise.all(rows.map((n) => tree.getTreeItem(n)));
      const ms = Date.now() - started;
      assert.strictEqual(rows.length, 201);
      assert.strictEqual(labelOf(items[200]), '9800 more…');
      assert.strictEqual((await tree.getTreeItem(tree.stage('created'))).description, '10000');
      assert.ok(ms < 500, `the first page of 10,000 took ${ms} ms`);
      assert.ok(events < 20, `${events} refresh events for 10,000 new tasks`);
      assert.match(api.testing.statusBar.text, /0 running · 10000 queued/);
      assert.strictEqual(await orchestrator.cancelAll('test'), 10_000);
    } finally {
      sub.dispose();
    }
  });

  it('shows running and queued counts in the status bar', async () => {
    const api = await getApi();
    const id = await api.scheduleTask({ name: 'long', kind: 'shell', command: 'sleep 30' });
    await waitForStatus(api, id, 'running');
    await waitFor(() => /1 running · 0 queued/.test(api.testing.statusBar.text), `the status bar (${api.testing.statusBar.text})`);
  });
});
