// Every long-lived process a script starts (code-server, a desktop VS Code) runs in its own process group
// and is registered here, so it is stopped by that group's id when the script ends: normally, on an
// uncaught error, or on SIGINT/SIGTERM/SIGHUP. Cleanup callbacks (e.g. closing a browser) run first.
const groups = new Set();
const cleanups = new Set();
const exitTasks = new Set();
let installed = false;
let exiting = false;

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // already gone
  }
}

function alive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function install() {
  if (installed) return;
  installed = true;
  // 'exit' handlers must be synchronous: a SIGKILL to each group is all that is left to do.
  process.on('exit', () => {
    for (const pid of groups) killGroup(pid, 'SIGKILL');
    for (const fn of exitTasks) {
      try {
        fn();
      } catch {
        /* best effort at exit */
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (exiting) return;
      exiting = true;
      process.stderr.write(`\n[cleanup] ${signal}: stopping everything this run started\n`);
      stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

/** Registers a process-group leader (spawned with detached: true); returns a function that stops it. */
export function trackGroup(pid) {
  install();
  groups.add(pid);
  return () => stopGroup(pid);
}

/** Registers an async cleanup (bounded by a timeout in stopAll); returns a function that unregisters it. */
export function onCleanup(fn) {
  install();
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Registers a synchronous task for process exit, after every group is killed (e.g. removing a scratch folder). */
export function atExit(fn) {
  install();
  exitTasks.add(fn);
  return () => exitTasks.delete(fn);
}

/** SIGTERM the group, then SIGKILL whatever is left after `graceMs`. */
export async function stopGroup(pid, graceMs = 3000) {
  groups.delete(pid);
  if (!killGroup(pid, 'SIGTERM')) return;
  const until = Date.now() + graceMs;
  while (Date.now() < until && alive(pid)) await new Promise((r) => setTimeout(r, 100));
  killGroup(pid, 'SIGKILL');
}

export async function stopAll(timeoutMs = 10_000) {
  const pending = [...cleanups].map((fn) =>
    Promise.resolve()
      .then(fn)
      .catch(() => {}),
  );
  cleanups.clear();
  await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, timeoutMs))]);
  await Promise.all([...groups].map((pid) => stopGroup(pid)));
}

/** Rejects with `message` after `ms` unless `promise` settles first. */
export function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${message} (timed out after ${ms} ms)`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
