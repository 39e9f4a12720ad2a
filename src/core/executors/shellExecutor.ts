// The built-in `shell` kind: one command line through the system shell, its whole process tree
// stopped on cancel or timeout.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { ExecutionError } from '../model/errors';
import type { TaskResult } from '../model/model';
import type { ExecutionContext, Executor } from '../ports';
import { DEFAULT_OUTPUT_LIMIT, OutputTail } from './outputTail';
import type { ProcessLedger } from './processLedger';
import { collectTree, isAlive, sharedScanner, signalAll, TASK_MARKER_ENV, type ProcessScanner } from './processTree';

/** Time between SIGTERM and SIGKILL when a task is stopped. */
export const DEFAULT_KILL_GRACE_MS = 2000;

export interface ShellExecutorOptions {
  /** Time a stopped task gets to exit after SIGTERM before whatever is left is SIGKILLed. Default 2 s. */
  killGraceMs?: number;
  /** Characters of output kept (the tail). Default 64 Ki. */
  outputLimit?: number;
  /**
   * After the shell exits, how long to wait for its output pipes to close. A background job that
   * inherited them would otherwise hold the task open for as long as it runs. Default 200 ms.
   */
  drainMs?: number;
  /** Where each running shell is recorded, so that a later session can stop what a killed host left. */
  ledger?: ProcessLedger;
  /** Reads the process table for stops; one shared by the whole process unless given. */
  scanner?: ProcessScanner;
}

const isWindows = process.platform === 'win32';
const POLL_MS = 20;
/** After SIGKILL a process is gone within a scheduler tick; this bounds the wait for one in uninterruptible sleep. */
const KILL_WAIT_MS = 1000;

export class ShellExecutor implements Executor {
  readonly killGraceMs: number;
  private readonly outputLimit: number;
  private readonly drainMs: number;
  private readonly ledger: ProcessLedger | undefined;
  private readonly scanner: ProcessScanner;

  constructor(options: ShellExecutorOptions = {}) {
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.outputLimit = options.outputLimit ?? DEFAULT_OUTPUT_LIMIT;
    this.drainMs = options.drainMs ?? 200;
    this.ledger = options.ledger;
    this.scanner = options.scanner ?? sharedScanner;
  }

  execute(ctx: ExecutionContext): Promise<TaskResult> {
    const { signal } = ctx;
    if (signal.aborted) return Promise.reject(signal.reason);
    const spec = ctx.task.spec;
    const command = spec.command;
    if (typeof command !== 'string' || command.trim() === '') {
      return Promise.reject(
        new ExecutionError(`Expected \`command\` to be a non-empty string for a shell task, got \`${String(command)}\``, undefined, 'VALIDATION'),
      );
    }
    const token = randomBytes(12).toString('hex');
    const env: NodeJS.ProcessEnv = { ...process.env, ...spec.env, [TASK_MARKER_ENV]: token };
    const cwd = spec.cwd;
    return new Promise<TaskResult>((resolve, reject) => {
      const tail = new OutputTail(this.outputLimit);
      let child: ChildProcess;
      try {
        child = isWindows
          ? spawn(process.env.ComSpec ?? 'cmd.exe', ['/d', '/s', '/c', `"${command}"`], {
              cwd,
              env,
              stdio: ['ignore', 'pipe', 'pipe'],
              windowsHide: true,
              windowsVerbatimArguments: true,
            })
          : // detached: the shell leads its own process group, so the group can be signalled as a whole.
            spawn('/bin/sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      } catch (err) {
        reject(spawnError(err, cwd));
        return;
      }
      // Recorded until the attempt settles: by then the tree has been stopped, or the shell has ended.
      if (this.ledger && !isWindows && child.pid !== undefined) this.ledger.add(ctx.task.id, child.pid, token);
      let settled = false;
      let exitCode: number | null = null;
      let exitSignal: NodeJS.Signals | null = null;
      let exited = false;
      let stopping: Promise<void> | undefined;
      let drainTimer: ReturnType<typeof setTimeout> | undefined;
      let onExited: (() => void) | undefined;

      const onData = (chunk: string): void => {
        tail.push(chunk);
        if (ctx.onOutput) {
          try {
            ctx.onOutput(chunk);
          } catch {
            // A listener's failure is not the task's failure.
          }
        }
      };
      child.stdout?.setEncoding('utf8').on('data', onData);
      child.stderr?.setEncoding('utf8').on('data', onData);

      const result = (): TaskResult => {
        const r: TaskResult = { output: tail.toString() };
        if (exitCode !== null) r.exitCode = exitCode;
        if (exitSignal !== null) r.signal = exitSignal;
        return r;
      };
      const finish = (): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        this.ledger?.remove(token);
        if (drainTimer) clearTimeout(drainTimer);
        if (stopping) {
          // Stopped by cancel or timeout: the reason is the outcome, whatever the exit status says.
          reject(signal.reason);
          return;
        }
        const r = result();
        if (exitCode === 0) resolve(r);
        else reject(new ExecutionError(failureMessage(r), r));
      };
      const onAbort = (): void => {
        if (settled || stopping) return;
        stopping = this.stop(
          child,
          token,
          () => exited,
          (cb) => (onExited = cb),
        ).then(() => {
          // Whatever still holds our pipes has been killed or is not ours; do not wait for it.
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish();
        });
      };

      child.on('error', (err) => {
        // Spawn failed (no shell, missing cwd): no process exists, nothing to stop.
        if (settled || exited) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        this.ledger?.remove(token);
        reject(spawnError(err, cwd));
      });
      child.on('exit', (code, sig) => {
        exited = true;
        exitCode = code;
        exitSignal = sig;
        onExited?.();
        if (stopping) return;
        // Normal end: give the pipes a moment to deliver the last output, then stop waiting for
        // background jobs that inherited them.
        drainTimer = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish();
        }, this.drainMs);
      });
      child.on('close', () => {
        if (!stopping) finish();
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Stops the whole tree: SIGTERM to the group and to every process found, a grace period polled for
   * exits, then SIGKILL to whatever is left (found again, in case it forked meanwhile), and waits until
   * nothing is left and the shell itself has exited.
   */
  private async stop(child: ChildProcess, token: string, exited: () => boolean, setOnExited: (cb: () => void) => void): Promise<void> {
    const pid = child.pid;
    if (pid === undefined) return;
    const exitedPromise = new Promise<void>((resolve) => (exited() ? resolve() : setOnExited(resolve)));
    if (isWindows) {
      await killWindowsTree(pid);
      await Promise.race([exitedPromise, sleep(KILL_WAIT_MS)]);
      return;
    }
    // Found before signalling: once a parent dies its children are re-parented and the chain is lost.
    const known = await collectTree(pid, token, exited(), this.scanner);
    // Signalling the group by id is safe only while its leader, the shell, has not been reaped: after
    // that the id may name a stranger's group. The members it had were found by the scan anyway.
    const group = (): number | undefined => (exited() ? undefined : pid);
    signalAll(known, 'SIGTERM', group());
    const graceEnd = Date.now() + this.killGraceMs;
    let rescanned = false;
    while (Date.now() < graceEnd) {
      await sleep(Math.min(POLL_MS, Math.max(1, graceEnd - Date.now())));
      prune(known);
      if (known.size === 0) {
        if (rescanned && exited()) return;
        // Everything first seen is gone; look once more for anything started in between.
        for (const [p, s] of await collectTree(pid, token, exited(), this.scanner)) known.set(p, s);
        signalAll(known, 'SIGTERM');
        rescanned = true;
      } else {
        rescanned = false;
      }
    }
    for (let round = 0; round < 10; round++) {
      for (const [p, s] of await collectTree(pid, token, exited(), this.scanner)) known.set(p, s);
      prune(known);
      if (known.size === 0) break;
      signalAll(known, 'SIGKILL', group());
      const end = Date.now() + KILL_WAIT_MS / 10;
      while (known.size > 0 && Date.now() < end) {
        await sleep(5);
        prune(known);
      }
    }
    await Promise.race([exitedPromise, sleep(KILL_WAIT_MS)]);
  }
}

function prune(known: Map<number, string | undefined>): void {
  for (const [p, s] of known) if (!isAlive(p, s)) known.delete(p);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function killWindowsTree(pid: number): Promise<void> {
  return new Promise((resolve) => {
    const k = spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
    k.on('error', () => resolve());
    k.on('exit', () => resolve());
  });
}

function spawnError(err: unknown, cwd: string | undefined): ExecutionError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  // Node reports a missing cwd as `spawn /bin/sh ENOENT`, which blames the shell; name the directory instead.
  if (cwd !== undefined && (code === 'ENOENT' || code === 'ENOTDIR')) {
    if (!existsSync(cwd)) return new ExecutionError(`Working directory \`${cwd}\` does not exist`, undefined, code);
    if (!statSync(cwd).isDirectory()) return new ExecutionError(`Working directory \`${cwd}\` is not a directory`, undefined, code);
  }
  return new ExecutionError(`Could not start the shell: ${err instanceof Error ? err.message : String(err)}`, undefined, code);
}

/** "Command failed with exit code 127: sh: 1: nosuch: not found" — the last line of output says why, usually. */
function failureMessage(r: TaskResult): string {
  const head = r.signal ? `Command was killed by ${r.signal}` : `Command failed with exit code ${r.exitCode}`;
  const out = r.output ?? '';
  let end = out.length;
  while (end > 0 && (out[end - 1] === '\n' || out[end - 1] === '\r' || out[end - 1] === ' ')) end--;
  if (end === 0) return head;
  const start = out.lastIndexOf('\n', end - 1) + 1;
  let line = out.slice(start, end);
  if (line.length > 200) line = `${line.slice(0, 197)}...`;
  return `${head}: ${line}`;
}
