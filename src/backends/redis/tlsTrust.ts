// A `rediss://` server whose certificate the client does not trust: Node refuses the handshake with
// a verification code, and every reconnect gets the same answer, so it is named plainly and fails the
// connect at once instead of being waited out like an outage. Invariant: only verification codes count
// here; a refused or dropped connection is an outage (reconnect with backoff), never this.
import type { Redis } from 'ioredis';

/** Node's (OpenSSL's) codes for a certificate chain or name it will not accept. */
const UNTRUSTED_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The verification code of `err` when it is a TLS trust failure; undefined for anything else. */
export function untrustedTlsCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && UNTRUSTED_CODES.has(code) ? code : undefined;
}

/** What every RedisTlsError message (and a warning made of one) says: callers add their hint after it. */
export const TLS_UNTRUSTED_TEXT = 'TLS certificate not trusted';

/**
 * Connecting to a Redis whose TLS certificate is not trusted; `tlsCode` is Node's verification code.
 * The message says only what is wrong: how to trust a CA depends on the caller (a CLI flag, an editor
 * setting), so each adds its own hint.
 */
export class RedisTlsError extends Error {
  readonly code = 'REDIS_TLS_UNTRUSTED';
  constructor(
    readonly where: string,
    readonly tlsCode: string,
  ) {
    const why =
      tlsCode === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'the certificate does not name this host'
        : tlsCode === 'CERT_HAS_EXPIRED' || tlsCode === 'CERT_NOT_YET_VALID'
          ? 'the certificate is outside its validity dates'
          : 'the CA that signed it is not trusted';
    super(`${where}: ${TLS_UNTRUSTED_TEXT} (${tlsCode}): ${why}`);
    this.name = 'RedisTlsError';
  }
}

/**
 * Rejects with a RedisTlsError at the first TLS trust failure of any of `clients`; `dispose` stops
 * listening (the promise then never settles).
 */
export function whenTlsUntrusted(clients: readonly Redis[], where: string): { failed: Promise<never>; dispose(): void } {
  let listener: ((err: unknown) => void) | undefined;
  const failed = new Promise<never>((_resolve, reject) => {
    listener = (err: unknown) => {
      const code = untrustedTlsCode(err);
      if (code !== undefined) reject(new RedisTlsError(where, code));
    };
    for (const c of clients) c.on('error', listener);
  });
  // Awaited only in a race: a rejection after the race settled is not an unhandled one.
  failed.catch(() => undefined);
  return {
    failed,
    dispose() {
      if (listener) for (const c of clients) c.off('error', listener);
    },
  };
}

/**
 * Resolves once no client of `clients` is inside a connection attempt (at most `boundMs`): ioredis
 * disconnecting a TLS socket between its handshake error and its close lets the socket's late error
 * go unhandled, so a refused start disconnects only after this.
 */
export async function attemptsSettled(clients: readonly Redis[], boundMs = 1000): Promise<void> {
  await Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.status !== 'connecting' && c.status !== 'connect') return resolve();
          const timer = setTimeout(done, boundMs);
          function done(): void {
            clearTimeout(timer);
            c.off('close', done);
            resolve();
          }
          c.once('close', done);
        }),
    ),
  );
}

/**
 * Resolves once `client` is ready or `ms` have passed (an outage is waited out in the background);
 * rejects with RedisTlsError, once its attempt has settled, when its certificate is not trusted.
 */
export async function readyOrUntrusted(client: Redis, where: string, ms: number): Promise<void> {
  const untrusted = whenTlsUntrusted([client], where);
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
      timer = setTimeout(resolve, ms);
      client.once('ready', resolve);
    });
    await Promise.race([untrusted.failed, ready]);
  } catch (err) {
    await attemptsSettled([client]);
    throw err;
  } finally {
    clearTimeout(timer);
    if (onReady) client.off('ready', onReady);
    untrusted.dispose();
  }
}
