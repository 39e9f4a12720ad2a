// The task cache as a user meets it: the demo's `ci` workflow run twice. The second run restores lint,
// build and package (record.result.cached, the `database` icon, `cached · saved …` in the tree, the
// build's dist files written back), and Run Without Cache runs a restored task for real.
import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { TaskRecord } from '../../src/core/model/model';
import { CommandIds } from '../../src/extension/ids';
import { clearTaskCache, getApi, readWorkflowFile, reset, waitForStatus, workspaceFolder, writeWorkflowFile } from './helpers';

const CACHED = ['lint', 'build', 'package'];

/** A line in the pass's log (the runner streams ORCHESTRATOR_TEST_LOG), for the figures a run measured. */
function note(line: string): void {
  const log = process.env.ORCHESTRATOR_TEST_LOG;
  if (log) fs.appendFileSync(log, `      ${line}\n`);
  else console.log(line);
}
const FINISHED = ['completed', 'failed', 'cancelled'] as const;

/** Runs `ci` to the end and returns its records by key, with the run's wall time (first created to last finished). */
async function runCi(): Promise<{ byKey: Map<string, TaskRecord>; totalMs: number }> {
  const api = await getApi();
  const ids = await vscode.commands.executeCommand<string[]>(CommandIds.runWorkflow, 'ci');
  await Promise.all(ids.map((id) => waitForStatus(api, id, [...FINISHED], 90_000)));
  const records = ids.map((id) => api.getTask(id)!);
  const summary = records.map((r) => `${r.spec.key}: ${r.status} ${r.error?.message ?? ''}`).join('; ');
  for (const r of records) assert.strictEqual(r.status, 'completed', summary);
  const totalMs = Math.max(...records.map((r) => r.finishedAt!)) - Math.min(...records.map((r) => r.createdAt));
  return { byKey: new Map(records.map((r) => [r.spec.key!, r])), totalMs };
}

/** The run time of the cached tasks: what the cache can save. */
function cachedTasksMs(byKey: Map<string, TaskRecord>): number {
  return CACHED.reduce((sum, key) => sum + (byKey.get(key)!.finishedAt! - byKey.get(key)!.startedAt!), 0);
}

describe('task cache (the demo ci workflow)', function () {
  this.timeout(240_000);
  let original = '';
  before(async () => {
    await reset(await getApi());
    original = await readWorkflowFile();
    await clearTaskCache();
  });
  after(async () => {
    await writeWorkflowFile(original);
    await reset(await getApi());
    await clearTaskCache();
  });

  it('restores lint, build and package on the second run, and Run Without Cache runs one for real', async () => {
    const api = await getApi();
    const { tree } = api.testing;
    await writeWorkflowFile(original);

    const first = await runCi();
    for (const key of CACHED) {
      const r = first.byKey.get(key)!;
      assert.strictEqual(r.result?.cached, undefined, `${key} ran on the first run`);
      assert.match(r.result?.cacheKey ?? '', /^[0-9a-f]{64}$/, `${key} was stored under its key`);
    }

    // The store is the first workspace folder's .orchestrator/cache (the settings' default), which the CLI shares.
    const store = await vscode.workspace.fs.stat(vscode.Uri.joinPath(workspaceFolder().uri, '.orchestrator', 'cache'));
    assert.strictEqual(store.type & vscode.FileType.Directory, vscode.FileType.Directory, 'the cache is in .orchestrator/cache');

    // The build's outputs come back from the cache, not from a run.
    const greet = vscode.Uri.joinPath(workspaceFolder().uri, 'dist', 'greet.js');
    await vscode.workspace.fs.delete(greet, { useTrash: false });

    const second = await runCi();
    for (const key of CACHED) {
      const r = second.byKey.get(key)!;
      assert.ok(r.result?.cached, `${key} was restored from the cache`);
      assert.strictEqual(r.result.cached.key, first.byKey.get(key)!.result?.cacheKey, `${key} was restored under the key the first run stored`);
      assert.ok(r.result.cached.savedMs > 0, `${key} saved time`);
      tree.flush();
      const node = tree.nodeOf(r.id);
      assert.ok(node, `${key} has a row`);
      const item = tree.getTreeItem(node);
      assert.match(String(item.description), /^cached · saved \d/, `${key}'s description`);
      assert.strictEqual((item.iconPath as vscode.ThemeIcon).id, 'database');
      assert.strictEqual(item.contextValue, 'task.completed');
      const tip = (tree.resolveTreeItem(item, node).tooltip as vscode.MarkdownString).value;
      // appendText keeps the text literal: spaces may come as &nbsp;, and the dot escaped.
      assert.match(tip.replace(/&nbsp;/g, ' '), /Restored from cache:\*\* entry [0-9a-f]{12}…, saved \d/, `${key}'s tooltip:\n${tip}`);
    }
    // install (not cached) and the tasks.json test ran again.
    assert.strictEqual(second.byKey.get('install')!.result?.cached, undefined);
    assert.strictEqual(second.byKey.get('test')!.result?.cached, undefined);
    assert.match(new TextDecoder().decode(await vscode.workspace.fs.readFile(greet)), /^\/\/ built /, 'dist/greet.js restored');
    const ran = cachedTasksMs(first.byKey);
    const restored = cachedTasksMs(second.byKey);
    note(`[cache] ci: first run ${first.totalMs} ms, second ${second.totalMs} ms; lint+build+package ran ${ran} ms, restored in ${restored} ms`);
    assert.ok(restored < ran, `restoring lint, build and package (${restored} ms) is faster than running them (${ran} ms)`);

    // Run Without Cache on the restored build: a new task that runs (its output is the build's own).
    const build = second.byKey.get('build')!;
    const rerunId = await vscode.commands.executeCommand<string>(CommandIds.runWithoutCache, build.id);
    assert.notStrictEqual(rerunId, build.id);
    const rerun = await waitForStatus(api, rerunId, [...FINISHED], 30_000);
    assert.strictEqual(rerun.status, 'completed', rerun.error?.message);
    assert.strictEqual(rerun.result?.cached, undefined, 'ran, not restored');
    assert.match(rerun.result?.output ?? '', /built dist\/greet\.js/);
    assert.match(rerun.result?.cacheKey ?? '', /^[0-9a-f]{64}$/, 'its result was stored under its key');
    tree.flush();
    const node = tree.nodeOf(rerunId);
    assert.ok(node);
    assert.doesNotMatch(String(tree.getTreeItem(node).description), /cached/);
  });

  it('flags a task whose inputs once failed and once completed as flaky, in its row and tooltip', async () => {
    const api = await getApi();
    const { tree } = api.testing;
    const folder = workspaceFolder().uri;
    const marker = `flaky-${Date.now()}`;
    try {
      // failOnce.js exits 5 on its first run and 0 after; the inputs (and so the key) stay the same.
      const id = await api.scheduleTask({
        name: 'fails once',
        kind: 'shell',
        command: `node scripts/failOnce.js ${marker}`,
        cwd: folder.fsPath,
        cache: { inputs: ['scripts/failOnce.js'] },
      });
      const failed = await waitForStatus(api, id, 'failed', 20_000);
      assert.strictEqual(failed.result?.flaky, undefined, 'one outcome is not flaky yet');
      const retryId = await vscode.commands.executeCommand<string>(CommandIds.retryTask, id);
      const passed = await waitForStatus(api, retryId, 'completed', 20_000);
      assert.strictEqual(passed.result?.cached, undefined, 'a failure is never stored: the retry ran');
      assert.strictEqual(passed.result?.cacheKey, failed.result?.cacheKey, 'the same key');
      assert.strictEqual(passed.result?.flaky, true);
      tree.flush();
      const node = tree.nodeOf(retryId);
      assert.ok(node);
      const item = tree.getTreeItem(node);
      assert.match(String(item.description), /· flaky$/);
      const tip = (tree.resolveTreeItem(item, node).tooltip as vscode.MarkdownString).value.replace(/&nbsp;/g, ' ');
      assert.match(tip, /Flaky:\*\* the same inputs once completed and once failed/);
    } finally {
      await Promise.resolve(vscode.workspace.fs.delete(vscode.Uri.joinPath(folder, 'dist', `${marker}.mark`))).catch(() => undefined);
    }
  });
});
