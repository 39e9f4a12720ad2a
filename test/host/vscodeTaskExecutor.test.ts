// The `vscodeTask` executor on real VS Code tasks: the demo workspace's tasks.json, and tasks built here.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { runTask } from '../../src/extension/executors/runTask';
import { findTask, parseVscodeTaskPayload } from '../../src/extension/executors/vscodeTaskExecutor';
import { getApi, reset, waitFor, waitForStatus, workspaceFolder } from './helpers';

function shellTask(name: string, command: string): vscode.Task {
  return new vscode.Task({ type: 'shell', orchestratorTest: name }, workspaceFolder(), name, 'orchestrator-test', new vscode.ShellExecution(command));
}

describe('vscodeTask executor', () => {
  before(async () => reset(await getApi()));
  afterEach(async () => reset(await getApi()));

  it('runs a tasks.json task through the orchestrator and takes its exit code', async () => {
    const api = await getApi();
    const id = await api.scheduleTask({ name: 'lint via tasks.json', kind: 'vscodeTask', payload: { label: 'lint' } });
    const r = await waitForStatus(api, id, ['completed', 'failed'], 20_000);
    assert.strictEqual(r.status, 'completed', r.error?.message);
    assert.strictEqual(r.result?.exitCode, 0);
  });

  it('finds tasks by label, tasks.json first', async () => {
    const task = await findTask({ label: 'build' });
    assert.strictEqual(task.name, 'build');
    assert.strictEqual(task.source, 'Workspace');
  });

  it('fails a task whose process exits non-zero, with that exit code', async () => {
    const result = await runTask(shellTask('exit-5', 'exit 5'), new AbortController().signal);
    assert.deepStrictEqual(result, { exitCode: 5 });
  });

  it('terminates the task on abort (cancel or timeout) and rejects', async () => {
    const controller = new AbortController();
    let ended = false;
    const sub = vscode.tasks.onDidEndTask((e) => {
      if (e.execution.task.name === 'sleeper') ended = true;
    });
    try {
      const running = runTask(shellTask('sleeper', 'sleep 60'), controller.signal);
      await waitFor(() => vscode.tasks.taskExecutions.some((e) => e.task.name === 'sleeper'), 'the task to start');
      controller.abort();
      await assert.rejects(running);
      await waitFor(() => ended, 'the task to end', 15_000);
    } finally {
      sub.dispose();
    }
  });

  it('fails a task naming an unknown label, listing the tasks there are', async () => {
    const api = await getApi();
    const slow = await api.scheduleTask({ name: 'missing', kind: 'vscodeTask', payload: { label: 'sleep-task-not-there' } });
    const failed = await waitForStatus(api, slow, 'failed', 20_000);
    assert.match(failed.error?.message ?? '', /No VS Code task labelled `sleep-task-not-there`; available: .*`build`/);
  });

  it('refuses a malformed payload, naming the field', () => {
    assert.throws(() => parseVscodeTaskPayload({ label: 3 }), /Expected `payload.label` to be a non-empty string, got `3` \(number\)/);
    assert.throws(() => parseVscodeTaskPayload('build'), /Expected `payload` to be an object/);
    assert.deepStrictEqual(parseVscodeTaskPayload({ label: 'x', type: 'npm' }), { label: 'x', type: 'npm' });
  });
});
