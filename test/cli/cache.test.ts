// The task cache through the real built CLI (dist/cli.js): a workflow run twice is restored the
// second time (outputs and output log back, nothing runs), `--no-cache` runs it again, and the
// cache lives in the folder's `.orchestrator/cache`.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuilt, events, makeWorkspace, removeWorkspace, runCli } from './support/cli';

const node = (code: string): string => `node -e ${JSON.stringify(code)}`;

describe('orchestrator run with the task cache (the built CLI)', function () {
  this.timeout(60_000);
  let dir: string;
  before(assertBuilt);
  afterEach(() => {
    if (dir) removeWorkspace(dir);
  });

  // Each run of a task appends its key to runs.log: what ran is read back from there.
  const workflows = {
    build: {
      tasks: [
        {
          key: 'gen',
          command: node(
            "const fs = require('fs'); fs.appendFileSync('runs.log', 'gen\\n'); fs.mkdirSync('dist', { recursive: true }); fs.writeFileSync('dist/out.txt', fs.readFileSync('src/in.txt')); console.log('generated')",
          ),
          cache: { inputs: ['src/**'], outputs: ['dist/**'] },
        },
        {
          key: 'pack',
          command: node(
            "const fs = require('fs'); fs.appendFileSync('runs.log', 'pack\\n'); fs.writeFileSync('dist/packed.txt', 'packed ' + fs.readFileSync('dist/out.txt'))",
          ),
          dependsOn: ['gen'],
          cache: { inputs: ['dist/out.txt'], outputs: ['dist/packed.txt'] },
        },
      ],
    },
  };
  const runs = (): string[] => readFileSync(join(dir, 'runs.log'), 'utf8').trim().split('\n');

  it('restores a workflow run again from the cache; --no-cache runs it again', async () => {
    dir = makeWorkspace(workflows, { 'src/in.txt': 'one' });
    const first = await runCli(['run', 'build'], dir);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.deepEqual(runs(), ['gen', 'pack']);
    assert.doesNotMatch(first.stdout, /cached/);
    assert.ok(existsSync(join(dir, '.orchestrator', 'cache')), 'the cache is in the folder');

    rmSync(join(dir, 'dist'), { recursive: true });
    const second = await runCli(['run', 'build'], dir);
    assert.equal(second.code, 0, second.stderr + second.stdout);
    assert.deepEqual(runs(), ['gen', 'pack'], 'nothing ran the second time');
    assert.match(second.stdout, /^\[gen\] generated$/m, 'the output log is restored');
    assert.match(second.stdout, /^\[gen\] cached · saved \d/m);
    assert.match(second.stdout, /^\[pack\] cached · saved \d/m);
    assert.match(second.stdout, /done 2 \(2 cached, saved \d/);
    assert.equal(readFileSync(join(dir, 'dist', 'packed.txt'), 'utf8'), 'packed one', 'the outputs are restored');

    const json = await runCli(['run', 'build', '--json'], dir);
    assert.equal(json.code, 0, json.stderr);
    const completed = events(json.stdout).filter((e) => e.type === 'task.completed');
    assert.deepEqual(
      completed.map((e) => [e.key, e.cached]),
      [
        ['gen', true],
        ['pack', true],
      ],
    );
    assert.ok(completed.every((e) => typeof e.savedMs === 'number'));
    assert.deepEqual((events(json.stdout).at(-1) as { cached?: number }).cached, 2);

    const forced = await runCli(['run', 'build', '--no-cache'], dir);
    assert.equal(forced.code, 0, forced.stderr + forced.stdout);
    assert.deepEqual(runs(), ['gen', 'pack', 'gen', 'pack']);
    assert.doesNotMatch(forced.stdout, /cached ·/);

    writeFileSync(join(dir, 'src', 'in.txt'), 'two');
    const changed = await runCli(['run', 'build'], dir);
    assert.equal(changed.code, 0, changed.stderr + changed.stdout);
    assert.deepEqual(runs().slice(4), ['gen', 'pack'], 'a changed input runs the task and its dependent');
    assert.equal(readFileSync(join(dir, 'dist', 'packed.txt'), 'utf8'), 'packed two');
  });
});
