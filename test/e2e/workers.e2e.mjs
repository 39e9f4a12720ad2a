// Scaling out as a user meets it: a real redis-server and two `orchestrator worker` processes, the
// workspace set to `orchestrator.backend: "redis"`; Run Workflow… → ci runs the demo workflow to the end
// in the Tasks tree, a shell task's tooltip names the worker that ran it, and the dashboard's Workers
// section lists both workers (pools, load, heartbeat) with BullMQ's per-queue counts.
// Keeps media/dashboard-workers.png (the README's "Scaling out" picture) current.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/codeServer.mjs';
import { answer, dashboardFrame, stageOf, waitForStage } from './orchestratorSteps.mjs';
import { startRedis, startWorker } from './redis.mjs';
import { DEMO_WORKSPACE } from './workbench.mjs';

export const title = 'the ci workflow runs on two Redis workers; the dashboard lists them and the BullMQ queues';
export const timeoutMs = 180_000;
export const options = {
  settings: { 'workbench.colorTheme': 'Default Dark Modern', 'workbench.secondarySideBar.defaultVisibility': 'hidden' },
};

const WORKERS = ['worker-a', 'worker-b'];
const NAMES = ['Install dependencies', 'Lint', 'Unit tests (tasks.json "test")', 'Build', 'Package .vsix'];
/** Shell tasks go to the workers; the tasks.json "test" step stays in the editor, which alone runs VS Code tasks. */
const SHELL_TASK = 'Build';

/** Redis, two workers, and a copy of demo-workspace whose settings point the extension at them. */
export async function setup({ outputDir }) {
  const started = [];
  let workspaceRoot;
  const cleanup = async () => {
    // Workers first (they drain against Redis), then Redis.
    const [redis, ...workers] = started;
    await Promise.all(workers.map((w) => w.stop().catch(() => {})));
    await redis?.stop().catch(() => {});
    if (workspaceRoot) rmSync(workspaceRoot, { recursive: true, force: true });
  };
  try {
    const redis = await startRedis({ outputDir });
    started.push(redis);
    const workers = await Promise.allSettled(WORKERS.map((name) => startWorker({ url: redis.url, name, resources: 'cpu=2', outputDir })));
    for (const w of workers) if (w.status === 'fulfilled') started.push(w.value);
    for (const w of workers) if (w.status === 'rejected') throw w.reason;

    workspaceRoot = mkdtempSync(join(tmpdir(), 'orchestrator-e2e-workers-'));
    const workspace = join(workspaceRoot, 'workspace');
    cpSync(DEMO_WORKSPACE, workspace, { recursive: true });
    const settingsFile = join(workspace, '.vscode', 'settings.json');
    const settings = JSON.parse(readFileSync(settingsFile, 'utf8'));
    writeFileSync(settingsFile, JSON.stringify({ ...settings, 'orchestrator.backend': 'redis', 'orchestrator.redis.url': redis.url }, null, 2));
    return { options: { workspace }, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** The text of the hover a tree row shows for `label` (the task's tooltip). */
async function tooltipOf(wb, label) {
  const hover = wb.page.locator('.monaco-hover, .workbench-hover').filter({ hasText: label }).last();
  return wb.waitFor(
    async () => {
      await wb.page.mouse.move(0, 0);
      await (await wb.waitForRow(label)).locator('.label-name').hover();
      await hover.waitFor({ state: 'visible', timeout: 3000 });
      const text = await hover.innerText();
      return /Worker/.test(text) ? text : undefined;
    },
    { timeout: 20_000, interval: 100, message: `the tooltip of "${label}" to name its worker` },
  );
}

/** @param {import('./workbench.mjs').Workbench} wb */
export async function run(wb) {
  await wb.openContainer('Orchestrator');
  await wb.waitForRow('Running', { timeout: 30_000 });
  await wb.runCommand('Orchestrator: Run Workflow…');
  await answer(wb, 'A workflow from .vscode/orchestrator.json', 'ci');
  await waitForStage(wb, 'Package .vsix', 'Completed', { timeout: 90_000 });
  for (const name of NAMES) assert.equal(await stageOf(wb, name), 'Completed', name);

  // A shell task ran on one of the two workers, and its tooltip says which.
  const tooltip = await tooltipOf(wb, SHELL_TASK);
  const ranOn = /Worker:\s*(\S+)/.exec(tooltip)?.[1];
  assert.ok(WORKERS.includes(ranOn ?? ''), `"${SHELL_TASK}" names one of ${WORKERS.join(', ')} as its worker:\n${tooltip}`);
  await wb.page.mouse.move(0, 0);
  await wb.screenshot('tree');

  // The dashboard, with the whole editor width: the side bar hidden.
  await wb.runCommand('View: Toggle Primary Side Bar Visibility');
  await wb.runCommand('Orchestrator: Show Dashboard');
  const frame = dashboardFrame(wb);
  const fleet = frame.locator('[data-section="fleet"]');
  await fleet.waitFor({ state: 'visible', timeout: 30_000 });
  await wb.waitFor(async () => (await frame.locator('[data-metric="fleet.connected"]').getAttribute('data-value')) === 'true', {
    message: 'the dashboard connected to the fleet',
  });
  for (const name of WORKERS) {
    const row = frame.locator(`tr[data-worker="${name}"]`);
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await row.locator('td').nth(1).innerText(), /cpu × 2/, `${name}'s pools`);
    // A worker's load comes with its heartbeat: one sent during the last task still counts it.
    const load = row.locator(`[data-metric="worker.${name}.running"]`);
    await wb.waitFor(async () => /^0 \/ \d+$/.test(await load.innerText()), {
      timeout: 20_000,
      message: `${name}'s load: idle once the workflow is done`,
    });
    const age = Number(await row.locator(`[data-metric="worker.${name}.heartbeatAgeMs"]`).getAttribute('data-value'));
    assert.ok(age >= 0 && age < 10_000, `${name} heartbeat ${age} ms ago`);
  }
  const connected = frame.locator('[data-metric="fleet.connected"]');
  await wb.waitFor(async () => /^2 workers · 0 of \d+ slots busy · redis:\/\/127\.0\.0\.1:\d+$/.test(await connected.innerText()), {
    message: 'the fleet line: 2 workers, none busy',
  });

  // BullMQ's counts per queue: the queues the workers listen on, nothing left waiting or failed.
  const queues = frame.locator('table.queues tbody tr[data-queue]');
  await wb.waitFor(async () => (await queues.count()) > 0, { message: 'the BullMQ queues table to list a queue' });
  const queueNames = await queues.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-queue')));
  assert.ok(
    queueNames.some((q) => /cpu/.test(q ?? '')),
    `a queue for the cpu pool: ${queueNames.join(', ')}`,
  );
  for (const col of ['waiting', 'active', 'delayed', 'failed']) {
    const values = await frame.locator(`table.queues td[data-col="${col}"]`).evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-value'))));
    assert.equal(values.length, queueNames.length, `a ${col} count per queue`);
    assert.deepEqual(
      values.filter((v) => v !== 0),
      [],
      `no ${col} job left in ${queueNames.join(', ')}`,
    );
  }

  await wb.screenshot('dashboard-workers');
  await keepWorkersPicture(wb, frame);
}

/**
 * The README's picture: the charts and the Workers section, at a window of README width with the panel
 * closed. The topics and failures tables between them are hidden for the picture only (and shown
 * again): the picture is about the fleet.
 */
async function keepWorkersPicture(wb, frame) {
  await wb.runCommand('View: Hide Panel');
  await wb.page.setViewportSize({ width: 1200, height: 1300 });
  const tables = frame.locator('.grid.tables:not(.fleet)');
  await tables.evaluate((n) => (n.style.display = 'none'));
  try {
    const charts = frame.locator('.grid.charts');
    const fleet = frame.locator('[data-section="fleet"]');
    await charts.evaluate((n) => n.scrollIntoView({ block: 'start' }));
    // uPlot follows its container's width through a ResizeObserver: wait until every chart has.
    await wb.waitFor(
      () =>
        charts.evaluate((grid) =>
          [...grid.querySelectorAll('.uplot')].every((u) => u.parentElement && u.offsetWidth === Math.max(160, Math.floor(u.parentElement.clientWidth))),
        ),
      { message: 'the charts to fit the new width' },
    );
    const top = await charts.boundingBox();
    const bottom = await fleet.boundingBox();
    assert.ok(top && bottom, 'the charts and the Workers section have boxes');
    const shown = await wb.page.locator('iframe.webview').boundingBox();
    assert.ok(shown && bottom.y + bottom.height <= shown.y + shown.height, 'the Workers section fits in the panel');
    const x = Math.min(top.x, bottom.x) - 8;
    const y = top.y - 8;
    const clip = { x, y, width: Math.max(top.width, bottom.width) + 16, height: bottom.y + bottom.height - y + 8 };
    await wb.page.screenshot({ path: join(REPO_ROOT, 'media', 'dashboard-workers.png'), clip, timeout: 15_000 });
  } finally {
    await tables.evaluate((n) => (n.style.display = ''));
  }
}
