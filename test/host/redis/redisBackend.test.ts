// The redis backend in a real extension host, through the real activation path: this pass (its own
// folder, so its own extension host) starts a redis-server and an `orchestrator worker` process,
// writes `orchestrator.backend: "redis"` and the URL into the workspace settings, and only then
// activates the extension, which reads them as a user's would. A small workflow runs on the worker;
// the tree shows it completed with the worker named in its tooltip, and the dashboard lists the worker.
// Skipped, with the reason, where redis-server is absent (scripts/tools.mjs installs it).
import * as assert from 'assert';
import { spawn, type ChildProcess } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FleetStatus } from '../../../src/backends/redis/fleetStatus';
import type { FeedState } from '../../../src/extension/dashboard/dashboardFeed';
import { DASHBOARD_TEST_STATE_COMMAND } from '../../../src/extension/dashboard/dashboardPanel';
import { CommandIds, EXTENSION_ID } from '../../../src/extension/ids';
import { redisAvailable, startRedis, type RedisServer } from '../../support/redisServer';
import { getApi, labelOf, waitFor, waitForStatus } from '../helpers';

const WORKER = 'host-test-worker';

/** Starts `orchestrator worker` (dist/cli.js) with this host's Node; its output is kept for failure messages. */
function startWorker(url: string, log: string[]): ChildProcess {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is loaded`);
  const cli = path.join(ext.extensionPath, 'dist', 'cli.js');
  // Under desktop VS Code the host's execPath is Electron: ELECTRON_RUN_AS_NODE makes it plain Node.
  const child = spawn(process.execPath, [cli, 'worker', '--redis', url, '--name', WORKER, '--concurrency', '2'], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => log.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return child;
}

/** SIGTERM (the worker drains), then SIGKILL after 5 s; resolves once it has exited. */
function stopWorker(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

describe('redis backend (orchestrator.backend: "redis")', function () {
  this.timeout(90_000);
  let redis: RedisServer | undefined;
  let worker: ChildProcess | undefined;
  const workerLog: string[] = [];
  const killWorker = () => worker?.pid !== undefined && worker.exitCode === null && process.kill(worker.pid, 'SIGKILL');

  before(async function () {
    if (!redisAvailable()) {
      console.log('      redis-server is not installed (scripts/tools.mjs installs it): skipped');
      this.skip();
    }
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext && !ext.isActive, 'the extension is not active yet: this pass must activate it with the redis settings');
    redis = await startRedis();
    worker = startWorker(redis.url, workerLog);
    process.once('exit', killWorker);
    const config = vscode.workspace.getConfiguration('orchestrator');
    await config.update('backend', 'redis', vscode.ConfigurationTarget.Workspace);
    await config.update('redis.url', redis.url, vscode.ConfigurationTarget.Workspace);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await stopWorker(worker);
    process.off('exit', killWorker);
    await redis?.stop();
  });

  it('connects at activation and sees the worker', async () => {
    const api = await getApi();
    assert.strictEqual(api.testing.settings().backend, 'redis');
    const backend = api.testing.backend;
    assert.ok(backend, 'activation made the redis backend');
    await backend.settled;
    assert.strictEqual(backend.remote.attached, true, 'the RedisExecution is attached');
    assert.strictEqual(api.testing.orchestrator.paused, false);
    const fleet = await waitFor<FleetStatus>(
      async () => {
        const f = await backend.fleet();
        return f.connected && f.workers.some((w) => w.name === WORKER) ? f : undefined;
      },
      `the worker's heartbeat (worker log: ${workerLog.slice(-5).join(' | ')})`,
      20_000,
    );
    assert.deepStrictEqual(fleet.workers.find((w) => w.name === WORKER)?.kinds, ['shell']);
  });

  it("with orchestrator.concurrency 0, its limit is this machine's CPUs plus the worker's slots", async () => {
    const api = await getApi();
    const config = vscode.workspace.getConfiguration('orchestrator');
    const before = config.inspect<number>('concurrency')?.workspaceValue;
    const limit = () => api.testing.orchestrator.getSystemStatus().concurrency.limit;
    try {
      await config.update('concurrency', 0, vscode.ConfigurationTarget.Workspace);
      await waitFor(() => (limit() === os.availableParallelism() + 2 ? true : undefined), "the limit to be CPUs + the worker's 2 slots", 10_000);
      const statusBar = api.testing.statusBar;
      await waitFor(() => statusBar.tooltip.includes(`of ${limit()} slots`) || undefined, `the status bar's tooltip (${statusBar.tooltip})`);
      assert.match(statusBar.tooltip, new RegExp(`\\(automatic: ${os.availableParallelism()} for this machine's CPUs \\+ 2 on the workers\\)`));
    } finally {
      await config.update('concurrency', before, vscode.ConfigurationTarget.Workspace);
    }
    if (before !== undefined) await waitFor(() => (limit() === before ? true : undefined), `the limit back at ${before}`, 10_000);
  });

  it('runs a workflow on the worker; the tree shows it completed, the worker named in its tooltip', async () => {
    const api = await getApi();
    const [first, second] = await api.scheduleWorkflow([
      { name: 'remote first', kind: 'shell', command: 'echo first-on-worker', key: 'first' },
      { name: 'remote second', kind: 'shell', command: 'echo second-on-worker', key: 'second', dependsOn: ['first'] },
    ]);
    const a = await waitForStatus(api, first!, ['completed', 'failed'], 30_000);
    const b = await waitForStatus(api, second!, ['completed', 'failed'], 30_000);
    assert.strictEqual(a.status, 'completed', `first: ${JSON.stringify(a.error)}`);
    assert.strictEqual(b.status, 'completed', `second: ${JSON.stringify(b.error)}`);
    assert.strictEqual(a.result?.worker, WORKER);
    assert.strictEqual(b.result?.worker, WORKER);
    assert.match(a.result?.output ?? '', /first-on-worker/);
    assert.ok((b.startedAt ?? 0) >= (a.finishedAt ?? Infinity), 'the dependency held across the fleet');

    const tree = api.testing.tree;
    tree.flush();
    const rows = await Promise.all(tree.getChildren(tree.stage('completed')).map(async (node) => ({ node, item: await tree.getTreeItem(node) })));
    const row = rows.find((r) => labelOf(r.item) === 'remote second');
    assert.ok(row, `the completed stage lists the task (has ${rows.map((r) => labelOf(r.item)).join(', ')})`);
    const tooltip = (await tree.resolveTreeItem(row.item, row.node)).tooltip as vscode.MarkdownString;
    assert.match(tooltip.value, new RegExp(`\\*\\*Worker:\\*\\* ${WORKER}`));
  });

  it('names the worker in the tooltip of a task while it runs there, and still once it is cancelled', async () => {
    const api = await getApi();
    const [id] = await api.scheduleWorkflow([{ name: 'remote sleeper', kind: 'shell', command: 'sleep 30', key: 'sleeper' }]);
    const tree = api.testing.tree;
    const tooltipIn = async (stage: 'running' | 'cancelled'): Promise<string | undefined> => {
      tree.flush();
      for (const node of tree.getChildren(tree.stage(stage))) {
        const item = await tree.getTreeItem(node);
        if (labelOf(item) === 'remote sleeper') return ((await tree.resolveTreeItem(item, node)).tooltip as vscode.MarkdownString).value;
      }
      return undefined;
    };
    const worker = new RegExp(`\\*\\*Worker:\\*\\* ${WORKER}`);
    // The backend learns the worker from the job within a heartbeat (2 s) of its start.
    await waitFor(async () => worker.test((await tooltipIn('running')) ?? ''), 'the running row naming its worker', 15_000);
    assert.strictEqual(api.getTask(id!)?.worker, WORKER);
    await api.cancelTask(id!, 'enough');
    await waitForStatus(api, id!, ['cancelled'], 15_000);
    assert.match((await waitFor(() => tooltipIn('cancelled'), 'the cancelled row', 10_000)) ?? '', worker);
  });

  it('lists the worker and the queue counts in the dashboard', async () => {
    await vscode.commands.executeCommand(CommandIds.showDashboard);
    const state = await waitFor<FeedState>(
      async () => {
        const s = await vscode.commands.executeCommand<FeedState | undefined>(DASHBOARD_TEST_STATE_COMMAND);
        const fleet = s?.last?.fleet;
        return s && s.lastApplied === s.seq && fleet?.connected && fleet.workers.some((w) => w.name === WORKER) && fleet.queues.length > 0 ? s : undefined;
      },
      'the dashboard page to render the fleet',
      20_000,
    );
    assert.strictEqual(state.receivedCounts.rejected, undefined, 'the page accepted every message, the fleet included');
    const w = state.last!.fleet!.workers.find((x) => x.name === WORKER)!;
    assert.strictEqual(w.concurrency, 2);
    assert.ok(w.heartbeatAgeMs < 10_000, `a recent heartbeat (${w.heartbeatAgeMs} ms)`);
    assert.ok(state.fleetReads >= 1);
  });
});
