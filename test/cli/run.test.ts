// The real built CLI (dist/cli.js) on scratch folders: exit codes, the plain view, --json events,
// the JUnit report, --dry-run, Ctrl-C and --resume after a crash. Every process a test starts
// carries a marker in its command line, and the test checks none is left (and kills any that is).
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { assertBuilt, events, killMarked, makeWorkspace, processesWith, removeWorkspace, runCli, startCli, until } from './support/cli';

const node = (code: string, marker = ''): string => `node -e ${JSON.stringify(code)}${marker ? ` ${marker}` : ''}`;
/** Holds the pool's one slot: fails (exit 9) if another holder is inside at the same time. */
const exclusive = "sh -c 'mkdir slot.lock || exit 9; sleep 0.3; rmdir slot.lock'";

describe('orchestrator run (the built CLI)', function () {
  this.timeout(60_000);
  let dir: string;
  const marker = `orch-cli-test-${process.pid}`;
  before(assertBuilt);
  afterEach(() => {
    killMarked(marker);
    if (dir) removeWorkspace(dir);
  });

  const buildWorkflow = {
    build: {
      tasks: [
        { key: 'prep', command: node("require('fs').writeFileSync('prep.done', 'x')") },
        { key: 'a', command: exclusive, dependsOn: ['prep'], resources: { slot: 1 } },
        { key: 'b', command: exclusive, dependsOn: ['prep'], resources: { slot: 1 } },
        { key: 'bad', command: "echo 'some output'; echo 'oops <&>' >&2; exit 3", dependsOn: ['a'] },
        { key: 'after', command: 'touch after.ran', dependsOn: ['bad'] },
        { key: 'solo', command: 'echo fine' },
      ],
    },
  };

  it('runs dependencies in order, one pool holder at a time, and exits 1 with a complete JUnit report when a task fails', async () => {
    dir = makeWorkspace(buildWorkflow);
    const result = await runCli(['run', 'build', '--resources', 'slot=1', '--concurrency', '4', '--report', 'junit=out/report.xml'], dir);
    assert.equal(result.code, 1, result.stderr + result.stdout);
    const lines = result.stdout.split('\n');
    // Plain view (not a TTY): every task line is prefixed with its key, no escape sequence anywhere.
    assert.ok(!result.stdout.includes('\u001b'), 'no ANSI escapes off a terminal');
    const index = (pattern: RegExp): number => lines.findIndex((l) => pattern.test(l));
    assert.ok(index(/^\[prep\] completed/) >= 0 && index(/^\[prep\] completed/) < index(/^\[a\] started/));
    assert.ok(index(/^\[prep\] completed/) < index(/^\[b\] started/));
    assert.ok(index(/^\[a\] completed/) >= 0 && index(/^\[b\] completed/) >= 0, 'a pool of 1 was never held twice (exit 9)');
    assert.ok(index(/^\[bad\] some output/) >= 0);
    assert.ok(index(/^\[bad\] failed/) >= 0);
    assert.ok(index(/^\[after\] cancelled/) >= 0);
    assert.ok(!existsSync(join(dir, 'after.ran')));

    const xml = readFileSync(join(dir, 'out', 'report.xml'), 'utf8');
    assert.equal(XMLValidator.validate(xml), true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as {
      testsuites: { testsuite: { tests: string; failures: string; skipped: string; testcase: Record<string, unknown>[] } };
    };
    const suite = doc.testsuites.testsuite;
    assert.equal(suite.tests, '6');
    assert.equal(suite.failures, '1');
    assert.equal(suite.skipped, '1');
    assert.deepEqual(
      suite.testcase.map((t) => t.name),
      ['prep', 'a', 'b', 'bad', 'after', 'solo'],
    );
    const bad = suite.testcase.find((t) => t.name === 'bad') as { failure: { message: string; '#text'?: string }; time: string };
    assert.match(bad.failure.message, /exit/i);
    assert.match(JSON.stringify(bad.failure), /oops <&>/);
    assert.ok(Number(bad.time) >= 0);
  });

  it('prints the plan with --dry-run and runs nothing', async () => {
    dir = makeWorkspace(buildWorkflow);
    const result = await runCli(['run', 'build', '--dry-run', '--resources', 'slot=1'], dir);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /layer 1[^\n]*\n {4}prep /);
    assert.match(result.stdout, /layer 2 \(2 may run at once\)\n {4}a .*pools slot×1/);
    assert.match(result.stdout, /dry run: nothing ran/);
    assert.ok(!existsSync(join(dir, 'prep.done')));
  });

  it('writes every transition as a JSON event, in order, with --json', async () => {
    dir = makeWorkspace(buildWorkflow);
    const result = await runCli(['run', 'build', '--json', '--resources', 'slot=1'], dir);
    assert.equal(result.code, 1, result.stderr);
    const list = events(result.stdout);
    assert.equal(list[0]?.type, 'run.started');
    assert.equal(list.at(-1)?.type, 'run.finished');
    assert.equal(list.at(-1)?.exitCode, 1);
    const statuses = (key: string): unknown[] => list.filter((e) => e.key === key && e.type !== 'task.output').map((e) => e.type);
    assert.deepEqual(statuses('prep'), ['task.created', 'task.scheduled', 'task.running', 'task.completed']);
    assert.deepEqual(statuses('bad'), ['task.created', 'task.scheduled', 'task.running', 'task.failed']);
    assert.deepEqual(statuses('after').at(-1), 'task.cancelled');
    const at = (key: string, type: string): number => list.findIndex((e) => e.key === key && e.type === type);
    assert.ok(at('prep', 'task.completed') < at('a', 'task.running'));
    assert.ok(at('a', 'task.completed') < at('bad', 'task.running'));
    const failed = list[at('bad', 'task.failed')] as { exitCode?: number; error?: { message: string } };
    assert.equal(failed.exitCode, 3);
    assert.ok(list.some((e) => e.type === 'task.output' && e.key === 'bad' && String(e.chunk).includes('some output')));
    for (const e of list) assert.match(String(e.time), /^\d{4}-\d\d-\d\dT/);
  });

  it('cancels everything on Ctrl-C, stops every process tree and exits 130', async () => {
    dir = makeWorkspace({
      slow: {
        tasks: [
          { key: 'sleeper', command: `sh -c '${node('setInterval(() => {}, 1000)', marker).replace(/'/g, "'\\''")}'` },
          { key: 'later', command: 'touch later.ran', dependsOn: ['sleeper'] },
        ],
      },
    });
    const cli = startCli(['run', 'slow', '--json'], dir);
    await until(() => processesWith(marker).length > 0 && cli.stdout().includes('"task.running"'), 'the sleeper to run');
    cli.child.kill('SIGINT');
    const result = await cli.done;
    assert.equal(result.code, 130, result.stderr);
    assert.deepEqual(processesWith(marker), []);
    const list = events(result.stdout);
    assert.equal(list.find((e) => e.key === 'sleeper' && e.type === 'task.cancelled')?.type, 'task.cancelled');
    assert.equal(list.at(-1)?.type, 'run.finished');
    assert.equal(list.at(-1)?.interrupted, true);
    assert.ok(!existsSync(join(dir, 'later.ran')));
  });

  it('kills at once on a second Ctrl-C a process that ignores SIGTERM', async () => {
    dir = makeWorkspace({ stubborn: { tasks: [{ key: 'deaf', command: node("process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)", marker) }] } });
    const cli = startCli(['run', 'stubborn'], dir);
    await until(() => processesWith(marker).length > 0, 'the task to run');
    cli.child.kill('SIGINT');
    await until(() => cli.stdout().includes('Interrupted') || cli.stderr().includes('Interrupted'), 'the first Ctrl-C to be seen');
    cli.child.kill('SIGINT');
    const result = await cli.done;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stdout + result.stderr, /Killing every process the run started/);
    assert.deepEqual(processesWith(marker), []);
  });

  it('finishes a run with --resume after the CLI was killed mid-run, without running finished work again', async () => {
    const log = (line: string): string => node(`require('fs').appendFileSync('runs.log', '${line}\\n')`);
    dir = makeWorkspace({
      deploy: {
        tasks: [
          { key: 'first', command: log('first') },
          {
            key: 'second',
            command: `if [ -f second.started ]; then ${log('second resumed')}; else touch second.started; ${node('setInterval(() => {}, 1000)', marker)}; fi`,
            dependsOn: ['first'],
            retries: 1,
          },
          { key: 'third', command: log('third'), dependsOn: ['second'] },
        ],
      },
    });
    const cli = startCli(['run', 'deploy', '--state', 'state.json', '--json'], dir);
    /** The saved state names second Running and the process ledger holds its shell: what a crash must not lose. */
    const secondSaved = (): boolean => {
      try {
        const saved = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {
          'orchestrator.state'?: { tasks: { id: string; status: string; spec: { key?: string } }[] };
          'orchestrator.processes'?: { entries: { taskId: string }[] };
        };
        const second = saved['orchestrator.state']?.tasks.find((t) => t.spec.key === 'second');
        return second?.status === 'running' && (saved['orchestrator.processes']?.entries ?? []).some((e) => e.taskId === second.id);
      } catch {
        return false; // Not written yet.
      }
    };
    await until(() => processesWith(marker).length > 0, 'second to run');
    await until(secondSaved, 'the state file to hold second running and its shell');
    cli.child.kill('SIGKILL');
    await cli.done;
    assert.ok(processesWith(marker).length > 0, 'a killed CLI leaves its task running');

    const resumed = await runCli(['run', '--resume', '--state', 'state.json'], dir);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    assert.deepEqual(processesWith(marker), [], `the orphaned tree was stopped on resume: ${resumed.stderr}${resumed.stdout}`);
    assert.deepEqual(readFileSync(join(dir, 'runs.log'), 'utf8').split('\n').filter(Boolean), ['first', 'second resumed', 'third']);
    assert.match(resumed.stdout, /\[third\] completed/);

    const again = await runCli(['run', '--resume', '--state', 'state.json'], dir);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /Nothing to resume: state\.json holds no unfinished tasks/);
  });
});
