// Steps the Orchestrator scenarios share: answering the palette's quick inputs, scheduling a shell
// command through it, the dashboard's frame, and finding which stage of the Tasks tree a task's row
// sits under.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/codeServer.mjs';

export const STAGES = ['Created', 'Scheduled', 'Running', 'Completed', 'Failed', 'Cancelled'];

/** Waits until the quick input shows the placeholder `placeholder`, types `text` and accepts. */
export async function answer(wb, placeholder, text, { timeout = 20_000 } = {}) {
  const input = wb.page.locator(`.quick-input-widget input.input[placeholder="${placeholder}"]`);
  await input.waitFor({ state: 'visible', timeout });
  await input.fill(text);
  // The list filters as it is typed; accept once the wanted row is the first one.
  if (placeholder !== 'npm test') {
    await wb.page
      .locator('.quick-input-widget .monaco-list-row', { hasText: text.replace(/…$/, '') })
      .first()
      .waitFor({ state: 'visible', timeout });
  }
  await wb.page.keyboard.press('Enter');
}

/** Orchestrator: Schedule Task… -> Shell command… -> the command -> Normal priority. */
export async function scheduleShellFromPalette(wb, command, priority = 'Normal') {
  await wb.runCommand('Orchestrator: Schedule Task…');
  await answer(wb, 'A shell command, a VS Code task or a workflow', 'Shell command…');
  await answer(wb, 'npm test', command);
  await answer(wb, 'Priority', priority);
}

/** The dashboard's page: the webview's inner frame. */
export function dashboardFrame(wb) {
  return wb.page.frameLocator('iframe.webview').frameLocator('#active-frame');
}

/** The stage a row labelled `label` is under, or undefined when no such row is shown. */
export async function stageOf(wb, label) {
  let stage;
  for (const row of await wb.treeRows()) {
    if (STAGES.includes(row.label)) stage = row.label;
    else if (row.label === label) return stage;
  }
  return undefined;
}

export async function waitForStage(wb, label, stage, { timeout = 30_000 } = {}) {
  await wb.waitFor(async () => (await stageOf(wb, label)) === stage, {
    timeout,
    message: `"${label}" under ${stage} (is under ${await stageOf(wb, label).catch(() => '?')})`,
  });
}

/**
 * Makes the screenshots readable: hides the empty secondary side bar and widens the side bar, so task
 * names and their descriptions are not cut.
 */
export async function layoutForScreenshots(wb, width = 560) {
  const aux = wb.page.locator('.part.auxiliarybar');
  if (await aux.isVisible().catch(() => false)) {
    await wb.page.keyboard.press('Control+Alt+B');
    await aux.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {});
  }
  const box = await wb.page.locator('.part.sidebar').boundingBox();
  if (box && box.width < width) {
    const x = box.x + box.width + 1;
    const y = box.y + box.height / 2;
    await wb.page.mouse.move(x, y);
    await wb.page.mouse.down();
    await wb.page.mouse.move(box.x + width, y, { steps: 8 });
    await wb.page.mouse.up();
  }
}

/** Takes a screenshot and keeps it in media/ for the README. */
export async function keepScreenshot(wb, name) {
  const shot = await wb.screenshot(name);
  copyFileSync(shot, join(REPO_ROOT, 'media', `screenshot-${name}.png`));
  return shot;
}
