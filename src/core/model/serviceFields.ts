// The checks of a spec's service fields (readyWhen, readyTimeoutMs, stopWhen, restart, shared): one
// place, read by validateSpec for every caller (the API, the workflow file, a restored snapshot).
// Each refusal names the field, what it held and what is allowed; nothing here has a side effect.
import { describeValue, ValidationError } from './errors';
import { isPlainObject } from './guards';
import { LIMITS } from './limits';
import { RESTART_VALUES, STOP_WHEN_VALUES, type PersistedSpec, type ReadyWhen } from './model';
import { checkDelay, checkString, fail, join, quoteList, unknownField } from './fieldChecks';

const READY_WHEN_SHAPES = '`{ output: "regex" }`, `{ port: 3000, host?: "127.0.0.1" }` or `{ http: "http://127.0.0.1:3000/health" }`';
const READY_WHEN_KINDS = ['output', 'port', 'http'] as const;

/** The longest `readyWhen.output` pattern, `readyWhen.http` URL or `readyWhen.host`. */
const READY_WHEN_TEXT_LENGTH = 2048;

/** A checked copy of `readyWhen`: exactly one of output (a regex that compiles), port (and host) or http (an http(s) URL). */
export function checkReadyWhen(field: string, value: unknown): ReadyWhen {
  if (!isPlainObject(value)) fail(field, `exactly one of ${READY_WHEN_SHAPES}`, value);
  const given = READY_WHEN_KINDS.filter((k) => value[k] !== undefined);
  if (given.length !== 1) {
    throw new ValidationError(
      `Expected \`${field}\` to be exactly one of ${READY_WHEN_SHAPES}, got ${given.length === 0 ? 'none of them' : `${quoteList(given)} together`}: ${describeValue(value)}`,
      field,
    );
  }
  const kind = given[0] as (typeof READY_WHEN_KINDS)[number];
  const allowed = kind === 'port' ? ['port', 'host'] : [kind];
  for (const k in value) if (!allowed.includes(k)) unknownField(field, k, allowed, `\`${field}\` with \`${kind}\``);
  if (kind === 'output') {
    const pattern = checkString(join(field, 'output'), value.output, READY_WHEN_TEXT_LENGTH, 'a regular expression');
    try {
      new RegExp(pattern);
    } catch (err) {
      fail(join(field, 'output'), 'a regular expression that compiles', pattern, ` (${(err as Error).message})`);
    }
    return { output: pattern };
  }
  if (kind === 'port') {
    const port = value.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) fail(join(field, 'port'), 'an integer TCP port from 1 to 65535', port);
    if (value.host === undefined) return { port };
    return { port, host: checkString(join(field, 'host'), value.host, READY_WHEN_TEXT_LENGTH, 'a non-empty host name or address') };
  }
  const url = checkString(join(field, 'http'), value.http, READY_WHEN_TEXT_LENGTH, 'an http:// or https:// URL');
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') fail(join(field, 'http'), 'an http:// or https:// URL', url);
  return { http: url };
}

/**
 * Copies the checked service fields of `spec` into `out`. A `readyWhen` service cannot be
 * `runAlways` (a cleanup step runs once its dependencies are final; a service is what others wait
 * for). The other fields are allowed without `readyWhen`: a background VS Code task becomes a
 * service through its executor's reportReady.
 */
export function checkServiceFields(spec: Record<string, unknown>, prefix: string, out: PersistedSpec): void {
  // Most specs are no services: five reads, and nothing else, on validateSpec's hot path.
  if (
    spec.readyWhen === undefined &&
    spec.readyTimeoutMs === undefined &&
    spec.stopWhen === undefined &&
    spec.restart === undefined &&
    spec.shared === undefined
  )
    return;
  if (spec.readyWhen !== undefined) {
    out.readyWhen = checkReadyWhen(join(prefix, 'readyWhen'), spec.readyWhen);
    if (spec.runAlways === true) {
      fail(
        join(prefix, 'runAlways'),
        'absent or false when `readyWhen` is set: a service cannot be runAlways (its dependents wait for it to be Ready; a runAlways step waits for its dependencies to end)',
        spec.runAlways,
      );
    }
  }
  if (spec.readyTimeoutMs !== undefined) {
    const ms = checkDelay(join(prefix, 'readyTimeoutMs'), spec.readyTimeoutMs, 'positive');
    if (!Number.isInteger(ms)) fail(join(prefix, 'readyTimeoutMs'), `a positive integer number of ms no greater than ${LIMITS.maxDelayMs}`, ms);
    out.readyTimeoutMs = ms;
  }
  if (spec.stopWhen !== undefined) {
    if (!(STOP_WHEN_VALUES as readonly unknown[]).includes(spec.stopWhen))
      fail(join(prefix, 'stopWhen'), `${quoteList(STOP_WHEN_VALUES)} (stop the service once every task depending on it is final)`, spec.stopWhen);
    out.stopWhen = spec.stopWhen as PersistedSpec['stopWhen'];
  }
  if (spec.restart !== undefined) {
    if (!(RESTART_VALUES as readonly unknown[]).includes(spec.restart))
      fail(join(prefix, 'restart'), `${quoteList(RESTART_VALUES)} (start the service again when it exits with a failure)`, spec.restart);
    out.restart = spec.restart as PersistedSpec['restart'];
  }
  if (spec.shared !== undefined) {
    if (typeof spec.shared !== 'boolean')
      fail(join(prefix, 'shared'), 'a boolean (true: workflow runs scheduling this key in the same cwd share one running instance)', spec.shared);
    out.shared = spec.shared;
  }
}

/** `readyWhen` as a message shows it: `output /Listening/`, `port 127.0.0.1:3000`, `http http://...`. */
export function describeReadyWhen(readyWhen: ReadyWhen): string {
  if ('output' in readyWhen) return `output /${readyWhen.output}/`;
  if ('port' in readyWhen) return `port ${readyWhen.host ?? '127.0.0.1'}:${readyWhen.port}`;
  return `http ${readyWhen.http}`;
}
