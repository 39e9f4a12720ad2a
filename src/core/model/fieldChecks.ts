// The vocabulary the core's input checks share: one refusal shape (a ValidationError naming the
// field, what it held and what is allowed, in p-queue's style: "Expected `timeoutMs` to be a positive
// number ..., got `-5` (number)"), the "did you mean" for misspelt fields, and the checks of strings,
// delays and integers that specs, workflows and orchestrator options all make. No side effects.
import { fieldError, ValidationError } from './errors';
import { LIMITS } from './limits';

/** Names of pools and of executor kinds: they appear in settings, messages and metric labels. */
export const NAME_PATTERN = /^[A-Za-z][\w.-]{0,63}$/;

export function fail(field: string, expected: string, value: unknown, after = ''): never {
  throw after ? new ValidationError(fieldError(field, expected, value).message + after, field) : fieldError(field, expected, value);
}

export function quoteList(names: Iterable<string>, max = 12): string {
  const all = [...names];
  const shown = all.slice(0, max).map((n) => `\`${n}\``);
  return all.length > max ? `${shown.join(', ')} and ${all.length - max} more` : shown.join(', ');
}

export function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

/**
 * Edit distance, for "did you mean" on misspelt field names. Inputs are short. `prev` holds
 * b.length + 1 entries and i, j stay inside a, b and prev, so every read is of a filled slot.
 */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The candidate closest to `name` (edit distance under 3, case-insensitive), for "did you mean". */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const a of candidates) {
    const d = distance(name, a);
    if (d < bestD) {
      best = a;
      bestD = d;
    }
  }
  return best;
}

export function unknownField(prefix: string, name: string, allowed: readonly string[], what: string): never {
  const best = nearest(name, allowed);
  const hint = best ? ` (did you mean \`${best}\`?)` : '';
  const field = join(prefix, name);
  throw new ValidationError(`Unknown field \`${field}\` in ${what}${hint}; allowed fields: ${quoteList(allowed, 99)}`, field);
}

export function checkString(field: string, value: unknown, maxLength: number, what = 'a non-empty string'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    fail(field, `${what} of at most ${maxLength} characters`, value);
  }
  return value;
}

export function checkDelay(field: string, value: unknown, min: 'positive' | 'zero'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value > LIMITS.maxDelayMs || (min === 'positive' ? value <= 0 : value < 0)) {
    fail(field, min === 'positive' ? `a positive number of ms no greater than ${LIMITS.maxDelayMs}` : `a number of ms from 0 to ${LIMITS.maxDelayMs}`, value);
  }
  return value;
}

export function checkInteger(field: string, value: unknown, min: number, max: number, what = 'an integer'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `${what} from ${min} to ${max}`, value);
  }
  return value;
}
