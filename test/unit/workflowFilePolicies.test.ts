// The workflow file's services, failure policies and triggers (issue 16): each field reaches the
// specs, each bad value is refused naming the field and what is allowed, and a problem in one
// workflow leaves the file's other workflows usable.
import * as assert from 'node:assert/strict';
import { RESTART_VALUES, STOP_WHEN_VALUES, type TaskSpec } from '../../src/core/model/model';
import { validateAgainstSchema } from '../../src/workspaceFiles/schemaValidator';
import { DEFAULT_DEBOUNCE_MS, DEFAULT_ON_RUNNING, ON_RUNNING_VALUES, triggersOf } from '../../src/workspaceFiles/triggers';
import {
  DEFAULT_FAIL_FAST,
  parseWorkflowFile,
  workflowError,
  workflowOptions,
  workflowSchema,
  workflowToSpecs,
  WorkflowFileError,
  type WorkflowFile,
} from '../../src/workspaceFiles/workflowFile';
import { selectOnly } from '../../src/workspaceFiles/workflowSelection';

const FILE = '.vscode/orchestrator.json';

function parse(workflows: Record<string, unknown>): WorkflowFile {
  return parseWorkflowFile(JSON.stringify({ version: 1, workflows }), FILE);
}

/** The problems of the one workflow `w`, which must be unusable while `ok` beside it stays usable. */
function problemsOf(tasks: unknown[], workflow: Record<string, unknown> = {}): string[] {
  const file = parse({ w: { ...workflow, tasks }, ok: { tasks: [{ key: 'a', command: 'true' }] } });
  assert.deepEqual(Object.keys(file.workflows), ['ok'], 'only the good workflow is usable');
  const issues = file.problems?.get('w');
  assert.ok(issues?.length, 'workflow `w` has problems');
  return issues.map((i) => i.message);
}

function oneProblem(tasks: unknown[], workflow: Record<string, unknown> = {}): string {
  const messages = problemsOf(tasks, workflow);
  assert.equal(messages.length, 1, messages.join('\n'));
  return messages[0];
}

const server = { key: 'server', command: 'node server.js', readyWhen: { port: 3000 } };

describe('workflowFile: services, failure policies, triggers', () => {
  describe('maps each new field into the specs', () => {
    it('maps readyWhen (output, port with host, http), readyTimeoutMs, stopWhen, restart and shared', () => {
      const file = parse({
        dev: {
          tasks: [
            { key: 'watch', command: 'tsc -w', readyWhen: { output: 'Found \\d+ errors' }, readyTimeoutMs: 30000, restart: 'on-failure' },
            { key: 'db', command: 'db', readyWhen: { port: 5432, host: '127.0.0.2' }, shared: true, stopWhen: 'dependentsDone' },
            { key: 'api', command: 'api', readyWhen: { http: 'http://127.0.0.1:3000/health' }, dependsOn: ['db', 'watch'] },
          ],
        },
      });
      const [watch, db, api] = workflowToSpecs(file, 'dev');
      assert.deepEqual(watch.readyWhen, { output: 'Found \\d+ errors' });
      assert.equal(watch.readyTimeoutMs, 30000);
      assert.equal(watch.restart, 'on-failure');
      assert.deepEqual(db.readyWhen, { port: 5432, host: '127.0.0.2' });
      assert.equal(db.shared, true);
      assert.equal(db.stopWhen, 'dependentsDone');
      assert.deepEqual(api.readyWhen, { http: 'http://127.0.0.1:3000/health' });
      for (const absent of ['readyTimeoutMs', 'stopWhen', 'restart', 'shared', 'continueOnError', 'runAlways'] as const) {
        assert.ok(!(absent in api), `${absent} is not set when the file does not set it`);
      }
    });

    it('maps continueOnError and runAlways, and leaves triggers out of the specs', () => {
      const file = parse({
        ci: {
          on: { save: ['src/**'] },
          tasks: [
            { key: 'lint', command: 'lint', continueOnError: true, on: { change: ['x'] }, onRunning: 'skip' },
            { key: 'clean', command: 'clean', dependsOn: ['lint'], runAlways: true },
          ],
        },
      });
      const [lint, clean] = workflowToSpecs(file, 'ci');
      assert.equal(lint.continueOnError, true);
      assert.equal(clean.runAlways, true);
      assert.ok(!('on' in lint) && !('onRunning' in lint));
    });

    it('gives each workflow its failFast: true unless the workflow says false', () => {
      assert.equal(DEFAULT_FAIL_FAST, true);
      const file = parse({ a: { tasks: [{ key: 'x', command: 'x' }] }, b: { failFast: false, tasks: [{ key: 'x', command: 'x' }] } });
      assert.deepEqual(workflowOptions(file, 'a'), { failFast: true, name: 'a' });
      assert.deepEqual(workflowOptions(file, 'b'), { failFast: false, name: 'b' });
      assert.throws(() => workflowOptions(file, 'nope'), /one of `a`, `b`/);
    });

    it('declares in the schema the defaults the code applies', () => {
      const defs = (workflowSchema as { definitions: Record<string, { properties: Record<string, { default?: unknown }> }> }).definitions;
      assert.equal(defs.workflow.properties.failFast.default, DEFAULT_FAIL_FAST);
      assert.equal((defs as unknown as Record<string, { default?: unknown }>).onRunning.default, DEFAULT_ON_RUNNING);
      assert.equal(defs.trigger.properties.debounceMs.default, DEFAULT_DEBOUNCE_MS);
      const enums = defs as unknown as Record<string, { enum?: unknown[]; properties: Record<string, { enum?: unknown[] }> }>;
      assert.deepEqual(enums.onRunning.enum, ON_RUNNING_VALUES);
      assert.deepEqual(enums.task.properties.stopWhen.enum, STOP_WHEN_VALUES);
      assert.deepEqual(enums.task.properties.restart.enum, RESTART_VALUES);
    });

    it('offers a service snippet in the editor, itself a valid task', () => {
      const task = (workflowSchema as { definitions: { task: { defaultSnippets: { label: string; body: unknown }[] } } }).definitions.task;
      const snippet = task.defaultSnippets.find((s) => s.label === 'service');
      assert.ok(snippet, 'a "service" snippet');
      // A snippet's placeholders (`${1:3000}`) become their defaults; a `^` value is inserted raw (a number).
      const filled = (v: unknown): unknown =>
        typeof v === 'string'
          ? ((s: string) => (v.startsWith('^') ? (JSON.parse(s.slice(1)) as unknown) : s))(v.replace(/\$\{\d+:([^}]*)\}/g, '$1'))
          : Array.isArray(v)
            ? v.map(filled)
            : v !== null && typeof v === 'object'
              ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, filled(x)]))
              : v;
      const body = filled(snippet.body);
      assert.deepEqual(validateAgainstSchema(body, { $ref: '#/definitions/task' }, workflowSchema), []);
    });
  });

  describe('refuses bad input naming the field and what is allowed', () => {
    it('a readyWhen regex that does not compile, quoting the regex error', () => {
      assert.match(
        oneProblem([{ key: 's', command: 'x', readyWhen: { output: 'ready (' } }]),
        /^Expected `workflows\.w\.tasks\[0\]\.readyWhen\.output` to be a regular expression.*, got `"ready \("` \(string\).*Unterminated group/,
      );
    });

    it('a port out of range, or not an integer', () => {
      assert.match(
        oneProblem([{ key: 's', command: 'x', readyWhen: { port: 70000 } }]),
        /`workflows\.w\.tasks\[0\]\.readyWhen\.port` to be an integer <= 65535, got `70000`/,
      );
      assert.match(oneProblem([{ key: 's', command: 'x', readyWhen: { port: 0 } }]), /readyWhen\.port` to be an integer >= 1, got `0`/);
      assert.match(oneProblem([{ key: 's', command: 'x', readyWhen: { port: '3000' } }]), /readyWhen\.port` to be an integer, got `"3000"`/);
    });

    it('a URL that is not http(s), or not a URL', () => {
      assert.match(
        oneProblem([{ key: 's', command: 'x', readyWhen: { http: 'ftp://127.0.0.1/' } }]),
        /`workflows\.w\.tasks\[0\]\.readyWhen\.http` to be an http:\/\/ or https:\/\/ URL, got `"ftp:\/\/127\.0\.0\.1\/"`/,
      );
      assert.match(oneProblem([{ key: 's', command: 'x', readyWhen: { http: 'http://exa mple/' } }]), /readyWhen\.http` to be an http:\/\/ or https:\/\/ URL/);
    });

    it('a readyWhen with none or several of output, port, http, or a host without a port', () => {
      const needs = /Invalid `workflows\.w\.tasks\[0\]\.readyWhen`: .*exactly one of `output`.*`port`.*`http`/;
      assert.match(oneProblem([{ key: 's', command: 'x', readyWhen: {} }]), needs);
      assert.match(oneProblem([{ key: 's', command: 'x', readyWhen: { port: 1, http: 'http://a/' } }]), needs);
      assert.match(oneProblem([{ key: 's', command: 'x', readyWhen: { output: 'x', host: 'h' } }]), needs);
      assert.match(
        problemsOf([{ key: 's', command: 'x', readyWhen: { prot: 1 } }])[0],
        /Unexpected property `workflows\.w\.tasks\[0\]\.readyWhen\.prot`; allowed: `output`, `port`, `host`, `http`/,
      );
    });

    it('enums and bounds of the policies', () => {
      assert.match(oneProblem([{ ...server, stopWhen: 'never' }]), /`workflows\.w\.tasks\[0\]\.stopWhen` to be one of `"dependentsDone"`, got `"never"`/);
      assert.match(oneProblem([{ ...server, restart: 'always' }]), /`workflows\.w\.tasks\[0\]\.restart` to be one of `"on-failure"`, got `"always"`/);
      assert.match(oneProblem([{ ...server, readyTimeoutMs: 0 }]), /readyTimeoutMs` to be an integer >= 1, got `0`/);
      assert.match(oneProblem([{ ...server, shared: 'yes' }]), /shared` to be a boolean, got `"yes"`/);
      assert.match(oneProblem([{ key: 'a', command: 'x', continueOnError: 1 }]), /continueOnError` to be a boolean, got `1`/);
      assert.match(oneProblem([{ key: 'a', command: 'x' }], { failFast: 'no' }), /`workflows\.w\.failFast` to be a boolean, got `"no"`/);
    });

    it('a service that is also runAlways', () => {
      assert.match(
        oneProblem([{ ...server, runAlways: true }]),
        /^Expected `workflows\.w\.tasks\[0\]\.runAlways` to be absent or false when `readyWhen` is set.*, got `true`/,
      );
    });

    it('triggers: a glob that is not a string, none at all, a negative debounceMs, an unknown onRunning', () => {
      const task = { key: 'a', command: 'x' };
      assert.match(oneProblem([task], { on: { save: [1] } }), /`workflows\.w\.on\.save\[0\]` to be a string, got `1`/);
      assert.match(oneProblem([task], { on: { save: [''] } }), /`workflows\.w\.on\.save\[0\]` to be a non-empty string/);
      assert.match(oneProblem([task], { on: { save: 'src/**' } }), /`workflows\.w\.on\.save` to be an array/);
      assert.match(oneProblem([task], { on: { debounceMs: 10 } }), /Invalid `workflows\.w\.on`: .*`save`.*`change`/);
      assert.match(oneProblem([task], { on: { change: ['x'], debounceMs: -1 } }), /`workflows\.w\.on\.debounceMs` to be an integer >= 0, got `-1`/);
      assert.match(
        oneProblem([task], { on: { change: ['x'] }, onRunning: 'wait' }),
        /`workflows\.w\.onRunning` to be one of `"restart"`, `"queue"`, `"skip"`, got `"wait"`/,
      );
      assert.match(oneProblem([{ ...task, on: { save: ['x'] }, onRunning: 'later' }]), /`workflows\.w\.tasks\[0\]\.onRunning` to be one of/);
    });

    it('a glob outside the workspace folder, and onRunning without a trigger', () => {
      const task = { key: 'a', command: 'x' };
      assert.match(
        oneProblem([task], { on: { save: ['/etc/*'] } }),
        /`workflows\.w\.on\.save\[0\]` to be a glob relative to the workspace folder .*, got `"\/etc\/\*"`/,
      );
      assert.match(oneProblem([task], { on: { change: ['../x/**'] } }), /`workflows\.w\.on\.change\[0\]` to be a glob relative to the workspace folder/);
      assert.match(oneProblem([task], { onRunning: 'skip' }), /`workflows\.w\.onRunning` to be set only with an `on` trigger/);
      assert.match(oneProblem([{ ...task, onRunning: 'skip' }]), /`workflows\.w\.tasks\[0\]\.onRunning` to be set only with an `on` trigger/);
    });

    it('names a dependency cycle, and refuses a trigger on a workflow with one', () => {
      const cycle = [
        { key: 'a', command: 'x', dependsOn: ['c'] },
        { key: 'b', command: 'x', dependsOn: ['a'] },
        { key: 'c', command: 'x', dependsOn: ['b'] },
        { key: 'd', command: 'x', dependsOn: ['a'] },
      ];
      assert.match(oneProblem(cycle), /^Expected the tasks of workflow `w` to have no dependency cycle, got `a -> c -> b -> a`/);
      const file = parse({ w: { tasks: cycle } });
      assert.equal(file.problems?.get('w')?.[0].path, 'workflows.w.tasks[0].dependsOn[0]');
      const triggered = problemsOf(cycle, { on: { save: ['x'] } });
      assert.equal(triggered.length, 2, triggered.join('\n'));
      assert.match(triggered[1], /^Expected `workflows\.w\.on` to be absent: workflow `w` has a dependency cycle \(`a -> c -> b -> a`\) and cannot run/);
      const two = [
        { key: 'a', command: 'x', dependsOn: ['b'] },
        { key: 'b', command: 'x', dependsOn: ['a'], on: { save: ['x'] } },
      ];
      const onTask = problemsOf(two);
      assert.match(onTask[0], /`a -> b -> a`/);
      assert.match(onTask[1], /`workflows\.w\.tasks\[1\]\.on` to be absent/);
    });
  });

  describe('a broken workflow leaves the others usable', () => {
    let file: WorkflowFile;
    before(
      () =>
        (file = parse({
          good: { tasks: [{ key: 'a', command: 'true' }] },
          broken: { tasks: [{ key: 'a', command: 'true', retries: -1 }, { key: 'b' }] },
          other: { failFast: false, tasks: [{ key: 'z', command: 'true' }] },
        })),
    );

    it('keeps every usable workflow and every problem of the broken one, each naming its field', () => {
      assert.deepEqual(Object.keys(file.workflows), ['good', 'other']);
      assert.deepEqual(
        file.problems?.get('broken')?.map((i) => i.path),
        ['workflows.broken.tasks[0].retries', 'workflows.broken.tasks[1]'],
      );
      assert.equal(workflowToSpecs(file, 'good').length, 1);
      assert.deepEqual(workflowOptions(file, 'other'), { failFast: false, name: 'other' });
      assert.equal(workflowError(file, 'good', FILE), undefined);
    });

    it('refuses the broken one with its problems', () => {
      const err = workflowError(file, 'broken', FILE);
      assert.ok(err instanceof WorkflowFileError);
      assert.equal(err.issues.length, 2);
      assert.equal(err.field, 'workflows.broken.tasks[0].retries');
      assert.match(
        err.message,
        /^\.vscode\/orchestrator\.json: Expected `workflows\.broken\.tasks\[0\]\.retries` to be an integer >= 0.* \(and 1 more problem\)$/,
      );
      assert.throws(
        () => workflowToSpecs(file, 'broken'),
        (e: unknown) => e instanceof WorkflowFileError && /workflows\.broken\.tasks\[0\]\.retries/.test(e.message),
      );
      assert.throws(() => workflowOptions(file, 'broken'), WorkflowFileError);
    });

    it('still refuses the whole file for file-level problems', () => {
      assert.throws(() => parseWorkflowFile('{ "workflows": ', FILE), WorkflowFileError);
      assert.throws(() => parseWorkflowFile('{ "version": 2, "workflows": { "a": { "tasks": [{ "key": "a", "command": "x" }] } } }', FILE), /`version`/);
      assert.throws(() => parseWorkflowFile('{ "workflow": {} }', FILE), /`workflows`/);
    });

    it('keeps a workflow named __proto__ as a workflow', () => {
      const odd = parseWorkflowFile('{ "workflows": { "__proto__": { "tasks": [{ "key": "a", "command": "x" }] } } }', FILE);
      assert.deepEqual(Object.keys(odd.workflows), ['__proto__']);
      assert.equal(workflowToSpecs(odd, '__proto__')[0].key, 'a');
    });

    it('shows a long cycle by its ends, and looks for none among duplicate keys', () => {
      const chain = Array.from({ length: 30 }, (_, i) => ({ key: `t${i}`, command: 'x', dependsOn: [`t${(i + 1) % 30}`] }));
      assert.match(oneProblem(chain), /got `t0 -> t1 -> .* -> t9 -> \(11 more\) -> t21 -> .* -> t29 -> t0`/);
      const dup = [
        { key: 'a', command: 'x' },
        { key: 'a', command: 'x', dependsOn: ['b'] },
        { key: 'b', command: 'x', dependsOn: ['a'] },
      ];
      assert.match(oneProblem(dup), /`workflows\.w\.tasks\[1\]\.key` to be unique/);
    });

    it('keeps workflow names that are not identifiers apart', () => {
      const odd = parse({ 'my ci': { tasks: [{ key: 'a' }] }, my: { tasks: [{ key: 'a', command: 'x' }] } });
      assert.deepEqual(Object.keys(odd.workflows), ['my']);
      assert.equal(odd.problems?.get('my ci')?.[0].path, 'workflows."my ci".tasks[0]');
    });
  });

  describe('triggersOf', () => {
    it('lists workflow and task triggers with their ids and defaults, only of usable workflows', () => {
      const file = parse({
        build: { on: { save: ['src/**/*.ts'] }, tasks: [{ key: 'compile', command: 'tsc' }] },
        test: {
          onRunning: 'queue',
          tasks: [
            { key: 'unit', command: 'x', on: { change: ['test/**', 'src/**'], debounceMs: 50 } },
            { key: 'e2e', command: 'x', dependsOn: ['unit'], on: { save: ['e2e/**'], change: ['fixtures/**'] }, onRunning: 'skip' },
          ],
        },
        plain: { tasks: [{ key: 'x', command: 'x' }] },
        broken: { on: { save: ['x'] }, tasks: [{ key: 'x', command: 'x', retries: -1 }] },
      });
      assert.deepEqual(triggersOf(file), [
        { id: 'build', workflow: 'build', save: ['src/**/*.ts'], change: [], debounceMs: 300, onRunning: 'restart' },
        { id: 'test/unit', workflow: 'test', task: 'unit', save: [], change: ['test/**', 'src/**'], debounceMs: 50, onRunning: 'queue' },
        { id: 'test/e2e', workflow: 'test', task: 'e2e', save: ['e2e/**'], change: ['fixtures/**'], debounceMs: 300, onRunning: 'skip' },
      ]);
    });

    it('returns copies: changing a trigger changes nothing in the file', () => {
      const file = parse({ w: { on: { save: ['a'] }, tasks: [{ key: 'x', command: 'x' }] } });
      const [t] = triggersOf(file);
      t.save.push('b');
      assert.deepEqual(triggersOf(file)[0].save, ['a']);
    });
  });

  describe('selectOnly (shared by the CLI --only and task triggers)', () => {
    const specs: TaskSpec[] = [
      { name: 'install', kind: 'shell', key: 'install' },
      { name: 'lint', kind: 'shell', key: 'lint', dependsOn: ['install'] },
      { name: 'test', kind: 'shell', key: 'test', dependsOn: ['install'] },
    ];

    it('keeps the named tasks and what they depend on, in declared order', () => {
      assert.deepEqual(
        selectOnly([{ workflow: 'w', specs }], ['test'])[0].specs.map((s) => s.key),
        ['install', 'test'],
      );
    });

    it('refuses an unknown key with a ValidationError naming what exists', () => {
      assert.throws(
        () => selectOnly([{ workflow: 'w', specs }], ['tset']),
        /Unknown task key `tset` \(did you mean `test`\?\); known: `install`, `lint`, `test`/,
      );
    });
  });
});
