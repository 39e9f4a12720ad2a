// The gate every task spec passes before anything is created: a spec arrives as `unknown` (from a
// palette, a workflow file, another extension, the CLI) and leaves as a checked copy, or as a
// `ValidationError` naming the field, what it held and what is allowed. A refused spec changes
// nothing: these functions have no side effects.
// validateSpec runs once per scheduled task, so its success path allocates only the copy it returns.
import { describeValue, ValidationError } from './errors';
import { isPlainObject } from './guards';
import type { PersistedSpec } from './model';
import { LIMITS } from './limits';
import { checkJson } from './jsonValue';
import { checkDelay, checkInteger, checkString, fail, join, quoteList, unknownField } from './fieldChecks';
import { checkServiceFields } from './serviceFields';
import { checkCacheSpec } from './cacheFields';

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

const SPEC_FIELDS: readonly string[] = [
  'name',
  'kind',
  'command',
  'cwd',
  'env',
  'run',
  'payload',
  'priority',
  'dependsOn',
  'resources',
  'timeoutMs',
  'retries',
  'retryDelayMs',
  'runAlways',
  'continueOnError',
  'readyWhen',
  'readyTimeoutMs',
  'stopWhen',
  'restart',
  'shared',
  'key',
  'cache',
];
const SPEC_FIELD_SET: ReadonlySet<string> = new Set(SPEC_FIELDS);

/** A command or path reaches the OS as a C string, which a NUL would cut short. */
const NO_NUL = 'free of NUL characters (`\\0`): the operating system cannot pass one in a command or a path';

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

/** validateSpec with field paths under `prefix` (a workflow gives `[i]`). */
export function validateSpecAt(spec: unknown, ctx: SpecContext, prefix: string): ValidSpec {
  if (!isPlainObject(spec)) {
    throw new ValidationError(
      `Expected ${prefix === '' ? 'the task spec' : `\`${prefix}\``} to be a plain object like \`{ name, kind, command }\`, got ${describeValue(spec)}`,
      prefix === '' ? undefined : prefix,
    );
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
    if (spec.command !== undefined)
      fail(join(prefix, 'command'), 'absent for kind `function`, which calls `run` (only kind `shell` and registered kinds take `command`)', spec.command);
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
        throw new ValidationError(
          `Expected \`${join(prefix, 'env')}\` to have variable names that are non-empty and contain no \`=\` or NUL, got ${describeValue(name)}`,
          `${join(prefix, 'env')}.${name}`,
        );
      }
      if (typeof v !== 'string' || v.includes('\0'))
        fail(`${join(prefix, 'env')}.${name}`, 'a string without NUL characters (environment values are strings)', v);
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
    if (typeof spec.runAlways !== 'boolean')
      fail(join(prefix, 'runAlways'), 'a boolean (true: run once every dependency is final, whether it completed, failed or was cancelled)', spec.runAlways);
    out.runAlways = spec.runAlways;
  }
  if (spec.continueOnError !== undefined) {
    if (typeof spec.continueOnError !== 'boolean')
      fail(join(prefix, 'continueOnError'), 'a boolean (true: its failure does not cancel its dependents; they run)', spec.continueOnError);
    out.continueOnError = spec.continueOnError;
  }
  checkServiceFields(spec, prefix, out);
  if (spec.cache !== undefined) {
    if (kind === 'function') fail(join(prefix, 'cache'), 'absent for kind `function`: its code is not data, so no key can tell two versions apart', spec.cache);
    if (out.readyWhen !== undefined)
      fail(join(prefix, 'cache'), 'absent when `readyWhen` is set: a service runs until it is stopped, so it has no result to restore', spec.cache);
    out.cache = checkCacheSpec(join(prefix, 'cache'), spec.cache);
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
      const allowed =
        names.length > 0
          ? `one of the configured pools (${quoteList(names)})`
          : 'a configured pool, and none are (set them with the `resources` option or the `orchestrator.resources` setting)';
      throw new ValidationError(`Expected \`${at}\` to name ${allowed}, got unknown pool ${describeValue(pool)}`, at);
    }
    if (typeof units !== 'number' || !Number.isInteger(units) || units <= 0)
      fail(at, `a positive integer number of units (pool \`${pool}\` holds ${capacity})`, units);
    if (units > capacity) {
      fail(
        at,
        `at most ${capacity}, the capacity of pool \`${pool}\``,
        units,
        `: the task needs ${units} of \`${pool}\` but the pool holds ${capacity}, so it could never run`,
      );
    }
    copy[pool] = units;
  }
  return copy;
}
