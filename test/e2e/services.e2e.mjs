// Run Workflow… → dev: the demo's dev server is a service; its row goes under Running with `Ready` in
// its description, the smoke test and the load check run against it, and once they are done the server
// is stopped and ends Completed. The demo's `watch` trigger is listed under the Watching node: a save
// of src/greet.js runs it, and it is paused and resumed from the row's context menu.
// Keeps media/screenshot-services-ready.png and media/screenshot-watching.png (the README's pictures) current.
import assert from 'node:assert/strict';
import { answer, keepScreenshot, layoutForScreenshots, stageOf, waitForStage } from './orchestratorSteps.mjs';

export const title = 'the dev workflow: its server goes Ready, its dependents run, it is stopped; the watch trigger runs on save, pauses and resumes';
export const timeoutMs = 150_000;

/** Quick Open (Ctrl+P): types the path and accepts once the file is listed. */
async function openFile(wb, path) {
  const input = wb.page.locator('.quick-input-widget input.input');
  await wb.page.keyboard.press('Escape');
  await wb.page.keyboard.press('Control+P');
  await input.waitFor({ state: 'visible', timeout: 20_000 });
  await input.fill(path);
  const name = path.split('/').pop();
  await wb.page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().waitFor({ state: 'visible', timeout: 20_000 });
  await wb.page.keyboard.press('Enter');
  await wb.page.locator('.tabs-container .tab', { hasText: name }).first().waitFor({ state: 'visible', timeout: 20_000 });
}

/** The row labelled `label`, once `check(row)` holds for it. */
async function rowWhere(wb, label, check, message, timeout = 30_000) {
  return wb.waitFor(
    async () => {
      const row = (await wb.treeRows()).find((r) => r.label === label);
      return row && check(row) ? row : undefined;
    },
    { timeout, message },
  );
}

/** @param {import('./workbench.mjs').Workbench} wb */
export async function run(wb) {
  await wb.openContainer('Orchestrator');
  // The demo's workflow file has a trigger, so the Watching node comes before the stages.
  await wb.waitForRow('Watching', { timeout: 30_000 });
  await wb.waitForRow('Running');
  await layoutForScreenshots(wb);

  await wb.runCommand('Orchestrator: Run Workflow…');
  await answer(wb, 'A workflow from .vscode/orchestrator.json', 'dev');
  // Ready is a sub-state of Running: the row stays under Running, and its description says Ready.
  await rowWhere(wb, 'Dev server', (r) => /\bReady\b/.test(r.description), 'the dev server to show Ready');
  assert.equal(await stageOf(wb, 'Dev server'), 'Running');
  // Its dependents started while it runs: the smoke test is over in well under a second, the load
  // check takes 3 s, so the picture has the server Ready, the load check running, the smoke test done.
  await waitForStage(wb, 'Smoke test', 'Completed');
  await keepScreenshot(wb, 'services-ready');
  await waitForStage(wb, 'Load check', 'Completed');
  // Stopped once both dependents are done, and it counts as Completed (not Cancelled, not Failed).
  await waitForStage(wb, 'Dev server', 'Completed');
  for (const name of ['Dev server', 'Smoke test', 'Load check']) assert.equal(await stageOf(wb, name), 'Completed', name);

  // The watch trigger: listed with what it watches; a save of a matching file runs lint and tests.
  let trigger = await rowWhere(wb, 'watch', (r) => r.description.includes('on save src/**/*.js'), 'the watch trigger under Watching');
  assert.doesNotMatch(trigger.description, /paused/);
  await openFile(wb, 'src/greet.js');
  const editor = wb.page.locator('.editor-instance .monaco-editor').first();
  await editor.waitFor({ state: 'visible', timeout: 20_000 });
  await editor.locator('.view-lines').click();
  // On the empty last line: an Enter after a comment would continue the comment onto the next line.
  await wb.page.keyboard.press('Control+End');
  await wb.page.keyboard.type('// saved from the e2e scenario');
  await wb.page.keyboard.press('Control+S');
  await rowWhere(wb, 'watch', (r) => /last run completed/.test(r.description), 'the triggered run to complete', 60_000);
  // The Watching row and the stages refresh on their own schedules (a stage's rows are coalesced), so
  // the run's tasks may reach Completed in the tree a moment after the trigger says so.
  await waitForStage(wb, 'Lint', 'Completed');
  await waitForStage(wb, 'Unit tests', 'Completed');
  await keepScreenshot(wb, 'watching');

  await wb.contextMenu('watch', 'Pause Trigger');
  await rowWhere(wb, 'watch', (r) => /^paused · on save/.test(r.description), 'the trigger to show paused');
  await rowWhere(wb, 'Watching', (r) => r.description === '1 · 1 paused', 'the Watching node to count it paused');
  await wb.contextMenu('watch', 'Resume Trigger');
  trigger = await rowWhere(wb, 'watch', (r) => !r.description.includes('paused'), 'the trigger to be active again');
  assert.match(trigger.description, /^on save src\/\*\*\/\*\.js/);
}
