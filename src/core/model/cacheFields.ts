// The check of a spec's `cache` field: one place, read by validateSpec for every caller (the API, the
// workflow file, a restored snapshot). A cache reads inputs and writes outputs under the task's cwd
// (or the workspace folder), so a glob that is absolute or climbs out with `..` is refused here
// (cacheGlobs.ts's check, the one the store applies), before anything is hashed or restored. Each refusal names the field, what it held and what is
// allowed; nothing here has a side effect.
import { isPlainObject } from './guards';
import { LIMITS } from './limits';
import type { CacheSpec } from './model';
import { fail, join, unknownField } from './fieldChecks';
import { checkCacheGlob } from '../cache/cacheGlobs';

const CACHE_FIELDS: readonly string[] = ['inputs', 'outputs', 'env'];
const CACHE_SHAPE = '`{ inputs: ["src/**"], outputs?: ["dist/**"], env?: ["NODE_ENV"] }`';
/** An environment variable name as a shell exports it. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkList(field: string, value: unknown, what: string, item: (at: string, v: unknown) => string): string[] {
  if (!Array.isArray(value) || value.length === 0) fail(field, `a non-empty array of ${what}`, value);
  if (value.length > LIMITS.cacheEntries) fail(field, `an array of at most ${LIMITS.cacheEntries} ${what}`, value);
  return value.map((v, i) => item(`${field}[${i}]`, v));
}

/** A checked copy of `cache`; throws ValidationError naming the first offending field. */
export function checkCacheSpec(field: string, value: unknown): CacheSpec {
  if (!isPlainObject(value)) fail(field, `a plain object like ${CACHE_SHAPE}`, value);
  for (const k in value) if (!CACHE_FIELDS.includes(k)) unknownField(field, k, CACHE_FIELDS, `\`${field}\``);
  if (value.inputs === undefined) fail(join(field, 'inputs'), 'a non-empty array of globs (the files whose content is part of the key)', value.inputs);
  const out: CacheSpec = { inputs: checkList(join(field, 'inputs'), value.inputs, 'globs', checkCacheGlob) };
  if (value.outputs !== undefined) out.outputs = checkList(join(field, 'outputs'), value.outputs, 'globs', checkCacheGlob);
  if (value.env !== undefined) {
    out.env = checkList(join(field, 'env'), value.env, 'environment variable names', (at, v) => {
      if (typeof v !== 'string' || !ENV_NAME.test(v)) fail(at, 'an environment variable name (letters, digits and `_`, not starting with a digit)', v);
      return v;
    });
  }
  return out;
}
