// Starts and stops a code-server (a real VS Code server with a real Node extension host) for tests and
// `npm start`. Each server gets its own scratch folder (user data, extensions, XDG dirs, log), its own
// process group (stopped by group id, also on failure and on SIGINT/SIGTERM via processes.mjs), a free port
// on 127.0.0.1, and a readiness wait on the log line `HTTP server listening`, bounded by a timeout.
//
//   const server = await startCodeServer({ scratch, trust: 'disabled' | 'untrusted', settings, linkExtension });
//   page.goto(server.workbenchUrl({ folder, payload: devPayload(server, { ... }) }));
//   await server.stop();
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync, symlinkSync, existsSync, readdirSync, copyFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { URLSearchParams } from 'node:url';
import { ensureCodeServerTools } from './tools.mjs';
import { trackGroup, withTimeout } from './processes.mjs';

export const REPO_ROOT = resolve(import.meta.dirname, '..');
const READY_TIMEOUT_MS = 60_000;

/** A free TCP port on 127.0.0.1; `preferred` if it is free. */
export async function freePort(preferred = 0) {
  const tryListen = (port) =>
    new Promise((res) => {
      const srv = createServer();
      srv.once('error', () => res(undefined));
      srv.listen(port, '127.0.0.1', () => {
        const { port: got } = srv.address();
        srv.close(() => res(got));
      });
    });
  return (preferred && (await tryListen(preferred))) || (await tryListen(0));
}

/** User settings every server gets; trust settings keep the trust modal from ever blocking a run. */
function baseSettings(trust) {
  return {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'git.enabled': false,
    // With trust on (the 'untrusted' pass), the folder opens in Restricted Mode without asking.
    'security.workspace.trust.enabled': trust !== 'disabled',
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.banner': 'never',
    'security.workspace.trust.emptyWindow': false,
  };
}

function extensionFolderName() {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  return `${pkg.publisher}.${pkg.name}-${pkg.version}`;
}

/**
 * @param {object} o
 * @param {string} o.scratch           folder for everything this server writes (created)
 * @param {'disabled'|'untrusted'} [o.trust]  'disabled': --disable-workspace-trust; 'untrusted': trust on, folder not trusted
 * @param {Record<string, unknown>} [o.settings]  extra user settings
 * @param {string} [o.linkExtension]   a folder to symlink into the extensions dir (loads it as an installed extension)
 * @param {boolean} [o.smokeTestDriver]  needed for the dev `payload` URL parameter; hides notification toasts
 * @param {number} [o.port]            preferred port (a free one is used when it is taken)
 * @param {string[]} [o.args]          extra code-server arguments
 */
export async function startCodeServer(o) {
  const { node, entry } = await ensureCodeServerTools();
  const trust = o.trust ?? 'disabled';
  const scratch = resolve(o.scratch);
  const userDataDir = join(scratch, 'user-data');
  const extensionsDir = join(scratch, 'extensions');
  const xdg = join(scratch, 'xdg');
  for (const d of [userDataDir, join(userDataDir, 'User'), extensionsDir, join(xdg, 'config'), join(xdg, 'data'), join(xdg, 'cache')]) {
    mkdirSync(d, { recursive: true });
  }
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...baseSettings(trust), ...o.settings }, null, 2));
  if (o.linkExtension) {
    const link = join(extensionsDir, extensionFolderName());
    if (!existsSync(link)) symlinkSync(resolve(o.linkExtension), link, 'dir');
  }

  const port = await freePort(o.port ?? 0);
  const logFile = join(scratch, 'code-server.log');
  const args = [
    entry,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    ...(trust === 'disabled' ? ['--disable-workspace-trust'] : []),
    ...((o.smokeTestDriver ?? true) ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ...(o.args ?? []),
  ];
  const fd = openSync(logFile, 'a');
  const child = spawn(node, args, {
    cwd: scratch,
    detached: true, // own process group: stopping it stops the extension host, pty host and tasks too
    stdio: ['ignore', fd, fd],
    env: {
      ...process.env,
      XDG_CONFIG_HOME: join(xdg, 'config'),
      XDG_DATA_HOME: join(xdg, 'data'),
      XDG_CACHE_HOME: join(xdg, 'cache'),
      // A server started from a VS Code terminal must not talk to that VS Code.
      VSCODE_IPC_HOOK_CLI: '',
    },
  });
  closeSync(fd);
  const stop = trackGroup(child.pid);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });

  try {
    await withTimeout(
      (async () => {
        for (;;) {
          if (exited) throw new Error(`code-server exited early (${JSON.stringify(exited)}); log: ${logFile}`);
          if (readFileSync(logFile, 'utf8').includes('HTTP server listening')) return;
          await new Promise((r) => setTimeout(r, 100));
        }
      })(),
      READY_TIMEOUT_MS,
      `code-server did not report "HTTP server listening"; log: ${logFile}`,
    );
  } catch (e) {
    await stop();
    throw e;
  }

  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    port,
    pid: child.pid,
    logFile,
    userDataDir,
    extensionsDir,
    scratch,
    trust,
    /** The vscode-remote URI by which the workbench names a file on this server. */
    remoteUri: (absPath) => `vscode-remote://127.0.0.1:${port}${resolve(absPath)}`,
    /** The workbench URL for a folder, optionally with a dev payload (see devPayload). */
    workbenchUrl: ({ folder, payload } = {}) => {
      const q = new URLSearchParams();
      if (folder) q.set('folder', resolve(folder));
      if (payload) q.set('payload', payload);
      const s = q.toString();
      return s ? `${url}?${s}` : url;
    },
    stop,
    /** Copies the server log and the extension host logs (activation errors land there) into `dir`. */
    collectLogs(dir, prefix = '') {
      mkdirSync(dir, { recursive: true });
      if (existsSync(logFile)) copyFileSync(logFile, join(dir, `${prefix}code-server.log`));
      const logs = join(userDataDir, 'logs');
      if (!existsSync(logs)) return;
      let n = 0;
      for (const f of readdirSync(logs, { recursive: true }).map(String)) {
        if (f.endsWith('exthost.log')) copyFileSync(join(logs, f), join(dir, `${prefix}exthost${n++ ? `-${n}` : ''}.log`));
      }
    },
  };
}

/**
 * The `payload` URL parameter that loads an extension under development (and optionally runs extension
 * tests) in the workbench. Only honoured when the server runs with the smoke-test driver.
 */
export function devPayload(server, { extensionDevelopmentPath = REPO_ROOT, extensionTestsPath, extensionEnvironment } = {}) {
  const p = [
    ['extensionDevelopmentPath', server.remoteUri(extensionDevelopmentPath)],
    ['skipWelcome', 'true'],
  ];
  if (extensionTestsPath) p.push(['extensionTestsPath', server.remoteUri(extensionTestsPath)]);
  if (extensionEnvironment) p.push(['extensionEnvironment', JSON.stringify(extensionEnvironment)]);
  return JSON.stringify(p);
}

/** The first `[error]` lines of the extension host logs collected into `dir` (e.g. an activation failure). */
export function extensionHostErrors(dir, prefix = '', max = 8) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const f of readdirSync(dir).filter((x) => x.startsWith(`${prefix}exthost`) && x.endsWith('.log'))) {
    const lines = readFileSync(join(dir, f), 'utf8').split('\n');
    lines.forEach((l, i) => {
      if (l.includes('[error]') && out.length < max) out.push(l, ...(lines[i + 1]?.startsWith('\t') || lines[i + 1]?.startsWith('  ') ? [lines[i + 1]] : []));
    });
  }
  return out.slice(0, max);
}

/** Installs a .vsix into an extensions dir with code-server's CLI; returns its output. */
export async function installVsix(vsix, extensionsDir, scratch) {
  const { node, entry } = await ensureCodeServerTools();
  mkdirSync(extensionsDir, { recursive: true });
  const xdg = join(scratch, 'xdg');
  return withTimeout(
    new Promise((res, rej) => {
      const child = spawn(
        node,
        [entry, '--extensions-dir', extensionsDir, '--user-data-dir', join(scratch, 'user-data'), '--install-extension', resolve(vsix)],
        {
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, XDG_CONFIG_HOME: join(xdg, 'config'), XDG_DATA_HOME: join(xdg, 'data'), XDG_CACHE_HOME: join(xdg, 'cache') },
        },
      );
      trackGroup(child.pid);
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        out += d;
      });
      child.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`--install-extension exited with ${code}:\n${out}`))));
    }),
    120_000,
    `installing ${vsix}`,
  );
}
