import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '../../src/core/model/errors';
import { unsupportedKeywords, validateAgainstSchema } from '../../src/workspaceFiles/schemaValidator';
import { parseWorkflowFile, workflowError, workflowSchema, workflowToSpecs, WorkflowFileError } from '../../src/workspaceFiles/workflowFile';

const FILE = '.vscode/orchestrator.json';
const valid = {
  version: 1,
  workflows: {
    ci: {
      description: 'install, then lint and test, then build',
      tasks: [
        { key: 'install', command: 'npm ci', priority: 10 },
        { key: 'lint', command: 'npm run lint', dependsOn: ['install'], resources: { cpu: 1 } },
        { key: 'test', task: 'npm: test', dependsOn: ['install'], retries: 2, timeoutMs: 60000 },
        { key: 'build', command: 'npm run build', cwd: 'packages/app', dependsOn: ['lint', 'test'] },
      ],
    },
  },
};

/** The refusal of the file, or else of its first unusable workflow. */
function errorOf(data: unknown): WorkflowFileError {
  let file;
  try {
    file = parseWorkflowFile(JSON.stringify(data), FILE);
  } catch (err) {
    assert.ok(err instanceof WorkflowFileError, `expected WorkflowFileError, got ${String(err)}`);
    return err;
  }
  const [broken] = file.problems?.keys() ?? [];
  const err = broken === undefined ? undefined : workflowError(file, broken, FILE);
  return err ?? assert.fail('expected the file or a workflow to be refused');
}

describe('workflowFile', () => {
  it('uses only schema keywords the runtime validator understands', () => {
    assert.deepEqual(unsupportedKeywords(workflowSchema), []);
  });

  it('accepts a realistic file and the demo workspace file', () => {
    assert.deepEqual(parseWorkflowFile(JSON.stringify(valid), FILE), valid);
    const demo = readFileSync(join(__dirname, '../../demo-workspace/.vscode/orchestrator.json'), 'utf8');
    const file = parseWorkflowFile(demo, FILE);
    assert.ok(Object.keys(file.workflows).length >= 1);
  });

  it('names the field and what is allowed for a wrong type', () => {
    const bad = structuredClone(valid);
    (bad.workflows.ci.tasks[1] as Record<string, unknown>).priority = 'high';
    const err = errorOf(bad);
    assert.ok(err instanceof ValidationError);
    assert.equal(err.field, 'workflows.ci.tasks[1].priority');
    assert.match(err.message, /Expected `workflows\.ci\.tasks\[1\]\.priority` to be an integer, got `"high"` \(string\)/);
  });

  it('lists the allowed properties for a misspelt one', () => {
    const bad = structuredClone(valid);
    (bad.workflows.ci.tasks[0] as Record<string, unknown>).dependOn = ['x'];
    const err = errorOf(bad);
    assert.equal(err.field, 'workflows.ci.tasks[0].dependOn');
    assert.match(err.message, /Unexpected property .*allowed: `key`, `name`, `command`/);
  });

  it('refuses a task with both a command and a VS Code task, or neither', () => {
    const both = structuredClone(valid);
    (both.workflows.ci.tasks[0] as Record<string, unknown>).task = 'build';
    assert.match(errorOf(both).message, /exactly one of `command`/);
    const neither = { workflows: { w: { tasks: [{ key: 'a' }] } } };
    assert.match(errorOf(neither).message, /exactly one of `command`/);
  });

  it('refuses bounds, patterns, empty lists and a missing key', () => {
    assert.match(
      errorOf({ workflows: { w: { tasks: [{ key: 'a', command: 'x', resources: { cpu: 0 } }] } } }).message,
      /`workflows\.w\.tasks\[0\]\.resources\.cpu` to be an integer >= 1, got `0`/,
    );
    assert.match(errorOf({ workflows: { w: { tasks: [{ key: 'a b', command: 'x' }] } } }).message, /letters, digits/);
    assert.match(errorOf({ workflows: { w: { tasks: [] } } }).message, /at least 1 item/);
    assert.match(errorOf({ workflows: { w: { tasks: [{ command: 'x' }] } } }).message, /to have the property `key`/);
    assert.match(errorOf({ workflows: {} }).message, /`workflows` to have at least 1 entry/);
    assert.match(errorOf([]).message, /the document to be an object/);
  });

  it('refuses duplicate keys and dependencies on unknown keys or on the task itself', () => {
    const dup = {
      workflows: {
        w: {
          tasks: [
            { key: 'a', command: 'x' },
            { key: 'a', command: 'y' },
          ],
        },
      },
    };
    assert.match(errorOf(dup).message, /`workflows\.w\.tasks\[1\]\.key` to be unique/);
    const unknown = { workflows: { w: { tasks: [{ key: 'a', command: 'x', dependsOn: ['b'] }] } } };
    const err = errorOf(unknown);
    assert.equal(err.field, 'workflows.w.tasks[0].dependsOn[0]');
    assert.match(err.message, /to be a key of workflow `w` \(`a`\), got `"b"`/);
    const self = { workflows: { w: { tasks: [{ key: 'a', command: 'x', dependsOn: ['a'] }] } } };
    assert.match(errorOf(self).message, /another task/);
  });

  it('reports invalid JSON as such, and counts further problems', () => {
    assert.throws(() => parseWorkflowFile('{ "workflows": ', FILE), /orchestrator\.json: Expected valid JSON/);
    const many = {
      workflows: {
        w: {
          tasks: [
            { key: 'a', command: 1 },
            { key: 'b', command: 2 },
          ],
        },
      },
    };
    assert.match(errorOf(many).message, /and \d+ more problems?/);
  });

  it('turns a workflow into keyed specs: shell, VS Code task, defaults and cwd', () => {
    const specs = workflowToSpecs(parseWorkflowFile(JSON.stringify(valid), FILE), 'ci', { folder: '/ws', timeoutMs: 5000, retries: 1 });
    assert.deepEqual(
      specs.map((s) => [s.key, s.kind]),
      [
        ['install', 'shell'],
        ['lint', 'shell'],
        ['test', 'vscodeTask'],
        ['build', 'shell'],
      ],
    );
    assert.equal(specs[0].name, 'ci: install');
    assert.equal(specs[0].cwd, '/ws');
    assert.equal(specs[3].cwd, '/ws/packages/app');
    assert.deepEqual(specs[2].payload, { label: 'npm: test' });
    assert.equal(specs[2].retries, 2);
    assert.equal(specs[0].retries, 1);
    assert.equal(specs[2].timeoutMs, 60000);
    assert.equal(specs[0].timeoutMs, 5000);
    assert.deepEqual(specs[3].dependsOn, ['lint', 'test']);
    assert.throws(() => workflowToSpecs(parseWorkflowFile(JSON.stringify(valid), FILE), 'nope'), /one of `ci`/);
  });

  it("maps a task's cache, and refuses a glob outside its folder, an empty inputs list or a cached service", () => {
    const cache = { inputs: ['src/**', '!src/**/*.test.ts'], outputs: ['dist/**'], env: ['NODE_ENV'] };
    const file = { workflows: { w: { tasks: [{ key: 'b', command: 'make', cache }] } } };
    const [spec] = workflowToSpecs(parseWorkflowFile(JSON.stringify(file), FILE), 'w', { folder: '/ws' });
    assert.deepEqual(spec?.cache, cache);
    const task = (c: unknown, extra = {}) => ({ workflows: { w: { tasks: [{ key: 'b', command: 'make', cache: c, ...extra }] } } });
    assert.match(errorOf(task({ inputs: ['../x'] })).message, /`workflows\.w\.tasks\[0\]\.cache\.inputs\[0\]`.*without `\.\.` segments/);
    assert.match(errorOf(task({ inputs: ['src/**'], outputs: ['/tmp/out'] })).message, /`workflows\.w\.tasks\[0\]\.cache\.outputs\[0\]`/);
    assert.match(errorOf(task({ inputs: [] })).message, /`workflows\.w\.tasks\[0\]\.cache\.inputs` to have at least 1 item/);
    assert.match(errorOf(task({ input: ['src/**'] })).message, /cache/);
    assert.match(
      errorOf(task({ inputs: ['src/**'] }, { readyWhen: { port: 3000 } })).message,
      /`workflows\.w\.tasks\[0\]\.cache` to be absent when `readyWhen` is set/,
    );
  });

  it('validates plain values with the generic keywords', () => {
    assert.deepEqual(validateAgainstSchema(3, { type: 'integer', minimum: 1 }), []);
    assert.equal(validateAgainstSchema(1.5, { type: 'integer' }).length, 1);
    assert.equal(validateAgainstSchema('b', { enum: ['a'] })[0].message, 'Expected the document to be one of `"a"`, got `"b"` (string)');
  });
});
