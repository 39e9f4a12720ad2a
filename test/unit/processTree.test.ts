import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  collectTree,
  isAlive,
  markerIn,
  parseStat,
  ProcessScanner,
  readProcess,
  scanProcesses,
  TASK_MARKER_ENV,
  treeIn,
  type ProcessInfo,
} from '../../src/core/executors/processTree';

(process.platform === 'linux' ? describe : describe.skip)('processTree', () => {
  it('parses a stat line whose command name holds spaces and parentheses', () => {
    const rest = 'S 10 20 20 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 35258 5124096';
    assert.deepEqual(parseStat(`123 (we (ird) name) ${rest}`), { pid: 123, state: 'S', ppid: 10, pgid: 20, startTime: '35258' });
    assert.equal(parseStat('garbage'), undefined);
  });

  it('never counts this process or its ancestors as part of a task', async () => {
    const own = await collectTree(process.pid);
    assert.equal(own.has(process.pid), false);
    assert.equal(own.has(process.ppid), false);
  });

  it('finds a process by its marker alone, and tells a live process from a recycled pid', async () => {
    const token = 'unit-test-token';
    // Not our descendant through the pid it is asked about: only the marker links it.
    const child = spawn('/bin/sh', ['-c', 'sleep 5'], { env: { ...process.env, [TASK_MARKER_ENV]: token }, stdio: 'ignore' });
    await once(child, 'spawn');
    try {
      const pid = child.pid as number;
      const found = await collectTree(999_999_999, token);
      assert.ok(found.has(pid));
      assert.equal((await collectTree(999_999_999, 'other-token')).has(pid), false);
      assert.ok(isAlive(pid, found.get(pid)));
      assert.equal(isAlive(pid, 'not-its-start-time'), false);
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    assert.equal(readProcess(child.pid as number), undefined);
  });

  it('reads a marker only as a whole environment entry', () => {
    const env = (...entries: string[]): Buffer => Buffer.from(`${entries.join('\0')}\0`);
    assert.equal(markerIn(env('A=1', `${TASK_MARKER_ENV}=abc`, 'B=2')), 'abc');
    assert.equal(markerIn(env(`${TASK_MARKER_ENV}=first`)), 'first');
    assert.equal(markerIn(env(`X_${TASK_MARKER_ENV}=abc`)), undefined);
    assert.equal(markerIn(env('A=1')), undefined);
  });

  it('reads the table once for all the stops asked for in one turn, and afresh for a later one', async () => {
    let scans = 0;
    const table: ProcessInfo[] = [
      { pid: 500, ppid: 1, pgid: 500, state: 'S', startTime: '1', token: 'tok-a' },
      { pid: 501, ppid: 500, pgid: 500, state: 'S', startTime: '2' },
      { pid: 600, ppid: 1, pgid: 600, state: 'S', startTime: '3', token: 'tok-b' },
    ];
    const scanner = new ProcessScanner(() => {
      scans++;
      return Promise.resolve(table);
    });
    const stops = Array.from({ length: 40 }, (_, i) => collectTree(500 + (i % 2) * 100, i % 2 ? 'tok-b' : 'tok-a', false, scanner));
    // Asked for from a microtask of the same turn: still the same read.
    const late = Promise.resolve().then(() => collectTree(600, 'tok-b', false, scanner));
    const trees = await Promise.all([...stops, late]);
    assert.equal(scans, 1);
    assert.deepEqual([...trees[0].keys()].sort(), [500, 501]);
    assert.deepEqual([...trees[1].keys()], [600]);
    await collectTree(500, 'tok-a', false, scanner);
    assert.equal(scans, 2);
  });

  it('reads /proc without blocking: stat and marker of every process, this one included', async () => {
    const pending = scanProcesses();
    assert.ok(pending instanceof Promise);
    const table = await pending;
    const own = table.find((p) => p.pid === process.pid);
    assert.equal(own?.startTime, readProcess(process.pid)?.startTime);
    assert.ok(table.length > 1);
  });

  it('takes a whole group only when asked, and a marker anywhere in the table', () => {
    const table: ProcessInfo[] = [
      { pid: 700, ppid: 1, pgid: 700, state: 'S' },
      { pid: 701, ppid: 1, pgid: 700, state: 'S' },
      { pid: 702, ppid: 1, pgid: 702, state: 'S', token: 't' },
      { pid: 703, ppid: 702, pgid: 702, state: 'S' },
    ];
    assert.deepEqual([...treeIn(table, { token: 't' }).keys()].sort(), [702, 703]);
    assert.deepEqual([...treeIn(table, { root: 700, group: 700 }).keys()].sort(), [700, 701]);
    assert.deepEqual([...treeIn(table, { root: 700 }).keys()], [700]);
  });
});
