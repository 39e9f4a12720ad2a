// Cancel a long task from its context menu in the Tasks tree and see it under Cancelled.
import assert from 'node:assert/strict';
import { keepScreenshot, layoutForScreenshots, scheduleShellFromPalette, stageOf, waitForStage } from './orchestratorSteps.mjs';

export const title = 'a long task cancelled from its context menu moves to Cancelled';
export const timeoutMs = 120_000;

const COMMAND = 'sleep 300';

/** @param {import('./workbench.mjs').Workbench} wb */
export async function run(wb) {
  await wb.openContainer('Orchestrator');
  await wb.waitForRow('Running', { timeout: 30_000 });
  await layoutForScreenshots(wb);
  await scheduleShellFromPalette(wb, COMMAND);
  await waitForStage(wb, COMMAND, 'Running');
  // The menu of a running task: Cancel, Show Output, Show Details, Copy Task Id (no Retry, no Remove).
  await (await wb.waitForRow(COMMAND)).click({ button: 'right' });
  await wb.page.getByRole('menuitem', { name: 'Cancel Task…' }).first().waitFor({ state: 'visible' });
  const runningMenu = await wb.page.getByRole('menuitem').allInnerTexts();
  assert.ok(!runningMenu.some((n) => n.includes('Retry Task')), `menu: ${runningMenu.join(', ')}`);
  assert.ok(
    runningMenu.some((n) => n.includes('Show Task Output')),
    `menu: ${runningMenu.join(', ')}`,
  );
  await keepScreenshot(wb, 'cancel-menu');
  await wb.page.keyboard.press('Escape');
  await wb.contextMenu(COMMAND, 'Cancel Task…');
  await waitForStage(wb, COMMAND, 'Cancelled');
  assert.equal(await stageOf(wb, COMMAND), 'Cancelled');
  // A cancelled task offers Retry and Remove, not Cancel.
  const row = await wb.waitForRow(COMMAND);
  await row.click({ button: 'right' });
  const names = await wb.page.getByRole('menuitem').allInnerTexts();
  await wb.page.keyboard.press('Escape');
  assert.ok(
    names.some((n) => n.includes('Retry Task')),
    `menu: ${names.join(', ')}`,
  );
  assert.ok(
    names.some((n) => n.includes('Remove Task')),
    `menu: ${names.join(', ')}`,
  );
  assert.ok(!names.some((n) => n.includes('Cancel Task')), `menu: ${names.join(', ')}`);
  await row.click();
  await keepScreenshot(wb, 'cancel');
}
