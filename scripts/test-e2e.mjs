// `npm run test:e2e`: UI scenarios, a real chromium driving a real VS Code workbench (code-server).
//
// Adding a scenario: create test/e2e/<name>.e2e.mjs exporting
//   export const title = 'what the user sees happen';
//   export const timeoutMs = 90_000;                          // optional, the whole scenario
//   export const options = { trust: 'untrusted', settings: {...}, extension: 'payload' };  // optional, see openWorkbench
//   export async function run(wb) { ... }                      // wb: test/e2e/workbench.mjs's Workbench
//   export async function setup({ outputDir }) {               // optional: runs before the server starts
//     return { options: { settings: {...} }, cleanup: async () => {} };  // options merged over `options`
//   }
// Each scenario gets a fresh code-server (own user-data-dir), a fresh browser profile and a scratch copy of
// demo-workspace; screenshots and logs go to .test-output/e2e/<name>/ (a failure adds failure.png).
// setup() is for what the workbench needs before it starts (a Redis and its workers, say); it counts against
// the scenario's timeout, stops what it started itself if it throws, and its cleanup runs after the
// workbench is closed, on success and on failure.
// Scenarios run one after another. Filter with `npm run test:e2e -- stages` (substring of the file name).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, extensionHostErrors } from './codeServer.mjs';
import { stopAll, withTimeout } from './processes.mjs';
import { ensureChromium, ensureCodeServerTools } from './tools.mjs';

const E2E_DIR = join(REPO_ROOT, 'test', 'e2e');
const OUTPUT = join(REPO_ROOT, '.test-output', 'e2e');
const DEFAULT_TIMEOUT_MS = 120_000;

async function runScenario(file) {
  const name = file.replace(/\.e2e\.mjs$/, '');
  const outputDir = join(OUTPUT, name);
  rmSync(outputDir, { recursive: true, force: true });
  const started = Date.now();
  let title = name;
  let wb;
  let opening;
  let preparing;
  let prepared;
  let failed = true;
  try {
    const mod = await import(pathToFileURL(join(E2E_DIR, file)).href);
    title = mod.title ?? name;
    if (typeof mod.run !== 'function') throw new Error(`${file} exports no run(wb)`);
    const { openWorkbench } = await import('../test/e2e/workbench.mjs');
    await withTimeout(
      (async () => {
        mkdirSync(outputDir, { recursive: true });
        preparing = typeof mod.setup === 'function' ? Promise.resolve(mod.setup({ outputDir })) : undefined;
        prepared = await preparing;
        const extra = prepared?.options ?? {};
        const settings = { ...mod.options?.settings, ...extra.settings };
        opening = openWorkbench({ ...mod.options, ...extra, settings, outputDir });
        wb = await opening;
        await mod.run(wb);
      })(),
      mod.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      `scenario "${title}"`,
    );
    failed = false;
  } finally {
    // A scenario that timed out while the workbench was still opening: close it once it is open.
    wb ??= opening && (await withTimeout(opening, 60_000, 'opening the workbench').catch(() => undefined));
    await wb?.close({ failed }).catch((e) => console.error(`    (closing: ${e.message})`));
    // Likewise a setup still running when the scenario timed out: its cleanup runs once it is done.
    prepared ??= preparing && (await withTimeout(preparing, 60_000, 'the scenario setup').catch(() => undefined));
    await (async () => prepared?.cleanup?.())().catch((e) => console.error(`    (cleaning up: ${e.message})`));
    const s = ((Date.now() - started) / 1000).toFixed(1);
    console.log(failed ? `  ✖ ${title} (${s} s; see ${outputDir})` : `  ✔ ${title} (${s} s)`);
    if (failed) for (const l of extensionHostErrors(outputDir)) console.log(`    [exthost] ${l}`);
  }
}

async function main() {
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 120_000 });
  if (build.status !== 0) throw new Error('build failed');
  // Tools first, outside any scenario's timeout (a cold install takes minutes).
  await ensureCodeServerTools();
  await ensureChromium();
  const filters = process.argv.slice(2);
  const files = readdirSync(E2E_DIR)
    .filter((f) => f.endsWith('.e2e.mjs'))
    .sort()
    .filter((f) => !filters.length || filters.some((x) => f.includes(x)));
  if (!files.length) throw new Error(`no scenarios (*.e2e.mjs) in ${E2E_DIR}${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
  console.log(`\n  UI scenarios (${files.length}) in code-server + chromium`);
  let passed = 0;
  let failed = 0;
  for (const f of files) {
    try {
      await runScenario(f);
      passed++;
    } catch (e) {
      failed++;
      console.log(
        `    ${String(e.stack ?? e)
          .split('\n')
          .slice(0, 6)
          .join('\n    ')}`,
      );
    }
  }
  console.log(`\n${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

let exitCode = 1;
const started = Date.now();
try {
  exitCode = await main();
} catch (e) {
  console.error(`[e2e] ${e.stack ?? e}`);
  console.log('\n0 passed, 1 failed');
} finally {
  await stopAll();
}
console.log(`[e2e] ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(exitCode);
