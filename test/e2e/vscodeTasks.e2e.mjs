// Schedule Task… lists VS Code tasks by the label VS Code's Run Task shows: typing `npm: compile` (a
// tasks.json entry { "type": "npm", "script": "compile" } without a label) finds it, and it runs.
import assert from 'node:assert/strict';
import { layoutForScreenshots, waitForStage } from './orchestratorSteps.mjs';

export const title = 'Schedule Task… finds `npm: compile` by the label VS Code shows, and it completes';
export const timeoutMs = 120_000;

const LABEL = 'npm: compile';

/** @param {import('./workbench.mjs').Workbench} wb */
export async function run(wb) {
  await wb.openContainer('Orchestrator');
  await wb.waitForRow('Running', { timeout: 30_000 });
  await layoutForScreenshots(wb);
  await wb.runCommand('Orchestrator: Schedule Task…');
  const input = wb.page.locator('.quick-input-widget input.input[placeholder="A shell command, a VS Code task or a workflow"]');
  await input.waitFor({ state: 'visible', timeout: 20_000 });
  await input.fill(LABEL);
  // The VS Code tasks load after the picker opens; the row shows once they have and match the text.
  const row = wb.page.locator('.quick-input-widget .monaco-list-row', { hasText: LABEL }).first();
  await row.waitFor({ state: 'visible', timeout: 20_000 });
  assert.match(await row.innerText(), /tasks\.json/, 'the configured task, not a detected one');
  await wb.screenshot('vscode-tasks-picker');
  await row.click();
  await waitForStage(wb, LABEL, 'Completed', { timeout: 40_000 });
  await wb.screenshot('vscode-tasks-completed');
}
