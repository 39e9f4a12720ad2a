import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { collectTree, isAlive, parseStat, readProcess, TASK_MARKER_ENV } from '../../src/core/executors/processTree';

(process.platform === 'linux' ? describe : describe.skip)('processTree', () => {
  it('parses a stat line whose command name holds spaces and parentheses', () => {
    const rest = 'S 10 20 20 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 35258 5124096';
    assert.deepEqual(parseStat(`123 (we (ird) name) ${rest}`), { pid: 123, state: 'S', ppid: 10, pgid: 20, startTime: '35258' });
    assert.equal(parseStat('garbage'), undefined);
  });

  it('never counts this process or its ancestors as part of a task', () => {
    const own = collectTree(process.pid);
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
      const found = collectTree(999_999_999, token);
      assert.ok(found.has(pid));
      assert.equal(collectTree(999_999_999, 'other-token').has(pid), false);
      assert.ok(isAlive(pid, found.get(pid)));
      assert.equal(isAlive(pid, 'not-its-start-time'), false);
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    assert.equal(readProcess(child.pid as number), undefined);
  });
});
