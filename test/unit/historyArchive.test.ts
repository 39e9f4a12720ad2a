import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskRecord } from '../../src/core/model/model';
import { FileHistoryArchive } from '../../src/extension/storage/historyArchive';

function record(id: string): TaskRecord {
  return {
    id,
    name: id,
    kind: 'shell',
    status: 'completed',
    priority: 0,
    attempts: 1,
    createdAt: 1,
    history: [],
    spec: { name: id, kind: 'shell' },
    dependsOn: [],
  };
}

describe('historyArchive', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrator-archive-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('appends records as JSON lines, in order, and reads them back oldest first', async () => {
    const archive = new FileHistoryArchive(join(dir, 'nested'));
    await Promise.all([archive.append([record('a'), record('b')]), archive.append([record('c')])]);
    assert.deepEqual(
      (await archive.read()).map((r) => (r as TaskRecord).id),
      ['a', 'b', 'c'],
    );
    assert.equal(readFileSync(archive.file, 'utf8').split('\n').filter(Boolean).length, 3);
  });

  it('skips a line cut by a crash and keeps the rest', async () => {
    await new FileHistoryArchive(dir).append([record('a')]);
    const file = join(dir, 'history.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8') + '{"id":"cut');
    // The next session's archive appends after the cut line, not onto it.
    const archive = new FileHistoryArchive(dir);
    await archive.append([record('b')]);
    assert.deepEqual(
      (await archive.read()).map((r) => (r as TaskRecord).id),
      ['a', 'b'],
    );
  });

  it('rotates once past its size, so it stays bounded at about twice that', async () => {
    const archive = new FileHistoryArchive(dir, 600);
    for (let i = 0; i < 20; i++) await archive.append([record(`r${i}`)]);
    const ids = (await archive.read()).map((r) => (r as TaskRecord).id);
    assert.ok(ids.length < 20 && ids.length > 2, `${ids.length} kept`);
    assert.equal(ids.at(-1), 'r19');
    assert.ok(existsSync(join(dir, 'history.1.jsonl')));
  });

  it('clears both files', async () => {
    const archive = new FileHistoryArchive(dir, 600);
    for (let i = 0; i < 10; i++) await archive.append([record(`r${i}`)]);
    await archive.clear();
    assert.deepEqual(await archive.read(), []);
  });
});
