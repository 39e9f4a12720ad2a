// The dashboard's timeline as a user meets it: the demo `ci` workflow runs twice (the second time its
// cached tasks are restored), the dashboard shows the latest run as a Gantt chart, one bar per task in
// ready order, the chain install -> ... -> package on the critical path, the cache figures beside it;
// a click on a bar selects that task in the Tasks tree; the picker shows the first run again.
// Keeps media/screenshot-timeline.png (the README's picture) current.
import assert from 'node:assert/strict';
import { answer, dashboardFrame, keepScreenshot, layoutForScreenshots, waitForStage } from './orchestratorSteps.mjs';

export const title = 'the timeline draws the latest ci run, marks its critical path and cached tasks, and a click on a bar reveals the task';
export const timeoutMs = 240_000;
export const options = {
  settings: { 'workbench.colorTheme': 'Default Dark Modern', 'workbench.secondarySideBar.defaultVisibility': 'hidden' },
};

const NAMES = ['Install dependencies', 'Lint', 'Unit tests (tasks.json "test")', 'Build', 'Package .vsix'];

/** Starts the demo `ci` workflow from the palette. */
async function runCi(wb) {
  // With focus in the dashboard's webview, the Run Workflow quick pick was once seen closing before
  // it could be answered (a CI run, the second run of this scenario): focus goes to the side bar
  // first, where a user's click would have put it.
  await wb.runCommand('View: Focus into Primary Side Bar');
  await wb.runCommand('Orchestrator: Run Workflow…');
  await answer(wb, 'A workflow from .vscode/orchestrator.json', 'ci');
}

/** The bars the page lists (the chart's accessible twin), in row order. */
async function bars(frame) {
  return frame.locator('.timeline-list button.timeline-bar').evaluateAll((nodes) =>
    nodes.map((n) => ({
      id: n.getAttribute('data-task-id'),
      row: Number(n.getAttribute('data-row')),
      status: n.getAttribute('data-status'),
      critical: n.getAttribute('data-critical') === 'true',
      cached: n.getAttribute('data-cached') === 'true',
      text: n.textContent ?? '',
    })),
  );
}

/** @param {import('./workbench.mjs').Workbench} wb */
export async function run(wb) {
  await wb.openContainer('Orchestrator');
  await wb.waitForRow('Running', { timeout: 30_000 });
  await layoutForScreenshots(wb, 420);

  await runCi(wb);
  await waitForStage(wb, 'Package .vsix', 'Completed', { timeout: 120_000 });

  await wb.runCommand('Orchestrator: Show Dashboard');
  const frame = dashboardFrame(wb);
  const chart = frame.locator('.timeline-chart');
  await wb.waitFor(async () => (await chart.getAttribute('data-value', { timeout: 2000 }).catch(() => null)) === String(NAMES.length), {
    timeout: 30_000,
    message: 'the timeline to show the five tasks of the ci run',
  });
  const firstRun = await chart.getAttribute('data-run');
  const first = await bars(frame);
  assert.deepEqual(
    first.map((b) => b.status),
    NAMES.map(() => 'completed'),
  );
  assert.ok(first[0].text.startsWith('Install dependencies'), `install is ready first: ${first[0].text}`);
  assert.ok(first[4].text.startsWith('Package .vsix'), `package is ready last: ${first[4].text}`);
  const critical = first.filter((b) => b.critical).map((b) => b.text.split(' · ')[0]);
  assert.equal(critical[0], 'Install dependencies', `the critical path starts at install: ${critical.join(' > ')}`);
  assert.deepEqual(critical.slice(-2), ['Build', 'Package .vsix'], `the critical path ends with build and package: ${critical.join(' > ')}`);
  assert.equal(critical.length, 4, 'install, lint or test, build, package');

  // The second run: the tasks that declare `cache` (lint, build, package) are restored.
  await runCi(wb);
  await wb.waitFor(
    async () => {
      const runId = await chart.getAttribute('data-run');
      if (runId === firstRun) return undefined;
      const b = await bars(frame);
      return b.length === NAMES.length && b.every((x) => x.status === 'completed') ? b : undefined;
    },
    { timeout: 120_000, message: 'the timeline to follow the second run to its end' },
  );
  const second = await bars(frame);
  const cachedNames = second.filter((b) => b.cached).map((b) => b.text.split(' · ')[0]);
  const runHits = Number(await frame.locator('[data-metric="timeline.cache.hits"]').getAttribute('data-value'));
  assert.equal(runHits, cachedNames.length, "the run's hits are its cached bars");
  assert.deepEqual(cachedNames.sort(), ['Build', 'Lint', 'Package .vsix'], 'lint, build and package restored from the cache');
  assert.ok(Number(await frame.locator('[data-metric="timeline.cache.hits"]').getAttribute('data-saved')) > 0, 'time saved');
  assert.equal(Number(await frame.locator('[data-metric="cacheHits"]').getAttribute('data-value')), 3, 'the session counts the three hits');
  assert.match(await frame.locator('.timeline-cache').innerText(), /3 hits · 0 misses · saved/);

  // The test task's terminal opened the bottom panel; the picture wants the height for the chart.
  await wb.runCommand('View: Hide Panel').catch(() => {});
  await frame.locator('.timeline-panel').scrollIntoViewIfNeeded();
  await wb.page.waitForTimeout(300);
  await keepScreenshot(wb, 'timeline');

  // A click on the Build bar's row, on the chart itself, reveals that task in the tree.
  const build = second.find((b) => b.text.startsWith('Build'));
  const over = frame.locator('.timeline-chart .u-over');
  const box = await over.boundingBox();
  assert.ok(box, 'the chart is on screen');
  await wb.page.keyboard.press('Escape');
  await over.click({ position: { x: box.width / 3, y: ((build.row + 0.5) * box.height) / second.length } });
  await wb.waitFor(
    async () => {
      const selected = wb.page.locator('.part.sidebar .monaco-list-row.selected, .part.sidebar .monaco-list-row.focused');
      return (await selected.allInnerTexts()).some((t) => t.includes('Build'));
    },
    { message: 'the Build task selected in the Tasks tree' },
  );

  // The picker brings the first run back.
  await frame.locator('select.timeline-picker').selectOption(firstRun);
  await wb.waitFor(async () => (await chart.getAttribute('data-run')) === firstRun, { message: 'the picker to show the first run' });
  assert.equal(Number(await frame.locator('[data-metric="timeline.cache.hits"]').getAttribute('data-value')), 0, 'the first run restored nothing');

  const violations = wb.consoleLines.filter((l) => /Content Security Policy|Refused to (load|apply|execute)/i.test(l));
  assert.deepEqual(violations, []);
}
