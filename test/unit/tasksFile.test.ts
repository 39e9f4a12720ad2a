// Real tasks.json files (JSONC: comments, trailing commas) in scratch folders, and real processes,
// short and awaited. Every test that starts a long-running process stops it and checks it is gone.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join, sep } from 'node:path';
import { resolveTasksFileTask, type ResolvedTask } from '../../src/cli/tasks/tasksFile';
import { TasksFileExecutor } from '../../src/cli/tasks/tasksFileExecutor';
import { ShellExecutor } from '../../src/core/executors/shellExecutor';
import { CancelledError, ValidationError } from '../../src/core/model/errors';
import type { TaskRecord, TaskResult } from '../../src/core/model/model';
import type { ExecutionContext } from '../../src/core/ports';
import { VSCODE_TASK_KIND } from '../../src/workspaceFiles/names';
import type { VscodeTaskPayload } from '../../src/workspaceFiles/workflowFile';
import { failure, gone } from '../support/processChecks';

const posix = process.platform !== 'win32';
const platformKey = process.platform === 'darwin' ? 'osx' : 'linux';

/** A scratch folder with `.vscode/tasks.json` holding `tasksJson` as written, and the other files given. */
function scratch(tasksJson: string, files: Record<string, string> = {}): string {
  const folder = realpathSync(mkdtempSync(join(tmpdir(), 'orch-tasks-')));
  mkdirSync(join(folder, '.vscode'));
  writeFileSync(join(folder, '.vscode', 'tasks.json'), tasksJson);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(folder, name, '..'), { recursive: true });
    writeFileSync(join(folder, name), text);
  }
  return folder;
}

/** tasks.json text with a comment and trailing commas, as people write it. */
function jsonc(tasks: unknown[], top: Record<string, unknown> = {}): string {
  const body = JSON.stringify({ version: '2.0.0', ...top, tasks }, null, 2);
  return `// written by the test\n${body.replace(/\n(\s*)([}\]])/g, ',\n$1$2')}\n`;
}

function context(payload: VscodeTaskPayload, signal = new AbortController().signal, onOutput?: (chunk: string) => void): ExecutionContext {
  const id = `t-${randomBytes(3).toString('hex')}`;
  const task: TaskRecord = {
    id,
    name: id,
    kind: VSCODE_TASK_KIND,
    status: 'running',
    priority: 0,
    attempts: 1,
    createdAt: 0,
    history: [],
    spec: { name: id, kind: VSCODE_TASK_KIND, payload: { ...payload } },
    dependsOn: [],
  };
  return { task, attempt: 1, signal, ...(onOutput ? { onOutput } : {}) };
}

const shell = new ShellExecutor({ killGraceMs: 300, drainMs: 20 });

function run(folder: string, payload: VscodeTaskPayload, signal?: AbortSignal, onOutput?: (chunk: string) => void): Promise<TaskResult> {
  return new TasksFileExecutor({ folder, shell }).execute(context(payload, signal, onOutput));
}

function refusal(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`);
    return err;
  }
  return assert.fail('expected a ValidationError');
}

function until(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => (condition() ? resolve() : void setTimeout(check, 5));
    check();
  });
}

/** A shell task printing its argv as JSON: `node -e <script> <args…>`. */
const ARGV = 'console.log(JSON.stringify(process.argv.slice(1)))';

(posix ? describe : describe.skip)('tasksFile', function () {
  this.timeout(10000);
  const folders: string[] = [];
  const make = (tasksJson: string, files?: Record<string, string>): string => {
    const f = scratch(tasksJson, files);
    folders.push(f);
    return f;
  };
  after(() => {
    for (const f of folders) rmSync(f, { recursive: true, force: true });
  });

  describe('finding a task', () => {
    it('finds a task by its label in a file with comments and trailing commas, and runs it', async () => {
      const folder = make(
        jsonc([
          { label: 'build', type: 'shell', command: 'echo built' },
          { label: 'test', type: 'shell', command: 'echo tested', problemMatcher: [] },
        ]),
      );
      const r = await run(folder, { label: 'test' });
      assert.deepEqual(r, { exitCode: 0, output: 'tested\n' });
    });

    it('names file:line:column of a syntax error', () => {
      const folder = make('{\n  "version": "2.0.0",\n  "tasks": [ { "label": "x" } }\n}\n');
      const e = refusal(() => resolveTasksFileTask(folder, { label: 'x' }));
      assert.equal(e.message, `${join(folder, '.vscode', 'tasks.json')}:3:31: Expected valid JSON with comments, got CommaExpected`);
    });

    it('knows an npm entry without a label as `npm: <script>`, with one by its label, and a package.json script no entry configures', async () => {
      const folder = make(
        jsonc([
          { type: 'npm', script: 'compile' },
          { type: 'npm', script: 'typecheck', label: 'check types' },
          { type: 'npm', script: 'lint', path: 'packages/a/' },
        ]),
        { 'package.json': JSON.stringify({ name: 'scratch', scripts: { hello: `node -e "console.log('hi from npm')"` } }) },
      );
      const compile = resolveTasksFileTask(folder, { label: 'npm: compile' });
      assert.deepEqual([compile.label, compile.type, compile.command, compile.cwd], ['npm: compile', 'npm', 'npm run compile', folder]);
      assert.equal(resolveTasksFileTask(folder, { label: 'check types' }).command, 'npm run typecheck');
      const lint = resolveTasksFileTask(folder, { label: 'npm: lint - packages/a' });
      assert.deepEqual([lint.command, lint.cwd], ['npm run lint', join(folder, 'packages', 'a')]);
      // The label VS Code shows is the only name of a labelled npm entry.
      assert.match(refusal(() => resolveTasksFileTask(folder, { label: 'npm: typecheck' })).message, /^No task labelled `npm: typecheck`/);
      const r = await run(folder, { label: 'npm: hello' });
      assert.equal(r.exitCode, 0);
      assert.match(r.output ?? '', /hi from npm/);
    });

    it('narrows by type when two tasks share a label, and refuses the ambiguity without one', () => {
      const folder = make(
        jsonc([
          { label: 'twin', type: 'shell', command: 'echo shell' },
          { label: 'twin', type: 'process', command: 'echo' },
        ]),
      );
      assert.equal(resolveTasksFileTask(folder, { label: 'twin', type: 'shell' }).command, 'echo shell');
      assert.equal(resolveTasksFileTask(folder, { label: 'twin', type: 'process' }).command, `exec 'echo'`);
      const e = refusal(() => resolveTasksFileTask(folder, { label: 'twin' }));
      assert.match(e.message, /^Expected `twin` to name one task in .*, got 2 \(types `shell`, `process`\); give the workflow step's task a `type`$/);
      assert.match(refusal(() => resolveTasksFileTask(folder, { label: 'twin', type: 'npm' })).message, /^No task labelled `twin` of type `npm` in /);
    });

    it('lists the available labels, the nearest first, for an unknown label', () => {
      const folder = make(
        jsonc([
          { label: 'build', type: 'shell', command: 'true' },
          { label: 'lint', type: 'shell', command: 'true' },
          { label: 'test', type: 'shell', command: 'true' },
        ]),
      );
      const e = refusal(() => resolveTasksFileTask(folder, { label: 'tset' }));
      assert.equal(
        e.message,
        `No task labelled \`tset\` in ${join(folder, '.vscode', 'tasks.json')} (did you mean \`test\`?); available: \`test\`, \`build\`, \`lint\``,
      );
      assert.equal(e.field, 'payload.label');
    });

    it('says so when the folder has no tasks.json', () => {
      const folder = realpathSync(mkdtempSync(join(tmpdir(), 'orch-tasks-')));
      folders.push(folder);
      const e = refusal(() => resolveTasksFileTask(folder, { label: 'test' }));
      assert.equal(e.message, `No task labelled \`test\`: ${join(folder, '.vscode', 'tasks.json')} does not exist`);
    });

    it('refuses a type that a VS Code extension provides, naming it', () => {
      const folder = make(
        jsonc([
          { label: 'tsc', type: 'typescript', tsconfig: 'tsconfig.json' },
          { label: 'uses tsc', dependsOn: ['tsc'] },
        ]),
      );
      for (const label of ['tsc', 'uses tsc']) {
        const e = refusal(() => resolveTasksFileTask(folder, { label }));
        assert.match(e.message, /^Task `tsc` has type `typescript`, which a VS Code extension's task provider runs: it is not available in the CLI/);
      }
    });
  });

  describe('resolving a task', () => {
    it('merges the platform section over the entry, and the file options and their platform section under it', async () => {
      const folder = make(
        jsonc(
          [
            {
              label: 'env',
              type: 'shell',
              command: 'echo wrong platform',
              options: { env: { C: 'entry', D: 'entry' } },
              [platformKey]: { command: 'echo "$A $B $C $D $(pwd)"', options: { env: { D: 'entry platform' } } },
              [platformKey === 'linux' ? 'windows' : 'linux']: { command: 'echo other platform' },
            },
          ],
          { options: { cwd: '${workspaceFolder}/sub', env: { A: 'top', B: 'top' } }, [platformKey]: { options: { env: { B: 'top platform' } } } },
        ),
        { 'sub/.keep': '' },
      );
      const r = await run(folder, { label: 'env' });
      assert.equal(r.output, `top top platform entry entry platform ${join(folder, 'sub')}\n`);
    });

    it('quotes args so that each arrives intact in the program argv, shell and process alike', async () => {
      const args = [
        '-e',
        ARGV,
        "it's a b",
        'x;y|z',
        '',
        { value: 'weak "$ORCH_Q"', quoting: 'weak' },
        { value: 'esc a&b', quoting: 'escape' },
        { value: "str'ong $x", quoting: 'strong' },
      ];
      const folder = make(
        jsonc([
          { label: 'shell', type: 'shell', command: 'node', args, options: { env: { ORCH_Q: 'expanded' } } },
          { label: 'process', type: 'process', command: 'node', args, options: { env: { ORCH_Q: 'expanded' } } },
        ]),
      );
      const shellArgv = JSON.parse((await run(folder, { label: 'shell' })).output ?? '') as unknown;
      assert.deepEqual(shellArgv, ["it's a b", 'x;y|z', '', 'weak "expanded"', 'esc a&b', "str'ong $x"]);
      const processArgv = JSON.parse((await run(folder, { label: 'process' })).output ?? '') as unknown;
      assert.deepEqual(processArgv, ["it's a b", 'x;y|z', '', 'weak "$ORCH_Q"', 'esc a&b', "str'ong $x"]);
    });

    it('resolves the variables VS Code resolves without an editor, and leaves the shell its own', () => {
      const names = [
        '${workspaceFolder}',
        '${workspaceFolderBasename}',
        '${workspaceRoot}',
        '${cwd}',
        '${env:ORCH_TASKS_TEST}',
        '${env:ORCH_TASKS_UNSET}',
        '${pathSeparator}',
        '${/}',
        '${userHome}',
        '${config:orchestrator.concurrency}',
        '${config:demo.nested.key}',
        '${config:orchestrator.defaults.retries}',
        '${HOME}',
      ];
      const folder = make(jsonc([{ label: 'vars', type: 'process', command: 'node', args: names, options: { cwd: '${workspaceFolder}${/}sub' } }]), {
        '.vscode/settings.json': '{\n  // flat, as VS Code writes it\n  "orchestrator.concurrency": 3,\n  "demo": { "nested": { "key": "deep" } },\n}\n',
      });
      process.env.ORCH_TASKS_TEST = 'from env';
      delete process.env.ORCH_TASKS_UNSET;
      try {
        const plan = resolveTasksFileTask(folder, { label: 'vars' });
        const expected = [folder, basename(folder), folder, process.cwd(), 'from env', '', sep, sep, homedir(), '3', 'deep', '0', '${HOME}'];
        assert.equal(plan.command, `exec ${['node', ...expected].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ')}`);
        assert.equal(plan.cwd, join(folder, 'sub'));
      } finally {
        delete process.env.ORCH_TASKS_TEST;
      }
    });

    it('refuses a variable that needs the editor, naming it, before anything runs', async () => {
      const folder = make(
        jsonc([
          { label: 'greet', type: 'shell', command: 'echo started >> ran.txt; echo "${input:who}"' },
          { label: 'file', type: 'shell', command: 'echo', args: ['${relativeFile}'] },
          { label: 'unset', type: 'shell', command: 'echo ${config:no.such.setting}' },
        ]),
      );
      const e = refusal(() => resolveTasksFileTask(folder, { label: 'greet' }));
      assert.match(e.message, /^Variable `\$\{input:who\}` in task `greet`'s `command` needs the editor/);
      await assert.rejects(run(folder, { label: 'greet' }), ValidationError);
      assert.throws(() => readFileSync(join(folder, 'ran.txt')), /ENOENT/);
      assert.match(
        refusal(() => resolveTasksFileTask(folder, { label: 'file' })).message,
        /^Variable `\$\{relativeFile\}` in task `file`'s `args\[0\]` needs the editor/,
      );
      assert.match(
        refusal(() => resolveTasksFileTask(folder, { label: 'unset' })).message,
        /names setting `no.such.setting`, which .*settings.json does not set/,
      );
    });

    it('refuses a cycle in dependsOn, naming it', () => {
      const folder = make(
        jsonc([
          { label: 'a', dependsOn: ['b'] },
          { label: 'b', type: 'shell', command: 'true', dependsOn: 'c' },
          { label: 'c', dependsOn: ['a'] },
        ]),
      );
      const e = refusal(() => resolveTasksFileTask(folder, { label: 'a' }));
      assert.equal(
        e.message,
        `Expected the \`dependsOn\` of the tasks in ${join(folder, '.vscode', 'tasks.json')} to form no cycle, got \`a\` → \`b\` → \`c\` → \`a\``,
      );
    });

    it('leaves out the dependsOn of a payload with ownOnly', () => {
      const folder = make(
        jsonc([
          { label: 'dep', type: 'shell', command: 'true' },
          { label: 'own', type: 'shell', command: 'echo own', dependsOn: ['dep'] },
        ]),
      );
      const plan: ResolvedTask = resolveTasksFileTask(folder, { label: 'own', ownOnly: true });
      assert.deepEqual([plan.command, plan.dependsOn], ['echo own', []]);
      assert.equal(resolveTasksFileTask(folder, { label: 'own' }).dependsOn.length, 1);
    });
  });

  describe('running a plan', () => {
    it('runs dependsOn in sequence, in order, then the own command, prefixing each step output', async () => {
      const step = (name: string, ms: number): unknown => ({
        label: name,
        type: 'process',
        command: 'node',
        args: ['-e', `setTimeout(() => { require('fs').appendFileSync('order.txt', '${name}\\n'); console.log('${name} done') }, ${ms})`],
      });
      const folder = make(
        jsonc([
          step('first', 150),
          step('second', 0),
          { label: 'all', type: 'shell', command: 'cat order.txt', dependsOn: ['first', 'second'], dependsOrder: 'sequence' },
        ]),
      );
      const chunks: string[] = [];
      const r = await run(folder, { label: 'all' }, undefined, (c) => chunks.push(c));
      assert.equal(readFileSync(join(folder, 'order.txt'), 'utf8'), 'first\nsecond\n');
      const lines = '[first] first done\n[second] second done\n[all] first\n[all] second\n';
      assert.deepEqual(r, { exitCode: 0, output: lines });
      assert.equal(chunks.join(''), lines);
    });

    it('runs a task two steps depend on once', async () => {
      const folder = make(
        jsonc([
          { label: 'shared', type: 'shell', command: 'echo shared >> ran.txt' },
          { label: 'left', type: 'shell', command: 'true', dependsOn: ['shared'] },
          { label: 'right', type: 'shell', command: 'true', dependsOn: ['shared'] },
          { label: 'both', dependsOn: ['left', 'right'] },
        ]),
      );
      await run(folder, { label: 'both' });
      assert.equal(readFileSync(join(folder, 'ran.txt'), 'utf8'), 'shared\n');
    });

    it('in parallel, fails on the first failing step, naming it and its exit code, and stops its siblings', async () => {
      const folder = make(
        jsonc([
          {
            label: 'sleeper',
            type: 'process',
            command: 'node',
            args: ['-e', `require('fs').writeFileSync('sleeper.pid', String(process.pid)); setTimeout(() => {}, 30000)`],
          },
          {
            label: 'fails',
            type: 'process',
            command: 'node',
            args: ['-e', `const t = setInterval(() => { if (require('fs').existsSync('sleeper.pid')) { console.log('giving up'); process.exit(4) } }, 5)`],
          },
          { label: 'both', dependsOn: ['sleeper', 'fails'] },
        ]),
      );
      const started = Date.now();
      const e = await failure(run(folder, { label: 'both' }));
      assert.equal(e.message, 'Step `fails` of `both`: Command failed with exit code 4: giving up');
      assert.equal(e.result?.exitCode, 4);
      assert.equal(e.result?.output, '[fails] giving up\n');
      const pid = Number(readFileSync(join(folder, 'sleeper.pid'), 'utf8'));
      assert.ok(gone(pid), `sleeper ${pid} still runs`);
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    });

    it('in sequence, a failing step fails the task and nothing after it runs', async () => {
      const folder = make(
        jsonc([
          { label: 'bad', type: 'shell', command: 'echo partial; exit 3' },
          { label: 'after', type: 'shell', command: 'echo ran > after.txt' },
          { label: 'all', dependsOn: ['bad', 'after'], dependsOrder: 'sequence' },
        ]),
      );
      const e = await failure(run(folder, { label: 'all' }));
      assert.equal(e.message, 'Step `bad` of `all`: Command failed with exit code 3: partial');
      assert.equal(e.result?.exitCode, 3);
      assert.throws(() => readFileSync(join(folder, 'after.txt')), /ENOENT/);
    });

    it('on a cancel through ctx.signal, stops the running step process tree and runs nothing after it', async () => {
      const folder = make(
        jsonc([
          { label: 'tree', type: 'shell', command: 'sleep 30 & echo "pid $!"; echo "pid $$"; wait' },
          { label: 'then', type: 'shell', command: 'echo ran > then.txt', dependsOn: ['tree'] },
        ]),
      );
      const controller = new AbortController();
      let out = '';
      const p = run(folder, { label: 'then' }, controller.signal, (c) => (out += c));
      await until(() => [...out.matchAll(/pid (\d+)/g)].length >= 2);
      const pids = [...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
      const reason = new CancelledError();
      controller.abort(reason);
      await assert.rejects(p, (e: unknown) => e === reason);
      for (const pid of pids) assert.ok(gone(pid), `${pid} still runs`);
      assert.throws(() => readFileSync(join(folder, 'then.txt')), /ENOENT/);
    });

    it('resolves with the exit code and a bounded tail of the output; a single failing task keeps the shell message', async () => {
      const folder = make(
        jsonc([
          { label: 'big', type: 'shell', command: `head -c 300000 /dev/zero | tr '\\0' a; printf END` },
          { label: 'bad', type: 'shell', command: 'echo partial; exit 3' },
        ]),
      );
      const r = await run(folder, { label: 'big' });
      assert.equal(r.exitCode, 0);
      assert.equal(r.output?.length, 64 * 1024);
      assert.ok(r.output?.endsWith('aaaEND'));
      const e = await failure(run(folder, { label: 'bad' }));
      assert.equal(e.message, 'Command failed with exit code 3: partial');
      assert.deepEqual(e.result, { exitCode: 3, output: 'partial\n' });
    });
  });
});
