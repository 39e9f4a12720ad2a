// Restricted Mode: nothing from the workspace's files (workflows, tasks.json) runs, the user is told
// why, and what the user types (a shell command) still runs.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { CommandIds } from '../../../src/extension/ids';
import { getApi, rejection, waitForStatus } from '../helpers';

describe('trust: Restricted Mode', () => {
  it('runs no workflow from .vscode/orchestrator.json, saying why', async () => {
    const api = await getApi();
    assert.strictEqual(vscode.workspace.isTrusted, false);
    const before = api.testing.orchestrator.getTasks().length;
    const err = await rejection(vscode.commands.executeCommand(CommandIds.runWorkflow, 'ci'));
    assert.match(err.message, /Workflows from \.vscode\/orchestrator\.json do not run in Restricted Mode/);
    const err2 = await rejection(vscode.commands.executeCommand(CommandIds.scheduleTask, { workflow: 'ci' }));
    assert.match(err2.message, /Restricted Mode/);
    assert.strictEqual(api.testing.orchestrator.getTasks().length, before, 'nothing was scheduled');
  });

  it('runs no tasks.json task, by command or through the API', async () => {
    const api = await getApi();
    const err = await rejection(vscode.commands.executeCommand(CommandIds.scheduleTask, { task: 'build' }));
    assert.match(err.message, /Tasks from tasks\.json and task providers do not run in Restricted Mode/);
    const before = api.testing.orchestrator.getTasks().length;
    const err2 = await rejection(api.scheduleTask({ name: 'build', kind: 'vscodeTask', payload: { label: 'build' } }));
    assert.match(err2.message, /do not run in Restricted Mode/);
    assert.strictEqual(api.testing.orchestrator.getTasks().length, before, 'nothing was scheduled');
  });

  it('still runs a shell command the user gives', async () => {
    const api = await getApi();
    const id = await vscode.commands.executeCommand<string>(CommandIds.scheduleTask, 'echo typed-by-the-user');
    assert.strictEqual((await waitForStatus(api, id, 'completed')).result?.exitCode, 0);
  });
});
