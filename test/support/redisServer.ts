// A Redis of the test's own: Debian's redis-server on 127.0.0.1, a free port and a scratch directory,
// never a system service. Invariant: the process is stopped by its pid on every path (stop(), and a
// process 'exit' hook for a test run that ends without calling it), and its directory removed.
// `{ tls: true }`: a throw-away CA and a server certificate for 127.0.0.1 made with openssl in that
// directory, and only a TLS port (`rediss://`); a client must be given the CA to trust it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './freePort';

export const REDIS_SERVER = '/usr/bin/redis-server';
export const OPENSSL = '/usr/bin/openssl';

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  /** TLS mode only: the CA that signed the server's certificate, as a file in `dir` and as PEM text. */
  caFile?: string;
  ca?: string;
  /** Stops the server (SIGTERM, then SIGKILL after 2 s) and removes its directory. */
  stop(): Promise<void>;
  /** Stops it without removing its directory and starts it again on the same port and directory. */
  restart(): Promise<void>;
  /** Stops it, keeping its directory, until `up()`: an outage. */
  down(): Promise<void>;
  /** Starts it again after `down()`, on the same port and directory. */
  up(): Promise<void>;
}

/** Whether redis-server can run here. */
export function redisAvailable(): boolean {
  if (!existsSync(REDIS_SERVER)) return false;
  return spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' }).status === 0;
}

/** Whether redis-server can run with TLS here: it and openssl are present. */
export function redisTlsAvailable(): boolean {
  return redisAvailable() && existsSync(OPENSSL) && spawnSync(OPENSSL, ['version'], { encoding: 'utf8' }).status === 0;
}

function openssl(dir: string, args: string[]): void {
  const run = spawnSync(OPENSSL, args, { cwd: dir, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (${run.status ?? run.signal}): ${run.stderr}`);
}

/** A CA (ca.pem) and a server certificate for IP 127.0.0.1 signed by it (server.pem, server.key), in `dir`. */
function makeCertificates(dir: string): void {
  const subj = (cn: string): string[] => ['-subj', `/CN=${cn}`];
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', ...subj('orchestrator test CA')]);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', ...subj('127.0.0.1')]);
  const ext = join(dir, 'server.ext');
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
}

/** Resolves once the server answers PING with PONG (over TLS, trusting `ca`, when given); rejects after `ms`. */
async function untilPong(port: number, ms: number, ca?: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket: Socket = ca === undefined ? createConnection({ host: '127.0.0.1', port }) : tlsConnect({ host: '127.0.0.1', port, ca });
      let answer = '';
      socket.setTimeout(500, () => socket.destroy());
      socket.on(ca === undefined ? 'connect' : 'secureConnect', () => socket.write('PING\r\n'));
      socket.on('data', (data) => {
        answer += data.toString();
        if (answer.includes('\r\n')) {
          socket.end();
          resolve(answer.startsWith('+PONG'));
        }
      });
      socket.on('error', () => resolve(false));
      socket.on('close', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startRedis(options: { appendonly?: boolean; tls?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'orchestrator-redis-'));
  const tls = options.tls === true;
  let ca: string | undefined;
  if (tls) {
    try {
      makeCertificates(dir);
      ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
  const inDir = (file: string): string => join(dir, file);
  const ports = tls
    ? [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        inDir('server.pem'),
        '--tls-key-file',
        inDir('server.key'),
        '--tls-ca-cert-file',
        inDir('ca.pem'),
        '--tls-auth-clients',
        'no',
      ]
    : ['--port', String(port)];
  const args = [...ports, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', options.appendonly ? 'yes' : 'no'];
  if (options.appendonly) args.push('--appendfsync', 'always');
  let child: ChildProcess | undefined;
  const killOnExit = (): void => {
    if (child?.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
  process.on('exit', killOnExit);
  const launch = async (): Promise<void> => {
    child = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
    try {
      await untilPong(port, 10_000, ca);
    } catch (err) {
      await stopChild(child);
      throw err;
    }
  };
  try {
    await launch();
  } catch (err) {
    process.off('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    port,
    dir,
    ...(tls ? { caFile: join(dir, 'ca.pem'), ca } : {}),
    async stop() {
      if (child) await stopChild(child);
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      if (child) await stopChild(child);
      await launch();
    },
    async down() {
      if (child) await stopChild(child);
    },
    async up() {
      await launch();
    },
  };
}
