// The dashboard as a user meets it: opened from the palette, it fills in while a workflow runs; its
// figures are the orchestrator's own (the Tasks tree's stage counts, and what the workflow did); a
// click on a failure reveals that task in the tree; after a window reload the panel comes back by
// itself (the serializer) with the same figures; it follows a switch to a light theme.
// Keeps media/screenshot-dashboard.png (the README's picture) current.
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/codeServer.mjs';
import { dashboardFrame } from './orchestratorSteps.mjs';

export const title = "the dashboard shows the orchestrator's figures, reveals a failed task and survives a reload";
export const timeoutMs = 240_000;
// Dark first (the README's picture); the scenario switches to a light theme later. No secondary side
// bar, so the dashboard has the width a user would give it.
export const options = {
  settings: { 'workbench.colorTheme': 'Default Dark Modern', 'workbench.secondarySideBar.defaultVisibility': 'hidden' },
};

const OK_TASKS = 9;
const sleep = (ms) => `node -e "setTimeout(() => {}, ${ms})"`;

/** Nine tasks of different lengths on the two cpu slots, then one that fails. */
const WORKFLOW = {
  version: 1,
  workflows: {
    dashboard: {
      description: 'tasks of different lengths, one failure',
      // The failure stops nothing else: the nine steps all complete (a workflow file's default stops the run).
      failFast: false,
      tasks: [
        ...Array.from({ length: OK_TASKS }, (_, i) => ({
          key: `step${i}`,
          name: `Step ${i + 1}`,
          command: sleep([150, 400, 900, 250, 1200, 600, 300, 1800, 700][i]),
          resources: { cpu: 1 },
          priority: i % 3,
        })),
        {
          key: 'broken',
          name: 'Publish artefacts',
          command: 'node -e "console.error(\'registry unreachable\'); process.exit(3)"',
          dependsOn: ['step0'],
        },
      ],
    },
  },
};

async function figure(frame, metric) {
  const v = await frame.locator(`[data-metric="${metric}"]`).first().getAttribute('data-value', { timeout: 2000 });
  return Number(v);
}

async function stageFigures(frame) {
  const out = {};
  for (const s of ['created', 'scheduled', 'running', 'completed', 'failed', 'cancelled']) out[s] = await figure(frame, `stage.${s}`);
  return out;
}

/** The Tasks tree's stage rows as counts, e.g. { completed: 9, ... }. */
async function treeCounts(wb) {
  const out = {};
  for (const r of await wb.treeRows()) {
    const stage = r.label.toLowerCase();
    if (['created', 'scheduled', 'running', 'completed', 'failed', 'cancelled'].includes(stage)) out[stage] = Number(/\d+/.exec(r.description)?.[0] ?? NaN);
  }
  return out;
}

/**
 * Runs a palette command that opens a quick pick and picks the row showing `item`, once the row is
 * there (items may load after the pick opens). Tried twice: on a loaded 2-core machine the palette
 * can miss its first keystrokes.
 * @param {import('./workbench.mjs').Workbench} wb
 */
async function pick(wb, command, item) {
  for (let attempt = 1; ; attempt++) {
    try {
      await wb.runCommand(command, { timeout: 20_000 });
      const input = wb.page.locator('.quick-input-widget input.input');
      await input.waitFor({ state: 'visible', timeout: 20_000 });
      await input.fill(item);
      const row = wb.page.locator('.quick-input-widget .monaco-list-row', { hasText: item }).first();
      await row.waitFor({ state: 'visible', timeout: 20_000 });
      await row.click();
      await input.waitFor({ state: 'hidden', timeout: 10_000 });
      return;
    } catch (e) {
      if (attempt >= 2) throw e;
      await wb.page.keyboard.press('Escape');
    }
  }
}

/** @param {import('./workbench.mjs').Workbench} wb */
export async function run(wb) {
  writeFileSync(join(wb.workspace, '.vscode', 'orchestrator.json'), JSON.stringify(WORKFLOW, null, 2));
  await wb.openContainer('Orchestrator');
  await wb.waitForRow('Completed', { timeout: 30_000 });

  await wb.runCommand('Orchestrator: Show Dashboard');
  const frame = dashboardFrame(wb);
  await frame.locator('[data-metric="stage.completed"]').waitFor({ state: 'visible', timeout: 30_000 });
  // The page renders the host's first snapshot: the count is a number, not the placeholder.
  await wb.waitFor(async () => (await frame.locator('[data-metric="stage.completed"]').innerText()) !== '–', { message: 'the first snapshot to render' });

  await pick(wb, 'Orchestrator: Run Workflow…', 'dashboard');

  const done = await wb.waitFor(
    async () => {
      const s = await stageFigures(frame);
      return s.completed === OK_TASKS && s.failed === 1 && s.running === 0 && s.scheduled === 0 && s.created === 0 ? s : undefined;
    },
    { timeout: 60_000, message: `${OK_TASKS} completed and 1 failed in the dashboard` },
  );

  // The same figures as the orchestrator's own view of itself, the tree.
  const tree = await wb.waitFor(
    async () => {
      const t = await treeCounts(wb);
      return t.completed === OK_TASKS && t.failed === 1 ? t : undefined;
    },
    { message: 'the tree to show the finished workflow' },
  );
  assert.deepEqual(done, tree, "the dashboard's stage counts are the tree's");

  // Figures derived from what the workflow did.
  assert.equal(await figure(frame, 'successRate'), OK_TASKS / (OK_TASKS + 1));
  assert.ok((await figure(frame, 'p95TaskDuration')) >= 1000, 'p95 reflects the 1.2 s and 1.8 s steps');
  assert.ok((await figure(frame, 'p50TaskDuration')) > 0);
  const completedTopic = frame.locator('tr[data-topic="task.completed"] td[data-col="published"]');
  assert.equal(Number(await completedTopic.getAttribute('data-value')), OK_TASKS, 'task.completed published once per completed task');
  assert.equal(await frame.locator('[data-metric="pool.cpu.inUse"]').getAttribute('data-value'), '0', 'the cpu pool is free again');
  await wb.waitFor(async () => Number(await frame.locator('tr[data-topic="task.failed"] td[data-col="published"]').getAttribute('data-value')) === 1, {
    message: 'task.failed published once',
  });

  // The latest failure names its reason and reveals its task in the tree when clicked.
  const failure = frame.locator('button.failure', { hasText: 'Publish artefacts' });
  await failure.waitFor({ state: 'visible' });
  assert.match(await failure.innerText(), /exit|code 3|registry unreachable/i);
  await wb.screenshot('dashboard-dark');
  copyFileSync(join(wb.outputDir, 'dashboard-dark.png'), join(REPO_ROOT, 'media', 'screenshot-dashboard.png'));

  await failure.click();
  await wb.waitFor(
    async () => {
      const selected = wb.page.locator('.part.sidebar .monaco-list-row.selected, .part.sidebar .monaco-list-row.focused');
      return (await selected.allInnerTexts()).some((t) => t.includes('Publish artefacts'));
    },
    { message: 'the failed task selected in the Tasks tree' },
  );
  await wb.screenshot('revealed');

  // A window reload: the serializer brings the panel back without running the command.
  await wb.reload();
  const restored = dashboardFrame(wb);
  await restored.locator('[data-metric="stage.completed"]').waitFor({ state: 'visible', timeout: 30_000 });
  await wb.waitFor(async () => (await figure(restored, 'stage.completed')) === OK_TASKS, { message: 'the restored dashboard to show the same figures' });
  assert.equal(await figure(restored, 'stage.failed'), 1);

  // A light theme: the page re-reads the theme's colours and stays readable.
  assert.match((await restored.locator('body').getAttribute('class')) ?? '', /vscode-dark/, 'the page starts in the dark theme');
  await pick(wb, 'Preferences: Color Theme', 'Light Modern');
  await wb.waitFor(async () => (await restored.locator('body').getAttribute('class'))?.includes('vscode-light'), {
    message: 'the page to switch to the light theme',
  });
  await wb.page.waitForTimeout(500);
  assert.equal(await figure(restored, 'stage.completed'), OK_TASKS);
  await wb.screenshot('dashboard-light');

  // The strict CSP held and nothing in the page needed more: no violation reported in any frame.
  const violations = wb.consoleLines.filter((l) => /Content Security Policy|Refused to (load|apply|execute)/i.test(l));
  assert.deepEqual(violations, []);
}
