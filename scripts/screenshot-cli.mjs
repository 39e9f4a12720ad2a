// A maintainer's tool (not part of npm test): the README's screenshots of the CLI's live view.
//
//   npm run build && node scripts/screenshot-cli.mjs
//
// 1. Copies demo-workspace/ (without node_modules and dist) to a scratch folder and writes there a
//    workflow file mirroring the demo's `ci` workflow, each shell step (and the copy's tasks.json task
//    that `ci` runs as `test`) first running `node scripts/slow.js N`, so that a frame of the run shows
//    tasks done, running and waiting at once.
// 2. Runs the real built CLI (dist/cli.js, on PATH as `orchestrator`) under a pseudo-terminal of a fixed
//    size (script(1), sized by `stty` inside it, which Node reads back as stdout.columns/rows), and keeps
//    the raw byte stream, each chunk with the time it arrived.
// 3. Replays that stream in xterm.js inside chromium: up to the end of a mid-run frame of log-update,
//    and whole; screenshots the terminal of each to media/cli-live-view.png and media/cli-live-view-done.png.
//
// The images are the CLI's own output, byte for byte, cut only at a frame boundary. Every process this
// starts (script and what runs under it, chromium) runs in a group stopped when this ends, also on a failure.
/* global document, atob, requestAnimationFrame -- used only inside page.evaluate, in the browser */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './browser.mjs';
import { atExit, stopAll, trackGroup, withTimeout } from './processes.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(REPO, 'dist', 'cli.js');
const MEDIA = join(REPO, 'media');
const COLS = 100;
/** A prompt line, the region (5 task rows and the summary), the closing line and the cursor's line. */
const ROWS = 9;
const RUN_TIMEOUT_MS = 60_000;
/** Seconds each shell step of the mirrored `ci` spends in scripts/slow.js before its real command. */
const SLOW = { install: 1, lint: 3, build: 2, package: 1 };
/** The same for the tasks.json task `ci` runs as its `test` step (a shell task of the copy's tasks.json). */
const SLOW_TASKS_JSON = { 'node --test test/': 2 };
const WORKFLOW_FILE = '.vscode/orchestrator.screenshot.json';
const COMMAND = `orchestrator run ci --file ${WORKFLOW_FILE}`;
/** The moment of the mid-run image, as a fraction of the run's duration: the frame nearest to it among the liveliest. */
const MOMENT = 0.6;

function log(msg) {
  process.stderr.write(`[screenshot-cli] ${msg}\n`);
}

/** A scratch copy of the demo workspace with the slowed `ci` workflow file and an `orchestrator` on PATH. */
function prepareWorkspace(scratch) {
  const ws = join(scratch, 'demo-workspace');
  const src = join(REPO, 'demo-workspace');
  cpSync(src, ws, {
    recursive: true,
    filter: (from) => !/^(node_modules|dist)(\/|$)/.test(relative(src, from)),
  });
  const original = JSON.parse(readFileSync(join(ws, '.vscode', 'orchestrator.json'), 'utf8'));
  const ci = original.workflows.ci;
  const tasks = ci.tasks.map((t) => (t.command !== undefined && SLOW[t.key] ? { ...t, command: `node scripts/slow.js ${SLOW[t.key]} && ${t.command}` } : t));
  const file = { version: original.version, workflows: { ci: { ...ci, description: `${ci.description} (each shell step slowed by scripts/slow.js)`, tasks } } };
  writeFileSync(join(ws, WORKFLOW_FILE), JSON.stringify(file, null, 2) + '\n');
  // tasks.json is JSONC (comments): its command is replaced as text, and must be found.
  const tasksJson = join(ws, '.vscode', 'tasks.json');
  let tasksText = readFileSync(tasksJson, 'utf8');
  for (const [command, seconds] of Object.entries(SLOW_TASKS_JSON)) {
    const quoted = JSON.stringify(command);
    if (!tasksText.includes(quoted)) throw new Error(`Expected demo-workspace/.vscode/tasks.json to hold the command ${quoted}`);
    tasksText = tasksText.replace(quoted, JSON.stringify(`node scripts/slow.js ${seconds} && ${command}`));
  }
  writeFileSync(tasksJson, tasksText);
  const bin = join(scratch, 'bin');
  mkdirSync(bin);
  symlinkSync(CLI, join(bin, 'orchestrator'));
  return { ws, bin };
}

/** The environment of the CLI: a colour terminal, nothing an outer npm or NO_COLOR put there. */
function childEnv(bin) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|NO_COLOR$|FORCE_COLOR$|COLUMNS$|LINES$|CI$)/i.test(k)) env[k] = v;
  return { ...env, TERM: 'xterm-256color', PATH: `${bin}:${env.PATH ?? ''}` };
}

/** Runs `shell` under script(1) in a pseudo-terminal of COLS×ROWS; resolves with the chunks of its output and their times. */
function runInPty(shell, { cwd, env }) {
  const sized = `stty cols ${COLS} rows ${ROWS}; ${shell}`;
  return new Promise((resolvePromise, reject) => {
    const child = spawn('script', ['-qfec', sized, '/dev/null'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const stop = trackGroup(child.pid);
    const started = Date.now();
    const chunks = [];
    let stderr = '';
    child.stdout.on('data', (data) => chunks.push({ at: Date.now() - started, data }));
    child.stderr.on('data', (data) => (stderr += data));
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`\`${shell}\` did not finish within ${RUN_TIMEOUT_MS} ms`));
    }, RUN_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      stop();
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      stop();
      if (code === 0) resolvePromise({ chunks, elapsedMs: Date.now() - started });
      else reject(new Error(`\`${shell}\` exited with ${code}: ${stderr}${Buffer.concat(chunks.map((c) => c.data)).toString('utf8')}`));
    });
    // stdin stays open (and empty) while it runs: script(1) passes an end of input on to the pty.
    child.stdin.on('error', () => {});
  });
}

/** What log-update starts every frame with (it hides the cursor on each drawing). */
const FRAME_START = Buffer.from('\x1b[?25l');
const STATUS_WORDS = ['waiting', 'queued', 'running', 'done', 'failed', 'cancelled'];
// eslint-disable-next-line no-control-regex -- matching the escape character is the point
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/**
 * The frames of the live view in `stream`: each ends where the next starts (or at the stream's end),
 * with the time its last byte arrived and the statuses its rows show.
 */
function framesOf(chunks) {
  const stream = Buffer.concat(chunks.map((c) => c.data));
  const starts = [];
  for (let i = stream.indexOf(FRAME_START); i !== -1; i = stream.indexOf(FRAME_START, i + 1)) starts.push(i);
  const timeAt = (offset) => {
    let end = 0;
    for (const c of chunks) {
      end += c.data.length;
      if (offset <= end) return c.at;
    }
    return chunks[chunks.length - 1].at;
  };
  const frames = starts.map((start, i) => {
    const end = i + 1 < starts.length ? starts[i + 1] : stream.length;
    const text = stream.subarray(start, end).toString('utf8').replace(ANSI, '');
    const statuses = {};
    for (const line of text.split(/\r?\n/)) {
      const word = /^\S+ (\w+) /.exec(line)?.[1];
      if (STATUS_WORDS.includes(word)) statuses[word] = (statuses[word] ?? 0) + 1;
    }
    return { end, at: timeAt(end), statuses };
  });
  return { stream, frames };
}

/** The mid-run frame to show: most kinds of status at once, then most running, then nearest MOMENT of the run. */
function pickFrame(frames, elapsedMs) {
  const score = (f) => Object.keys(f.statuses).length * 100 + (f.statuses.running ?? 0);
  const best = Math.max(...frames.map(score));
  const target = elapsedMs * MOMENT;
  return frames.filter((f) => score(f) === best).sort((a, b) => Math.abs(a.at - target) - Math.abs(b.at - target))[0];
}

/** A monospace font of this machine, by fc-list; chromium falls back to its default monospace without one. */
function monospaceFont() {
  const r = spawnSync('fc-list', [':spacing=mono', 'family'], { encoding: 'utf8' });
  const families = r.status === 0 ? r.stdout : '';
  return ['DejaVu Sans Mono', 'Liberation Mono'].find((f) => families.includes(f));
}

// VS Code's dark terminal colours.
const THEME = {
  background: '#1e1e1e',
  foreground: '#cccccc',
  cursor: '#1e1e1e',
  black: '#000000',
  red: '#cd3131',
  green: '#0dbc79',
  yellow: '#e5e510',
  blue: '#2472c8',
  magenta: '#bc3fbc',
  cyan: '#11a8cd',
  white: '#e5e5e5',
  brightBlack: '#666666',
  brightRed: '#f14c4c',
  brightGreen: '#23d18b',
  brightYellow: '#f5f543',
  brightBlue: '#3b8eea',
  brightMagenta: '#d670d6',
  brightCyan: '#29b8db',
  brightWhite: '#e5e5e5',
};

/** Replays `bytes` in an xterm.js terminal of COLS×ROWS and screenshots it to `file`. */
async function render(page, bytes, file, font) {
  const xterm = join(REPO, 'node_modules', '@xterm', 'xterm');
  await page.setContent('<!doctype html><html><body><div id="frame"><div id="terminal"></div></div></body></html>');
  await page.addStyleTag({ path: join(xterm, 'css', 'xterm.css') });
  await page.addStyleTag({
    content: `body { margin: 0; background: #111; } #frame { display: inline-block; padding: 12px 14px; background: ${THEME.background}; border-radius: 6px; }`,
  });
  await page.addScriptTag({ path: join(xterm, 'lib', 'xterm.js') });
  await page.evaluate(
    ({ cols, rows, theme, fontFamily, data }) =>
      new Promise((done) => {
        const term = new globalThis.Terminal({
          cols,
          rows,
          theme,
          fontFamily,
          fontSize: 14,
          lineHeight: 1.15,
          cursorInactiveStyle: 'none',
          allowTransparency: false,
        });
        term.open(document.getElementById('terminal'));
        const raw = atob(data);
        const buf = new Uint8Array(raw.length);
        for (let i = 0; i < raw.length; i++) buf[i] = raw.charCodeAt(i);
        term.write(buf, () => requestAnimationFrame(() => requestAnimationFrame(done)));
      }),
    { cols: COLS, rows: ROWS, theme: THEME, fontFamily: font ? `'${font}', monospace` : 'monospace', data: bytes.toString('base64') },
  );
  await page.locator('#frame').screenshot({ path: file });
}

async function main() {
  const scratch = mkdtempSync(join(tmpdir(), 'orchestrator-screenshot-'));
  atExit(() => rmSync(scratch, { recursive: true, force: true }));
  try {
    readFileSync(CLI);
  } catch {
    throw new Error(`${relative(REPO, CLI)} is missing: run \`npm run build\` first`);
  }
  const { ws, bin } = prepareWorkspace(scratch);
  const env = childEnv(bin);

  // The pty's size as Node sees it, else log-update would draw for another width.
  const probe = await runInPty(`node -e "console.log(process.stdout.columns + 'x' + process.stdout.rows)"`, { cwd: ws, env });
  const size = Buffer.concat(probe.chunks.map((c) => c.data))
    .toString('utf8')
    .trim();
  if (size !== `${COLS}x${ROWS}`) throw new Error(`Expected the pseudo-terminal to be ${COLS}x${ROWS} for Node, got \`${size}\``);

  log(`running \`${COMMAND}\` in ${ws} (${COLS}x${ROWS})`);
  const prompt = `printf '\\033[1;32m$\\033[0m %s\\n' '${COMMAND}'`;
  const run = await runInPty(`${prompt}; ${COMMAND}`, { cwd: ws, env });
  const { stream, frames } = framesOf(run.chunks);
  const text = stream.toString('utf8').replace(ANSI, '');
  if (!/done: .*\(exit 0\)/.test(text)) throw new Error(`The run did not end with exit 0; its last output:\n${text.slice(-1500)}`);
  const mid = pickFrame(frames.slice(0, -1), run.elapsedMs);
  log(`${run.chunks.length} chunks, ${frames.length} frames, ${run.elapsedMs} ms; mid-run frame at ${mid.at} ms: ${JSON.stringify(mid.statuses)}`);

  const font = monospaceFont();
  const { page, close } = await launchBrowser(join(scratch, 'profile'), { viewport: { width: 1100, height: 400 } });
  try {
    mkdirSync(MEDIA, { recursive: true });
    const live = join(MEDIA, 'cli-live-view.png');
    const done = join(MEDIA, 'cli-live-view-done.png');
    await withTimeout(render(page, stream.subarray(0, mid.end), live, font), 30_000, 'rendering the mid-run frame');
    await withTimeout(render(page, stream, done, font), 30_000, 'rendering the final frame');
    process.stdout.write(
      `${relative(process.cwd(), live)}  (mid-run, ${mid.at} ms of ${run.elapsedMs} ms)\n${relative(process.cwd(), done)}  (the end of the run)\n`,
    );
  } finally {
    await close();
  }
}

main()
  .then(() => stopAll())
  .catch(async (e) => {
    process.stderr.write(`[screenshot-cli] ${e instanceof Error ? e.message : String(e)}\n`);
    await stopAll();
    process.exitCode = 1;
  });
