// The built CLI's other commands and its refusals: each bad input is one line on stderr saying what
// was wrong and what is allowed, exit 2, and nothing ran.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { assertBuilt, CLI, makeWorkspace, removeWorkspace, runCli } from './support/cli';

const ran = 'touch ran.marker';
const workflows = {
  build: {
    description: 'the build',
    tasks: [
      { key: 'compile', command: ran },
      { key: 'pack', command: ran, dependsOn: ['compile'] },
    ],
  },
  nightly: { tasks: [{ key: 'fetch', command: ran }] },
};

describe('orchestrator commands and refusals (the built CLI)', function () {
  this.timeout(60_000);
  let dir: string;
  before(assertBuilt);
  beforeEach(() => (dir = makeWorkspace(workflows)));
  afterEach(() => removeWorkspace(dir));

  /** Exit 2, one line on stderr matching `pattern`, nothing ran. */
  async function refused(args: string[], pattern: RegExp, cwd = dir, oneLine = true): Promise<void> {
    const result = await runCli(args, cwd);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, pattern);
    if (oneLine) assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
    assert.ok(!existsSync(join(cwd, 'ran.marker')), 'nothing ran');
  }

  it('runs as a program of its own (its #! line), as `npx orchestrator` and an installed bin run it', () => {
    const result = spawnSync(CLI, ['--version'], { encoding: 'utf8' });
    assert.equal(result.error, undefined, `dist/cli.js could not be run as a program: ${String(result.error)}`);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^\d+\.\d+\.\d+/);
  });
  it('refuses an unknown workflow, suggesting the nearest', () =>
    refused(['run', 'biuld'], /^orchestrator: Unknown workflow `biuld` \(did you mean `build`\?\); known: `build`, `nightly`\n$/));
  it('refuses an unknown option', () => refused(['run', 'build', '--frobnicate'], /unknown option '--frobnicate'; --help lists what is allowed/));
  it('refuses a misspelt option, suggesting the nearest', () =>
    refused(['run', 'build', '--onyl', 'compile'], /unknown option '--onyl' \(Did you mean --only\?\)/));
  it('refuses a --resources string that does not parse', () =>
    refused(['run', 'build', '--resources', 'cpu'], /Expected --resources to be a comma-separated list of name=capacity/));
  it('refuses a negative concurrency', () =>
    refused(
      ['run', 'build', '--concurrency', '-1'],
      /Expected --concurrency to be an integer from 0 to \d+ \(0: automatic, one per CPU plus, with --backend redis, the workers' live slots\), got "-1"/,
    ));
  it('refuses an unknown --only key', () => refused(['run', 'build', '--only', 'compil'], /Unknown task key for --only `compil` \(did you mean `compile`\?\)/));
  it('lists the workflows when several exist and none is named', () => refused(['run'], /has 2 workflows; name one or more: build, nightly/));
  it('refuses a pool no capacity was given for', async () => {
    removeWorkspace(dir);
    dir = makeWorkspace({ gpu: { tasks: [{ key: 'train', command: ran, resources: { gpu: 1 } }] } });
    await refused(['run', 'gpu'], /Workflow `gpu`, task `train` of \.vscode\/orchestrator\.json: Expected `resources\.gpu` to name a configured pool/);
  });

  it('refuses a folder without a workflow file, and a missing --file', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'orchestrator-cli-empty-'));
    try {
      await refused(['run', 'build'], /No \.vscode\/orchestrator\.json in .* or any folder above it/, empty);
      await refused(['run', 'build', '--file', 'nope.json'], /No workflow file at nope\.json/, empty);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('refuses an invalid file with every problem at file:line:column; validate exits 1', async () => {
    removeWorkspace(dir);
    dir = makeWorkspace('{\n  "workflows": {\n    "ci": { "tasks": [ { "key": "a", "command": "true", "retries": -1 } ] }\n  }\n}\n');
    await refused(
      ['run', 'ci'],
      /^\.vscode\/orchestrator\.json:3:\d+: Expected `workflows\.ci\.tasks\[0\]\.retries` to be an integer >= 0, got `-1`/m,
      dir,
      false,
    );
    const validate = await runCli(['validate'], dir);
    assert.equal(validate.code, 1);
    assert.match(validate.stderr, /^\.vscode\/orchestrator\.json:3:\d+: Expected/m);
  });

  it('validates a good file and lists its workflows and tasks', async () => {
    const validate = await runCli(['validate'], dir);
    assert.equal(validate.code, 0, validate.stderr);
    assert.match(validate.stdout, /\.vscode\/orchestrator\.json: valid, 2 workflows \(build, nightly\), 3 tasks/);
    const list = await runCli(['list'], dir);
    assert.equal(list.code, 0);
    assert.match(
      list.stdout,
      /^build — the build\n {2}compile {2}\$ touch ran\.marker\n {2}pack {2}\$ touch ran\.marker {2}\(after compile\)\nnightly\n {2}fetch/,
    );
  });

  it('runs several workflows at once, each task known as workflow/key', async () => {
    const result = await runCli(['run', 'build', 'nightly'], dir);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^\[build\/compile\] completed/m);
    assert.match(result.stdout, /^\[build\/pack\] completed/m);
    assert.match(result.stdout, /^\[nightly\/fetch\] completed/m);
    assert.ok(result.stdout.indexOf('[build/compile] completed') < result.stdout.indexOf('[build/pack] started'));
  });

  it('is a plain Node program: the bundle never requires vscode', () => {
    assert.doesNotMatch(readFileSync(CLI, 'utf8'), /require\(["']vscode["']\)/);
  });

  it('has --help for every command and --version', async () => {
    for (const command of [[], ['run'], ['validate'], ['list'], ['exec']]) {
      const help = await runCli([...command, '--help'], dir);
      assert.equal(help.code, 0, command.join(' '));
      assert.match(help.stdout, /Usage: orchestrator/);
    }
    const version = await runCli(['--version'], dir);
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), pkg.version);
  });

  it('exec runs one command through the engine: its output, its exit code, its timeout', async () => {
    const ok = await runCli(['exec', '--', 'sh', '-c', 'echo "hello  world"'], dir);
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, 'hello  world\n');
    const code = await runCli(['exec', '--', 'node', '-e', 'process.exit(4)'], dir);
    assert.equal(code.code, 4);
    const slow = await runCli(['exec', '--timeout', '300', '--', 'node', '-e', 'setInterval(() => {}, 1000)'], dir);
    assert.equal(slow.code, 1);
    assert.match(slow.stderr, /timed out/i);
    const retried = await runCli(['exec', '--retries', '1', '--retry-delay', '10', '--', 'sh', '-c', 'test -f once || { touch once; exit 5; }'], dir);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stderr, /attempt 1 failed/);
    const none = await runCli(['exec'], dir);
    assert.equal(none.code, 2);
  });
});

describe('the demo workspace through the built CLI', function () {
  this.timeout(180_000);
  let copy: string;
  before(() => {
    assertBuilt();
    copy = mkdtempSync(join(tmpdir(), 'orchestrator-demo-'));
    cpSync(resolve(__dirname, '../../demo-workspace'), copy, { recursive: true, filter: (src) => !/node_modules|[/\\](dist|\.orchestrator)$/.test(src) });
  });
  after(() => rmSync(copy, { recursive: true, force: true }));

  it('runs the ci workflow off a terminal as plain prefixed lines and exits 0', async () => {
    const result = await runCli(['run', 'ci'], copy);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    for (const key of ['install', 'lint', 'test', 'build', 'package']) assert.match(result.stdout, new RegExp(`^\\[${key}\\] completed`, 'm'));
    // The tasks.json `test` task ran headless: node --test's own report is in its lines.
    assert.match(result.stdout, /^\[test\] .*pass/m);
    assert.ok(!result.stdout.includes('\u001b'));
  });

  it('runs the dev workflow: the server goes Ready, the smoke test and the load check pass against it, then it is stopped', async () => {
    const result = await runCli(['run', 'dev'], copy);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const lines = result.stdout.split('\n');
    const at = (re: RegExp): number => lines.findIndex((l) => re.test(l));
    // The checks start once /health answers, i.e. after the server listens, not after it exits.
    assert.ok(at(/^\[server\] listening on http:\/\/127\.0\.0\.1:43117$/) >= 0, result.stdout);
    assert.ok(at(/^\[smoke\] started/) > at(/^\[server\] listening/), result.stdout);
    // Its readiness is said on a line of its own, before the first dependent starts.
    assert.ok(at(/^\[server\] ready$/) > at(/^\[server\] listening/), result.stdout);
    assert.ok(at(/^\[smoke\] started/) > at(/^\[server\] ready$/), result.stdout);
    assert.match(result.stdout, /^\[smoke\] 5 checks passed/m);
    assert.match(result.stdout, /^\[load\] \d+ requests in 3 s \(\d+\/s\), 0 wrong$/m);
    // Stopped (SIGTERM) once both dependents are done, and counted Completed.
    assert.ok(at(/^\[server\] SIGTERM: stopping after \d+ requests$/) > Math.max(at(/^\[smoke\] completed/), at(/^\[load\] completed/)), result.stdout);
    assert.match(result.stdout, /^\[server\] completed/m);
    assert.match(result.stdout, /done 3 · failed 0/);
    const refused = await new Promise<boolean>((done) => {
      const socket = connect(43117, '127.0.0.1');
      socket.on('connect', () => (socket.destroy(), done(false)));
      socket.on('error', () => done(true));
    });
    assert.ok(refused, 'nothing listens on 43117 any more');
  });

  it('tells a service readiness in --json as task.ready, after its start and before its dependent starts', async () => {
    const result = await runCli(['run', 'dev', '--only', 'smoke', '--json'], copy);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; key?: string | null });
    const index = (type: string, key: string): number => events.findIndex((e) => e.type === type && e.key === key);
    assert.ok(index('task.ready', 'server') > index('task.running', 'server'), result.stdout);
    assert.ok(index('task.running', 'smoke') > index('task.ready', 'server'), result.stdout);
  });

  it('draws the live view on a terminal (a pseudo-terminal from script(1)) and exits 0', () => {
    const pty = spawnSync('script', ['-qec', `'${process.execPath}' '${CLI}' run ci --only lint`, '/dev/null'], {
      cwd: copy,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', COLUMNS: '100', LINES: '30' },
      timeout: 120_000,
    });
    assert.equal(pty.status, 0, pty.stdout);
    assert.ok(pty.stdout.includes('\u001b['), 'cursor movement and colour on a terminal');
    assert.match(pty.stdout, /lint/);
    assert.match(pty.stdout, /install/);
  });
});
