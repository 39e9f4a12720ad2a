// The type guards every layer uses on `unknown` input (settings, command arguments, messages from
// the webview, parsed files). Imports nothing, so the webview and the protocol may use them too.

/**
 * An object that is neither null nor an array, to read fields from: a parsed JSON object, a command
 * argument, a tree row. Class instances pass; use isPlainObject where only data may pass.
 */
export function isObjectLike(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object literal, JSON.parse's output or Object.create(null): data, not a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
