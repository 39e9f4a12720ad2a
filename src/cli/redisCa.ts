// `--redis-ca FILE` (or ORCHESTRATOR_REDIS_CA): the CA that signed a `rediss://` Redis's certificate,
// read once before anything connects. Invariant: whatever is wrong with it (no file, not PEM, a plain
// redis:// URL) is a UsageError naming the option and the file, so the CLI exits 2 before anything runs.
import { readFileSync } from 'node:fs';
import { PEM_CERTIFICATE } from '../backends/redis/connection';
import { TLS_UNTRUSTED_TEXT } from '../backends/redis/tlsTrust';
import { UsageError } from './exitCodes';

/** The PEM text of the CA file named by `flag`, else by ORCHESTRATOR_REDIS_CA; undefined when neither is given. */
export function redisCaOf(flag: string | undefined, env: NodeJS.ProcessEnv, url: string): string | undefined {
  const option = flag !== undefined ? '--redis-ca' : 'ORCHESTRATOR_REDIS_CA';
  const file = flag ?? env.ORCHESTRATOR_REDIS_CA;
  if (file === undefined || (flag === undefined && file === '')) return undefined;
  if (!url.startsWith('rediss://')) {
    throw new UsageError(`${option} is the CA of a TLS Redis: it needs a rediss:// URL, got a ${url.replace(/:\/\/.*$/, '://')} one`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw new UsageError(`Expected ${option} to name a readable PEM file of the Redis server's CA, got ${JSON.stringify(file)} (${why})`);
  }
  if (!PEM_CERTIFICATE.test(text)) {
    throw new UsageError(`Expected ${option} to be a PEM file (-----BEGIN CERTIFICATE----- …), ${JSON.stringify(file)} holds no certificate`);
  }
  return text;
}

/** How to trust a CA from the command line: added after an untrusted-certificate error or warning. */
export const REDIS_CA_HINT =
  'pass the CA that signed it with --redis-ca FILE (or ORCHESTRATOR_REDIS_CA, NODE_EXTRA_CA_CERTS), or use a URL whose host the certificate names';

/** `message` with REDIS_CA_HINT when it is about an untrusted certificate (RedisTlsError's text); else as is. */
export function withRedisCaHint(message: string): string {
  return message.includes(TLS_UNTRUSTED_TEXT) ? `${message}; ${REDIS_CA_HINT}` : message;
}
