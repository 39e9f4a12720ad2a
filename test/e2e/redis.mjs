// A Redis and `orchestrator worker` processes for UI scenarios (the .mjs side of test/support/redisServer.ts):
// Debian's redis-server on 127.0.0.1, a free port and a scratch directory, never a system service; workers
// are `node dist/cli.js worker` of this repository. Invariant: each process runs in its own process group,
// registered with scripts/processes.mjs, so it is stopped by that group's id by `stop()`, and also when
// the runner ends on a failure, an uncaught error or Ctrl-C.
//
//   const redis = await startRedis({ outputDir });
//   const worker = await startWorker({ url: redis.url, name: 'worker-a', resources: 'cpu=2', outputDir });
//   ...
//   await worker.stop(); await redis.stop();
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, freePort } from '../../scripts/codeServer.mjs';
import { atExit, trackGroup } from '../../scripts/processes.mjs';
import { ensureRedisServer } from '../../scripts/tools.mjs';

const READY_TIMEOUT_MS = 15_000;

/** Whether a Redis on 127.0.0.1:`port` answers PING with PONG. */
function pong(port) {
  return new Promise((resolve) => {
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
}

/** Spawns `command` as the leader of a new process group, output to `logFile`; returns its pid and its stop(). */
function spawnGroup(command, args, logFile, cwd) {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.once('error', () => {});
    return { pid: child.pid, exited, stop: trackGroup(child.pid) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Starts redis-server on 127.0.0.1 on a free port, with its own scratch directory (removed by stop()).
 * @param {{ outputDir: string }} o  its log goes to <outputDir>/redis.log
 */
export async function startRedis({ outputDir }) {
  const bin = await ensureRedisServer();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'orchestrator-e2e-redis-'));
  const removeDir = atExit(() => rmSync(dir, { recursive: true, force: true }));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
  const proc = spawnGroup(bin, args, join(outputDir, 'redis.log'), dir);
  const stop = async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
    removeDir();
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await pong(port))) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms (see ${join(outputDir, 'redis.log')})`);
    }
    await sleep(50);
  }
  return { url: `redis://127.0.0.1:${port}`, port, pid: proc.pid, stop };
}

/**
 * Starts `node dist/cli.js worker --redis URL --name NAME [--resources POOLS]` and waits for its
 * "worker NAME:" line, printed once it is connected and listening on its queues.
 * @param {{ url: string, name: string, resources?: string, outputDir: string }} o  log: <outputDir>/<name>.log
 */
export async function startWorker({ url, name, resources, outputDir }) {
  const logFile = join(outputDir, `${name}.log`);
  const args = [join(REPO_ROOT, 'dist', 'cli.js'), 'worker', '--redis', url, '--name', name];
  if (resources) args.push('--resources', resources);
  const proc = spawnGroup(process.execPath, args, logFile, REPO_ROOT);
  let exit;
  void proc.exited.then((e) => (exit = e));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const log = readFileSync(logFile, 'utf8');
    if (log.includes(`worker ${name}:`)) break;
    if (exit || Date.now() > deadline) {
      await proc.stop();
      const why = exit ? `exited (${exit.signal ?? `code ${exit.code}`})` : `printed no "worker ${name}:" line within ${READY_TIMEOUT_MS} ms`;
      throw new Error(`worker ${name} ${why}; its log:\n${log.slice(-2000)}`);
    }
    await sleep(100);
  }
  return { name, pid: proc.pid, logFile, stop: proc.stop };
}
