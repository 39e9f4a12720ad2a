/* global fetch */
// `npm start`: build, then open the extension in a real VS Code on demo-workspace/.
//   - `code` on PATH (a desktop VS Code): `code --extensionDevelopmentPath=<repo> demo-workspace`.
//   - otherwise: code-server from the tools cache on 127.0.0.1 (port 8080, or a free one), `--auth none`,
//     the extension linked into a profile kept in <tools>/start (so state survives restarts), and the URL
//     to open printed. Ctrl-C stops the server and everything it started (its process group).
// Flags: --code-server (skip the desktop check), --port N, --fresh (a new profile),
//        --check (start, fetch the URL, load it in chromium, see the Orchestrator container, stop; exit 0/1).
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setInterval, clearInterval } from 'node:timers';
import { REPO_ROOT, startCodeServer } from './codeServer.mjs';
import { stopAll, withTimeout } from './processes.mjs';
import { toolsDir } from './tools.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const WORKSPACE = join(REPO_ROOT, 'demo-workspace');

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

async function check(server, url) {
  const res = await withTimeout(fetch(url), 15_000, `GET ${url}`);
  console.log(`[start] GET ${url} -> ${res.status}`);
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
  const { launchBrowser } = await import('./browser.mjs');
  const browser = await launchBrowser(join(server.scratch, 'browser-check'));
  try {
    const { page } = browser;
    await page.goto(url);
    const item = page.locator('.activitybar [aria-label^="Orchestrator"]').first();
    await item.waitFor({ state: 'visible', timeout: 60_000 });
    await item.click();
    await page.locator('.part.sidebar .monaco-list-row', { hasText: 'Created' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    const shot = join(REPO_ROOT, '.test-output', 'start-check.png');
    await page.screenshot({ path: shot });
    console.log(`[start] chromium shows the Orchestrator container and its tree (${shot})`);
  } finally {
    await browser.close();
  }
}

async function main() {
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 120_000 });
  if (build.status !== 0) throw new Error('build failed');

  if (!flag('--code-server') && !flag('--check') && onPath('code')) {
    console.log(`[start] code --extensionDevelopmentPath=${REPO_ROOT} ${WORKSPACE}`);
    const child = spawn('code', [`--extensionDevelopmentPath=${REPO_ROOT}`, WORKSPACE], { stdio: 'inherit' });
    return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 0)));
  }

  const scratch = join(toolsDir(), flag('--check') ? 'start-check' : 'start');
  if (flag('--fresh') || flag('--check')) rmSync(scratch, { recursive: true, force: true });
  const server = await startCodeServer({
    scratch,
    trust: 'disabled',
    linkExtension: REPO_ROOT,
    smokeTestDriver: false, // keep notification toasts; the extension loads from the extensions dir
    port: Number(option('--port', 8080)),
  });
  const url = server.workbenchUrl({ folder: WORKSPACE });
  if (flag('--check')) {
    try {
      await check(server, url);
      return 0;
    } finally {
      server.collectLogs(join(REPO_ROOT, '.test-output'), 'start-check.');
      await server.stop();
    }
  }
  console.log(`\n  Orchestrator in code-server (VS Code in the browser) on demo-workspace:\n\n    ${url}\n`);
  console.log(`  After a rebuild (npm run build), reload the window (F1 > Developer: Reload Window).`);
  console.log(`  Server log: ${server.logFile}\n  Ctrl-C stops it.`);
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      try {
        process.kill(server.pid, 0);
      } catch {
        clearInterval(timer);
        console.error(`[start] code-server stopped; log: ${server.logFile}`);
        resolve(1);
      }
    }, 1000);
  });
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (e) {
  console.error(`[start] ${e.stack ?? e}`);
} finally {
  await stopAll();
}
process.exit(exitCode);
