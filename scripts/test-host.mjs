// `npm run test:host`: the mocha suites of test/host, run INSIDE a real VS Code extension host.
//
// Adding tests: drop `name.test.ts` into test/host/ (main pass: Workspace Trust disabled, so the folder is
// trusted) or into test/host/untrusted/ (second pass: trust on, the folder opened in Restricted Mode, no
// prompt). Any other subfolder of test/host becomes its own trusted pass; give it a row in PASSES to change
// that. esbuild.mjs bundles them to out/test/host/; test/host/index.ts is the runner the host calls.
//
// Hosts: with VSCODE_EXECUTABLE=/path/to/code (a desktop VS Code), each pass runs through
// @vscode/test-electron's runTests. Otherwise (the default here) code-server from the tools cache
// (scripts/tools.mjs) with the smoke-test driver: chromium opens the workbench with a dev `payload`
// (extensionDevelopmentPath, extensionTestsPath, extensionEnvironment) and the workbench calls our exposed
// codeAutomationExit when run() settles. Each pass gets a fresh server, user-data-dir and copy of
// demo-workspace in a scratch folder; logs land in .test-output/host/.
//
// Env: HOST_TEST_TIMEOUT_MS (per pass, default 180000), ORCHESTRATOR_TEST_GREP (mocha --grep),
// HOST_TEST_PASSES=main,untrusted (run only these), KEEP_SCRATCH=1 (keep the scratch folders).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setInterval, clearInterval } from 'node:timers';
import { REPO_ROOT, startCodeServer, devPayload, extensionHostErrors } from './codeServer.mjs';
import { launchBrowser } from './browser.mjs';
import { atExit, stopAll, withTimeout } from './processes.mjs';

/** Subfolders of out/test/host with non-default settings. '' is the main pass. */
const PASSES = {
  '': { name: 'main', trust: 'disabled' },
  untrusted: { name: 'untrusted', trust: 'untrusted' },
};
const PASS_TIMEOUT_MS = Number(process.env.HOST_TEST_TIMEOUT_MS || 180_000);
const OUT = join(REPO_ROOT, 'out', 'test', 'host');
const OUTPUT = join(REPO_ROOT, '.test-output', 'host');
const CLOSING = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/;

function discoverPasses() {
  const hasTests = (dir) => existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.test.js'));
  const suites = [''];
  for (const d of readdirSync(OUT, { withFileTypes: true })) if (d.isDirectory()) suites.push(d.name);
  const only = process.env.HOST_TEST_PASSES?.split(',').map((s) => s.trim());
  return suites
    .filter((s) => hasTests(join(OUT, s)))
    .map((suite) => ({ suite, ...(PASSES[suite] ?? { name: suite, trust: 'disabled' }) }))
    .filter((p) => !only || only.includes(p.name));
}

/** Prints lines appended to `file` as they arrive; returns a function that prints the rest and stops. */
function follow(file, prefix) {
  let printed = 0;
  const flush = () => {
    if (!existsSync(file)) return;
    const text = readFileSync(file, 'utf8');
    const end = text.lastIndexOf('\n') + 1;
    if (end > printed) {
      process.stdout.write(
        text
          .slice(printed, end)
          .split('\n')
          .map((l) => (l ? prefix + l : l))
          .join('\n'),
      );
      printed = end;
    }
  };
  const timer = setInterval(flush, 250);
  return () => {
    clearInterval(timer);
    flush();
  };
}

function closingLine(logFile) {
  if (!existsSync(logFile)) return undefined;
  const lines = readFileSync(logFile, 'utf8')
    .split('\n')
    .map((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = CLOSING.exec(lines[i]);
    if (m) return { passed: +m[1], failed: +m[2], skipped: +(m[3] ?? 0) };
  }
  return undefined;
}

function prepareScratch(pass) {
  const scratch = mkdtempSync(join(tmpdir(), `orchestrator-host-${pass.name}-`));
  // Also on Ctrl-C: 'exit' comes after processes.mjs has stopped the server and the browser.
  if (!process.env.KEEP_SCRATCH) atExit(() => rmSync(scratch, { recursive: true, force: true }));
  const workspace = join(scratch, 'demo-workspace');
  // Without the demo's task cache (.orchestrator/): every pass starts from an empty one, so the tests see
  // the demo's tasks run, whatever ran in the repository's copy before.
  cpSync(join(REPO_ROOT, 'demo-workspace'), workspace, { recursive: true, filter: (src) => !/[/\\]\.orchestrator$/.test(src) });
  return { scratch, workspace };
}

async function runInCodeServer(pass, { scratch, workspace, logFile }) {
  const server = await startCodeServer({ scratch, trust: pass.trust, smokeTestDriver: true });
  let browser;
  try {
    browser = await launchBrowser(join(scratch, 'browser'));
    const { page } = browser;
    const browserLog = [];
    page.on('console', (m) => {
      if (m.type() === 'error') browserLog.push(`[console.error] ${m.text()}`);
    });
    page.on('pageerror', (e) => browserLog.push(`[pageerror] ${e.message}`));
    let exited;
    const exit = new Promise((resolve) => {
      exited = resolve;
    });
    await page.exposeFunction('codeAutomationLog', () => {}); // reporter lines come through the log file
    await page.exposeFunction('codeAutomationExit', (code) => {
      exited(Number(code));
    });
    const payload = devPayload(server, {
      extensionTestsPath: join(OUT, 'index.js'),
      extensionEnvironment: { ORCHESTRATOR_TEST_SUITE: pass.suite, ORCHESTRATOR_TEST_LOG: logFile, ...grepEnv() },
    });
    await page.goto(server.workbenchUrl({ folder: workspace, payload }));
    try {
      return await withTimeout(exit, PASS_TIMEOUT_MS, `host pass "${pass.name}" did not finish`);
    } finally {
      writeFileSync(join(OUTPUT, `${pass.name}.browser.log`), browserLog.join('\n') + '\n');
      await page.screenshot({ path: join(OUTPUT, `${pass.name}.png`), timeout: 10_000 }).catch(() => {});
    }
  } finally {
    await browser?.close();
    await server.stop();
    server.collectLogs(OUTPUT, `${pass.name}.`);
  }
}

async function runInDesktop(pass, { scratch, workspace, logFile }) {
  const { runTests } = await import('@vscode/test-electron');
  const userDataDir = join(scratch, 'user-data');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({
      'security.workspace.trust.enabled': pass.trust !== 'disabled',
      'security.workspace.trust.startupPrompt': 'never',
      'security.workspace.trust.banner': 'never',
    }),
  );
  const code = await withTimeout(
    runTests({
      vscodeExecutablePath: process.env.VSCODE_EXECUTABLE,
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: join(OUT, 'index.js'),
      extensionTestsEnv: { ORCHESTRATOR_TEST_SUITE: pass.suite, ORCHESTRATOR_TEST_LOG: logFile, ...grepEnv() },
      launchArgs: [
        workspace,
        '--disable-extensions',
        `--user-data-dir=${userDataDir}`,
        `--extensions-dir=${join(scratch, 'extensions')}`,
        ...(pass.trust === 'disabled' ? ['--disable-workspace-trust'] : []),
      ],
    }).catch(() => 1),
    PASS_TIMEOUT_MS,
    `host pass "${pass.name}" did not finish`,
  );
  return code;
}

function grepEnv() {
  return process.env.ORCHESTRATOR_TEST_GREP ? { ORCHESTRATOR_TEST_GREP: process.env.ORCHESTRATOR_TEST_GREP } : {};
}

async function main() {
  const started = Date.now();
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 120_000 });
  if (build.status !== 0) throw new Error('build failed');
  mkdirSync(OUTPUT, { recursive: true });
  const passes = discoverPasses();
  if (!passes.length) throw new Error(`no host tests in ${OUT}`);
  const host = process.env.VSCODE_EXECUTABLE ? `desktop VS Code (${process.env.VSCODE_EXECUTABLE})` : 'code-server';
  const total = { passed: 0, failed: 0, skipped: 0 };
  let ok = true;
  for (const pass of passes) {
    const passStarted = Date.now();
    console.log(`\n[host] pass "${pass.name}" (${pass.trust === 'disabled' ? 'trusted' : 'untrusted'}) in ${host}`);
    // The mocha log lives in this run's scratch folder (another run in the same tree cannot write into it)
    // and is copied to .test-output/host/<pass>.log at the end.
    const dirs = prepareScratch(pass);
    const logFile = join(dirs.scratch, 'mocha.log');
    const stopFollowing = follow(logFile, '  ');
    let code;
    try {
      code = await (process.env.VSCODE_EXECUTABLE ? runInDesktop(pass, { ...dirs, logFile }) : runInCodeServer(pass, { ...dirs, logFile }));
    } catch (e) {
      console.error(`[host] pass "${pass.name}": ${e.message}`);
      code = 1;
    } finally {
      stopFollowing();
      if (existsSync(logFile)) cpSync(logFile, join(OUTPUT, `${pass.name}.log`));
    }
    const counts = closingLine(logFile);
    if (process.env.KEEP_SCRATCH) console.log(`[host] scratch kept: ${dirs.scratch}`);
    else rmSync(dirs.scratch, { recursive: true, force: true });
    if (!counts) {
      console.error(`[host] pass "${pass.name}" printed no closing line; see .test-output/host/${pass.name}.*`);
      total.failed += 1;
    } else {
      total.passed += counts.passed;
      total.failed += counts.failed;
      total.skipped += counts.skipped;
    }
    if (code !== 0 || !counts || counts.failed) {
      ok = false;
      for (const l of extensionHostErrors(OUTPUT, `${pass.name}.`)) console.log(`  [exthost] ${l}`);
    }
    console.log(`[host] pass "${pass.name}" exit ${code} in ${((Date.now() - passStarted) / 1000).toFixed(1)} s`);
  }
  console.log(`[host] ${passes.length} pass(es) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const skipped = total.skipped ? `, ${total.skipped} skipped` : '';
  console.log(`\n${total.passed} passed, ${total.failed} failed${skipped}`);
  return ok ? 0 : 1;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (e) {
  console.error(`[host] ${e.stack ?? e}`);
  console.log('\n0 passed, 1 failed');
} finally {
  await stopAll();
}
process.exit(exitCode);
