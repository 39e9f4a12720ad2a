// Schedule a shell command from the palette and watch it go Running, then Completed, in the Tasks tree.
import assert from 'node:assert/strict';
import { keepScreenshot, layoutForScreenshots, scheduleShellFromPalette, stageOf, waitForStage } from './orchestratorSteps.mjs';

export const title = 'a shell command scheduled from the palette goes Running, then Completed';
export const timeoutMs = 120_000;

const COMMAND = 'node scripts/slow.js 4 && echo e2e-done';

/** @param {import('./workbench.mjs').Workbench} wb */
export async function run(wb) {
  await wb.openContainer('Orchestrator');
  await wb.waitForRow('Running', { timeout: 30_000 });
  await layoutForScreenshots(wb);
  await scheduleShellFromPalette(wb, COMMAND);
  await waitForStage(wb, COMMAND, 'Running');
  const running = (await wb.treeRows()).find((r) => r.label === COMMAND);
  assert.match(running?.description ?? '', /\d/, 'a running task shows its elapsed time');
  await keepScreenshot(wb, 'schedule-running');
  await waitForStage(wb, COMMAND, 'Completed', { timeout: 30_000 });
  assert.equal(await stageOf(wb, COMMAND), 'Completed');
  // The status bar counts it no more.
  await wb.waitFor(async () => /0 running · 0 queued/.test(await wb.page.locator('.statusbar').innerText()), { message: 'the status bar to show 0 running' });
  // Its tooltip has the details: command, exit code, history.
  await (await wb.waitForRow(COMMAND)).hover();
  await wb.page.locator('.monaco-hover').filter({ hasText: 'Exit code' }).first().waitFor({ state: 'visible', timeout: 10_000 });
  await keepScreenshot(wb, 'schedule-completed');
}
