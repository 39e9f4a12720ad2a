// A folder's `.vscode/tasks.json` read as VS Code reads it, and one of its tasks resolved to a plan the
// CLI can run without VS Code: command lines for the core's ShellExecutor, their cwd and env, and the
// tasks it depends on. Everything is resolved here, at plan time, so a task the CLI cannot run (a
// provider's type, an editor's variable, an unknown label, a cycle) is refused before anything runs.
//
// - A task is found by the label VS Code's Run Task shows: its `label`, or for an npm entry without
//   one `npm: <script>` (`npm: <script> - <path>` in a subfolder). `npm: <script>` also names a
//   package.json script no entry configures, as VS Code's npm provider detects it.
// - Merge order, later wins: the file's `options`, the file's platform section's `options`, the
//   entry, the entry's platform section (`linux`, `osx`, `windows`). `options.env` merges by key.
// - `shell` runs its command line under sh (args appended and quoted, taskCommandLine.ts); `process`
//   runs its program with no shell interpreting it; `npm` runs `npm run <script>` in its `path`. Any
//   other type comes from an extension's task provider, which only VS Code has.
// - `dependsOn` runs first (in parallel unless `"dependsOrder": "sequence"`), then the task's own
//   command if it has one. A task reached by two paths is one node of the plan, run once.
// - The CLI runs a background task (`isBackground`) to its exit, and has no problem matchers: the
//   exit code alone says whether a task failed.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ValidationError } from '../../core/model/errors';
import { nearest, quoteList } from '../../core/model/fieldChecks';
import { isObjectLike } from '../../core/model/guards';
import { TASKS_FILE } from '../../workspaceFiles/names';
import type { VscodeTaskPayload } from '../../workspaceFiles/workflowFile';
import { readJsonc } from '../jsoncFile';
import { processCommandLine, quoteArg, shellCommandLine, singleQuote, type QuotingStyle, type TaskArg } from './taskCommandLine';
import { VariableScope } from './taskVariableValues';

/** One task of the plan. A DAG: a task several others depend on is the same object in each. */
export interface ResolvedTask {
  /** The label VS Code shows: `build`, `npm: compile`. */
  label: string;
  /** `shell`, `process`, `npm`, or `$composite` for an entry that only depends on others. */
  type: string;
  /** The line the core's ShellExecutor runs under sh; absent for a task that only runs its `dependsOn`. */
  command?: string;
  /** Absolute. */
  cwd: string;
  /** Set over the CLI's environment: the file's and the entry's `options.env`. */
  env: Record<string, string>;
  dependsOn: ResolvedTask[];
  dependsOrder: 'parallel' | 'sequence';
  isBackground: boolean;
}

/** The types the CLI runs itself; every other one is a VS Code extension's task provider. */
const RUNNABLE_TYPES: readonly string[] = ['shell', 'process', 'npm', '$composite'];

const PLATFORM_KEY = process.platform === 'win32' ? 'windows' : process.platform === 'darwin' ? 'osx' : 'linux';

interface Entry {
  /** Unique within the plan: a file index, or the npm script it stands for. */
  id: string;
  /** The entry with its platform section merged over it; `options` merged with the file's. */
  def: Record<string, unknown>;
  type: string;
  /** As VS Code shows it; undefined for a provider's entry with no label of its own. */
  label: string | undefined;
  /** `tasks[3]`, for messages about an entry that has no label. */
  where: string;
}

interface TasksFile {
  folder: string;
  file: string;
  exists: boolean;
  entries: Entry[];
  /** The file's `options` with its platform section's merged over them. */
  options: Record<string, unknown>;
}

/**
 * The plan for the task a payload names, from `<folder>/.vscode/tasks.json`. Synchronous: it reads
 * the files it needs (tasks.json, settings.json for `${config:…}`, package.json for a detected npm
 * script) and starts nothing. `payload.folder` is not consulted: the CLI runs one folder. With
 * `payload.ownOnly` the task's `dependsOn` is left out (its steps are scheduled as tasks of their own).
 * Throws ValidationError naming what cannot run and why.
 */
export function resolveTasksFileTask(folder: string, payload: VscodeTaskPayload): ResolvedTask {
  const file = readTasksFile(path.resolve(folder));
  const entry = findByLabel(file, payload.label, payload.type);
  return new PlanBuilder(file).build(entry, payload.ownOnly === true);
}

function readTasksFile(folder: string): TasksFile {
  const file = path.join(folder, TASKS_FILE);
  const data = readJsonc(file);
  if (data === undefined) return { folder, file, exists: false, entries: [], options: {} };
  if (!isObjectLike(data)) throw new ValidationError(`Expected ${file} to hold an object like { "version": "2.0.0", "tasks": [] }`, file);
  const tasks = data.tasks ?? [];
  if (!Array.isArray(tasks)) throw new ValidationError(`Expected \`tasks\` in ${file} to be an array`, 'tasks');
  const top = data[PLATFORM_KEY];
  const options = mergeOptions(data.options, isObjectLike(top) ? top.options : undefined);
  const entries = (tasks as unknown[]).map((raw, i) => {
    if (!isObjectLike(raw)) throw new ValidationError(`Expected \`tasks[${i}]\` in ${file} to be an object`, `tasks[${i}]`);
    return toEntry(raw, `#${i}`, `tasks[${i}]`);
  });
  return { folder, file, exists: true, entries, options };
}

function toEntry(raw: Record<string, unknown>, id: string, where: string): Entry {
  const platform = raw[PLATFORM_KEY];
  const def = isObjectLike(platform) ? { ...raw, ...platform, options: mergeOptions(raw.options, platform.options) } : raw;
  // VS Code's default for an entry without a type is a process; without a command either, it only has dependencies.
  const type = typeof def.type === 'string' ? def.type : def.command === undefined ? '$composite' : 'process';
  const label = typeof def.label === 'string' ? def.label : type === 'npm' && typeof def.script === 'string' ? npmLabel(def.script, def.path) : undefined;
  return { id, def, type, label, where };
}

/** `options` objects merged in order: `cwd` and `shell` replaced, `env` merged key by key. */
function mergeOptions(...layers: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    if (!isObjectLike(layer)) continue;
    const env = isObjectLike(out.env) && isObjectLike(layer.env) ? { ...out.env, ...layer.env } : (layer.env ?? out.env);
    Object.assign(out, layer);
    if (env !== undefined) out.env = env;
  }
  return out;
}

/** The path of an npm entry as VS Code shows it in a label: forward slashes, no `./` nor trailing slash. */
function npmPath(value: unknown): string {
  if (typeof value !== 'string') return '';
  const p = value.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '');
  return p === '.' ? '' : p;
}

function npmLabel(script: string, where: unknown): string {
  const p = npmPath(where);
  return p ? `npm: ${script} - ${p}` : `npm: ${script}`;
}

function labelsOf(file: TasksFile): string[] {
  return file.entries.map((e) => e.label).filter((l): l is string => l !== undefined);
}

function findByLabel(file: TasksFile, label: string, type: string | undefined): Entry {
  const inScope = file.entries.filter((e) => type === undefined || e.type === type);
  let matches = inScope.filter((e) => e.label === label);
  // As the editor's lookup does: an npm entry is also known by its bare script name.
  if (!matches.length) matches = inScope.filter((e) => e.type === 'npm' && e.label === npmLabel(label, e.def.path) && typeof e.def.label !== 'string');
  if (!matches.length && (type === undefined || type === 'npm')) {
    const detected = detectedNpmScript(file.folder, label);
    if (detected) return detected;
  }
  const [first] = matches;
  if (!first) throw unknownLabel(file, label, type);
  if (matches.length > 1) {
    throw new ValidationError(
      `Expected \`${label}\` to name one task in ${file.file}, got ${matches.length} (types ${quoteList(matches.map((e) => e.type))}); give the workflow step's task a \`type\``,
      'payload.label',
    );
  }
  return first;
}

function unknownLabel(file: TasksFile, label: string, type: string | undefined): ValidationError {
  const what = `No task labelled \`${label}\`${type === undefined ? '' : ` of type \`${type}\``}`;
  if (!file.exists) return new ValidationError(`${what}: ${file.file} does not exist`, 'payload.label');
  const labels = labelsOf(file);
  const best = nearest(label, labels);
  const hint = best === undefined ? '' : ` (did you mean \`${best}\`?)`;
  const known = labels.length
    ? `; available: ${quoteList(best === undefined ? labels : [best, ...labels.filter((l) => l !== best)], 20)}`
    : '; it has no labelled task';
  // `tsc: build`, `gulp: lint`: a provider's task, which exists only while VS Code's extension runs.
  const provider = /^[\w.-]+: /.test(label) && !label.startsWith('npm: ') ? `; a task an extension provides exists only in VS Code` : '';
  return new ValidationError(`${what} in ${file.file}${hint}${known}${provider}`, 'payload.label');
}

/** `npm: <script>` (or `npm: <script> - <path>`) naming a script of that package.json, which VS Code's npm provider detects. */
function detectedNpmScript(folder: string, label: string): Entry | undefined {
  const m = /^npm: (.+?)(?: - (.+))?$/.exec(label);
  if (!m?.[1]) return undefined;
  const script = m[1];
  const where = m[2] ?? '';
  let scripts: unknown;
  try {
    scripts = (JSON.parse(readFileSync(path.join(folder, where, 'package.json'), 'utf8')) as { scripts?: unknown }).scripts;
  } catch {
    return undefined;
  }
  if (!isObjectLike(scripts) || typeof scripts[script] !== 'string') return undefined;
  return toEntry({ type: 'npm', script, ...(where ? { path: where } : {}) }, `npm\0${npmPath(where)}\0${script}`, `package.json script \`${script}\``);
}

class PlanBuilder {
  private readonly done = new Map<string, ResolvedTask>();
  private readonly path: Entry[] = [];
  private readonly scope: VariableScope;

  constructor(private readonly file: TasksFile) {
    this.scope = new VariableScope(file.folder);
  }

  build(entry: Entry, ownOnly: boolean): ResolvedTask {
    const name = entry.label ?? entry.where;
    const known = this.done.get(entry.id);
    if (known) return known;
    const at = this.path.findIndex((e) => e.id === entry.id);
    if (at >= 0) {
      const cycle = [...this.path.slice(at), entry].map((e) => `\`${e.label ?? e.where}\``).join(' → ');
      throw new ValidationError(`Expected the \`dependsOn\` of the tasks in ${this.file.file} to form no cycle, got ${cycle}`, 'dependsOn');
    }
    if (!RUNNABLE_TYPES.includes(entry.type)) {
      throw new ValidationError(
        `Task \`${name}\` has type \`${entry.type}\`, which a VS Code extension's task provider runs: it is not available in the CLI, which runs \`shell\`, \`process\` and \`npm\` tasks and their \`dependsOn\``,
        'type',
      );
    }
    this.path.push(entry);
    const deps = ownOnly ? [] : dependencyRefs(entry.def.dependsOn).map((ref) => this.build(this.findRef(entry, ref), false));
    this.path.pop();
    const options = mergeOptions(this.file.options, entry.def.options);
    const where = (field: string): string => `task \`${name}\`'s \`${field}\``;
    const cwdOption = options.cwd === undefined ? undefined : this.scope.resolve(stringField(options.cwd, where('options.cwd')), where('options.cwd'));
    const plan: ResolvedTask = {
      label: name,
      type: entry.type,
      cwd: path.resolve(this.file.folder, cwdOption ?? '.'),
      env: this.env(options.env, where('options.env')),
      dependsOn: deps,
      dependsOrder: dependsOrder(entry.def.dependsOrder, name),
      isBackground: entry.def.isBackground === true,
    };
    const command = this.commandLine(entry, options, where);
    if (command !== undefined) plan.command = command;
    else if (entry.type === 'npm') throw new ValidationError(`Expected npm task \`${name}\` to have a \`script\``, 'script');
    else if (!deps.length && !ownOnly) throw new ValidationError(`Task \`${name}\` has neither a \`command\` nor a \`dependsOn\`: nothing to run`, 'command');
    if (entry.type === 'npm') plan.cwd = path.resolve(this.file.folder, this.scope.resolve(npmPath(entry.def.path), where('path')) || '.');
    this.done.set(entry.id, plan);
    return plan;
  }

  private commandLine(entry: Entry, options: Record<string, unknown>, where: (field: string) => string): string | undefined {
    const def = entry.def;
    if (entry.type === 'npm') {
      if (typeof def.script !== 'string') return undefined;
      const script = this.scope.resolve(def.script, where('script'));
      // As VS Code's npm provider: the `install` script is npm's own install, not a script run.
      return script === 'install' ? 'npm install' : `npm run ${quoteArg(script)}`;
    }
    if (def.command === undefined || entry.type === '$composite') return undefined;
    const command = this.arg(def.command, where('command'));
    const args = def.args === undefined ? [] : Array.isArray(def.args) ? def.args.map((a, i) => this.arg(a, where(`args[${i}]`))) : undefined;
    if (!args) throw new ValidationError(`Expected ${where('args')} to be an array`, 'args');
    if (entry.type === 'process') {
      if (typeof command !== 'string') throw new ValidationError(`Expected ${where('command')} to be a string for a process task`, 'command');
      return processCommandLine(command, args);
    }
    return this.underShell(shellCommandLine(command, args), options.shell, where);
  }

  /** A `shell` task's line under the shell `options.shell` names (its args, then `-c` unless given), or under sh. */
  private underShell(line: string, shell: unknown, where: (field: string) => string): string {
    if (!isObjectLike(shell) || shell.executable === undefined) return line;
    const executable = this.scope.resolve(stringField(shell.executable, where('options.shell.executable')), where('options.shell.executable'));
    const raw = shell.args === undefined ? [] : Array.isArray(shell.args) ? shell.args : [shell.args];
    const args = raw.map((a, i) => this.scope.resolve(stringField(a, where(`options.shell.args[${i}]`)), where('options.shell.args')));
    if (!args.includes('-c')) args.push('-c');
    return ['exec', executable, ...args, line].map(singleQuote).join(' ');
  }

  /** A `command` or `args` item with its variables resolved: a string, or `{ value, quoting }`. */
  private arg(value: unknown, where: string): TaskArg {
    if (typeof value === 'string') return this.scope.resolve(value, where);
    if (isObjectLike(value)) {
      const words = Array.isArray(value.value) ? value.value : [value.value];
      const quoting = value.quoting;
      if (words.every((w) => typeof w === 'string') && (quoting === undefined || quoting === 'escape' || quoting === 'strong' || quoting === 'weak')) {
        const resolved = this.scope.resolve(words.join(' '), where);
        return quoting === undefined ? { value: resolved } : { value: resolved, quoting: quoting as QuotingStyle };
      }
    }
    throw new ValidationError(
      `Expected ${where} to be a string or { "value": "…", "quoting": "escape" | "strong" | "weak" }, got ${JSON.stringify(value)}`,
      where,
    );
  }

  private env(value: unknown, where: string): Record<string, string> {
    if (value === undefined) return {};
    if (!isObjectLike(value)) throw new ValidationError(`Expected ${where} to be an object of strings`, 'options.env');
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string') env[k] = this.scope.resolve(v, where);
      else if (typeof v === 'number' || typeof v === 'boolean') env[k] = String(v);
      else throw new ValidationError(`Expected ${where}.${k} to be a string, got ${JSON.stringify(v)}`, 'options.env');
    }
    return env;
  }

  /** The entry a `dependsOn` item names: a label, or a task identifier like { "type": "npm", "script": "build" }. */
  private findRef(owner: Entry, ref: unknown): Entry {
    if (typeof ref === 'string') {
      try {
        return findByLabel(this.file, ref, undefined);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        throw new ValidationError(`Task \`${owner.label ?? owner.where}\` depends on \`${ref}\`: ${err.message}`, 'dependsOn');
      }
    }
    if (isObjectLike(ref) && typeof ref.type === 'string') {
      const wanted = Object.entries(ref);
      const match = this.file.entries.find((e) => wanted.every(([k, v]) => JSON.stringify(k === 'type' ? e.type : e.def[k]) === JSON.stringify(v)));
      if (match) return match;
      if (ref.type === 'npm' && typeof ref.script === 'string') {
        const detected = detectedNpmScript(this.file.folder, npmLabel(ref.script, ref.path));
        if (detected) return detected;
      }
    }
    throw new ValidationError(
      `Expected each \`dependsOn\` of task \`${owner.label ?? owner.where}\` in ${this.file.file} to name a task, like "build" or { "type": "npm", "script": "build" }, got ${JSON.stringify(ref)}`,
      'dependsOn',
    );
  }
}

function dependencyRefs(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function dependsOrder(value: unknown, name: string): 'parallel' | 'sequence' {
  if (value === undefined || value === 'parallel') return 'parallel';
  if (value === 'sequence') return 'sequence';
  throw new ValidationError(`Expected task \`${name}\`'s \`dependsOrder\` to be "parallel" or "sequence", got ${JSON.stringify(value)}`, 'dependsOrder');
}

function stringField(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new ValidationError(`Expected ${where} to be a string, got ${JSON.stringify(value)}`, where);
  return value;
}
