// How the coordinator and the workers reach Redis: ioredis options from a `redis://` or `rediss://`
// (TLS) URL. Invariants: a password given apart (VS Code's SecretStorage, an environment variable)
// wins over the URL's; `maxRetriesPerRequest: null`, so a command issued while Redis is down waits
// for the reconnect instead of failing (BullMQ's Workers require it, and it is what keeps a job added
// during an outage from being lost); reconnects back off from 100 ms, doubling, to at most 5 s, and
// never give up; a disconnected stream that has not closed within DISCONNECT_BOUND_MS is destroyed
// (ioredis waits 2 s by default, which kept a CLI refused by an untrusted TLS certificate alive that
// long after its error). A `ca` (PEM) is for `rediss://` only and is trusted in place of Node's default CAs
// (Node's `ca` semantics); without it, Node's defaults plus NODE_EXTRA_CA_CERTS are trusted.
import { isIP } from 'node:net';
import type { RedisOptions } from 'ioredis';
import { ValidationError, describeValue } from '../../core/model/errors';

export const RECONNECT_FIRST_MS = 100;
export const RECONNECT_MAX_MS = 5_000;
/** How long a disconnect waits for its stream to close before it destroys it (ioredis's `disconnectTimeout`). */
export const DISCONNECT_BOUND_MS = 200;

/** Delay before reconnect number `times` (1 for the first). */
export function reconnectDelay(times: number): number {
  return Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** Math.max(0, Math.min(times - 1, 16)));
}

function refuse(url: unknown, why: string): ValidationError {
  return new ValidationError(
    `Expected \`redis.url\` to be a URL like \`redis://[user:password@]host[:port][/db]\` or \`rediss://…\` (TLS), got ${describeValue(url)}: ${why}`,
    'redis.url',
  );
}

export interface RedisTlsOptions {
  /** PEM text of the CA(s) that signed the server's certificate (rediss:// only). */
  ca?: string;
}

/** PEM text holding at least one certificate. */
export const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

function checkCa(ca: unknown, tls: boolean): string | undefined {
  if (ca === undefined) return undefined;
  if (typeof ca !== 'string' || !PEM_CERTIFICATE.test(ca)) {
    throw new ValidationError(
      `Expected \`ca\` to be PEM text of one or more certificates (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----), got ${describeValue(ca)}`,
      'ca',
    );
  }
  if (!tls)
    throw new ValidationError('Expected `ca` only with a `rediss://` URL (TLS): a `redis://` connection is not encrypted, so there is nothing to verify', 'ca');
  return ca;
}

/** ioredis options for `url`; throws ValidationError for anything but a redis:// or rediss:// URL with a host, or a bad `ca`. */
export function redisOptions(url: string, password?: string, extra: RedisTlsOptions = {}): RedisOptions {
  if (typeof url !== 'string' || url === '') throw refuse(url, 'it is empty');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse(url, 'it is not a URL');
  }
  const tls = parsed.protocol === 'rediss:';
  if (!tls && parsed.protocol !== 'redis:') throw refuse(url, `the scheme \`${parsed.protocol}\` is neither \`redis:\` nor \`rediss:\``);
  // IPv6 literals come bracketed from URL; ioredis wants them bare.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw refuse(url, 'it names no host');
  const ca = checkCa(extra.ca, tls);
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const path = parsed.pathname.replace(/^\//, '');
  let db = 0;
  if (path !== '') {
    if (!/^\d+$/.test(path)) throw refuse(url, `the database \`${path}\` is not a non-negative integer`);
    db = Number(path);
  }
  const options: RedisOptions = {
    host,
    port,
    db,
    maxRetriesPerRequest: null,
    retryStrategy: reconnectDelay,
    disconnectTimeout: DISCONNECT_BOUND_MS,
  };
  if (parsed.username !== '') options.username = decodeURIComponent(parsed.username);
  const urlPassword = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
  const chosen = password !== undefined && password !== '' ? password : urlPassword;
  if (chosen !== undefined) options.password = chosen;
  // SNI carries host names only (RFC 6066); an IP is still checked against the certificate's IP SANs.
  if (tls) options.tls = { ...(isIP(host) === 0 ? { servername: host } : {}), ...(ca !== undefined ? { ca } : {}) };
  return options;
}
