import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/cli/exitCodes';
import { parseConcurrency, parseCount, parseReport, parseResources, unknownName } from '../../src/cli/options';
import { formatPlan, layers, selectOnly } from '../../src/cli/plan';
import { jsonSyntaxErrors, pathSegments, positionOfPath } from '../../src/cli/sourcePositions';
import { formatProblem, InvalidFileError, loadWorkspace, locateWorkflowFile, readFolderSettings } from '../../src/cli/workspace';
import type { TaskSpec } from '../../src/core/model/model';

function refuses(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof UsageError && pattern.test(err.message) && !err.message.includes('\n'));
}

describe('CLI options', () => {
  it('parses --concurrency, 0 meaning one per CPU, and refuses negatives, fractions and words', () => {
    assert.equal(parseConcurrency('4'), 4);
    assert.equal(parseConcurrency('0'), 0);
    refuses(() => parseConcurrency('-1'), /--concurrency to be an integer from 0 to .*got "-1"/);
    refuses(() => parseConcurrency('1.5'), /got "1.5"/);
    refuses(() => parseConcurrency('many'), /got "many"/);
    refuses(() => parseConcurrency('x', 'automatic'), /\(0: automatic\), got "x"/);
    refuses(() => parseConcurrency('99999999999'), /from 0 to/);
  });

  it('parses --resources into pools and names what does not parse', () => {
    assert.deepEqual(parseResources('cpu=2,gpu=1'), { cpu: 2, gpu: 1 });
    assert.deepEqual(parseResources(' cpu = 2 , '), { cpu: 2 });
    assert.deepEqual(parseResources(''), {});
    refuses(() => parseResources('cpu'), /name=capacity.*"cpu" is not/);
    refuses(() => parseResources('cpu=two'), /"cpu=two" is not/);
    refuses(() => parseResources('cpu=0'), /--resources\.cpu/);
    refuses(() => parseResources('cpu=-1'), /"cpu=-1" is not/);
    refuses(() => parseResources('1cpu=1'), /"1cpu=1" is not/);
    refuses(() => parseResources('cpu=1,cpu=2'), /`cpu` appears twice/);
  });

  it('parses --report junit=FILE and refuses other formats', () => {
    assert.deepEqual(parseReport('junit=out/report.xml'), { format: 'junit', file: 'out/report.xml' });
    refuses(() => parseReport('junit'), /FORMAT=FILE with FORMAT one of `junit`/);
    refuses(() => parseReport('tap=x.tap'), /got "tap=x.tap"/);
  });

  it('parses counts with their bounds', () => {
    assert.equal(parseCount('--retries', '3', 100), 3);
    refuses(() => parseCount('--retries', '101', 100), /--retries to be an integer from 0 to 100, got "101"/);
  });

  it('suggests the nearest name and lists the known ones', () => {
    const err = unknownName('workflow', 'cj', ['ci', 'nightly']);
    assert.match(err.message, /Unknown workflow `cj` \(did you mean `ci`\?\); known: `ci`, `nightly`/);
    assert.doesNotMatch(unknownName('workflow', 'zzzzzz', ['ci']).message, /did you mean/);
  });
});

describe('CLI plan', () => {
  const spec = (key: string, dependsOn: string[] = [], extra: Partial<TaskSpec> = {}): TaskSpec => ({
    name: key,
    kind: 'shell',
    key,
    command: `echo ${key}`,
    dependsOn,
    ...extra,
  });
  const specs = [
    spec('install'),
    spec('lint', ['install']),
    spec('test', ['install'], { resources: { cpu: 1 } }),
    spec('build', ['lint', 'test']),
    spec('docs'),
  ];

  it('puts each task in the layer after its longest chain of dependencies, in declared order', () => {
    assert.deepEqual(
      layers(specs).map((l) => l.map((s) => s.key)),
      [['install', 'docs'], ['lint', 'test'], ['build']],
    );
  });

  it('keeps --only keys and what they depend on, and refuses an unknown key with the nearest', () => {
    const picked = selectOnly([{ workflow: 'ci', specs }], ['lint']);
    assert.deepEqual(
      picked[0]?.specs.map((s) => s.key),
      ['install', 'lint'],
    );
    refuses(() => selectOnly([{ workflow: 'ci', specs }], ['lnt']), /Unknown task key for --only `lnt` \(did you mean `lint`\?\)/);
  });

  it('prints what a tasks.json step resolved to', () => {
    const step: TaskSpec = { name: 'test', kind: 'vscodeTask', key: 'test', payload: { label: 'test' } };
    const text = formatPlan([{ workflow: 'ci', specs: [step] }], { concurrency: 1, pools: {} }, () => '$ node --test test/');
    assert.match(text, / {4}test {2}tasks\.json: test → \$ node --test test\//);
    assert.match(formatPlan([{ workflow: 'ci', specs: [step] }], { concurrency: 1, pools: {} }), / {4}test {2}tasks\.json: test\n/);
  });

  it('prints a service, how it becomes ready and stops, and the failure policies', () => {
    const dev = [
      spec('server', [], { readyWhen: { port: 3000 }, stopWhen: 'dependentsDone', restart: 'on-failure', shared: true }),
      spec('smoke', ['server'], { continueOnError: true }),
      spec('clean', ['smoke'], { runAlways: true }),
    ];
    const text = formatPlan([{ workflow: 'dev', specs: dev }], { concurrency: 1, pools: {} });
    assert.match(
      text,
      / {4}server {2}\$ echo server · service \(ready: port 127\.0\.0\.1:3000; stops when its dependents are done; restarts on failure; shared\)\n/,
    );
    assert.match(text, / {4}smoke {2}\$ echo smoke · after server · continues on error\n/);
    assert.match(text, / {4}clean {2}\$ echo clean · after smoke · runs always\n/);
  });

  it('prints layers, pools and that nothing ran', () => {
    const text = formatPlan([{ workflow: 'ci', specs }], { concurrency: 4, pools: { cpu: 2 } });
    assert.match(text, /workflow ci: 5 tasks/);
    assert.match(text, /layer 2 \(2 may run at once\)\n {4}lint {2}\$ echo lint · after install\n {4}test {2}\$ echo test · pools cpu×1 · after install/);
    assert.match(text, /concurrency 4; pools cpu=2\ndry run: nothing ran$/);
  });
});

describe('CLI source positions', () => {
  const text = '{\n  "workflows": {\n    "ci": {\n      "tasks": [\n        { "key": "a", "dependsOn": ["b"] }\n      ]\n    }\n  }\n}\n';

  it('splits issue paths, quoted names included', () => {
    assert.deepEqual(pathSegments('workflows.ci.tasks[0].dependsOn[1]'), ['workflows', 'ci', 'tasks', 0, 'dependsOn', 1]);
    assert.deepEqual(pathSegments('workflows."my ci".tasks'), ['workflows', 'my ci', 'tasks']);
  });

  it('points at the value of a path, or at its nearest existing parent', () => {
    assert.deepEqual(positionOfPath(text, 'workflows.ci.tasks[0].dependsOn[0]'), { line: 5, column: 37 });
    assert.deepEqual(positionOfPath(text, 'workflows.ci.tasks[0].dependsOn'), { line: 5, column: 23 });
    assert.deepEqual(positionOfPath(text, 'workflows.ci.tasks[0].missing'), { line: 5, column: 9 });
    assert.deepEqual(positionOfPath(text, ''), { line: 1, column: 1 });
  });

  it('locates syntax errors of strict JSON', () => {
    const errors = jsonSyntaxErrors('{\n  "a": 1,\n}\n');
    assert.ok(errors.length >= 1);
    assert.deepEqual(errors[0]?.position, { line: 3, column: 1 });
    assert.match(errors[0]?.message ?? '', /Expected valid JSON: /);
  });
});

describe('CLI workspace', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrator-cli-ws-'));
    mkdirSync(join(dir, '.vscode'));
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the workflow file here or in a folder above, or says how to give one', () => {
    writeFileSync(join(dir, '.vscode', 'orchestrator.json'), '{"workflows":{"ci":{"tasks":[{"key":"a","command":"true"}]}}}');
    assert.deepEqual(locateWorkflowFile(join(dir, 'sub', 'deeper')), { folder: dir, file: join(dir, '.vscode', 'orchestrator.json') });
    rmSync(join(dir, '.vscode', 'orchestrator.json'));
    refuses(() => locateWorkflowFile(join(dir, 'sub')), /No \.vscode\/orchestrator\.json in .* or any folder above it: create one .* or pass --file FILE/);
    refuses(() => locateWorkflowFile(dir, 'nope.json'), /No workflow file at nope\.json/);
  });

  it('reports every problem of an invalid file, or of one workflow, with file:line:column', () => {
    writeFileSync(
      join(dir, '.vscode', 'orchestrator.json'),
      '{\n  "workflows": {\n    "ci": {\n      "tasks": [\n        { "key": "a", "command": "true", "retries": -1 },\n        { "key": "b", "dependsOn": ["c"] }\n      ]\n    },\n    "ok": { "tasks": [{ "key": "a", "command": "true" }] }\n  }\n}\n',
    );
    const workspace = loadWorkspace(dir);
    assert.deepEqual(Object.keys(workspace.workflows.workflows), ['ok']);
    const lines = (workspace.workflowProblems.get('ci') ?? []).map(formatProblem);
    assert.ok(
      lines.some((l) => /^\.vscode\/orchestrator\.json:5:\d+: Expected `workflows\.ci\.tasks\[0\]\.retries` to be an integer >= 0/.test(l)),
      lines.join('\n'),
    );
    writeFileSync(join(dir, '.vscode', 'orchestrator.json'), '{\n  "workflows": {},\n  "extra": 1\n}\n');
    assert.throws(
      () => loadWorkspace(dir),
      (err: unknown) => {
        assert.ok(err instanceof InvalidFileError);
        assert.match(err.message, /^\.vscode\/orchestrator\.json:2:\d+: Expected `workflows` to have at least 1 entry/m);
        assert.match(err.message, /^\.vscode\/orchestrator\.json:3:\d+: Unexpected property `extra`/m);
        return true;
      },
    );
  });

  it('reads the orchestrator.* settings from .vscode/settings.json (JSONC), flat or nested, defaults otherwise', () => {
    writeFileSync(
      join(dir, '.vscode', 'settings.json'),
      '{\n // comment\n "orchestrator.concurrency": 3,\n "orchestrator": { "resources": { "cpu": 2 } },\n}\n',
    );
    const problems: string[] = [];
    const settings = readFolderSettings(dir, problems);
    assert.equal(settings.concurrency, 3);
    assert.deepEqual(settings.resources, { cpu: 2 });
    assert.deepEqual(problems, []);
    writeFileSync(join(dir, '.vscode', 'settings.json'), '{ "orchestrator.concurrency": -2 }');
    readFolderSettings(dir, problems);
    assert.match(problems[0] ?? '', /Expected `orchestrator\.concurrency` to be an integer from 0 to \d+, got -2; using 0/);
  });
});
