// Restricted Mode: the workflow file's triggers are not read and watch nothing, so a save of a
// matching file runs nothing.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { getApi, readWorkflowFile, workspaceFolder, writeWorkflowFile } from '../helpers';

describe('triggers in Restricted Mode', () => {
  const watched = (): vscode.Uri => vscode.Uri.joinPath(workspaceFolder().uri, 'trigger-untrusted.txt');
  let original = '';

  before(async () => {
    original = await readWorkflowFile();
    await vscode.workspace.fs.writeFile(watched(), new TextEncoder().encode('0\n'));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await writeWorkflowFile(original);
    await vscode.workspace.fs.delete(watched(), { useTrash: false });
  });

  it('loads no trigger and runs nothing on a matching save', async () => {
    const api = await getApi();
    assert.strictEqual(vscode.workspace.isTrusted, false);
    await writeWorkflowFile({
      version: 1,
      workflows: { untrustedsave: { on: { save: ['*.txt'], debounceMs: 0 }, tasks: [{ key: 'untrusted-mark', command: 'echo never' }] } },
    });
    await api.testing.triggers.reload();
    assert.deepStrictEqual(api.testing.triggers.list(), []);

    const doc = await vscode.workspace.openTextDocument(watched());
    const edit = new vscode.WorkspaceEdit();
    edit.insert(doc.uri, new vscode.Position(0, 0), 'x');
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.ok(await doc.save());
    assert.deepStrictEqual(api.testing.triggers.list(), []);
    assert.strictEqual(api.testing.orchestrator.getTasks().filter((r) => r.spec.key === 'untrusted-mark').length, 0);
  });
});
