// What tests of real processes ask of them: is a pid gone, did a promise fail as an execution does.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ExecutionError } from '../../src/core/model/errors';

/** Gone: no /proc entry (or, off Linux, no such pid), or a zombie waiting for a reaper that may be a container's init. */
export function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }
}

/** Resolves with the ExecutionError `p` rejects with; fails the test if it resolves or rejects otherwise. */
export function failure(p: Promise<unknown>): Promise<ExecutionError> {
  return p.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => {
      assert.ok(e instanceof ExecutionError, `expected ExecutionError, got ${String(e)}`);
      return e;
    },
  );
}
