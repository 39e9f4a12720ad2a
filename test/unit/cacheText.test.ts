import * as assert from 'node:assert/strict';
import type { TaskRecord, TaskResult } from '../../src/core/model/model';
import { cacheDescriptionParts, cacheTooltipRows } from '../../src/extension/tasksView/cacheText';

const KEY = 'a4f3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3';

function record(status: TaskRecord['status'], result?: TaskResult, extra: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: 't1',
    name: 'Build',
    kind: 'shell',
    spec: { name: 'Build', kind: 'shell', command: 'npm run build' },
    status,
    priority: 0,
    dependsOn: [],
    attempts: 1,
    createdAt: 0,
    history: [],
    ...(result ? { result } : {}),
    ...extra,
  } as TaskRecord;
}

describe('cacheText', () => {
  it('describes a cache hit as cached and the time it saved, in the duration format', () => {
    assert.deepEqual(cacheDescriptionParts(record('completed', { cached: { key: KEY, savedMs: 41_000 }, cacheKey: KEY })), ['cached', 'saved 41.0 s']);
    assert.equal(cacheDescriptionParts(record('completed', { cached: { key: KEY, savedMs: 41_000 } })).join(' · '), 'cached · saved 41.0 s');
  });

  it('says nothing for a task that ran, cached key or not', () => {
    assert.deepEqual(cacheDescriptionParts(record('completed', { exitCode: 0, cacheKey: KEY })), []);
    assert.deepEqual(cacheDescriptionParts(record('completed')), []);
    assert.deepEqual(cacheTooltipRows(record('completed')), []);
  });

  it('marks a flaky task in the description and the tooltip, cached or not', () => {
    assert.deepEqual(cacheDescriptionParts(record('failed', { exitCode: 1, cacheKey: KEY, flaky: true })), ['flaky']);
    assert.deepEqual(cacheDescriptionParts(record('completed', { cached: { key: KEY, savedMs: 900 }, flaky: true })), ['cached', 'saved 900 ms', 'flaky']);
    assert.ok(cacheTooltipRows(record('failed', { cacheKey: KEY, flaky: true })).some(([k, v]) => k === 'Flaky' && /once completed and once failed/.test(v)));
  });

  it("names the entry a hit was restored from by its key's prefix, and a run's key likewise", () => {
    assert.deepEqual(cacheTooltipRows(record('completed', { cached: { key: KEY, savedMs: 41_000 }, cacheKey: KEY })), [
      ['Restored from cache', 'entry a4f3b2c1d0e9…, saved 41.0 s'],
    ]);
    assert.deepEqual(cacheTooltipRows(record('completed', { exitCode: 0, cacheKey: KEY })), [['Cache key', 'a4f3b2c1d0e9…']]);
  });

  it('says a task run without the cache did not read it', () => {
    assert.deepEqual(cacheTooltipRows(record('completed', { exitCode: 0, cacheKey: KEY }, { noCache: true })), [
      ['Cache key', 'a4f3b2c1d0e9…'],
      ['Cache', 'not read (Run Without Cache)'],
    ]);
  });
});
