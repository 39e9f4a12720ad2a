// Triggers of the workflow file (`"on": { "save": [...] }`): a save of a matching file runs the
// workflow once (several saves within the debounce too), a save of another file runs nothing, and
// Pause Trigger / Resume Trigger switch it off and on. The Watching node lists the trigger.
//
// "Nothing happened" is checked where it is decided: this test's own save listener runs after the
// extension's (registered at activation), so when it is called the trigger has seen the save.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { TriggerState } from '../../src/core/triggers/triggerRunner';
import { CommandIds } from '../../src/extension/ids';
import type { TriggerItem } from '../../src/extension/triggers/triggerService';
import { getApi, labelOf, readWorkflowFile, reset, waitFor, workspaceFolder, writeWorkflowFile } from './helpers';

const SCRATCH = 'trigger-scratch';
/** Unique to this suite, so its runs are told apart from every other task in the host. */
const KEY = 'trigger-mark';

describe('triggers (on save)', () => {
  let original = '';
  const scratch = (): vscode.Uri => vscode.Uri.joinPath(workspaceFolder().uri, SCRATCH);
  const watched = (): vscode.Uri => vscode.Uri.joinPath(scratch(), 'watched.txt');
  const other = (): vscode.Uri => vscode.Uri.joinPath(scratch(), 'other.md');
  const config = (): vscode.Uri => vscode.Uri.joinPath(scratch(), 'task.cfg');

  let api: Awaited<ReturnType<typeof getApi>>;

  before(async () => {
    api = await getApi();
    await reset(api);
    original = await readWorkflowFile();
    await vscode.workspace.fs.writeFile(watched(), new TextEncoder().encode('0\n'));
    await vscode.workspace.fs.writeFile(other(), new TextEncoder().encode('0\n'));
    await vscode.workspace.fs.writeFile(config(), new TextEncoder().encode('0\n'));
    await writeWorkflowFile({
      version: 1,
      workflows: {
        onsave: {
          description: 'Run by the triggers host test',
          on: { save: [`${SCRATCH}/**/*.txt`], debounceMs: 400 },
          onRunning: 'queue',
          tasks: [{ key: KEY, command: 'echo triggered' }],
        },
        onchange: {
          on: { change: [`${SCRATCH}/changes/**`], debounceMs: 100 },
          tasks: [{ key: 'trigger-change-mark', command: 'echo changed' }],
        },
        taskwatch: {
          tasks: [
            { key: 'tw-dep', command: 'echo dep' },
            { key: 'tw-target', command: 'echo target', dependsOn: ['tw-dep'], on: { save: [`${SCRATCH}/*.cfg`], debounceMs: 100 } },
            { key: 'tw-unrelated', command: 'echo unrelated' },
          ],
        },
      },
    });
    await waitFor(() => trigger() && api.testing.triggers.find('taskwatch/tw-target').length, 'the triggers to be loaded from the workflow file');
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await writeWorkflowFile(original);
    await vscode.workspace.fs.delete(scratch(), { recursive: true, useTrash: false });
    await waitFor(() => api.testing.triggers.find('onsave').length === 0, 'the trigger to go with the workflow file');
    await reset(api);
  });

  afterEach(async () => {
    const t = trigger();
    if (t?.state.paused) await vscode.commands.executeCommand(CommandIds.resumeTrigger, 'onsave');
    await waitFor(() => idle(trigger()?.state), 'the trigger to be idle');
    await reset(api);
  });

  function trigger(): TriggerItem | undefined {
    return api.testing.triggers.find('onsave')[0];
  }

  function idle(state: TriggerState | undefined): boolean {
    return !!state && !state.running && state.pendingSince === undefined;
  }

  function runs(): number {
    return api.testing.orchestrator.getTasks().filter((r) => r.spec.key === KEY).length;
  }

  /** Edits and saves `uri`; resolves once the save event has reached every listener, the extension's first. */
  async function save(uri: vscode.Uri): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(uri);
    const seen = new Promise<void>((resolve) => {
      const sub = vscode.workspace.onDidSaveTextDocument((d) => {
        if (d.uri.toString() !== uri.toString()) return;
        sub.dispose();
        resolve();
      });
    });
    const edit = new vscode.WorkspaceEdit();
    edit.insert(uri, new vscode.Position(0, 0), 'x');
    assert.ok(await vscode.workspace.applyEdit(edit), 'the edit applies');
    assert.ok(await doc.save(), `${uri.path} is saved`);
    await seen;
  }

  /** The trigger's next run, finished: waits for it to start and for the trigger to be idle again. */
  async function nextRunFinished(before: number): Promise<void> {
    await waitFor(() => runs() > before, 'the triggered workflow to start');
    await waitFor(() => idle(trigger()?.state) && trigger()?.state.lastRun !== undefined, 'the triggered run to finish');
  }

  it('lists the trigger under a Watching node of the Tasks view', async () => {
    const tree = api.testing.tree;
    const roots = (await tree.getChildren()) ?? [];
    const root = roots[0];
    assert.ok(root, 'the tree has roots');
    assert.strictEqual(labelOf(await tree.getTreeItem(root)), 'Watching');
    const rows = (await tree.getChildren(root)) ?? [];
    const items = await Promise.all(rows.map((r) => tree.getTreeItem(r)));
    assert.deepStrictEqual(items.map(labelOf), ['onsave', 'onchange', 'taskwatch/tw-target']);
    const item = items[0]!;
    assert.strictEqual(item.contextValue, 'trigger.active');
    assert.strictEqual((item.iconPath as vscode.ThemeIcon).id, 'eye');
    assert.match(String(item.description), /^on save trigger-scratch\/\*\*\/\*\.txt/);
    assert.match((item.tooltip as vscode.MarkdownString).value, /Debounce:\*\* 400(&nbsp;| )ms/);
    assert.match((item.tooltip as vscode.MarkdownString).value, /While a run is in progress:\*\* queue/);
  });

  it('runs the workflow exactly once for a save of a matching file', async () => {
    const before = runs();
    await save(watched());
    assert.ok(trigger()?.state.pendingSince !== undefined, 'the save started the debounce');
    await nextRunFinished(before);
    assert.strictEqual(runs() - before, 1);
    assert.strictEqual(trigger()?.state.lastRun?.outcome, 'completed');
  });

  it('runs it once for several saves within the debounce', async () => {
    const before = runs();
    for (let i = 0; i < 4; i++) await save(watched());
    await nextRunFinished(before);
    assert.strictEqual(runs() - before, 1);
  });

  it('runs nothing for a save of a file that does not match', async () => {
    const before = runs();
    await save(other());
    const state = trigger()?.state;
    assert.strictEqual(state?.pendingSince, undefined, 'the save did not start the debounce');
    assert.strictEqual(state?.running, false);
    assert.strictEqual(runs(), before);
  });

  it('stops firing when paused by Pause Trigger, and fires again after Resume Trigger', async () => {
    assert.strictEqual(await vscode.commands.executeCommand(CommandIds.pauseTrigger, 'onsave'), 'onsave');
    assert.strictEqual(trigger()?.state.paused, true);
    const before = runs();
    await save(watched());
    assert.strictEqual(trigger()?.state.pendingSince, undefined, 'a paused trigger ignores the save');
    assert.strictEqual(runs(), before);

    const key = trigger()?.key as string;
    const node = api.testing.tree.triggerNode(key);
    assert.ok(node);
    const item = await api.testing.tree.getTreeItem(node);
    assert.strictEqual(item.contextValue, 'trigger.paused');
    assert.strictEqual((item.iconPath as vscode.ThemeIcon).id, 'eye-closed');
    assert.match(String(item.description), /^paused/);

    // From the context menu, the command gets the row.
    await vscode.commands.executeCommand(CommandIds.resumeTrigger, node);
    assert.strictEqual(trigger()?.state.paused, false);
    await save(watched());
    await nextRunFinished(before);
    assert.strictEqual(runs() - before, 1);
  });

  it("refreshes the Watching node's paused count when a trigger is paused and resumed", async () => {
    const tree = api.testing.tree;
    const root = ((await tree.getChildren()) ?? [])[0];
    assert.ok(root, 'the tree has roots');
    const refreshed: unknown[] = [];
    const sub = tree.onDidChangeTreeData!((e) => refreshed.push(...(e === undefined ? [root] : Array.isArray(e) ? e : [e])));
    try {
      await vscode.commands.executeCommand(CommandIds.pauseTrigger, 'onsave');
      await waitFor(() => refreshed.includes(root), 'the Watching node to be refreshed on pause');
      assert.strictEqual((await tree.getTreeItem(root)).description, '3 · 1 paused');
      refreshed.length = 0;
      await vscode.commands.executeCommand(CommandIds.resumeTrigger, 'onsave');
      await waitFor(() => refreshed.includes(root), 'the Watching node to be refreshed on resume');
      assert.strictEqual((await tree.getTreeItem(root)).description, '3');
    } finally {
      sub.dispose();
    }
  });

  it('runs a task-level trigger as its task and what it depends on, nothing else of the workflow', async () => {
    const count = (key: string) => api.testing.orchestrator.getTasks().filter((r) => r.spec.key === key).length;
    const target = () => api.testing.triggers.find('taskwatch/tw-target')[0];
    await save(config());
    assert.ok(target()?.state.pendingSince !== undefined, 'the save started the debounce');
    await waitFor(() => count('tw-target') === 1, 'the triggered task to be scheduled');
    await waitFor(() => idle(target()?.state) && target()?.state.lastRun?.outcome === 'completed', 'the triggered run to complete');
    assert.strictEqual(count('tw-dep'), 1);
    assert.strictEqual(count('tw-unrelated'), 0);
  });

  it('runs a change trigger when a matching file is created on disk', async () => {
    const count = () => api.testing.orchestrator.getTasks().filter((r) => r.spec.key === 'trigger-change-mark').length;
    const changeTrigger = () => api.testing.triggers.find('onchange')[0];
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(scratch(), 'changes', 'a.txt'), new TextEncoder().encode('new\n'));
    await waitFor(() => count() === 1, 'the file watcher to run the workflow');
    await waitFor(() => idle(changeTrigger()?.state) && changeTrigger()?.state.lastRun?.outcome === 'completed', 'the run to complete');
    assert.strictEqual(count(), 1);
  });

  it('keeps a paused trigger paused when the workflow file changes it', async () => {
    await vscode.commands.executeCommand(CommandIds.pauseTrigger, 'onsave');
    const text = await readWorkflowFile();
    await writeWorkflowFile(text.replace('"debounceMs": 400', '"debounceMs": 450'));
    await waitFor(() => trigger()?.def.debounceMs === 450, 'the edited trigger to be loaded');
    assert.strictEqual(trigger()?.state.paused, true);
    await writeWorkflowFile(text);
    await waitFor(() => trigger()?.def.debounceMs === 400, 'the trigger to be loaded as before');
    assert.strictEqual(trigger()?.state.paused, true);
  });

  it('refuses an id that names no trigger, naming the known ones', async () => {
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(CommandIds.pauseTrigger, 'nope')),
      /Expected a trigger id, one of `onsave`, `onchange`, `taskwatch\/tw-target`, got `"nope"` \(string\)/,
    );
  });
});
