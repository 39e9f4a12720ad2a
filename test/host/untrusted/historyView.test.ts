// Restricted Mode: the History view lists, searches, shows output and removes, but reruns nothing.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { TaskRecord } from '../../../src/core/model/model';
import { CommandIds } from '../../../src/extension/ids';
import { getApi, rejection } from '../helpers';

function record(id: string, at: number): TaskRecord {
  return {
    id,
    name: `restricted ${id}`,
    kind: 'shell',
    status: 'failed',
    priority: 0,
    attempts: 1,
    createdAt: at,
    startedAt: at,
    finishedAt: at + 5,
    history: [
      { status: 'created', at },
      { status: 'failed', at: at + 5 },
    ],
    result: { exitCode: 1, output: 'restricted-output\n' },
    spec: { name: `restricted ${id}`, kind: 'shell', command: 'exit 1' },
    dependsOn: [],
  };
}

describe('History view in Restricted Mode', () => {
  it('lists and shows output, refuses every rerun, and still removes', async () => {
    const api = await getApi();
    const { history, historyTree: tree } = api.testing;
    assert.ok(history && tree, 'the History view is wired');
    assert.strictEqual(vscode.workspace.isTrusted, false);
    await history.append([record('hv-untrusted-1', Date.now() - 1000)]);
    await tree.reload();
    assert.ok(tree.record('hv-untrusted-1'), 'listed');

    const before = api.testing.orchestrator.getTasks().length;
    for (const id of [CommandIds.rerunFromHistory, CommandIds.rerunFailedFromHistory, CommandIds.retryFromHistory]) {
      const err = await rejection(vscode.commands.executeCommand(id, 'hv-untrusted-1'));
      assert.match(err.message, /Reruns from the run history do not run in Restricted Mode/, id);
    }
    assert.strictEqual(api.testing.orchestrator.getTasks().length, before, 'nothing was scheduled');

    await vscode.commands.executeCommand(CommandIds.showHistoryOutput, 'hv-untrusted-1');
    assert.match(vscode.window.activeTextEditor?.document.getText() ?? '', /restricted-output/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');

    await vscode.commands.executeCommand(CommandIds.removeFromHistory, 'hv-untrusted-1');
    assert.strictEqual(tree.record('hv-untrusted-1'), undefined);
  });
});
