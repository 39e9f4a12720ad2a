// Checks the Workbench helpers themselves on the stock workbench, so a broken helper shows up here and
// not as a puzzling failure in a feature scenario: palette, tree rows, context menu, Notification Center,
// reload.
import assert from 'node:assert/strict';

export const title = 'the UI helpers drive the palette, a tree, a context menu, notifications and a reload';
export const timeoutMs = 120_000;

/** @param {import('./workbench.mjs').Workbench} wb */
export async function run(wb) {
  await wb.runCommand('View: Show Explorer');
  await wb.waitForRow('package.json');
  const rows = await wb.treeRows();
  for (const f of ['src', 'scripts', 'package.json'])
    assert.ok(
      rows.some((r) => r.label === f),
      `Explorer shows ${f}`,
    );

  await wb.contextMenu('README.md', 'Open to the Side');
  await wb.page.locator('.editor-group-container .tab', { hasText: 'README.md' }).first().waitFor({ state: 'visible' });

  const messages = await wb.notifications();
  assert.ok(Array.isArray(messages));

  await wb.reload();
  await wb.openContainer('Orchestrator');
  await wb.waitForRow('Created', { timeout: 30_000 });
  await wb.screenshot('after-reload');
}
