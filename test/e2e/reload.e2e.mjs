// Reload the window: every task is found again, with the recovery policy applied (a task that was
// running when the window went is Failed "interrupted", having no retries left).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { keepScreenshot, layoutForScreenshots, scheduleShellFromPalette, waitForStage } from './orchestratorSteps.mjs';

export const title = 'after a window reload the tasks are found again, recovered by policy';
export const timeoutMs = 180_000;

const DONE = 'echo kept-across-reload';
const LONG = 'sleep 240';

/** @param {import('./workbench.mjs').Workbench} wb */
export async function run(wb) {
  await wb.openContainer('Orchestrator');
  await wb.waitForRow('Running', { timeout: 30_000 });
  await layoutForScreenshots(wb);
  await scheduleShellFromPalette(wb, DONE);
  await waitForStage(wb, DONE, 'Completed');
  await scheduleShellFromPalette(wb, LONG);
  await waitForStage(wb, LONG, 'Running');
  // Writes to workspace state are coalesced: give the last one time to land before the window goes.
  await sleep(2500);
  await keepScreenshot(wb, 'reload-before');

  await wb.reload();
  // The status bar item's command, from the palette: it opens the side bar on the Tasks view whatever
  // layout the reload restored (the container can come back selected with its side bar hidden).
  await wb.runCommand('Orchestrator: Show Tasks', { timeout: 45_000 });
  await waitForStage(wb, DONE, 'Completed', { timeout: 45_000 });
  await waitForStage(wb, LONG, 'Failed', { timeout: 45_000 });
  const row = (await wb.treeRows()).find((r) => r.label === LONG);
  assert.ok(row, 'the interrupted task is shown');
  await keepScreenshot(wb, 'reload-after');
}
