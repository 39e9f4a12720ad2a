// The Orchestrator container opens from the activity bar and its Tasks tree shows the six lifecycle
// stages, each with a count. Keeps media/screenshot-tree.png (the README's picture) current.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/codeServer.mjs';
import { STAGES } from './orchestratorSteps.mjs';

export const title = 'the Orchestrator container shows the six lifecycle stages with counts';
export const timeoutMs = 90_000;

/** @param {import('./workbench.mjs').Workbench} wb */
export async function run(wb) {
  await wb.openContainer('Orchestrator');
  // The tree fills in once the extension has activated (its view activates it).
  const rows = await wb.waitFor(
    async () => {
      const r = (await wb.treeRows()).filter((x) => STAGES.includes(x.label));
      return r.length === STAGES.length ? r : undefined;
    },
    { timeout: 30_000, message: 'six stage rows in the Tasks tree' },
  );
  assert.deepEqual(
    rows.map((r) => r.label),
    STAGES,
  );
  for (const r of rows) assert.match(r.description, /\d+/, `${r.label} shows a count`);
  const shot = await wb.screenshot('tree');
  copyFileSync(shot, join(REPO_ROOT, 'media', 'screenshot-tree.png'));
}
