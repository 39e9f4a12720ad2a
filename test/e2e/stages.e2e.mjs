// The Orchestrator container opens from the activity bar and its Tasks tree shows the six lifecycle
// stages, each with a count (after the Watching node of the demo's trigger). Keeps
// media/screenshot-tree.png (the README's picture) current.
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
  // The tree fills in once the extension has activated (its view activates it), and the Watching node
  // of the demo's trigger comes first once the workflow file has been read: the rows re-render then,
  // so they are read again until the whole list is in place.
  const rows = await wb.waitFor(
    async () => {
      const all = await wb.treeRows();
      const r = all.filter((x) => STAGES.includes(x.label));
      return all[0]?.label === 'Watching' && r.map((x) => x.label).join() === STAGES.join() ? r : undefined;
    },
    { timeout: 30_000, message: 'the Watching node and the six stage rows in the Tasks tree' },
  );
  assert.deepEqual(
    rows.map((r) => r.label),
    STAGES,
  );
  for (const r of rows) assert.match(r.description, /\d+/, `${r.label} shows a count`);
  const shot = await wb.screenshot('tree');
  copyFileSync(shot, join(REPO_ROOT, 'media', 'screenshot-tree.png'));
}
