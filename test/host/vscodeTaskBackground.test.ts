// Background VS Code tasks (isBackground, a problem matcher with begins/ends patterns) and what the
// Orchestrator keeps of every VS Code task: its problems, its terminal and its output. The demo
// workspace's `watch` task prints one error and one warning in its matcher's format, then waits;
// `watch cycles` prints tsc --watch's lines, a build per change of `watch-errors.txt`.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { TaskRecord } from '../../src/core/model/model';
import { CommandIds } from '../../src/extension/ids';
import { backgroundPatterns } from '../../src/extension/executors/backgroundCycles';
import { contributedMatcher, countProblems, matcherSources } from '../../src/extension/executors/taskProblems';
import { terminalText } from '../../src/extension/executors/taskTerminalOutput';
import { detailsUri } from '../../src/extension/tasksView/taskDetails';
import { getApi, reset, waitFor, waitForStatus, workspaceFolder } from './helpers';

type Api = Awaited<ReturnType<typeof getApi>>;

async function rowOf(api: Api, id: string): Promise<vscode.TreeItem | undefined> {
  const { tree } = api.testing;
  tree.flush();
  const node = tree.nodeOf(id);
  if (!node) return undefined;
  const item = await tree.getTreeItem(node);
  return tree.resolveTreeItem(item, node);
}

function tooltipText(item: vscode.TreeItem | undefined): string {
  const t = item?.tooltip;
  // MarkdownString.appendText writes spaces as &nbsp;.
  return (typeof t === 'string' ? t : (t?.value ?? '')).replace(/&nbsp;/g, ' ');
}

/** A file of the scratch workspace. */
function fileUri(name: string): vscode.Uri {
  return vscode.Uri.joinPath(workspaceFolder().uri, name);
}

async function writeText(name: string, text: string): Promise<void> {
  await vscode.workspace.fs.writeFile(fileUri(name), new TextEncoder().encode(text));
}

async function removeFile(name: string): Promise<void> {
  await Promise.resolve(vscode.workspace.fs.delete(fileUri(name))).catch(() => undefined);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function iconOf(item: vscode.TreeItem | undefined): { id?: string; color?: string } {
  const icon = item?.iconPath;
  return icon instanceof vscode.ThemeIcon ? { id: icon.id, color: icon.color?.id } : {};
}

async function scheduleWatch(api: Api, name = 'watch'): Promise<TaskRecord> {
  const id = await api.scheduleTask({ name, kind: 'vscodeTask', payload: { label: 'watch' } });
  return waitForStatus(api, id, 'running', 20_000);
}

describe('vscodeTask background tasks', function () {
  this.timeout(60_000);
  before(async () => reset(await getApi()));
  afterEach(async () => {
    await reset(await getApi());
    // A cancelled VS Code task stops a moment later: the next test must not meet it.
    await waitFor(() => vscode.tasks.taskExecutions.length === 0, 'every VS Code task to end', 15_000);
  });

  it("finds a matcher's diagnostic source: inline, an extension's ($tsc-watch), a built-in one, through base", () => {
    assert.deepStrictEqual(matcherSources('$tsc-watch'), ['ts']);
    assert.deepStrictEqual(matcherSources(['$eslint-stylish', { source: 'mine', pattern: {} }]), ['eslint', 'mine']);
    assert.deepStrictEqual(matcherSources({ base: '$msCompile' }), ['cpp']);
    // No source: nothing can be counted for it.
    assert.deepStrictEqual(matcherSources([{ owner: 'x', pattern: {} }, '$no-such-matcher', 3]), []);
  });

  it("finds $tsc-watch's background patterns in the built-in TypeScript extension's contribution", () => {
    const [tscWatch, ...rest] = backgroundPatterns('$tsc-watch', contributedMatcher);
    assert.strictEqual(rest.length, 0);
    assert.ok(tscWatch?.begins?.test('[10:00:00 AM] File change detected. Starting incremental compilation...'));
    assert.ok(tscWatch.ends.test('[10:00:01 AM] Found 2 errors. Watching for file changes.'));
    assert.strictEqual(tscWatch.activeOnStart, true);
    // `$tsc` has no background patterns: a task using it becomes Ready by its diagnostics.
    assert.deepStrictEqual(backgroundPatterns('$tsc', contributedMatcher), []);
  });

  it('counts errors and warnings of the given sources only', () => {
    const uri = vscode.Uri.file('/x.js');
    const d = (severity: vscode.DiagnosticSeverity, source?: string): vscode.Diagnostic =>
      Object.assign(new vscode.Diagnostic(new vscode.Range(0, 0, 0, 1), 'm', severity), { source });
    const all: [vscode.Uri, vscode.Diagnostic[]][] = [[uri, [d(0, 'ts'), d(0, 'ts'), d(1, 'ts'), d(2, 'ts'), d(0, 'eslint'), d(0)]]];
    assert.deepStrictEqual(countProblems(['ts'], all), { errors: 2, warnings: 1 });
  });

  it('turns terminal data into text: escape sequences removed, CRLF as LF', () => {
    assert.strictEqual(terminalText('\x1b]633;C\x07\x1b[31mred\x1b[0m\r\nnext\r\n'), 'red\nnext\n');
  });

  it("becomes Ready with its cycle's errors: the row shows Ready · 1 error, the tooltip the warnings", async () => {
    const api = await getApi();
    const watch = await scheduleWatch(api);
    const ready = await waitFor(() => api.getTask(watch.id)?.ready, 'the watch task to be Ready', 20_000);
    assert.deepStrictEqual(ready.problems, { errors: 1, warnings: 1 });
    const item = await waitFor(
      async () => {
        const row = await rowOf(api, watch.id);
        return typeof row?.description === 'string' && row.description.includes('Ready') ? row : undefined;
      },
      'the row to show Ready',
      5_000,
    );
    assert.match(String(item.description), / · Ready · 1 error$/);
    assert.deepStrictEqual(iconOf(item), { id: 'broadcast', color: 'list.warningForeground' });
    const tooltip = tooltipText(item);
    assert.match(tooltip, /\*\*Problems:\*\* 1 error, 1 warning/);
    assert.match(tooltip, /\*\*Ready since:\*\* /);
    // Show Details: the record's JSON says since when in words beside the epoch milliseconds.
    const details = await vscode.workspace.openTextDocument(detailsUri(api.getTask(watch.id) as TaskRecord));
    assert.match(details.getText(), /"ready": \{\n\s+"since": "\d{4}-\d\d-\d\dT[\d:.]+Z",\n\s+"at": \d+,\n\s+"problems": \{\n\s+"errors": 1,/);
    // Background: still running, Ready while it watches.
    assert.strictEqual(api.getTask(watch.id)?.status, 'running');
  });

  it('releases a dependent once a background task is Ready, reports each later cycle, and stops it on cancel', async () => {
    const api = await getApi();
    await removeFile('watch-errors.txt');
    await removeFile('.watch-cycles.pid');
    try {
      const [watchId, afterId] = await api.scheduleWorkflow([
        { key: 'watch', name: 'watch cycles', kind: 'vscodeTask', payload: { label: 'watch cycles' } },
        { key: 'after', name: 'after the build', kind: 'shell', command: 'node -e "console.log(42)"', dependsOn: ['watch'] },
      ]);
      assert.ok(watchId && afterId);
      const after = await waitForStatus(api, afterId, ['completed', 'failed', 'cancelled'], 30_000);
      assert.strictEqual(after.status, 'completed', after.error?.message);
      const watch = api.getTask(watchId);
      assert.strictEqual(watch?.status, 'running', 'the watcher goes on');
      assert.ok(watch.ready, 'the watcher is Ready');
      assert.deepStrictEqual(watch.ready.problems, { errors: 0, warnings: 0 });
      assert.ok((after.startedAt ?? 0) >= watch.ready.at, 'the dependent started once the watcher was Ready');
      const row = await rowOf(api, watchId);
      assert.match(String(row?.description), / · Ready · 0 errors$/);
      assert.deepStrictEqual(iconOf(row), { id: 'broadcast', color: 'testing.iconPassed' });

      // The next build finds an error: the same record reports Ready again with that cycle's counts.
      await writeText('watch-errors.txt', 'src/index.js:1:1: error: demo error of the second build\n');
      const second = await waitFor(
        () => {
          const r = api.getTask(watchId)?.ready;
          return r?.problems?.errors === 1 ? r : undefined;
        },
        'the second cycle to report 1 error',
        20_000,
      );
      assert.deepStrictEqual(second.problems, { errors: 1, warnings: 0 });
      assert.match(String((await rowOf(api, watchId))?.description), / · Ready · 1 error$/);
      assert.match(await api.testing.output.read(api.getTask(watchId) as TaskRecord), /> VS Code task "watch cycles" is ready: 1 error, 0 warnings/);

      const pid = Number(new TextDecoder().decode(await vscode.workspace.fs.readFile(fileUri('.watch-cycles.pid'))));
      assert.ok(alive(pid), 'the watcher process runs');
      await api.cancelTask(watchId);
      await waitForStatus(api, watchId, 'cancelled', 10_000);
      await waitFor(() => !alive(pid), `the watcher process ${pid} to be gone`, 15_000);
    } finally {
      await removeFile('watch-errors.txt');
    }
  });

  it('records the errors and warnings of a task whose process ends in result.problems', async () => {
    const api = await getApi();
    const id = await api.scheduleTask({ name: 'watch once', kind: 'vscodeTask', payload: { label: 'watch once' } });
    const done = await waitForStatus(api, id, ['completed', 'failed', 'cancelled'], 20_000);
    assert.strictEqual(done.status, 'completed', done.error?.message);
    assert.deepStrictEqual(done.result?.problems, { errors: 1, warnings: 1 });
    assert.match(tooltipText(await rowOf(api, id)), /\*\*Problems:\*\* 1 error, 1 warning/);
  });

  it('refuses to start a VS Code task that is already running, naming the task that runs it', async () => {
    const api = await getApi();
    const first = await scheduleWatch(api, 'watch 1');
    // Running is the record's status; the executor claims the VS Code task a moment later, once it
    // has resolved it. Until then two records race for the claim, and either may win.
    await waitFor(() => vscode.tasks.taskExecutions.some((e) => e.task.name === 'watch'), 'the first run to start');
    const second = await api.scheduleTask({ name: 'watch 2', kind: 'vscodeTask', payload: { label: 'watch' } });
    const refused = await waitForStatus(api, second, ['failed', 'completed', 'cancelled'], 30_000);
    assert.strictEqual(refused.status, 'failed');
    assert.strictEqual(refused.error?.code, 'TASK_ALREADY_RUNNING');
    assert.match(refused.error?.message ?? '', new RegExp(`VS Code task \`watch\` is already running \\(Orchestrator task \`${first.id}\`\\)`));
    assert.strictEqual(api.getTask(first.id)?.status, 'running', 'the first run goes on');
    assert.strictEqual(vscode.tasks.taskExecutions.filter((e) => e.task.name === 'watch').length, 1);
  });

  it('refuses a VS Code task that was started outside the Orchestrator while it runs', async () => {
    const api = await getApi();
    const watch = (await vscode.tasks.fetchTasks()).find((t) => t.name === 'watch' && t.source === 'Workspace');
    assert.ok(watch);
    // terminate() before the process has started does nothing: wait for it.
    const started = new Promise<void>((resolve) => {
      const sub = vscode.tasks.onDidStartTaskProcess((e) => {
        if (e.execution.task.name === 'watch') {
          sub.dispose();
          resolve();
        }
      });
    });
    const execution = await vscode.tasks.executeTask(watch);
    await started;
    try {
      const id = await api.scheduleTask({ name: 'watch again', kind: 'vscodeTask', payload: { label: 'watch' } });
      const refused = await waitForStatus(api, id, ['failed', 'completed', 'cancelled'], 30_000);
      assert.strictEqual(refused.error?.code, 'TASK_ALREADY_RUNNING');
      assert.match(refused.error?.message ?? '', /VS Code task `watch` is already running \(started outside the Orchestrator\)/);
    } finally {
      const ended = new Promise<void>((resolve) => {
        const sub = vscode.tasks.onDidEndTask((e) => {
          if (e.execution.task.name === 'watch') {
            sub.dispose();
            resolve();
          }
        });
      });
      execution.terminate();
      await ended;
    }
  });

  it("Show Output reveals the VS Code task's terminal and shows the output read from it", async () => {
    const api = await getApi();
    const watch = await scheduleWatch(api);
    const pid = await waitFor(async () => {
      for (const t of vscode.window.terminals) if (t.name === 'watch') return t.processId;
      return undefined;
    }, 'the task terminal');
    // Another terminal in front first, so only Show Output can bring the task's back.
    const other = vscode.window.createTerminal('not the task');
    try {
      other.show(false);
      await waitFor(() => vscode.window.activeTerminal === other, 'the other terminal to be active');
      await vscode.commands.executeCommand(CommandIds.showOutput, watch.id);
    } finally {
      other.dispose();
    }
    const active = await waitFor(() => vscode.window.activeTerminal?.name === 'watch' && vscode.window.activeTerminal, 'the task terminal to be active');
    assert.strictEqual(await active.processId, pid);
    // Shell integration reports the task's command line and its output, as a shell task's.
    const text = await waitFor(
      async () => {
        const t = await api.testing.output.read(api.getTask(watch.id) as TaskRecord);
        return t.includes('watch: build finished') ? t : undefined;
      },
      'the output read from the terminal',
      15_000,
    );
    assert.match(text, /src\/index\.js:1:1: error: demo error from the watcher/);
    assert.ok(!text.includes('\u001b'), 'escape sequences are removed');
  });

  it('reads the terminal of a process task too (VS Code marks task commands itself)', async () => {
    const api = await getApi();
    const id = await api.scheduleTask({ name: 'process echo', kind: 'vscodeTask', payload: { label: 'process echo' } });
    const done = await waitForStatus(api, id, ['completed', 'failed', 'cancelled'], 20_000);
    assert.strictEqual(done.status, 'completed', done.error?.message);
    assert.match(await api.testing.output.read(done), /^from a process task$/m);
  });

  it('says why nothing could be read from a task terminal when shell integration is off', async () => {
    const api = await getApi();
    const cfg = vscode.workspace.getConfiguration('terminal.integrated');
    await cfg.update('shellIntegration.enabled', false, vscode.ConfigurationTarget.Workspace);
    try {
      // A task's new terminal got shell integration even with the setting off (code-server, run with
      // no earlier task terminal); the terminal a later run of the task reuses starts its shell with
      // the setting as it is. So the task runs twice, and the second run is the one read.
      let done: TaskRecord | undefined;
      for (let run = 0; run < 2; run++) {
        const id = await api.scheduleTask({ name: 'watch once', kind: 'vscodeTask', payload: { label: 'watch once' } });
        done = await waitForStatus(api, id, ['completed', 'failed', 'cancelled'], 20_000);
        assert.strictEqual(done.status, 'completed', done.error?.message);
      }
      const text = await api.testing.output.read(done as TaskRecord);
      assert.match(
        text,
        /Nothing could be read from the terminal "watch once": VS Code lets an extension read a task's terminal only through shell integration/,
      );
      assert.doesNotMatch(text, /demo error from the watcher/);
    } finally {
      await cfg.update('shellIntegration.enabled', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('makes a background task whose matcher has no background patterns Ready once started, then as its problems change', async () => {
    const api = await getApi();
    await removeFile('watch-errors.txt');
    try {
      const id = await api.scheduleTask({ name: 'watch plain', kind: 'vscodeTask', payload: { label: 'watch plain' } });
      const first = await waitFor(() => api.getTask(id)?.ready, 'the task to be Ready', 20_000);
      assert.deepStrictEqual(first.problems, { errors: 0, warnings: 0 });
      await writeText('watch-errors.txt', 'src/index.js:2:1: error: demo error without background patterns\n');
      const next = await waitFor(
        () => {
          const r = api.getTask(id)?.ready;
          return r?.problems?.errors === 1 ? r : undefined;
        },
        'Ready with the new error',
        20_000,
      );
      assert.ok(next.at >= first.at);
      assert.strictEqual(api.getTask(id)?.status, 'running');
    } finally {
      await removeFile('watch-errors.txt');
    }
  });

  it('Show Problems opens the Problems view and is offered on VS Code task rows only', async () => {
    const api = await getApi();
    const watch = await scheduleWatch(api);
    const shell = await api.scheduleTask({ name: 'plain', kind: 'shell', command: 'sleep 30' });
    await waitForStatus(api, shell, 'running');
    const vsRow = await rowOf(api, watch.id);
    const shellRow = await rowOf(api, shell);
    assert.strictEqual(vsRow?.contextValue, 'task.running.vscodeTask');
    assert.strictEqual(shellRow?.contextValue, 'task.running');
    assert.strictEqual(await vscode.commands.executeCommand(CommandIds.showProblems, watch.id), watch.id);
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(CommandIds.showProblems, shell)),
      /Show Problems is for VS Code tasks; `plain` is a `shell` task/,
    );
  });
});
