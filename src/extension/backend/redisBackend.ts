// The `redis` backend as the extension sets it up, without 'vscode' (tested in plain Node). The
// orchestrator takes its remote port once, at creation; reaching Redis may take seconds (an
// unreachable Redis is retried in the background by the backend itself). So the orchestrator is
// built at once with a DeferredRemote for the backend's kinds, activation never waits for the
// network, and the RedisExecution is attached when `connect` resolves: attempts started meanwhile
// are held and handed on, none is run here and none is lost. A URL the backend cannot use is
// reported once and the port is never attached: the caller starts the orchestrator paused, so
// tasks wait visibly until the setting is fixed (the backend applies after a reload). The same holds
// for a CA file (`orchestrator.redis.caFile`) it cannot use: it is read at creation, synchronously,
// so the caller knows before the orchestrator starts.
import { isAbsolute } from 'node:path';
import { readFileSync } from 'node:fs';
import { errorMessage } from '../../core/model/errors';
import type { RemoteExecution } from '../../core/execution/routedExecution';
import type { FleetStatus } from '../../backends/redis/fleetStatus';
import { PEM_CERTIFICATE, redisOptions } from '../../backends/redis/connection';
import { TLS_UNTRUSTED_TEXT } from '../../backends/redis/tlsTrust';
import { ConfigKeys } from '../../workspaceFiles/names';
import { DeferredRemote } from './deferredRemote';

/** The kinds workers run; local ones (VS Code tasks, other extensions' kinds) stay in this process. */
export const REMOTE_KINDS: readonly string[] = ['shell'];

/** The SecretStorage key of the Redis password: never in settings.json. */
export const REDIS_PASSWORD_SECRET = 'orchestrator.redis.password';

/** How long `connect` waits for Redis before resolving anyway (the backend keeps reconnecting). */
export const CONNECT_WAIT_MS = 3000;

/** What the extension needs of a RedisExecution (redisExecution.ts): the port and the fleet. */
export interface FleetBackend extends RemoteExecution {
  fleet(): Promise<FleetStatus>;
}

export interface ConnectOptions {
  url: string;
  password?: string;
  /** PEM text of the CA that signed a `rediss://` Redis's certificate (from `orchestrator.redis.caFile`). */
  ca?: string;
  kinds: string[];
  onWarn: (message: string) => void;
}

export interface RedisBackendDeps {
  url: string;
  /** Reads the password (SecretStorage); undefined when none is stored. */
  password: () => PromiseLike<string | undefined>;
  /** `orchestrator.redis.caFile`: an absolute path of a PEM file; undefined: Node's trusted CAs only. */
  caFile?: string | undefined;
  /** Reads `caFile` (readFileSync by default); throws when it cannot. */
  readFile?: (file: string) => string;
  connect: (options: ConnectOptions) => Promise<FleetBackend>;
  /** Tells the user something about the backend (a warning). */
  warn: (message: string) => void;
}

/** How to trust a CA in the editor: added after an untrusted-certificate error or warning. */
export const CA_FILE_HINT = `set \`${ConfigKeys.redisCaFile}\` to the CA's PEM file and reload the window`;

/** `message` with CA_FILE_HINT when it is about an untrusted certificate (RedisTlsError's text); else as is. */
function withCaFileHint(message: string): string {
  return message.includes(TLS_UNTRUSTED_TEXT) ? `${message}; ${CA_FILE_HINT}` : message;
}

/** The PEM text of `file` for `url`; throws saying what is wrong with it and what is allowed. */
function readCa(file: string, url: string, readFile: (file: string) => string): string {
  const scheme = url.replace(/:\/\/.*$/s, '://');
  if (scheme !== 'rediss://') throw new Error(`it is the CA of a TLS Redis and needs a \`rediss://\` URL in \`${ConfigKeys.redisUrl}\`, got a ${scheme} one`);
  if (!isAbsolute(file)) throw new Error(`Expected an absolute path of a readable PEM file, got ${JSON.stringify(file)}`);
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? errorMessage(err);
    throw new Error(`Expected an absolute path of a readable PEM file, got ${JSON.stringify(file)} (${why})`, { cause: err });
  }
  if (!PEM_CERTIFICATE.test(text)) throw new Error(`Expected a PEM file (-----BEGIN CERTIFICATE----- …), ${JSON.stringify(file)} holds no certificate`);
  return text;
}

/** `redis://user:secret@host:6379/0` without its password, for messages and the dashboard. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

const NOT_CONNECTED: FleetStatus = { connected: false, workers: [], queues: [] };

export class RedisBackend {
  readonly remote: DeferredRemote;
  /** Why the backend can never attach in this session (a URL it cannot use); undefined otherwise. */
  readonly blocked: string | undefined;
  /** Settles once the backend is attached, or connecting has failed for good. */
  readonly settled: Promise<void>;
  private backend: FleetBackend | undefined;
  private readonly ca: string | undefined;

  constructor(private readonly deps: RedisBackendDeps) {
    // Jobs wait in Redis until a worker takes them: tasks stay Scheduled until then.
    this.remote = new DeferredRemote(REMOTE_KINDS, { startsLater: true });
    let blocked: string | undefined;
    const waits = 'Tasks that run on workers wait (the orchestrator is paused) until the setting is fixed and the window reloaded.';
    try {
      redisOptions(deps.url);
    } catch (err) {
      blocked = `the redis backend cannot use \`${ConfigKeys.redisUrl}\`: ${errorMessage(err)}. ${waits}`;
    }
    if (!blocked && deps.caFile !== undefined) {
      try {
        this.ca = readCa(deps.caFile, deps.url, deps.readFile ?? ((file) => readFileSync(file, 'utf8')));
      } catch (err) {
        blocked = `the redis backend cannot use \`${ConfigKeys.redisCaFile}\` (${JSON.stringify(deps.caFile)}): ${errorMessage(err)}. ${waits}`;
      }
    }
    this.blocked = blocked;
    if (blocked) {
      deps.warn(blocked);
      this.settled = Promise.resolve();
    } else {
      this.settled = this.connect();
    }
  }

  /** The URL, without a password, for messages and the dashboard. */
  get url(): string {
    return redactUrl(this.deps.url);
  }

  private async connect(): Promise<void> {
    try {
      const password = await this.deps.password();
      const backend = await this.deps.connect({
        url: this.deps.url,
        ...(password ? { password } : {}),
        ...(this.ca !== undefined ? { ca: this.ca } : {}),
        kinds: [...REMOTE_KINDS],
        onWarn: (message) => this.deps.warn(withCaFileHint(message)),
      });
      this.backend = backend;
      // After the orchestrator is gone, attach disposes the backend in turn.
      this.remote.attach(backend);
    } catch (err) {
      this.deps.warn(
        `could not start the redis backend (${this.url}): ${withCaFileHint(errorMessage(err))}. Tasks that run on workers wait until the window is reloaded.`,
      );
    }
  }

  /** The fleet for the dashboard: not connected until the backend is attached. */
  async fleet(): Promise<FleetStatus> {
    return this.backend && this.remote.attached ? this.backend.fleet() : NOT_CONNECTED;
  }
}

/** The real connect: BullMQ and ioredis are loaded only when the redis backend is used. */
export async function connectRedis(options: ConnectOptions): Promise<FleetBackend> {
  const { RedisExecution } = await import('../../backends/redis/redisExecution');
  return RedisExecution.connect(options, CONNECT_WAIT_MS);
}
