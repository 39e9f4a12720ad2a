// Run Workflow… from the palette runs the demo `ci` workflow (install -> lint + test -> build -> package)
// to the end in the Tasks tree; a file with an error runs nothing and the user is told which field.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answer, keepScreenshot, layoutForScreenshots, stageOf, waitForStage } from './orchestratorSteps.mjs';

export const title = 'Run Workflow… runs the ci workflow; an invalid workflow file runs nothing and names the field';
export const timeoutMs = 150_000;

const NAMES = ['Install dependencies', 'Lint', 'Unit tests (tasks.json "test")', 'Build', 'Package .vsix'];

/** @param {import('./workbench.mjs').Workbench} wb */
export async function run(wb) {
  await wb.openContainer('Orchestrator');
  await wb.waitForRow('Running', { timeout: 30_000 });
  await layoutForScreenshots(wb);
  await wb.runCommand('Orchestrator: Run Workflow…');
  await answer(wb, 'A workflow from .vscode/orchestrator.json', 'ci');
  // lint and test wait for install; build waits for both.
  await waitForStage(wb, 'Build', 'Created');
  await waitForStage(wb, 'Package .vsix', 'Completed', { timeout: 60_000 });
  for (const name of NAMES) assert.equal(await stageOf(wb, name), 'Completed', name);
  await keepScreenshot(wb, 'workflow');

  writeFileSync(
    join(wb.workspace, '.vscode', 'orchestrator.json'),
    JSON.stringify(
      {
        workflows: { ci: { tasks: [{ key: 'install', command: 'npm ci', priority: 'high' }] } },
      },
      null,
      2,
    ),
  );
  await wb.runCommand('Orchestrator: Run Workflow…');
  // A problem inside one workflow makes that workflow alone unusable: it is listed under "Cannot run",
  // and picking it shows the error, a notification with an Open File button (no modal dialog).
  await answer(wb, 'A workflow from .vscode/orchestrator.json', 'ci');
  const toast = wb.page.locator('.notification-toast', { hasText: 'priority' }).first();
  await toast.waitFor({ state: 'visible', timeout: 20_000 });
  assert.equal(await wb.page.locator('.monaco-dialog-box').count(), 0, 'no modal dialog');
  // The toast slides and fades in: the picture is taken once it has stopped moving.
  let last = '';
  await wb.waitFor(
    async () => {
      const box = JSON.stringify(await toast.boundingBox());
      const settled = box === last && (await toast.evaluate((e) => e.ownerDocument.defaultView.getComputedStyle(e).opacity === '1'));
      last = box;
      return settled;
    },
    { interval: 200, message: 'the toast to settle' },
  );
  await keepScreenshot(wb, 'workflow-error');
  const messages = await wb.waitFor(
    async () => {
      const m = await wb.notifications();
      return m.some((t) => t.includes('priority')) ? m : undefined;
    },
    { message: 'an error naming the field' },
  );
  assert.ok(
    messages.some((t) => /Expected `workflows\.ci\.tasks\[0\]\.priority` to be an integer, got `"high"` \(string\)/.test(t)),
    messages.join('\n'),
  );
  const rows = await wb.treeRows();
  assert.equal(rows.filter((r) => NAMES.includes(r.label)).length, NAMES.length, 'nothing new was scheduled');
}
