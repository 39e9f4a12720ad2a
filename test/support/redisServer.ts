// A Redis of the test's own: Debian's redis-server on 127.0.0.1, a free port and a scratch directory,
// never a system service. Invariant: the process is stopped by its pid on every path (stop(), and a
// process 'exit' hook for a test run that ends without calling it), and its directory removed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './freePort';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
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

/** Resolves once the server answers PING with PONG; rejects after `ms`. */
async function untilPong(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      let answer = '';
      socket.setTimeout(500, () => socket.destroy());
      socket.on('connect', () => socket.write('PING\r\n'));
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

export async function startRedis(options: { appendonly?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'orchestrator-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', options.appendonly ? 'yes' : 'no'];
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
      await untilPong(port, 10_000);
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
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
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
