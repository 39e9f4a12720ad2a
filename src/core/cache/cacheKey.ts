// The cache key of a task: the sha256 (hex) of one canonical encoding of everything its result
// depends on.
//
// Invariants:
//  - Every part is in the key: the kind, the command, the payload (e.g. a VS Code task's definition),
//    the cwd, each named environment variable's value (an unset variable is distinct from an empty
//    one, and from a name not asked for), each input file's path and content hash, and the keys of
//    the tasks it depends on. A change to any of them changes the key.
//  - Order carries no meaning where the parts are sets: files are sorted by path, environment
//    variables by name, dependency keys by value, and the payload's object keys are sorted, so the
//    same inputs always give the same key whatever order they were gathered in.
//  - The encoding is JSON of a fixed-shape array led by KEY_FORMAT: a change of the encoding bumps
//    KEY_FORMAT, so no old key can ever equal a new one for different content.
import { createHash } from 'node:crypto';

/** Leads every encoded key; bump on any change to the encoding below. */
export const KEY_FORMAT = 'orchestrator-cache-key/1';

export interface CacheKeyParts {
  kind: string;
  command?: string;
  /** Anything JSON-shaped that defines what runs (a VS Code task's definition); object keys are sorted. */
  payload?: unknown;
  cwd?: string;
  /** The named variables' values; undefined for one that is unset. */
  env: Record<string, string | undefined>;
  /** [path relative to the root, sha256 of the content]. */
  files: [string, string][];
  dependencyKeys: string[];
}

const byFirst = (a: readonly [string, unknown], b: readonly [string, unknown]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * `value` with every object's keys sorted, as JSON would keep it (undefined and functions dropped
 * from objects, null in arrays). Throws a TypeError on a cycle, as JSON.stringify does.
 */
function canonical(value: unknown, seen: Set<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) throw new TypeError('Expected the cache key payload to be free of cycles');
  seen.add(value);
  const toJson = (value as { toJSON?: unknown }).toJSON;
  let out: unknown;
  if (typeof toJson === 'function') out = canonical((toJson as () => unknown).call(value), seen);
  else if (Array.isArray(value)) out = value.map((v) => canonical(v, seen));
  else {
    const sorted: [string, unknown][] = Object.entries(value).sort(byFirst);
    out = Object.fromEntries(sorted.map(([k, v]) => [k, canonical(v, seen)]));
  }
  seen.delete(value);
  return out;
}

/** The canonical encoding hashed by cacheKey; exported for tests and diagnostics. */
export function encodeCacheKey(parts: CacheKeyParts): string {
  const env = Object.entries(parts.env)
    .map(([name, v]): [string, string | null] => [name, v ?? null])
    .sort(byFirst);
  const files = parts.files.map(([p, h]): [string, string] => [p, h]).sort((a, b) => byFirst(a, b) || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const dependencyKeys = [...parts.dependencyKeys].sort();
  const payload = parts.payload === undefined ? null : (canonical(parts.payload, new Set()) ?? null);
  return JSON.stringify([KEY_FORMAT, parts.kind, parts.command ?? null, payload, parts.cwd ?? null, env, files, dependencyKeys]);
}

/** The key: sha256 hex of encodeCacheKey(parts). */
export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256').update(encodeCacheKey(parts)).digest('hex');
}
