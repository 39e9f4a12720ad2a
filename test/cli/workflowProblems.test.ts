// The built CLI on a workflow file where one workflow is broken: `validate` lists its problems at
// file:line:column and fails, the good workflows still run, the broken one is refused (exit 2);
// and a workflow's `failFast` reaches the run.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuilt, makeWorkspace, removeWorkspace, runCli } from './support/cli';

const FILE = `{
  "version": 1,
  "workflows": {
    "good": { "tasks": [ { "key": "a", "command": "touch good.marker" } ] },
    "broken": {
      "tasks": [
        { "key": "s", "command": "touch broken.marker", "readyWhen": { "output": "listening (" } },
        { "key": "t", "command": "true", "dependsOn": ["u"] },
        { "key": "u", "command": "true", "dependsOn": ["t"] }
      ]
    }
  }
}
`;

describe('orchestrator on a file with one broken workflow (the built CLI)', function () {
  this.timeout(60_000);
  let dir: string;
  before(assertBuilt);
  beforeEach(() => (dir = makeWorkspace(FILE)));
  afterEach(() => removeWorkspace(dir));

  it('validate lists every problem of the broken workflow at file:line:column and exits 1', async () => {
    const result = await runCli(['validate'], dir);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /^\.vscode\/orchestrator\.json:7:\d+: Expected `workflows\.broken\.tasks\[0\]\.readyWhen\.output` to be a regular expression.*Unterminated group/m,
    );
    assert.match(result.stderr, /^\.vscode\/orchestrator\.json:8:\d+: Expected the tasks of workflow `broken` to have no dependency cycle, got `t -> u -> t`/m);
    assert.match(result.stderr, /2 problems in workflow broken; usable: good/);
  });

  it('runs the good workflow', async () => {
    const result = await runCli(['run', 'good'], dir);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.ok(existsSync(join(dir, 'good.marker')));
  });

  it('refuses the broken workflow with exit 2, naming its problems, and runs nothing', async () => {
    const result = await runCli(['run', 'broken'], dir);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /^\.vscode\/orchestrator\.json:7:\d+: Expected `workflows\.broken\.tasks\[0\]\.readyWhen\.output`/m);
    assert.match(result.stderr, /^orchestrator: workflow `broken` is not valid \(2 problems\); nothing ran$/m);
    const both = await runCli(['run', 'good', 'broken'], dir);
    assert.equal(both.code, 2);
    assert.ok(!existsSync(join(dir, 'broken.marker')) && !existsSync(join(dir, 'good.marker')), 'nothing ran');
  });

  it('lists the broken workflow as not usable', async () => {
    const list = await runCli(['list'], dir);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^good\n {2}a {2}\$ touch good\.marker\nbroken {2}\(not usable: 2 problems; orchestrator validate lists them\)$/m);
  });
});

describe('a workflow’s failFast through the built CLI', function () {
  this.timeout(60_000);
  let dir: string;
  before(assertBuilt);
  afterEach(() => removeWorkspace(dir));

  const tasks = [
    { key: 'boom', command: 'exit 3' },
    { key: 'slow', command: 'sleep 0.6' },
    { key: 'after', command: 'touch after.marker', dependsOn: ['slow'] },
  ];

  it('by default, a failure cancels the tasks of the run that have not started', async () => {
    dir = makeWorkspace({ ff: { tasks } });
    const result = await runCli(['run', 'ff'], dir);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /^\[after\] cancelled/m);
    assert.ok(!existsSync(join(dir, 'after.marker')));
  });

  it('with "failFast": false, independent branches finish', async () => {
    dir = makeWorkspace({ ff: { failFast: false, tasks } });
    const result = await runCli(['run', 'ff'], dir);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /^\[after\] completed/m);
    assert.ok(existsSync(join(dir, 'after.marker')));
  });
});
