// The defaults a task spec takes when it leaves timeoutMs or retries unset: the one rule. The core
// applies its options' defaults with it; the extension hands its settings to it, so a spec from the
// palette, a workflow file or the API gets the same defaults by the same rule.

/** Defaults for unset spec fields. Absent or 0 means none: no timeout, no extra attempts. */
export interface SpecDefaults {
  timeoutMs?: number;
  retries?: number;
}

/**
 * `spec` with an unset `timeoutMs` (not for a `readyWhen` service) or `retries` filled from `defaults` (a default of 0 or absent
 * fills nothing). A field the spec sets, 0 included, is kept. Returns `spec` itself when there is
 * nothing to fill, else a shallow copy: the caller's object is never changed.
 */
export function applySpecDefaults<T extends { timeoutMs?: unknown; retries?: unknown; readyWhen?: unknown }>(spec: T, defaults: SpecDefaults): T {
  // A service (readyWhen) runs until it is stopped: a default per-attempt timeout would kill it. Its own timeoutMs still applies.
  const timeoutMs =
    spec.timeoutMs === undefined && spec.readyWhen === undefined && defaults.timeoutMs !== undefined && defaults.timeoutMs > 0 ? defaults.timeoutMs : undefined;
  const retries = spec.retries === undefined && defaults.retries !== undefined && defaults.retries > 0 ? defaults.retries : undefined;
  if (timeoutMs === undefined && retries === undefined) return spec;
  const out = { ...spec };
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  if (retries !== undefined) out.retries = retries;
  return out;
}
