// Workflows from .vscode/orchestrator.json: they run with their dependencies, and an invalid file is
// refused with an error naming the field, and nothing of it runs.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { CommandIds } from '../../src/extension/ids';
import { clearTaskCache, getApi, readWorkflowFile, rejection, reset, waitFor, waitForStatus, writeWorkflowFile } from './helpers';

describe('workflows (.vscode/orchestrator.json)', () => {
  let original = '';
  before(async () => {
    await reset(await getApi());
    original = await readWorkflowFile();
  });
  afterEach(async () => {
    await writeWorkflowFile(original);
    await reset(await getApi());
  });

  it('runs a workflow: dependencies, priorities, resources, retries as declared', async () => {
    const api = await getApi();
    await writeWorkflowFile({
      version: 1,
      workflows: {
        small: {
          tasks: [
            { key: 'a', command: 'echo a', priority: 3 },
            { key: 'b', command: 'echo b', dependsOn: ['a'], resources: { cpu: 1 }, retries: 2, timeoutMs: 5000 },
            { key: 'c', task: 'build', dependsOn: ['a'] },
            { key: 'd', command: 'exit 1', dependsOn: ['b', 'c'] },
            { key: 'e', command: 'echo never', dependsOn: ['d'] },
          ],
        },
      },
    });
    const ids = await vscode.commands.executeCommand<string[]>(CommandIds.runWorkflow, 'small');
    assert.strictEqual(ids.length, 5);
    const [a, b, c, d, e] = ids;
    await waitForStatus(api, e, 'cancelled', 20_000);
    assert.strictEqual(api.getTask(a)?.status, 'completed');
    assert.strictEqual(api.getTask(a)?.priority, 3);
    assert.strictEqual(api.getTask(b)?.spec.retries, 2);
    assert.deepStrictEqual(api.getTask(b)?.spec.resources, { cpu: 1 });
    assert.strictEqual(api.getTask(c)?.kind, 'vscodeTask');
    assert.strictEqual(api.getTask(c)?.status, 'completed');
    assert.strictEqual(api.getTask(d)?.status, 'failed');
    assert.match(api.getTask(e)?.history.at(-1)?.reason ?? '', /Dependency .* failed/);
    // b and c both waited for a.
    assert.ok((api.getTask(b)?.startedAt ?? 0) >= (api.getTask(a)?.finishedAt ?? Infinity));
    assert.ok((api.getTask(c)?.startedAt ?? 0) >= (api.getTask(a)?.finishedAt ?? Infinity));
  });

  it("runs the demo workspace's ci workflow to the end", async () => {
    const api = await getApi();
    await writeWorkflowFile(original);
    // An empty cache: the demo's cached tasks run (cache.test.ts covers their restore).
    await clearTaskCache();
    const ids = await vscode.commands.executeCommand<string[]>(CommandIds.runWorkflow, 'ci');
    assert.deepStrictEqual(
      ids.map((id) => api.getTask(id)?.spec.key),
      ['install', 'lint', 'test', 'build', 'package'],
    );
    const last = await waitForStatus(api, ids[4], ['completed', 'failed', 'cancelled'], 60_000);
    const summary = ids.map((id) => `${api.getTask(id)?.spec.key}: ${api.getTask(id)?.status} ${api.getTask(id)?.error?.message ?? ''}`).join('; ');
    assert.strictEqual(last.status, 'completed', summary);
  });

  const invalid: [string, unknown, RegExp, string][] = [
    [
      'a wrong type',
      { workflows: { w: { tasks: [{ key: 'a', command: 'true', priority: 'high' }] } } },
      /Expected `workflows\.w\.tasks\[0\]\.priority` to be an integer, got `"high"` \(string\)/,
      'workflows.w.tasks[0].priority',
    ],
    [
      'a misspelt field',
      { workflows: { w: { tasks: [{ key: 'a', command: 'true', dependOn: [] }] } } },
      /Unexpected property `workflows\.w\.tasks\[0\]\.dependOn`; allowed: `key`/,
      'workflows.w.tasks[0].dependOn',
    ],
    [
      'an unknown dependency',
      { workflows: { w: { tasks: [{ key: 'a', command: 'true', dependsOn: ['zz'] }] } } },
      /to be a key of workflow `w` \(`a`\), got `"zz"`/,
      'workflows.w.tasks[0].dependsOn[0]',
    ],
    ['neither command nor task', { workflows: { w: { tasks: [{ key: 'a' }] } } }, /exactly one of `command`/, 'workflows.w.tasks[0]'],
    [
      'a cycle',
      {
        workflows: {
          w: {
            tasks: [
              { key: 'a', command: 'true', dependsOn: ['b'] },
              { key: 'b', command: 'true', dependsOn: ['a'] },
            ],
          },
        },
      },
      /cycle/i,
      '',
    ],
  ];
  for (const [what, file, message, field] of invalid) {
    it(`refuses a file with ${what}, naming the field, and runs nothing of it`, async () => {
      const api = await getApi();
      await writeWorkflowFile(file);
      const before = api.testing.orchestrator.getTasks().length;
      const err = await rejection(vscode.commands.executeCommand(CommandIds.runWorkflow, 'w'));
      assert.match(err.message, message);
      if (field) assert.strictEqual((err as Error & { field?: string }).field, field);
      assert.strictEqual(api.testing.orchestrator.getTasks().length, before, 'nothing was scheduled');
    });
  }

  it('runs a good workflow of a file whose other workflow is broken, and refuses the broken one with its problems', async () => {
    const api = await getApi();
    await writeWorkflowFile({
      workflows: {
        good: { tasks: [{ key: 'a', command: 'true' }] },
        broken: { tasks: [{ key: 'a', command: 'true', readyWhen: { port: 70000 } }] },
      },
    });
    const before = api.testing.orchestrator.getTasks().length;
    const err = await rejection(vscode.commands.executeCommand(CommandIds.runWorkflow, 'broken'));
    assert.match(err.message, /workflow `broken`: Expected `workflows\.broken\.tasks\[0\]\.readyWhen\.port` to be an integer <= 65535, got `70000`/);
    assert.strictEqual((err as Error & { field?: string }).field, 'workflows.broken.tasks[0].readyWhen.port');
    assert.strictEqual(api.testing.orchestrator.getTasks().length, before, 'nothing was scheduled');
    const ids = await vscode.commands.executeCommand<string[]>(CommandIds.runWorkflow, 'good');
    await waitForStatus(api, ids[0], ['completed']);
  });

  it("passes the workflow's failFast (default true) to the run", async () => {
    const api = await getApi();
    const tasks = [
      { key: 'boom', command: 'exit 3' },
      { key: 'slow', command: 'sleep 0.6' },
      { key: 'after', command: 'true', dependsOn: ['slow'] },
    ];
    await writeWorkflowFile({ workflows: { fast: { tasks }, slow: { failFast: false, tasks } } });
    const fast = await vscode.commands.executeCommand<string[]>(CommandIds.runWorkflow, 'fast');
    assert.strictEqual((await waitForStatus(api, fast[2], ['completed', 'failed', 'cancelled'], 20_000)).status, 'cancelled');
    const slow = await vscode.commands.executeCommand<string[]>(CommandIds.runWorkflow, 'slow');
    assert.strictEqual((await waitForStatus(api, slow[2], ['completed', 'failed', 'cancelled'], 20_000)).status, 'completed');
  });

  it('refuses invalid JSON, and every workflow of a broken file', async () => {
    await writeWorkflowFile('{ "workflows": { "w": ');
    const err = await rejection(vscode.commands.executeCommand(CommandIds.runWorkflow, 'w'));
    assert.match(err.message, /orchestrator\.json: Expected valid JSON/);
  });

  it('uses the text of an open, unsaved editor', async () => {
    const api = await getApi();
    await writeWorkflowFile({ workflows: { w: { tasks: [{ key: 'a', command: 'true' }] } } });
    const uri = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, '.vscode', 'orchestrator.json');
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit((e) =>
      e.replace(
        new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)),
        JSON.stringify({ workflows: { w: { tasks: [{ key: 'edited', command: 'true' }] } } }),
      ),
    );
    const ids = await vscode.commands.executeCommand<string[]>(CommandIds.runWorkflow, 'w');
    assert.strictEqual(api.getTask(ids[0])?.spec.key, 'edited');
    await waitFor(() => api.getTask(ids[0])?.status === 'completed', 'the task to complete');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('contributes the same schema to the editor (jsonValidation)', async () => {
    const ext = vscode.extensions.getExtension('orchestrator-team.orchestrator');
    const contributes = (ext?.packageJSON as { contributes: { jsonValidation: { fileMatch: string; url: string }[] } }).contributes;
    const entry = contributes.jsonValidation[0];
    const schema = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(ext!.extensionUri, entry.url)))) as {
      title: string;
    };
    assert.strictEqual(schema.title, 'Orchestrator workflows');
  });
});
