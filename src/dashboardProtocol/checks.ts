// The dashboard protocol's limits and its value guards: what every section check (sectionChecks.ts)
// and message parser (protocol.ts) builds on. Each guard is a type guard over `unknown` that trusts
// nothing it has not checked; every number it accepts is finite and every size is bounded.
import { isObjectLike } from '../core/model/guards';

export const MAX_SERIES_LENGTH = 3600;
export const MAX_KEYS = 256;
export const MAX_FAILURES = 50;
export const MAX_TEXT = 2000;
export const MAX_ID = 200;
export const MAX_WORKERS = 200;
export const MAX_QUEUES = 256;
/** The most service rows a message may carry (the host sends Ready ones first). */
export const MAX_SERVICES = 50;
export const MAX_WAITS_FOR = 500;
/** The most bars a timeline may carry (the host keeps the first by ready time and counts the rest). */
export const MAX_TIMELINE_BARS = 200;
/** The most runs the timeline's picker offers. */
export const MAX_TIMELINE_RUNS = 10;
/** The most waiting/running segments of one bar (a task retried many times keeps its latest). */
export const MAX_BAR_SEGMENTS = 20;

export type Obj = Record<string, unknown>;

export function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export function isCount(v: unknown): v is number {
  return isNum(v) && v >= 0;
}

export function isInt(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

export function isText(v: unknown, max = MAX_TEXT): v is string {
  return typeof v === 'string' && v.length <= max;
}

export function isNumArray(v: unknown, max = MAX_SERIES_LENGTH): v is number[] {
  return Array.isArray(v) && v.length <= max && v.every(isNum);
}

export function isNullableNumArray(v: unknown): v is (number | null)[] {
  return Array.isArray(v) && v.length <= MAX_SERIES_LENGTH && v.every((x) => x === null || isNum(x));
}

export function isRecordOf<T>(v: unknown, item: (x: unknown) => x is T): v is Record<string, T> {
  if (!isObjectLike(v)) return false;
  const keys = Object.keys(v);
  return keys.length <= MAX_KEYS && keys.every((k) => k.length <= MAX_ID && item(v[k]));
}

export function hasNums(v: Obj, keys: readonly string[], guard: (x: unknown) => boolean = isCount): boolean {
  return keys.every((k) => guard(v[k]));
}
