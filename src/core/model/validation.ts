// The gate every request passes before anything is created: task specs, workflows and orchestrator
// options arrive as `unknown` (from a palette, a workflow file, another extension, the CLI) and leave
// as checked, copied values, or as a `ValidationError` naming the field, what it held and what is
// allowed. A refused input changes nothing: these functions have no side effects.
//
// Messages follow p-queue's style: "Expected `timeoutMs` to be a positive number ..., got `-5` (number)".
// validateSpec runs once per scheduled task, so its success path allocates only the copy it returns.
import { availableParallelism, cpus } from 'node:os';
import { findCycle } from '../util/findCycle';
import { describeValue, fieldError, ValidationError } from './errors';
import { isPlainObject } from './guards';
import type { PersistedSpec } from './model';
import { LIMITS } from './limits';
import { checkJson } from './jsonValue';
import type { OrchestratorOptions } from './orchestratorOptions';
import { DEFAULT_AGING_MS } from './orchestratorOptions';

/** Names of pools and of executor kinds: they appear in settings, messages and metric labels. */
export const NAME_PATTERN = /^[A-Za-z][\w.-]{0,63}$/;

export interface SpecContext {
  /** BUILTIN_KINDS plus the registered executors' kinds. */
  kinds: ReadonlySet<string>;
  /** Pool capacities. */
  pools: Readonly<Record<string, number>>;
  taskExists: (id: string) => boolean;
}

declare const validSpecBrand: unique symbol;
/**
 * A TaskSpec that passed validateSpec: a fresh copy holding only known, checked fields, except `run`.
 * `run` is code, not data: it is checked (a function for kind `function`, absent otherwise) and left
 * with the caller's spec, so the copy is already what a record persists and needs no second copy.
 */
export type ValidSpec = PersistedSpec & { readonly [validSpecBrand]: true };

export interface WorkflowEntry {
  /** Position of the spec in the array given to validateWorkflow. */
  readonly index: number;
  readonly key: string;
  readonly spec: ValidSpec;
  /** Keys of the workflow's tasks this one waits for. */
  readonly dependsOnKeys: readonly string[];
  /** Positions in `ValidWorkflow.entries` of those tasks; each is lower than this entry's own. */
  readonly dependsOnIndexes: readonly number[];
  /** Ids of existing tasks (outside the workflow) this one waits for. */
  readonly dependsOnIds: readonly string[];
}

export interface ValidWorkflow {
  /** Topological order: every entry comes after all the workflow entries it depends on. */
  readonly entries: readonly WorkflowEntry[];
}

type Defaulted = 'concurrency' | 'resources' | 'executors' | 'agingMs';
export type ValidOrchestratorOptions = Required<Pick<OrchestratorOptions, Defaulted>> & Omit<OrchestratorOptions, Defaulted>;

const SPEC_FIELDS: readonly string[] = ['name', 'kind', 'command', 'cwd', 'env', 'run', 'payload', 'priority', 'dependsOn', 'resources', 'timeoutMs', 'retries', 'retryDelayMs', 'runAlways', 'key'];
const SPEC_FIELD_SET: ReadonlySet<string> = new Set(SPEC_FIELDS);
const OPTION_FIELDS: readonly string[] = ['concurrency', 'resources', 'store', 'executors', 'archive', 'clock', 'agingMs', 'maxFinished', 'defaultTimeoutMs', 'defaultRetries', 'killGraceMs', 'startPaused'];
const OPTION_FIELD_SET: ReadonlySet<string> = new Set(OPTION_FIELDS);

// ---------------------------------------------------------------------------------------------
// Small helpers

function fail(field: string, expected: string, value: unknown, after = ''): never {
  throw after ? new ValidationError(fieldError(field, expected, value).message + after, field) : fieldError(field, expected, value);
}

function quoteList(names: Iterable<string>, max = 12): string {
  const all = [...names];
  const shown = all.slice(0, max).map((n) => `\`${n}\``);
  return all.length > max ? `${shown.join(', ')} and ${all.length - max} more` : shown.join(', ');
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

/** Edit distance, for "did you mean" on misspelt field names. Inputs are short. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

function unknownField(prefix: string, name: string, allowed: readonly string[], what: string): never {
  let best: string | undefined;
  let bestD = 3;
  for (const a of allowed) {
    const d = distance(name, a);
    if (d < bestD) {
      best = a;
      bestD = d;
    }
  }
  const hint = best ? ` (did you mean \`${best}\`?)` : '';
  const field = join(prefix, name);
  throw new ValidationError(`Unknown field \`${field}\` in ${what}${hint}; allowed fields: ${quoteList(allowed, 99)}`, field);
}

/** A command or path reaches the OS as a C string, which a NUL would cut short. */
const NO_NUL = 'free of NUL characters (`\\0`): the operating system cannot pass one in a command or a path';

function checkString(field: string, value: unknown, maxLength: number, what = 'a non-empty string'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    fail(field, `${what} of at most ${maxLength} characters`, value);
  }
  return value;
}

function checkDelay(field: string, value: unknown, min: 'positive' | 'zero'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value > LIMITS.maxDelayMs || (min === 'positive' ? value <= 0 : value < 0)) {
    fail(field, min === 'positive' ? `a positive number of ms no greater than ${LIMITS.maxDelayMs}` : `a number of ms from 0 to ${LIMITS.maxDelayMs}`, value);
  }
  return value;
}

function checkInteger(field: string, value: unknown, min: number, max: number, what = 'an integer'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `${what} from ${min} to ${max}`, value);
  }
  return value;
}

function utf8Length(s: string): number {
  // Cheap bounds first: a UTF-16 unit is 1 to 3 UTF-8 bytes.
  return s.length * 3 <= LIMITS.commandBytes ? s.length : Buffer.byteLength(s, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Payload: JSON only

/**
 * The payload as JSON (model/jsonValue.ts: the rules a queue message obeys too), at most
 * LIMITS.payloadBytes of it. The copy is the spec's own: a caller mutating its object later cannot
 * change what runs or what is persisted.
 */
function checkPayload(field: string, payload: unknown): unknown {
  const copy = checkJson(payload, field);
  const json = JSON.stringify(copy) ?? '';
  const bytes = json.length * 3 <= LIMITS.payloadBytes ? json.length : Buffer.byteLength(json, 'utf8');
  if (bytes > LIMITS.payloadBytes) {
    throw new ValidationError(`Expected \`${field}\` to serialize to at most ${LIMITS.payloadBytes} bytes of JSON, got ${bytes} bytes`, field);
  }
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Specs

/**
 * Checks every field of a task spec and returns a fresh copy holding only the fields given.
 * Throws ValidationError naming the first offending field; changes nothing.
 */
export function validateSpec(spec: unknown, ctx: SpecContext): ValidSpec {
  return validateSpecAt(spec, ctx, '');
}

function validateSpecAt(spec: unknown, ctx: SpecContext, prefix: string): ValidSpec {
  if (!isPlainObject(spec)) {
    throw new ValidationError(`Expected ${prefix === '' ? 'the task spec' : `\`${prefix}\``} to be a plain object like \`{ name, kind, command }\`, got ${describeValue(spec)}`, prefix === '' ? undefined : prefix);
  }
  for (const k in spec) {
    if (!SPEC_FIELD_SET.has(k)) unknownField(prefix, k, SPEC_FIELDS, 'the task spec');
  }
  // `join(prefix, name)` is written out at each use: a closure for it was one more object per task.
  const name = checkString(join(prefix, 'name'), spec.name, LIMITS.nameLength);
  const kind = spec.kind;
  if (typeof kind !== 'string' || !ctx.kinds.has(kind)) {
    fail(join(prefix, 'kind'), `one of ${quoteList(ctx.kinds)} (registered executors add kinds)`, kind);
  }
  const out: PersistedSpec = { name, kind };

  if (kind === 'shell') {
    const command = spec.command;
    if (typeof command !== 'string' || command.trim().length === 0 || utf8Length(command) > LIMITS.commandBytes) {
      fail(join(prefix, 'command'), `a non-empty shell command of at most ${LIMITS.commandBytes} bytes (kind \`shell\` runs it)`, command);
    }
    if (spec.run !== undefined) fail(join(prefix, 'run'), 'absent for kind `shell`, which runs `command` (only kind `function` takes `run`)', spec.run);
  } else if (kind === 'function') {
    if (typeof spec.run !== 'function') fail(join(prefix, 'run'), 'a function `(ctx: { signal, attempt }) => unknown` (kind `function` calls it)', spec.run);
    if (spec.command !== undefined) fail(join(prefix, 'command'), 'absent for kind `function`, which calls `run` (only kind `shell` and registered kinds take `command`)', spec.command);
  } else if (spec.run !== undefined) {
    fail(join(prefix, 'run'), `absent for kind \`${kind}\`: only kind \`function\` takes \`run\` (a registered executor receives \`payload\`)`, spec.run);
  }
  if (spec.command !== undefined) {
    const command = spec.command;
    if (typeof command !== 'string' || command.length === 0 || utf8Length(command) > LIMITS.commandBytes) {
      fail(join(prefix, 'command'), `a non-empty string of at most ${LIMITS.commandBytes} bytes`, command);
    }
    if (command.includes('\0')) fail(join(prefix, 'command'), NO_NUL, command);
    out.command = command;
  }

  if (spec.cwd !== undefined) {
    out.cwd = checkString(join(prefix, 'cwd'), spec.cwd, LIMITS.cwdLength, 'a non-empty directory path');
    if (out.cwd.includes('\0')) fail(join(prefix, 'cwd'), NO_NUL, out.cwd);
  }

  if (spec.env !== undefined) {
    const env = spec.env;
    if (!isPlainObject(env)) fail(join(prefix, 'env'), 'a plain object of environment variable names to string values, like `{ NODE_ENV: "test" }`', env);
    const copy: Record<string, string> = {};
    let n = 0;
    for (const name in env) {
      if (++n > LIMITS.envEntries) {
        throw new ValidationError(`Expected \`${join(prefix, 'env')}\` to hold at most ${LIMITS.envEntries} variables, got more`, join(prefix, 'env'));
      }
      const v = env[name];
      if (name.length === 0 || name.includes('=') || name.includes('\0')) {
        throw new ValidationError(`Expected \`${join(prefix, 'env')}\` to have variable names that are non-empty and contain no \`=\` or NUL, got ${describeValue(name)}`, `${join(prefix, 'env')}.${name}`);
      }
      if (typeof v !== 'string' || v.includes('\0')) fail(`${join(prefix, 'env')}.${name}`, 'a string without NUL characters (environment values are strings)', v);
      copy[name] = v;
    }
    out.env = copy;
  }

  if (spec.payload !== undefined) out.payload = checkPayload(join(prefix, 'payload'), spec.payload);

  if (spec.priority !== undefined) {
    const p = spec.priority;
    if (typeof p !== 'number' || !Number.isFinite(p) || p < -LIMITS.priority || p > LIMITS.priority) {
      fail(join(prefix, 'priority'), `a finite number from -${LIMITS.priority} to ${LIMITS.priority} (higher runs first; default 0)`, p);
    }
    out.priority = p;
  }

  // The key is checked before dependsOn, which refuses a dependency on the task's own key.
  if (spec.key !== undefined) out.key = checkString(join(prefix, 'key'), spec.key, LIMITS.keyLength);

  if (spec.dependsOn !== undefined) out.dependsOn = checkDependsOn(join(prefix, 'dependsOn'), spec.dependsOn, out.key, ctx.taskExists);

  if (spec.resources !== undefined) out.resources = checkDemand(join(prefix, 'resources'), spec.resources, ctx.pools);

  if (spec.timeoutMs !== undefined) out.timeoutMs = checkDelay(join(prefix, 'timeoutMs'), spec.timeoutMs, 'positive');
  if (spec.retries !== undefined) out.retries = checkInteger(join(prefix, 'retries'), spec.retries, 0, LIMITS.retries, 'an integer number of extra attempts');
  if (spec.retryDelayMs !== undefined) out.retryDelayMs = checkDelay(join(prefix, 'retryDelayMs'), spec.retryDelayMs, 'zero');
  if (spec.runAlways !== undefined) {
    if (typeof spec.runAlways !== 'boolean') fail(join(prefix, 'runAlways'), 'a boolean (true: run once every dependency is final, whether it completed, failed or was cancelled)', spec.runAlways);
    out.runAlways = spec.runAlways;
  }

  return out as ValidSpec;
}

function checkDependsOn(field: string, deps: unknown, ownKey: string | undefined, exists: (id: string) => boolean): string[] {
  if (!Array.isArray(deps)) fail(field, 'an array of task ids (or keys inside a workflow)', deps);
  if (deps.length > LIMITS.dependsOn) {
    throw new ValidationError(`Expected \`${field}\` to hold at most ${LIMITS.dependsOn} dependencies, got ${deps.length}`, field);
  }
  const seen = deps.length > 8 ? new Set<string>() : undefined;
  const copy: string[] = [];
  for (let i = 0; i < deps.length; i++) {
    const d: unknown = deps[i];
    const at = `${field}[${i}]`;
    if (typeof d !== 'string' || d.length === 0) fail(at, 'a non-empty string: the id of a task (or a key inside a workflow)', d);
    // Short lists: a linear scan beats building a Set.
    const dup = seen ? seen.has(d) : copy.includes(d);
    if (dup) fail(at, 'unique: each dependency is listed once', d);
    seen?.add(d);
    if (ownKey !== undefined && d === ownKey) fail(at, 'another task: a task cannot depend on itself', d);
    if (!exists(d)) fail(at, 'the id of an existing task (or the key of a task in the same workflow)', d);
    copy.push(d);
  }
  return copy;
}

function checkDemand(field: string, demand: unknown, pools: Readonly<Record<string, number>>): Record<string, number> {
  if (!isPlainObject(demand)) fail(field, 'a plain object of pool names to units, like `{ gpu: 1 }`', demand);
  const copy: Record<string, number> = {};
  for (const pool in demand) {
    const units = demand[pool];
    const at = `${field}.${pool}`;
    const capacity = Object.prototype.hasOwnProperty.call(pools, pool) ? pools[pool] : undefined;
    if (capacity === undefined) {
      const names = Object.keys(pools);
      const allowed = names.length > 0 ? `one of the configured pools (${quoteList(names)})` : 'a configured pool, and none are (set them with the `resources` option or the `orchestrator.resources` setting)';
      throw new ValidationError(`Expected \`${at}\` to name ${allowed}, got unknown pool ${describeValue(pool)}`, at);
    }
    if (typeof units !== 'number' || !Number.isInteger(units) || units <= 0) fail(at, `a positive integer number of units (pool \`${pool}\` holds ${capacity})`, units);
    if (units > capacity) {
      fail(at, `at most ${capacity}, the capacity of pool \`${pool}\``, units, `: the task needs ${units} of \`${pool}\` but the pool holds ${capacity}, so it could never run`);
    }
    copy[pool] = units;
  }
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Workflows

/**
 * Validates a workflow as a whole: every spec, unique keys, dependencies that resolve to a key of
 * the workflow or an existing task id (a key wins when both match), and no cycle. Returns the
 * entries in topological order. Field paths are prefixed with the spec's index: `[2].dependsOn[0]`.
 */
export function validateWorkflow(specs: unknown, ctx: SpecContext): ValidWorkflow {
  if (!Array.isArray(specs) || specs.length === 0 || specs.length > LIMITS.workflowSpecs) {
    const got = Array.isArray(specs) ? `an array of ${specs.length} specs` : describeValue(specs);
    throw new ValidationError(`Expected the workflow to be a non-empty array of at most ${LIMITS.workflowSpecs} task specs, got ${got}`);
  }
  const n = specs.length;
  const keyIndex = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const s: unknown = specs[i];
    if (!isPlainObject(s)) fail(`[${i}]`, 'a plain object like `{ key, name, kind, command }`', s);
    const key = s.key;
    if (typeof key !== 'string' || key.length === 0 || key.length > LIMITS.keyLength) {
      fail(`[${i}].key`, `a non-empty string of at most ${LIMITS.keyLength} characters (every workflow task needs a unique key that others name in \`dependsOn\`)`, key);
    }
    const prev = keyIndex.get(key);
    if (prev !== undefined) fail(`[${i}].key`, `unique in the workflow (\`[${prev}]\` already has it)`, key);
    keyIndex.set(key, i);
  }

  const inner: SpecContext = { kinds: ctx.kinds, pools: ctx.pools, taskExists: (id) => keyIndex.has(id) || ctx.taskExists(id) };
  const valid: ValidSpec[] = new Array<ValidSpec>(n);
  for (let i = 0; i < n; i++) valid[i] = validateSpecAt(specs[i], inner, `[${i}]`);

  // Kahn's algorithm over in-workflow edges, seeded in input order so independent tasks keep it.
  const indegree = new Int32Array(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  const innerDeps: number[][] = new Array<number[]>(n);
  for (let i = 0; i < n; i++) {
    const list: number[] = [];
    for (const d of valid[i].dependsOn ?? []) {
      const j = keyIndex.get(d);
      if (j !== undefined) {
        list.push(j);
        dependents[j].push(i);
        indegree[i]++;
      }
    }
    innerDeps[i] = list;
  }
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (indegree[i] === 0) order.push(i);
  for (let head = 0; head < order.length; head++) {
    for (const k of dependents[order[head]]) if (--indegree[k] === 0) order.push(k);
  }
  if (order.length < n) {
    const adjacency = new Map<string, string[]>();
    for (let i = 0; i < n; i++) {
      if (indegree[i] > 0) adjacency.set(valid[i].key as string, innerDeps[i].filter((j) => indegree[j] > 0).map((j) => valid[j].key as string));
    }
    const cycle = findCycle(adjacency) ?? [...adjacency.keys()];
    const first = keyIndex.get(cycle[0]) ?? 0;
    // A long cycle is shown by its ends, so the message stays readable in a notification.
    const shown = cycle.length <= 21 ? cycle : [...cycle.slice(0, 10), `(${cycle.length - 20} more)`, ...cycle.slice(-10)];
    throw new ValidationError(
      `Workflow has a cycle: ${shown.join(' -> ')}; \`dependsOn\` must form a DAG (no task may wait, directly or through others, for itself)`,
      `[${first}].dependsOn`,
    );
  }

  const position = new Int32Array(n);
  order.forEach((i, p) => (position[i] = p));
  const entries: WorkflowEntry[] = order.map((i) => {
    const spec = valid[i];
    const dependsOnKeys: string[] = [];
    const dependsOnIds: string[] = [];
    for (const d of spec.dependsOn ?? []) (keyIndex.has(d) ? dependsOnKeys : dependsOnIds).push(d);
    return { index: i, key: spec.key as string, spec, dependsOnKeys, dependsOnIndexes: innerDeps[i].map((j) => position[j]), dependsOnIds };
  });
  return { entries };
}

// ---------------------------------------------------------------------------------------------
// Orchestrator options

/** Pool capacities, from options or settings: names match NAME_PATTERN, capacities are positive integers. */
export function validateResourceCapacities(value: unknown, field = 'resources'): Record<string, number> {
  if (!isPlainObject(value)) fail(field, 'a plain object of pool names to capacities, like `{ gpu: 1, network: 4 }`', value);
  const copy: Record<string, number> = {};
  for (const name in value) {
    if (!NAME_PATTERN.test(name)) {
      throw new ValidationError(`Expected \`${field}\` to have pool names of a letter then up to 63 letters, digits, \`_\`, \`.\` or \`-\`, got ${describeValue(name)}`, `${field}.${name}`);
    }
    copy[name] = checkInteger(`${field}.${name}`, value[name], 1, LIMITS.poolCapacity, 'an integer capacity');
  }
  return copy;
}

function checkFunctions(field: string, value: unknown, methods: readonly string[], shape: string): void {
  if (typeof value !== 'object' || value === null || methods.some((m) => typeof (value as Record<string, unknown>)[m] !== 'function')) {
    fail(field, `${shape} (an object with ${quoteList(methods.map((m) => `${m}()`))})`, value);
  }
}

/** `concurrency`, from createOrchestrator's options or setConcurrency: tasks running at once. */
export function checkConcurrency(value: unknown): number {
  return checkInteger('concurrency', value, 1, LIMITS.concurrency, 'an integer number of tasks');
}

/** `maxFinished`, from createOrchestrator's options or setMaxFinished: finished records kept. */
export function checkMaxFinished(value: unknown): number {
  return checkInteger('maxFinished', value, 0, LIMITS.maxFinished, 'an integer number of records');
}

export function defaultConcurrency(): number {
  // availableParallelism honours CPU affinity and cgroup limits; cpus() can be empty on some platforms.
  const n = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  return n > 0 ? n : 1;
}

/** Checks the options of createOrchestrator and fills in defaults. Unknown options are refused. */
export function validateOrchestratorOptions(options: unknown): ValidOrchestratorOptions {
  if (options === undefined) options = {};
  if (!isPlainObject(options)) fail('options', 'a plain object of orchestrator options', options);
  for (const k in options) if (!OPTION_FIELD_SET.has(k)) unknownField('', k, OPTION_FIELDS, 'the orchestrator options');
  const o = options;
  const out: ValidOrchestratorOptions = {
    concurrency: o.concurrency === undefined ? defaultConcurrency() : checkConcurrency(o.concurrency),
    resources: o.resources === undefined ? {} : validateResourceCapacities(o.resources),
    executors: {},
    agingMs: DEFAULT_AGING_MS,
  };
  if (o.agingMs !== undefined) {
    const a = o.agingMs;
    if (typeof a !== 'number' || Number.isNaN(a) || a <= 0) fail('agingMs', 'a positive number of ms (waiting that long counts as one priority level), or Infinity to disable aging', a);
    out.agingMs = a;
  }
  if (o.executors !== undefined) {
    if (!isPlainObject(o.executors)) fail('executors', 'a plain object of kind names to executors, like `{ docker: { execute(ctx) {...} } }`', o.executors);
    for (const kind in o.executors) {
      if (!NAME_PATTERN.test(kind)) {
        throw new ValidationError(`Expected \`executors\` to have kind names of a letter then up to 63 letters, digits, \`_\`, \`.\` or \`-\`, got ${describeValue(kind)}`, `executors.${kind}`);
      }
      checkFunctions(`executors.${kind}`, o.executors[kind], ['execute'], 'an executor');
      out.executors[kind] = o.executors[kind] as ValidOrchestratorOptions['executors'][string];
    }
  }
  if (o.store !== undefined) {
    checkFunctions('store', o.store, ['keys', 'get', 'update'], 'a Store shaped like vscode.Memento');
    out.store = o.store as ValidOrchestratorOptions['store'];
  }
  if (o.archive !== undefined) {
    checkFunctions('archive', o.archive, ['append'], 'a HistoryArchive');
    out.archive = o.archive as ValidOrchestratorOptions['archive'];
  }
  if (o.clock !== undefined) {
    checkFunctions('clock', o.clock, ['now', 'setTimeout', 'clearTimeout'], 'a Clock');
    out.clock = o.clock as ValidOrchestratorOptions['clock'];
  }
  if (o.startPaused !== undefined) {
    if (typeof o.startPaused !== 'boolean') fail('startPaused', 'a boolean', o.startPaused);
    out.startPaused = o.startPaused;
  }
  if (o.maxFinished !== undefined) out.maxFinished = checkMaxFinished(o.maxFinished);
  if (o.defaultTimeoutMs !== undefined) out.defaultTimeoutMs = checkDelay('defaultTimeoutMs', o.defaultTimeoutMs, 'positive');
  if (o.defaultRetries !== undefined) out.defaultRetries = checkInteger('defaultRetries', o.defaultRetries, 0, LIMITS.retries, 'an integer number of extra attempts');
  if (o.killGraceMs !== undefined) out.killGraceMs = checkDelay('killGraceMs', o.killGraceMs, 'zero');
  return out;
}
