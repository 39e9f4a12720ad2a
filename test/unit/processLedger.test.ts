// The process ledger: what a killed host's shell trees are known by, and their stop on the next start.
// Real processes, short and awaited; every test stops what it started, on every path.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLedger, PROCESS_LEDGER_KEY, ProcessLedger, reapOrphans, type LedgerEntry } from '../../src/core/executors/processLedger';
import { readProcess, TASK_MARKER_ENV } from '../../src/core/executors/processTree';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import { MemoryStore } from '../../src/core/ports';
import { JsonFileStore } from '../support/jsonFileStore';

/** Live (not zombie) processes whose environment holds TEST_MARK=<mark>. */
function marked(mark: string): number[] {
  const needle = Buffer.from(`TEST_MARK=${mark}\0`);
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`).includes(needle) && readProcess(pid) !== undefined;
      } catch {
        return false;
      }
    });
}

function killMarked(mark: string): void {
  for (const pid of marked(mark)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (condition()) resolve();
      else if (Date.now() > end) reject(new Error(`Timed out waiting for ${what}`));
      else setTimeout(check, 10);
    };
    check();
  });
}

const token = (): string => randomBytes(12).toString('hex');

/** A pid that ran and has been reaped, as a killed host's is, with the start time it had. */
async function deadProcess(): Promise<{ pid: number; startTime: string }> {
  const child = spawn('sleep', ['5'], { stdio: 'ignore' });
  await once(child, 'spawn');
  const startTime = readProcess(child.pid as number)?.startTime as string;
  child.kill('SIGKILL');
  await once(child, 'exit');
  return { pid: child.pid as number, startTime };
}

/** A tree as a shell task leaves it: a shell leading its group, a background job, and a setsid'd grandchild whose parent exited. */
async function orphanTree(tok: string, mark: string): Promise<ChildProcess> {
  const shell = spawn('/bin/sh', ['-c', `sleep 30 & (setsid sleep 30 &); sleep 30`], {
    env: { ...process.env, [TASK_MARKER_ENV]: tok, TEST_MARK: mark },
    stdio: 'ignore',
    detached: true,
  });
  await once(shell, 'spawn');
  await until(() => marked(mark).length >= 4, 'the tree to start');
  return shell;
}

function entryFor(pid: number, tok: string, host: { pid: number; startTime: string }, taskId = 't1'): LedgerEntry {
  return { taskId, pid, startTime: readProcess(pid)?.startTime as string, token: tok, hostPid: host.pid, hostStartTime: host.startTime };
}

(process.platform === 'linux' ? describe : describe.skip)('processLedger', function () {
  this.timeout(15000);

  it('writes the changes of one turn in one store write, and the last state last', async () => {
    const store = new MemoryStore();
    const ledger = new ProcessLedger(store);
    const tokens = Array.from({ length: 20 }, token);
    for (const t of tokens) ledger.add('t', process.pid, t);
    assert.equal(store.writes, 0, 'no write inside the call that spawned');
    await ledger.flush();
    assert.equal(store.writes, 1);
    assert.deepEqual(
      parseLedger(store.get(PROCESS_LEDGER_KEY)).map((e) => e.token),
      tokens,
    );
    for (const t of tokens) ledger.remove(t);
    await ledger.flush();
    assert.equal(store.writes, 2);
    assert.equal(store.get(PROCESS_LEDGER_KEY), undefined);
  });

  it('spaces its writes: changes over many turns within 250 ms make two writes, not one per turn', async () => {
    const store = new MemoryStore();
    const ledger = new ProcessLedger(store);
    const tokens = Array.from({ length: 10 }, token);
    for (const t of tokens) {
      ledger.add('t', process.pid, t);
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const t of tokens) {
      ledger.remove(t);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await ledger.flush();
    assert.ok(store.writes <= 2, `${store.writes} writes for 20 changes in 20 turns`);
    assert.equal(store.get(PROCESS_LEDGER_KEY), undefined, 'the last state is written last');
  });

  it('records a pid with its start time and this host, so neither a reused pid nor a live host is mistaken', async () => {
    const store = new MemoryStore();
    const ledger = new ProcessLedger(store);
    const t = token();
    ledger.add('task-1', process.pid, t);
    await ledger.flush();
    const [entry] = parseLedger(store.get(PROCESS_LEDGER_KEY));
    const own = readProcess(process.pid)?.startTime;
    assert.deepEqual(entry, { taskId: 'task-1', pid: process.pid, startTime: own, token: t, hostPid: process.pid, hostStartTime: own });
  });

  it('survives a store that throws, rejects or reads badly: later changes are still written, and a start is not stopped', async () => {
    const inner = new MemoryStore();
    let fault: 'throw' | 'reject' | undefined = 'throw';
    const store = {
      keys: () => inner.keys(),
      get: <T>(key: string): T | undefined => {
        if (fault === 'throw') throw new Error('unreadable');
        return inner.get<T>(key);
      },
      update: (key: string, value: unknown): Promise<void> => {
        if (fault === 'throw') throw new Error('disk gone');
        if (fault === 'reject') return Promise.reject(new Error('disk full'));
        return inner.update(key, value);
      },
    };
    const ledger = new ProcessLedger(store);
    const t = token();
    ledger.add('t', process.pid, t);
    await ledger.flush();
    fault = 'reject';
    ledger.add('t', process.pid, token());
    await ledger.flush();
    assert.equal(inner.get(PROCESS_LEDGER_KEY), undefined);
    fault = undefined;
    ledger.remove(t);
    await ledger.flush();
    assert.equal(parseLedger(inner.get(PROCESS_LEDGER_KEY)).length, 1);
    fault = 'throw';
    assert.equal(await reapOrphans(store), undefined);
    fault = undefined;
    await inner.update(PROCESS_LEDGER_KEY, 'garbage');
    fault = 'reject';
    assert.equal(await reapOrphans(store), undefined);
  });

  it('ignores entries that are not what the ledger writes', () => {
    const good = { taskId: 'a', pid: 10, startTime: '5', token: 'ab'.repeat(12), hostPid: 11, hostStartTime: '4' };
    assert.deepEqual(parseLedger({ version: 1, entries: [good, { ...good, pid: 1 }, { ...good, token: '' }, { ...good, pid: '10' }, null] }), [good]);
    assert.deepEqual(parseLedger('garbage'), []);
  });

  it('stops the whole tree of a host that is gone, by group and by marker, and empties the ledger', async () => {
    const mark = randomBytes(6).toString('hex');
    const tok = token();
    let shell: ChildProcess | undefined;
    try {
      shell = await orphanTree(tok, mark);
      const host = await deadProcess();
      const store = new MemoryStore();
      await store.update(PROCESS_LEDGER_KEY, { version: 1, entries: [entryFor(shell.pid as number, tok, host, 'build')] });
      const warning = await reapOrphans(store, { killGraceMs: 300 });
      assert.deepEqual(marked(mark), []);
      assert.deepEqual(warning, { code: 'RECOVERED', message: 'Stopped 4 processes left running by a previous session (tasks `build`)' });
      assert.equal(store.get(PROCESS_LEDGER_KEY), undefined);
    } finally {
      killMarked(mark);
    }
  });

  it('stops what carries the marker even when the shell has exited and its pid is someone else', async () => {
    const mark = randomBytes(6).toString('hex');
    const tok = token();
    try {
      const stranger = spawn('sleep', ['30'], { stdio: 'ignore', env: { ...process.env, TEST_MARK: `${mark}-stranger` } });
      await once(stranger, 'spawn');
      // The marked job is not the stranger's child; the entry's pid names the stranger with another start time.
      const job = spawn('sleep', ['30'], { stdio: 'ignore', detached: true, env: { ...process.env, [TASK_MARKER_ENV]: tok, TEST_MARK: mark } });
      await once(job, 'spawn');
      const host = await deadProcess();
      const store = new MemoryStore();
      const entry = { ...entryFor(stranger.pid as number, tok, host), startTime: '1' };
      await store.update(PROCESS_LEDGER_KEY, { version: 1, entries: [entry] });
      const warning = await reapOrphans(store, { killGraceMs: 300 });
      assert.deepEqual(marked(mark), []);
      assert.deepEqual(marked(`${mark}-stranger`), [stranger.pid]);
      assert.match(warning?.message ?? '', /^Stopped 1 processes left running/);
    } finally {
      killMarked(mark);
      killMarked(`${mark}-stranger`);
    }
  });

  it('leaves alone the trees of a host that still runs', async () => {
    const mark = randomBytes(6).toString('hex');
    const tok = token();
    let shell: ChildProcess | undefined;
    try {
      shell = await orphanTree(tok, mark);
      const store = new MemoryStore();
      const self = { pid: process.pid, startTime: readProcess(process.pid)?.startTime as string };
      const ledger = { version: 1, entries: [entryFor(shell.pid as number, tok, self)] };
      await store.update(PROCESS_LEDGER_KEY, ledger);
      assert.equal(await reapOrphans(store, { killGraceMs: 300 }), undefined);
      assert.equal(marked(mark).length, 4);
      assert.deepEqual(store.get(PROCESS_LEDGER_KEY), ledger);
    } finally {
      killMarked(mark);
    }
  });

  it('after the host is SIGKILLed, the next start stops the old tree before the task runs again', async function () {
    this.timeout(30000);
    const dir = mkdtempSync(join(tmpdir(), 'orch-ledger-'));
    const storePath = join(dir, 'state.json');
    const mark = randomBytes(6).toString('hex');
    let host: ChildProcess | undefined;
    let orchestrator: Awaited<ReturnType<typeof createOrchestrator>> | undefined;
    try {
      host = spawn(
        process.execPath,
        ['--import', 'tsx', join(__dirname, '../support/crashingHost.ts'), storePath, 'sleep 60 & (setsid sleep 60 &); sleep 60', mark],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let out = '';
      host.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
      await until(() => out.includes('ready') || host?.exitCode !== null, 'the host to start its task', 20000);
      assert.match(out, /^ready /);
      const id = out.trim().split(' ')[1];
      await until(() => marked(mark).length >= 4, 'the task tree to start');
      const old = marked(mark);
      host.kill('SIGKILL');
      await once(host, 'exit');
      assert.deepEqual(
        old.filter((pid) => readProcess(pid) === undefined),
        [],
        'the tree outlives its host',
      );

      orchestrator = await createOrchestrator({ store: new JsonFileStore(storePath), killGraceMs: 300 });
      assert.deepEqual(
        old.filter((pid) => readProcess(pid) !== undefined),
        [],
        'the old tree is stopped',
      );
      const warning = orchestrator.warnings.find((w) => w.message.includes('left running by a previous session'));
      assert.equal(warning?.message, `Stopped 4 processes left running by a previous session (tasks \`${id}\`)`);
      // It runs again (one retry left): a new tree, not the old one.
      await until(() => orchestrator?.getTask(id)?.status === 'running' && marked(mark).length >= 4, 'the task to run again');
      assert.deepEqual(
        marked(mark).filter((pid) => old.includes(pid)),
        [],
      );
    } finally {
      if (host && host.exitCode === null && host.signalCode === null) host.kill('SIGKILL');
      await orchestrator?.dispose();
      killMarked(mark);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
