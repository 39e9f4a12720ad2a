// Field checkers for untrusted snapshots (the state's and the message queue's, read back from a
// store, a file or an older version). Each takes a value and its field path (`tasks[3].status`),
// returns the value typed, or throws a ValidationError whose `field` is that path and whose message
// says what was there and what is allowed: "Expected `tasks[3].status` to be one of ..., got `"x"` (string)".
// Each snapshot keeps its own shape in its own validator; only the vocabulary is shared here.
import { fieldError } from './errors';
import { isObjectLike } from './guards';

/** `field[index]`, the path of an array item. */
export function itemPath(field: string, index: number): string {
  return `${field}[${index}]`;
}

/** An object that is not null and not an array. */
export function objectAt(v: unknown, field: string, want = 'an object'): Record<string, unknown> {
  if (!isObjectLike(v)) throw fieldError(field, want, v);
  return v;
}

export function optionalObjectAt(v: unknown, field: string, want = 'an object'): Record<string, unknown> | undefined {
  return v === undefined ? undefined : objectAt(v, field, want);
}

export function arrayAt(v: unknown, field: string, want = 'an array'): unknown[] {
  if (!Array.isArray(v)) throw fieldError(field, want, v);
  return v;
}

/** An array of strings. */
export function stringArrayAt(v: unknown, field: string, want = 'an array of strings'): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw fieldError(field, want, v);
  return v as string[];
}

export function finiteNumberAt(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw fieldError(field, 'a finite number', v);
  return v;
}

export function optionalFiniteNumberAt(v: unknown, field: string): number | undefined {
  return v === undefined ? undefined : finiteNumberAt(v, field);
}

/** A non-negative integer: a counter. */
export function countAt(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw fieldError(field, 'a non-negative integer', v);
  return v;
}

/** A non-empty string of at most `maxLength` characters (the bound is not named in the message). */
export function nonEmptyStringAt(v: unknown, field: string, maxLength = Infinity): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > maxLength) throw fieldError(field, 'a non-empty string', v);
  return v;
}

export function optionalBooleanAt(v: unknown, field: string): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean') throw fieldError(field, 'a boolean', v);
  return v;
}

/** Exactly `version`: a snapshot of another version must be migrated before it is checked. */
export function versionAt<V extends number>(v: unknown, field: string, version: V): V {
  if (v !== version) throw fieldError(field, String(version), v);
  return version;
}

/** One of `allowed`; the message lists them unless `want` says it otherwise. */
export function oneOfAt<T>(v: unknown, field: string, allowed: readonly T[], want = `one of ${allowed.join(', ')}`): T {
  if (!(allowed as readonly unknown[]).includes(v)) throw fieldError(field, want, v);
  return v as T;
}

/** Adds `key` to `seen`, refusing one already there (ids, names that must be unique). */
export function uniqueAt(seen: Set<string>, key: string, field: string, want = 'unique'): void {
  if (seen.has(key)) throw fieldError(field, want, key);
  seen.add(key);
}
