// The one JSON check: a task's payload and a queue message's payload are copied here, as
// JSON.stringify/parse would make them, in one walk. A value that JSON cannot hold, or would silently
// change, is refused with the path to the culprit, so what was accepted can always be persisted,
// delivered and restored. The copy is the caller's own: nothing done to the input afterwards reaches it.
import { errorMessage, ValidationError } from './errors';
import { LIMITS } from './limits';

const MAX_JSON_DEPTH = LIMITS.payloadDepth;

/** Why a value is not JSON, and where; thrown by the copy and turned into a ValidationError. */
class NotJson {
  constructor(
    public path: string,
    readonly what: string,
  ) {}
}

const WANT_JSON = `plain objects, arrays, strings, finite numbers, booleans and null (or objects whose \`toJSON\` returns those), nested at most ${MAX_JSON_DEPTH} levels, without cycles`;

/**
 * `value` as JSON (see jsonCopy), or a ValidationError naming `field` and the path to what is not
 * JSON. `freeze`: deep-freeze the copy (the queue shares one copy between its subscribers).
 */
export function checkJson(value: unknown, field: string, freeze = false): unknown {
  try {
    return freeze ? frozenJsonCopy(value) : jsonCopy(value);
  } catch (err) {
    throw payloadError(err, field);
  }
}

export function payloadError(err: unknown, field: string): ValidationError {
  const p = err instanceof NotJson ? err : new NotJson('', `unreadable (${errorMessage(err)})`);
  const where = p.path ? `\`${field}${p.path}\`` : 'it';
  return new ValidationError(`Expected \`${field}\` to be JSON-serialisable, but ${where} is ${p.what}; allowed are ${WANT_JSON}`, `${field}${p.path}`);
}

/**
 * A deep-frozen copy of `value` as JSON.stringify/parse would make it (`toJSON` applied, undefined
 * properties omitted), built in one walk; throws NotJson, with the path to the culprit, for what
 * JSON cannot hold or would silently change (functions, symbols, bigints, non-finite numbers,
 * undefined in arrays, class instances without `toJSON`, cycles, nesting deeper than
 * MAX_JSON_DEPTH) and for what a getter, proxy or `toJSON` throws. The copy is the caller's own:
 * nothing done to the input afterwards can make it unserialisable.
 */
export function frozenJsonCopy(value: unknown): unknown {
  return walk(value, true);
}

/** frozenJsonCopy without the freezing. */
export function jsonCopy(value: unknown): unknown {
  return walk(value, false);
}

function walk(value: unknown, freeze: boolean): unknown {
  try {
    return copyValue(value, '', 0, freeze);
  } finally {
    ancestors.length = 0;
  }
}

/** The objects being copied, outermost first: one met again below itself is a cycle. */
const ancestors: object[] = [];

function copyValue(value: unknown, key: string | number, depth: number, freeze: boolean): unknown {
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // JSON.stringify calls toJSON once, on the value itself; what it returns is then taken as is.
    value = (value as { toJSON: (key: string) => unknown }).toJSON(String(key));
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      throw new NotJson('', `a non-finite number (${value})`);
    case 'object': {
      if (value === null) return null;
      // Depth bounds the search: at most MAX_JSON_DEPTH ancestors, usually two or three.
      if (ancestors.lastIndexOf(value, depth - 1) >= 0) throw new NotJson('', 'a cycle (it contains itself)');
      if (depth >= MAX_JSON_DEPTH) throw new NotJson('', `nested deeper than ${MAX_JSON_DEPTH} levels`);
      ancestors[depth] = value;
      if (Array.isArray(value)) {
        const out: unknown[] = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = childCopy(value, i, depth, freeze);
          if (item === undefined) throw new NotJson(`[${i}]`, 'undefined inside an array');
          out[i] = item;
        }
        return freeze ? Object.freeze(out) : out;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        const ctor = (proto as { constructor?: { name?: unknown } }).constructor?.name;
        throw new NotJson('', `an instance of ${typeof ctor === 'string' && ctor ? ctor : 'a class'}`);
      }
      const obj = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(obj)) {
        const v = childCopy(obj, k, depth, freeze);
        if (v === undefined) continue;
        // An own `__proto__` (as JSON.parse makes it), not the prototype.
        if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
        else out[k] = v;
      }
      return freeze ? Object.freeze(out) : out;
    }
    default:
      throw new NotJson('', `a ${typeof value}`);
  }
}

/** Copies `parent[key]`, prefixing its step to the path of whatever goes wrong below it. */
function childCopy(parent: object, key: string | number, depth: number, freeze: boolean): unknown {
  try {
    return copyValue((parent as Record<string | number, unknown>)[key], key, depth + 1, freeze);
  } catch (err) {
    // The path is built only on failure: a string per property was most of a copy's cost.
    const step = typeof key === 'number' ? `[${key}]` : `.${key}`;
    if (err instanceof NotJson) {
      err.path = step + err.path;
      throw err;
    }
    throw new NotJson(step, `unreadable (${errorMessage(err)})`);
  }
}
