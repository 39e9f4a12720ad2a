// Real processes, short and awaited. Every test that starts a long-running process stops it
// (cancel or timeout) and checks that nothing it started survives.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskEngine } from '../../src/core/engine/engine';
import { CancelledError, TimeoutError } from '../../src/core/model/errors';
import { parseLedger, PROCESS_LEDGER_KEY, ProcessLedger } from '../../src/core/executors/processLedger';
import { ProcessScanner, readProcess, scanProcesses, type ProcessInfo } from '../../src/core/executors/processTree';
import { ShellExecutor } from '../../src/core/executors/shellExecutor';
import { MemoryStore } from '../../src/core/ports';
import type { PersistedSpec, TaskRecord, TaskResult } from '../../src/core/model/model';
import { failure, gone } from '../support/processChecks';
import { runningRecord } from '../support/runningRecord';

const posix = process.platform !== 'win32';
const linux = process.platform === 'linux';

function shellTask(command: string, extra: Partial<PersistedSpec> = {}, id = `sh-${randomBytes(3).toString('hex')}`): TaskRecord {
  return runningRecord(id, { command, ...extra }, 'shell');
}

/** Pids of live processes whose environment holds `mark`: everything a task started inherits it. */
function marked(mark: string): number[] {
  if (!linux) return [];
  const needle = Buffer.from(`TEST_MARK=${mark}`);
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`).includes(needle) && !gone(pid);
      } catch {
        return false;
      }
    });
}

function until(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => (condition() ? resolve() : void setTimeout(check, 5));
    check();
  });
}

/** A script that starts a background child, a setsid'd grandchild whose parent exits at once, and itself; echoing all three pids. */
const TREE = `sleep 30 & echo "pid $!"; (setsid sh -c 'echo "pid $$"; exec sleep 30' &); echo "pid $$"; sleep 30`;

function pidsFrom(output: () => string, count: number): Promise<number[]> {
  return new Promise((resolve) => {
    const check = (): void => {
      const pids = [...output().matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
      if (pids.length >= count) resolve(pids);
      else setTimeout(check, 10);
    };
    check();
  });
}

(posix ? describe : describe.skip)('shellExecutor', function () {
  this.timeout(8000);
  const engine = new TaskEngine({ killGraceMs: 300 });
  after(() => engine.dispose());

  it('records exit code 0 and the output', async () => {
    const r = await engine.executeTask(shellTask('echo hello'));
    assert.deepEqual(r, { exitCode: 0, output: 'hello\n' });
  });

  it('fails on a non-zero exit, with the exit code and output in the result', async () => {
    const e = await failure(engine.executeTask(shellTask('echo partial; exit 3')));
    assert.equal(e.code, 'EXECUTION_FAILED');
    assert.equal(e.result?.exitCode, 3);
    assert.equal(e.result?.output, 'partial\n');
    assert.equal(e.message, 'Command failed with exit code 3: partial');
  });

  it('captures stderr interleaved with stdout in arrival order, and streams chunks', async () => {
    const chunks: string[] = [];
    const r = await engine.executeTask(shellTask('echo one; sleep 0.05; echo two >&2; sleep 0.05; echo three'), { onOutput: (c) => chunks.push(c) });
    assert.equal(r.output, 'one\ntwo\nthree\n');
    assert.equal(chunks.join(''), 'one\ntwo\nthree\n');
  });

  it('keeps only the last 64 KiB of a large output', async () => {
    const r = await engine.executeTask(shellTask(`head -c 300000 /dev/zero | tr '\\0' a; printf END`));
    assert.equal(r.output?.length, 64 * 1024);
    assert.ok(r.output?.endsWith('aaaEND'));
  });

  it('honours env (merged over the parent environment) and cwd', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'orch-shell-')));
    try {
      const r = await engine.executeTask(shellTask('printf "%s|%s|%s" "$FOO" "$(pwd)" "${PATH:+has-path}"', { cwd: dir, env: { FOO: 'bar baz' } }));
      assert.equal(r.output, `bar baz|${dir}|has-path`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with a clear message naming a missing cwd', async () => {
    const missing = join(tmpdir(), `orch-missing-${randomBytes(4).toString('hex')}`);
    const e = await failure(engine.executeTask(shellTask('true', { cwd: missing })));
    assert.equal(e.message, `Working directory \`${missing}\` does not exist`);
  });

  it('fails with exit code 127 and the shell message for a command that does not exist', async () => {
    const e = await failure(engine.executeTask(shellTask('no-such-command-orch')));
    assert.equal(e.result?.exitCode, 127);
    assert.match(e.message, /^Command failed with exit code 127: .*no-such-command-orch.*not found/);
  });

  it('records the signal of a command killed by one as a failure', async () => {
    const e = await failure(engine.executeTask(shellTask('kill -KILL $$')));
    assert.equal(e.result?.signal, 'SIGKILL');
    assert.equal(e.result?.exitCode, undefined);
    assert.equal(e.message, 'Command was killed by SIGKILL');
  });

  it('refuses a shell task without a command', async () => {
    const e = await failure(engine.executeTask(shellTask('  ')));
    assert.equal(e.errorCode, 'VALIDATION');
  });

  it('does not wait for a background job that keeps the output pipe open after the shell exits', async () => {
    const mark = randomBytes(6).toString('hex');
    const started = Date.now();
    const r = await new ShellExecutor({ drainMs: 50 }).execute({
      task: shellTask('sleep 0.5 & echo "pid $!"', { env: { TEST_MARK: mark } }),
      attempt: 1,
      signal: new AbortController().signal,
    });
    assert.equal(r.exitCode, 0);
    assert.ok(Date.now() - started < 450, `took ${Date.now() - started} ms`);
    const [bg] = [...(r.output ?? '').matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
    // Not ours to keep: stop it so the test leaves nothing behind.
    process.kill(bg, 'SIGKILL');
  });

  it('on cancel after the shell has exited, still stops the background jobs it left holding the output', async () => {
    const mark = randomBytes(6).toString('hex');
    let out = '';
    const controller = new AbortController();
    const p = new ShellExecutor({ drainMs: 5000, killGraceMs: 300 }).execute({
      task: shellTask('sleep 30 & echo "pid $!"; echo "pid $$"', { env: { TEST_MARK: mark } }),
      attempt: 1,
      signal: controller.signal,
      onOutput: (c) => (out += c),
    });
    const [bg, shell] = await pidsFrom(() => out, 2);
    await until(() => gone(shell));
    const reason = new CancelledError();
    controller.abort(reason);
    await assert.rejects(p, (e: unknown) => e === reason);
    assert.ok(gone(bg));
    assert.deepEqual(marked(mark), []);
  });

  it('on cancel stops the whole tree, a setsid grandchild whose parent exited included', async () => {
    const mark = randomBytes(6).toString('hex');
    let out = '';
    const task = shellTask(TREE, { env: { TEST_MARK: mark } });
    // A long grace: the tree honours SIGTERM, so settling must not wait for it.
    const patient = new TaskEngine({ killGraceMs: 3000 });
    const p = patient.executeTask(task, { onOutput: (c) => (out += c) });
    const pids = await pidsFrom(() => out, 3);
    assert.equal(pids.filter(gone).length, 0, 'all three running before cancel');
    const started = Date.now();
    await patient.cancelTask(task.id, 'user asked');
    await assert.rejects(p, (e: unknown) => e instanceof CancelledError && e.code === 'CANCELLED' && e.message === 'user asked');
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    assert.deepEqual(
      pids.filter((pid) => !gone(pid)),
      [],
    );
    assert.deepEqual(marked(mark), []);
    assert.deepEqual(patient.running(), []);
  });

  it('on timeout stops the whole tree and rejects with TimeoutError', async () => {
    const mark = randomBytes(6).toString('hex');
    let out = '';
    const p = engine.executeTask(shellTask(TREE, { env: { TEST_MARK: mark } }), { timeoutMs: 400, onOutput: (c) => (out += c) });
    await assert.rejects(p, (e: unknown) => e instanceof TimeoutError && e.code === 'TIMEOUT' && e.timeoutMs === 400);
    const pids = [...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(pids.length, 3);
    assert.deepEqual(
      pids.filter((pid) => !gone(pid)),
      [],
    );
    assert.deepEqual(marked(mark), []);
  });

  it('SIGKILLs a tree that ignores SIGTERM once the grace period is over, and only then settles', async () => {
    const mark = randomBytes(6).toString('hex');
    let out = '';
    const task = shellTask(`trap '' TERM; ${TREE}`, { env: { TEST_MARK: mark } });
    const p = engine.executeTask(task, { onOutput: (c) => (out += c) });
    const pids = await pidsFrom(() => out, 3);
    const started = Date.now();
    const result: Promise<TaskResult | unknown> = p.catch((e: unknown) => e);
    await engine.cancelTask(task.id);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 300, `settled after ${elapsed} ms, before the 300 ms grace`);
    assert.ok(elapsed < 1500, `settled after ${elapsed} ms`);
    assert.ok((await result) instanceof CancelledError);
    assert.deepEqual(
      pids.filter((pid) => !gone(pid)),
      [],
    );
    assert.deepEqual(marked(mark), []);
  });

  it('does not start anything when the signal is already aborted', async () => {
    const controller = new AbortController();
    const reason = new CancelledError();
    controller.abort(reason);
    await assert.rejects(new ShellExecutor().execute({ task: shellTask('echo never'), attempt: 1, signal: controller.signal }), (e: unknown) => e === reason);
  });

  it('stops many tasks cancelled at once from one shared read of the process table', async () => {
    const mark = randomBytes(6).toString('hex');
    // How many stops each read of the table served, in order.
    const served: number[] = [];
    let asked = 0;
    class CountingScanner extends ProcessScanner {
      override snapshot(): Promise<readonly ProcessInfo[]> {
        asked++;
        return super.snapshot();
      }
    }
    const scanner = new CountingScanner(() => {
      served.push(asked);
      asked = 0;
      return scanProcesses();
    });
    const n = 12;
    const many = new TaskEngine({ executors: { shell: new ShellExecutor({ killGraceMs: 300, scanner }) } });
    try {
      const tasks = Array.from({ length: n }, () => shellTask('echo started; sleep 30', { env: { TEST_MARK: mark } }));
      const outputs = tasks.map(() => '');
      const runs = tasks.map((t, i) => many.executeTask(t, { onOutput: (c) => (outputs[i] += c) }).catch((e: unknown) => e));
      await until(() => outputs.every((o) => o.includes('started')));
      await Promise.all(tasks.map((t) => many.cancelTask(t.id)));
      assert.ok((await Promise.all(runs)).every((e) => e instanceof CancelledError));
      assert.equal(served[0], n, `reads served ${served.join(', ')} stops`);
      assert.deepEqual(marked(mark), []);
    } finally {
      await many.dispose();
      for (const pid of marked(mark)) process.kill(pid, 'SIGKILL');
    }
  });

  (linux ? it : it.skip)('records each running shell in the ledger, with its start time, and forgets it when the attempt ends', async () => {
    const store = new MemoryStore();
    const ledger = new ProcessLedger(store);
    const controller = new AbortController();
    let out = '';
    const task = shellTask('echo "pid $$"; sleep 30');
    const p = new ShellExecutor({ killGraceMs: 300, ledger }).execute({ task, attempt: 1, signal: controller.signal, onOutput: (c) => (out += c) });
    try {
      const [shell] = await pidsFrom(() => out, 1);
      await ledger.flush();
      const [entry] = parseLedger(store.get(PROCESS_LEDGER_KEY));
      assert.equal(entry?.taskId, task.id);
      assert.equal(entry?.pid, shell);
      assert.equal(entry?.startTime, readProcess(shell)?.startTime);
      assert.equal(entry?.hostPid, process.pid);
    } finally {
      controller.abort(new CancelledError());
      await p.catch(() => undefined);
    }
    await ledger.flush();
    assert.equal(store.get(PROCESS_LEDGER_KEY), undefined);
    const done = await new ShellExecutor({ ledger }).execute({ task: shellTask('true'), attempt: 1, signal: new AbortController().signal });
    assert.equal(done.exitCode, 0);
    await ledger.flush();
    assert.equal(store.get(PROCESS_LEDGER_KEY), undefined);
    assert.ok(store.writes >= 2, 'the ledger was written while the shell ran');
  });
});
