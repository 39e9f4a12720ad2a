// VS Code tasks as VS Code runs them: found by the label Run Task shows, compounds (tasks.json
// `dependsOn`) expanded into tasks of ours, inputs and variables resolved. The demo workspace's
// tasks.json has every shape used here (npm tasks with and without a label, compounds in sequence
// and in parallel with a failing step, a task with an input).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { TaskRecord } from '../../src/core/model/model';
import { expandCompound } from '../../src/extension/executors/compoundTasks';
import { CommandIds } from '../../src/extension/ids';
import { resolveInCatalog, type TaskCatalog } from '../../src/extension/executors/taskResolver';
import { findTask, taskLabel } from '../../src/extension/executors/vscodeTaskExecutor';
import { getApi, readWorkflowFile, rejection, reset, waitFor, waitForStatus, workspaceFolder, writeWorkflowFile } from './helpers';

const FINAL = ['completed', 'failed', 'cancelled'] as const;

async function scheduleTask(arg: unknown): Promise<string> {
  return vscode.commands.executeCommand<string>(CommandIds.scheduleTask, arg);
}

/** The tasks of the workflow run the compound's own task `rootId` belongs to, by name. */
function stepsOf(rootId: string, records: TaskRecord[]): Map<string, TaskRecord> {
  const root = records.find((r) => r.id === rootId);
  return new Map(records.filter((r) => r.workflowId === root?.workflowId && r.id !== rootId).map((r) => [r.name, r]));
}

describe('VS Code tasks as VS Code runs them', function () {
  this.timeout(60_000);
  let workflowFile = '';
  before(async () => {
    await reset(await getApi());
    workflowFile = await readWorkflowFile();
  });
  afterEach(async () => reset(await getApi()));
  after(async () => writeWorkflowFile(workflowFile));

  describe('labels', () => {
    it('finds a configured npm task by the label VS Code shows (`npm: compile`) and by its bare name', async () => {
      const byLabel = await findTask({ label: 'npm: compile' });
      assert.deepStrictEqual(byLabel.definition, { type: 'npm', script: 'compile' });
      const byName = await findTask({ label: 'compile' });
      assert.deepStrictEqual(byName.definition, { type: 'npm', script: 'compile' });
      const labelled = await findTask({ label: 'check types' });
      assert.deepStrictEqual(labelled.definition, { type: 'npm', script: 'typecheck' });
      assert.strictEqual((await findTask({ label: 'npm: slow' })).definition.script, 'slow', 'a detected npm task');
      // tasks.json's `test` is labelled `test`; the npm script of that name is `npm: test`.
      assert.strictEqual((await findTask({ label: 'test' })).source, 'Workspace');
      assert.strictEqual((await findTask({ label: 'npm: test' })).source, 'npm');
    });

    it('shows each task by the label VS Code shows', async () => {
      const tasks = await vscode.tasks.fetchTasks();
      const { loadCatalog } = await import('../../src/extension/executors/taskResolver');
      const catalog = await loadCatalog();
      const labels = tasks.map((t) => taskLabel(t, catalog));
      for (const l of ['npm: compile', 'check types', 'npm: slow', 'build', 'all']) assert.ok(labels.includes(l), `${l} in ${labels.join(', ')}`);
      assert.ok(!labels.includes('compile'), 'the configured npm task is not shown by its bare name');
    });

    it('refuses a name that matches several tasks, listing them', () => {
      const folder = workspaceFolder();
      const catalog: TaskCatalog = {
        tasks: [
          new vscode.Task({ type: 'npm', script: 'x' }, folder, 'x', 'npm', new vscode.ShellExecution('true')),
          new vscode.Task({ type: 'gulp', task: 'x' }, folder, 'x', 'gulp', new vscode.ShellExecution('true')),
        ],
        folders: [{ folder, entries: [] }],
      };
      assert.throws(() => resolveInCatalog(catalog, { label: 'x' }), /Expected `x` to name one VS Code task, got 2: `npm: x`, `gulp: x`/);
      assert.strictEqual(resolveInCatalog(catalog, { label: 'gulp: x' }).source, 'gulp');
    });

    it('schedules `npm: compile` and a workflow step `{ "task": "npm: compile" }`, which complete', async () => {
      const api = await getApi();
      const id = await scheduleTask({ task: 'npm: compile' });
      const r = await waitForStatus(api, id, [...FINAL], 30_000);
      assert.strictEqual(r.status, 'completed', r.error?.message);
      assert.strictEqual(r.name, 'npm: compile');
      assert.strictEqual(r.result?.exitCode, 0);
      await writeWorkflowFile({ version: 1, workflows: { c: { tasks: [{ key: 'c', task: 'npm: compile' }] } } });
      const [step] = await vscode.commands.executeCommand<string[]>(CommandIds.runWorkflow, 'c');
      const s = await waitForStatus(api, step, [...FINAL], 30_000);
      assert.strictEqual(s.status, 'completed', s.error?.message);
    });
  });

  describe('compound tasks', () => {
    it('fails a sequence whose first task fails, naming it and its exit code; the rest does not run', async () => {
      const api = await getApi();
      const id = await scheduleTask({ task: 'all' });
      const root = await waitForStatus(api, id, [...FINAL], 30_000);
      assert.strictEqual(root.status, 'failed');
      assert.match(root.error?.message ?? '', /Task `bad` failed with exit code 3/);
      assert.strictEqual(root.result?.exitCode, 3);
      const steps = stepsOf(id, api.testing.orchestrator.getTasks());
      assert.deepStrictEqual([...steps.keys()].sort(), ['bad', 'good']);
      assert.strictEqual(steps.get('bad')?.status, 'failed');
      assert.strictEqual(steps.get('bad')?.result?.exitCode, 3);
      assert.strictEqual(steps.get('good')?.status, 'cancelled', 'a sequence stops at the failed task');
    });

    it('fails a parallel compound with a failing task; the others still run', async () => {
      const api = await getApi();
      const id = await scheduleTask({ task: 'all at once' });
      const root = await waitForStatus(api, id, [...FINAL], 30_000);
      assert.strictEqual(root.status, 'failed');
      assert.match(root.error?.message ?? '', /Task `bad` failed with exit code 3/);
      const steps = stepsOf(id, api.testing.orchestrator.getTasks());
      assert.strictEqual(steps.get('good')?.status, 'completed');
      assert.deepStrictEqual(steps.get('good')?.dependsOn, [], 'parallel: no order between them');
    });

    it('cancelling the compound stops every task it started', async () => {
      const api = await getApi();
      const id = await scheduleTask({ task: 'sleepy then good' });
      const sleepy = await waitFor(
        () => {
          const s = stepsOf(id, api.testing.orchestrator.getTasks()).get('sleepy');
          return s?.status === 'running' ? s : undefined;
        },
        'sleepy to run',
        20_000,
      );
      await waitFor(() => vscode.tasks.taskExecutions.some((e) => e.task.name === 'sleepy'), 'its VS Code task to start', 15_000);
      await vscode.commands.executeCommand(CommandIds.cancelTask, id);
      assert.strictEqual((await waitForStatus(api, id, [...FINAL], 15_000)).status, 'cancelled');
      assert.strictEqual((await waitForStatus(api, sleepy.id, [...FINAL], 15_000)).status, 'cancelled');
      const good = stepsOf(id, api.testing.orchestrator.getTasks()).get('good');
      assert.strictEqual(good && (await waitForStatus(api, good.id, [...FINAL], 15_000)).status, 'cancelled');
      await waitFor(() => !vscode.tasks.taskExecutions.some((e) => e.task.name === 'sleepy'), 'the VS Code task to end', 15_000);
    });

    it('is Cancelled, not Failed, when one of its tasks is cancelled', async () => {
      const api = await getApi();
      const id = await scheduleTask({ task: 'sleepy then good' });
      const sleepy = await waitFor(
        () => {
          const s = stepsOf(id, api.testing.orchestrator.getTasks()).get('sleepy');
          return s?.status === 'running' ? s : undefined;
        },
        'sleepy to run',
        20_000,
      );
      await vscode.commands.executeCommand(CommandIds.cancelTask, sleepy.id);
      const root = await waitForStatus(api, id, [...FINAL], 15_000);
      assert.strictEqual(root.status, 'cancelled');
      assert.match(root.history.at(-1)?.reason ?? '', /Task `sleepy` was cancelled/);
      await waitFor(() => !vscode.tasks.taskExecutions.some((e) => e.task.name === 'sleepy'), 'the VS Code task to end', 15_000);
    });

    it('completes at concurrency 1 while a step waits out a retry backoff (the compound holds no slot)', async () => {
      const api = await getApi();
      const o = api.testing.orchestrator;
      const marker = path.join(workspaceFolder().uri.fsPath, 'dist', 'flaky.mark');
      fs.rmSync(marker, { force: true });
      const limit = o.getSystemStatus().concurrency.limit;
      o.setConcurrency(1);
      try {
        const id = await scheduleTask({ task: 'flaky then good', retries: 1, retryDelayMs: 1500 });
        const root = o.getTask(id) as TaskRecord;
        assert.strictEqual(root.spec.runAlways, true);
        assert.strictEqual(root.priority, 0, 'queued at normal priority');
        const r = await waitForStatus(api, id, [...FINAL], 40_000);
        assert.strictEqual(r.status, 'completed', r.error?.message);
        const steps = stepsOf(id, o.getTasks());
        assert.strictEqual(steps.get('flaky')?.status, 'completed');
        assert.strictEqual(steps.get('flaky')?.attempts, 2, 'the first attempt failed with exit code 5 and was retried');
        assert.strictEqual(steps.get('good')?.status, 'completed');
        assert.deepStrictEqual([...r.dependsOn].sort(), [steps.get('flaky')?.id, steps.get('good')?.id].sort(), 'it depends on its steps');
      } finally {
        o.setConcurrency(limit);
        fs.rmSync(marker, { force: true });
      }
    });

    it('runs a task with a command and dependsOn after its dependency, once each', async () => {
      const api = await getApi();
      const echo = path.join(workspaceFolder().uri.fsPath, 'dist', 'echo.json');
      fs.rmSync(echo, { force: true });
      const id = await scheduleTask({ task: 'ship' });
      const root = await waitForStatus(api, id, [...FINAL], 30_000);
      assert.strictEqual(root.status, 'completed', root.error?.message);
      assert.strictEqual(root.result?.exitCode, 0);
      const steps = stepsOf(id, api.testing.orchestrator.getTasks());
      assert.deepStrictEqual([...steps.keys()], ['npm: compile']);
      assert.strictEqual(steps.get('npm: compile')?.status, 'completed');
      assert.deepStrictEqual(JSON.parse(fs.readFileSync(echo, 'utf8')), ['shipped']);
    });

    it('expands a compound named by a workflow step; later steps wait for the whole compound', async () => {
      const api = await getApi();
      await writeWorkflowFile({
        version: 1,
        workflows: {
          w: {
            tasks: [
              { key: 'c', task: 'all at once' },
              { key: 'after', command: 'true', dependsOn: ['c'] },
            ],
          },
        },
      });
      const ids = await vscode.commands.executeCommand<string[]>(CommandIds.runWorkflow, 'w');
      const records = ids.map((i) => api.getTask(i) as TaskRecord);
      assert.deepStrictEqual(
        records.map((r) => r.spec.key),
        ['c/bad', 'c/good', 'c', 'after'],
      );
      const root = await waitForStatus(api, records[2].id, [...FINAL], 30_000);
      assert.strictEqual(root.status, 'failed');
      assert.strictEqual((await waitForStatus(api, records[3].id, [...FINAL])).status, 'cancelled');
    });

    it('retrying a failed compound runs it again, steps included', async () => {
      const api = await getApi();
      const first = await scheduleTask({ task: 'all' });
      assert.strictEqual((await waitForStatus(api, first, [...FINAL], 30_000)).status, 'failed');
      const again = await vscode.commands.executeCommand<string>(CommandIds.retryTask, first);
      const root = await waitForStatus(api, again, [...FINAL], 30_000);
      assert.strictEqual(root.status, 'failed');
      assert.match(root.error?.message ?? '', /Task `bad` failed with exit code 3/);
      assert.deepStrictEqual([...stepsOf(again, api.testing.orchestrator.getTasks()).keys()].sort(), ['bad', 'good']);
    });

    it('refuses a dependsOn cycle, naming it', () => {
      const folder = workspaceFolder();
      const composite = (name: string) => new vscode.Task({ type: '$composite' }, folder, name, 'Workspace');
      const catalog: TaskCatalog = {
        tasks: [composite('loop a'), composite('loop b')],
        folders: [
          {
            folder,
            entries: [
              { label: 'loop a', dependsOn: 'loop b', raw: {} },
              { label: 'loop b', dependsOn: ['loop a'], raw: {} },
            ],
          },
        ],
      };
      assert.throws(
        () => expandCompound(catalog, catalog.tasks[0], { key: 'k' }),
        /Expected the `dependsOn` of tasks.json to have no cycle, got `loop a` → `loop b` → `loop a`/,
      );
    });

    it('does not report a compound scheduled through the API as a success', async () => {
      const api = await getApi();
      const id = await api.scheduleTask({ name: 'all, directly', kind: 'vscodeTask', payload: { label: 'all' } });
      const r = await waitForStatus(api, id, [...FINAL], 30_000);
      assert.strictEqual(r.status, 'failed');
      assert.match(r.error?.message ?? '', /has `dependsOn`: schedule it with Schedule Task/);
    });
  });

  describe('inputs and variables', () => {
    it('prompts for `${input:…}` (promptString, pickString) and resolves `${workspaceFolder}` as Run Task does', async () => {
      const api = await getApi();
      const echo = path.join(workspaceFolder().uri.fsPath, 'dist', 'echo.json');
      fs.rmSync(echo, { force: true });
      const id = await scheduleTask({ task: 'greet' });
      // VS Code asks for the inputs when the task starts: accept the defaults ("world", then "loud").
      await waitForStatus(api, id, 'running', 15_000);
      await waitFor(
        async () => {
          await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
          return api.getTask(id)?.status !== 'running' || fs.existsSync(echo);
        },
        'the prompt to be answered',
        15_000,
      );
      const r = await waitForStatus(api, id, [...FINAL], 15_000);
      assert.strictEqual(r.status, 'completed', r.error?.message);
      assert.deepStrictEqual(JSON.parse(fs.readFileSync(echo, 'utf8')), ['world', 'loud', workspaceFolder().uri.fsPath, 'demo-workspace']);
    });

    it('resolves `${relativeFile}`, `${fileBasename}`, `${env:…}` and `${config:…}` against the active editor when it starts', async () => {
      const api = await getApi();
      const echo = path.join(workspaceFolder().uri.fsPath, 'dist', 'echo.json');
      fs.rmSync(echo, { force: true });
      await vscode.window.showTextDocument(vscode.Uri.joinPath(workspaceFolder().uri, 'src', 'greet.js'));
      try {
        const id = await scheduleTask({ task: 'echo file' });
        const r = await waitForStatus(api, id, [...FINAL], 20_000);
        assert.strictEqual(r.status, 'completed', r.error?.message);
        const concurrency = vscode.workspace.getConfiguration('orchestrator').get<number>('concurrency');
        assert.deepStrictEqual(JSON.parse(fs.readFileSync(echo, 'utf8')), [path.join('src', 'greet.js'), 'greet.js', process.env.HOME, String(concurrency)]);
      } finally {
        await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      }
    });

    it('fails a task naming `${file}` when no editor is open, as Run Task refuses it', async () => {
      const api = await getApi();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      const id = await scheduleTask({ task: 'echo file' });
      const r = await waitForStatus(api, id, [...FINAL], 20_000);
      assert.strictEqual(r.status, 'failed');
      assert.match(r.error?.message ?? '', /VS Code task `echo file` uses `\$\{relativeFile\}`, `\$\{fileBasename\}`, which need an open editor/);
    });

    it('fails a task whose input prompt was dismissed, saying it did not run (VS Code ends it without a process)', async () => {
      const api = await getApi();
      const id = await scheduleTask({ task: 'greet' });
      await waitForStatus(api, id, 'running', 15_000);
      await waitFor(
        async () => {
          await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
          return api.getTask(id)?.status !== 'running';
        },
        'the prompt to be dismissed',
        15_000,
      );
      const r = await waitForStatus(api, id, [...FINAL], 15_000);
      assert.strictEqual(r.status, 'failed');
      assert.match(r.error?.message ?? '', /VS Code task `greet` ended before its process started: an input prompt was dismissed/);
    });

    it('refuses an unknown label at once, listing labels as VS Code shows them', async () => {
      const err = await rejection(scheduleTask({ task: 'no such task' }));
      assert.match(err.message, /No VS Code task labelled `no such task`; available: .*`npm: compile`/);
    });
  });
});
