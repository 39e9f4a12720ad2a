// The mocha runner VS Code's extension host calls (`extensionTestsPath` -> out/test/host/index.js).
//
// Adding host tests: put `something.test.ts` in test/host/ (the main pass: workspace trusted) or in
// test/host/untrusted/ (the second pass: the same workspace opened in Restricted Mode). esbuild bundles each
// into out/test/host/**.js with 'vscode' and 'mocha' external; scripts/test-host.mjs runs both passes.
//
// What the runner tells us through the environment (extensionEnvironment in code-server, the process
// environment under @vscode/test-electron):
//   ORCHESTRATOR_TEST_SUITE  the subfolder of out/test/host whose *.test.js to load ('' = the main pass)
//   ORCHESTRATOR_TEST_LOG    a file every reporter line is appended to; the runner streams it to the terminal
//   ORCHESTRATOR_TEST_GREP   optional mocha --grep
// The host's console reaches the browser with printf arguments unformatted, so lines are formatted here.
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import Mocha from 'mocha';

const TEST_TIMEOUT_MS = 20_000;

export function run(): Promise<void> {
  const suite = process.env.ORCHESTRATOR_TEST_SUITE ?? '';
  const logFile = process.env.ORCHESTRATOR_TEST_LOG;
  const dir = path.join(__dirname, suite);

  const write = (line: string) => {
    // With a log file the runner streams it; the console would only print each line a second time.
    if (logFile) fs.appendFileSync(logFile, line.endsWith('\n') ? line : `${line}\n`);
    else console.log(line);
  };

  // The Spec reporter prints through Base.consoleLog: route it through `write` for the length of the run.
  // (The counting reporter's closing line goes to process.stdout, which the extension host keeps for
  // itself, so the same line is written here from the runner's stats.)
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
  const originalConsoleLog = base.consoleLog;
  base.consoleLog = (...args: unknown[]) => write(util.format(...args));
  const restore = () => {
    base.consoleLog = originalConsoleLog;
  };

  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: TEST_TIMEOUT_MS });
  mocha.reporter(path.resolve(__dirname, '../../../test/support/countingReporter.cjs'));
  if (process.env.ORCHESTRATOR_TEST_GREP) mocha.grep(process.env.ORCHESTRATOR_TEST_GREP);

  const files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.test.js'))
        .sort()
    : [];
  write(`[host] suite "${suite || 'main'}": ${files.length} file(s) in ${dir}`);
  for (const f of files) mocha.addFile(path.join(dir, f));

  return new Promise<void>((resolve, reject) => {
    if (!files.length) {
      restore();
      write('\n0 passed, 1 failed');
      reject(new Error(`No *.test.js in ${dir}: was the build run?`));
      return;
    }
    try {
      const runner = mocha.run((failures) => {
        restore();
        const st = runner.stats ?? { passes: 0, failures, pending: 0 };
        write(`\n${st.passes} passed, ${st.failures} failed${st.pending ? `, ${st.pending} skipped` : ''}`);
        if (failures > 0) reject(new Error(`${failures} test(s) failed`));
        else resolve();
      });
    } catch (e) {
      restore();
      write(`[host] mocha could not run: ${e instanceof Error ? e.stack : String(e)}`);
      write('\n0 passed, 1 failed');
      reject(e);
    }
  });
}
