// Every command, called with arguments as a keybinding, another extension or a test would: no UI.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { CommandIds, ContextKeys } from '../../src/extension/ids';
import { DETAILS_SCHEME } from '../../src/extension/tasksView/taskDetails';
import { getApi, rejection, reset, waitFor, waitForStatus } from './helpers';

describe('commands (with arguments)', () => {
  before(async () => reset(await getApi()));
  afterEach(async () => reset(await getApi()));

  it('scheduleTask runs a shell command line and returns its id; its output is kept', async () => {
    const api = await getApi();
    const id = await vscode.commands.executeCommand<string>(CommandIds.scheduleTask, 'echo hello-from-command');
    assert.strictEqual(typeof id, 'string');
    const done = await waitForStatus(api, id, 'completed');
    assert.strictEqual(done.kind, 'shell');
    assert.strictEqual(done.result?.exitCode, 0);
    // Runs in the workspace folder, not the extension host's directory.
    assert.strictEqual(done.spec.cwd, vscode.workspace.workspaceFolders?.[0].uri.fsPath);
    const text = await waitFor(async () => {
      const t = await api.testing.output.read(done);
      return t.includes('hello-from-command') ? t : undefined;
    }, 'the output to be kept');
    assert.match(text, /hello-from-command/);
  });

  it('scheduleTask takes { command, name, priority, ... } and refuses an invalid spec, naming the field', async () => {
    const api = await getApi();
    const id = await vscode.commands.executeCommand<string>(CommandIds.scheduleTask, { command: 'true', name: 'named', priority: 7 });
    const r = await waitForStatus(api, id, 'completed');
    assert.strictEqual(r.name, 'named');
    assert.strictEqual(r.priority, 7);
    const before = api.testing.orchestrator.getTasks().length;
    const err = await rejection(vscode.commands.executeCommand(CommandIds.scheduleTask, { command: 'true', priority: 'high' }));
    assert.match(err.message, /priority/);
    const err2 = await rejection(vscode.commands.executeCommand(CommandIds.scheduleTask, 42));
    assert.match(err2.message, /Expected a shell command or an object/);
    assert.strictEqual(api.testing.orchestrator.getTasks().length, before, 'nothing was created');
  });

  it('scheduleTask { task } runs a tasks.json task and { workflow } runs a workflow', async () => {
    const api = await getApi();
    const id = await vscode.commands.executeCommand<string>(CommandIds.scheduleTask, { task: 'build' });
    const r = await waitForStatus(api, id, ['completed', 'failed'], 20_000);
    assert.strictEqual(r.kind, 'vscodeTask');
    assert.strictEqual(r.status, 'completed', r.error?.message);
    const ids = await vscode.commands.executeCommand<string[]>(CommandIds.scheduleTask, { workflow: 'nightly' });
    assert.strictEqual(ids.length, 2);
    await vscode.commands.executeCommand(CommandIds.cancelAll);
  });

  it("runWorkflow takes a name or { name } and returns the ids in the file's order", async () => {
    const api = await getApi();
    const ids = await vscode.commands.executeCommand<string[]>(CommandIds.runWorkflow, { name: 'nightly' });
    assert.deepStrictEqual(
      ids.map((id) => api.getTask(id)?.spec.key),
      ['fetch', 'report'],
    );
    assert.deepStrictEqual(api.getTask(ids[1])?.dependsOn, [ids[0]]);
    const err = await rejection(vscode.commands.executeCommand(CommandIds.runWorkflow, 'no-such-workflow'));
    assert.match(err.message, /one of `ci`, `nightly`/);
  });

  it('cancelTask takes an id, { id } or a tree row; cancelAll cancels the rest and returns how many', async () => {
    const api = await getApi();
    const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map(() => vscode.commands.executeCommand<string>(CommandIds.scheduleTask, 'sleep 30')));
    await vscode.commands.executeCommand(CommandIds.cancelTask, a);
    await vscode.commands.executeCommand(CommandIds.cancelTask, { id: b });
    api.testing.tree.flush();
    const node = api.testing.tree.nodeOf(c);
    assert.ok(node);
    await vscode.commands.executeCommand(CommandIds.cancelTask, node);
    for (const id of [a, b, c]) assert.strictEqual((await waitForStatus(api, id, 'cancelled')).history.at(-1)?.reason, 'Cancelled by the user');
    assert.strictEqual(await vscode.commands.executeCommand<number>(CommandIds.cancelAll), 1);
    await waitForStatus(api, d, 'cancelled');
    const err = await rejection(vscode.commands.executeCommand(CommandIds.cancelTask, 'no-such-id'));
    assert.match(err.message, /No task with id `no-such-id`/);
  });

  it('retryTask schedules a failed task again as a new task', async () => {
    const api = await getApi();
    const id = await vscode.commands.executeCommand<string>(CommandIds.scheduleTask, 'exit 3');
    const failed = await waitForStatus(api, id, 'failed');
    assert.strictEqual(failed.result?.exitCode, 3);
    const again = await vscode.commands.executeCommand<string>(CommandIds.retryTask, id);
    assert.notStrictEqual(again, id);
    assert.strictEqual((await waitForStatus(api, again, 'failed')).spec.command, 'exit 3');
  });

  it('pause keeps new tasks Created, resume runs them; the context key follows', async () => {
    const api = await getApi();
    await vscode.commands.executeCommand(CommandIds.pause);
    assert.strictEqual(api.testing.orchestrator.paused, true);
    assert.match(api.testing.statusBar.text, /debug-pause/);
    const id = await vscode.commands.executeCommand<string>(CommandIds.scheduleTask, 'true');
    await new Promise((r) => setTimeout(r, 200));
    assert.strictEqual(api.getTask(id)?.status, 'created');
    await vscode.commands.executeCommand(CommandIds.resume);
    assert.strictEqual(api.testing.orchestrator.paused, false);
    await waitForStatus(api, id, 'completed');
    assert.ok(ContextKeys.paused);
  });

  it('clearFinished and removeTask drop finished tasks; clearHistory too', async () => {
    const api = await getApi();
    const ids = await Promise.all(['true', 'true', 'true'].map((c) => vscode.commands.executeCommand<string>(CommandIds.scheduleTask, c)));
    for (const id of ids) await waitForStatus(api, id, 'completed');
    assert.strictEqual(await vscode.commands.executeCommand(CommandIds.removeTask, ids[0]), ids[0]);
    assert.strictEqual(api.getTask(ids[0]), undefined);
    assert.strictEqual(await vscode.commands.executeCommand<number>(CommandIds.clearFinished), 2);
    assert.strictEqual(api.testing.tree.count('completed'), 0);
    const more = await vscode.commands.executeCommand<string>(CommandIds.scheduleTask, 'true');
    await waitForStatus(api, more, 'completed');
    assert.strictEqual(await vscode.commands.executeCommand<number>(CommandIds.clearHistory), 1);
  });

  it("showOutput opens the task's output; showDetails opens its record as read-only JSON", async () => {
    const api = await getApi();
    const id = await vscode.commands.executeCommand<string>(CommandIds.scheduleTask, 'echo details-test');
    await waitForStatus(api, id, 'completed');
    assert.strictEqual(await vscode.commands.executeCommand(CommandIds.showOutput, id), id);
    assert.strictEqual(await vscode.commands.executeCommand(CommandIds.showDetails, { id }), id);
    const editor = await waitFor(
      () => vscode.window.activeTextEditor?.document.uri.scheme === DETAILS_SCHEME && vscode.window.activeTextEditor,
      'the details editor',
    );
    const shown = JSON.parse(editor.document.getText()) as { id: string; status: string };
    assert.strictEqual(shown.id, id);
    assert.strictEqual(shown.status, 'completed');
    assert.strictEqual(editor.document.languageId, 'json');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('copyTaskId puts the id on the clipboard', async () => {
    const api = await getApi();
    const id = await vscode.commands.executeCommand<string>(CommandIds.scheduleTask, 'true');
    await waitForStatus(api, id, 'completed');
    assert.strictEqual(await vscode.commands.executeCommand(CommandIds.copyTaskId, id), id);
    assert.strictEqual(await vscode.env.clipboard.readText(), id);
  });

  it('showTasks focuses the view; showMore pages a stage and refuses an unknown one; refresh rebuilds', async () => {
    const api = await getApi();
    await vscode.commands.executeCommand(CommandIds.showTasks);
    await waitFor(() => api.testing.treeView.visible, 'the Tasks view to be visible');
    await vscode.commands.executeCommand(CommandIds.showMore, 'completed');
    const err = await rejection(vscode.commands.executeCommand(CommandIds.showMore, 'done'));
    assert.match(err.message, /Expected a stage/);
    await vscode.commands.executeCommand(CommandIds.refresh);
  });

  it('applies settings without a reload: concurrency, resources, default retries and history size', async () => {
    const api = await getApi();
    const config = vscode.workspace.getConfiguration('orchestrator');
    // The scratch workspace's own settings (demo-workspace/.vscode/settings.json) are put back after.
    const original = ['concurrency', 'resources', 'defaults.retries', 'history.maxFinished'].map((k) => [k, config.inspect(k)?.workspaceValue] as const);
    try {
      await config.update('concurrency', 3, vscode.ConfigurationTarget.Workspace);
      await waitFor(() => api.testing.orchestrator.getSystemStatus().concurrency.limit === 3, 'the concurrency limit to be 3');
      await config.update('resources', { cpu: 5, gpu: 1 }, vscode.ConfigurationTarget.Workspace);
      await waitFor(() => api.testing.orchestrator.getSystemStatus().pools.gpu?.capacity === 1, 'the gpu pool');
      assert.strictEqual(api.testing.orchestrator.getSystemStatus().pools.cpu.capacity, 5);
      await config.update('defaults.retries', 2, vscode.ConfigurationTarget.Workspace);
      await waitFor(() => api.testing.settings().defaultRetries === 2, 'the default retries');
      const id = await vscode.commands.executeCommand<string>(CommandIds.scheduleTask, 'true');
      assert.strictEqual(api.getTask(id)?.spec.retries, 2);
      await waitFor(() => api.getTask(id)?.status === 'completed', 'the task to complete');
      // A smaller history applies at once: the oldest finished records leave memory for the archive.
      await config.update('history.maxFinished', 10, vscode.ConfigurationTarget.Workspace);
      const finished = () => api.testing.orchestrator.getTasks().filter((t) => ['completed', 'failed', 'cancelled'].includes(t.status)).length;
      await waitFor(() => finished() <= 10, 'at most 10 finished tasks kept');
    } finally {
      for (const [k, v] of original) await config.update(k, v, vscode.ConfigurationTarget.Workspace);
    }
  });
});
