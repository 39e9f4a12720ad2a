import * as assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskRecord, TaskStatus } from '../../src/core/model/model';
import { ValidationError } from '../../src/core/model/errors';
import { RunJournal, type JournalWarning, type RunJournalOptions } from '../../src/core/history/runJournal';
import { encodeFrame } from '../../src/core/history/recordFrame';
import type { HistoryRun } from '../../src/core/history/historyTypes';
import { finishedRecord } from '../support/finishedRecord';

const DAY = 24 * 60 * 60 * 1000;
const NOW = 1_800_000_000_000;

function record(id: string, over: Parameters<typeof finishedRecord>[2] = {}): TaskRecord {
  return finishedRecord(id, over.finishedAt ?? NOW - 1000, over);
}

function ids(runs: HistoryRun[]): string[][] {
  return runs.map((r) => r.tasks.map((t) => t.id));
}

describe('runJournal', () => {
  let dir = '';
  let warnings: JournalWarning[] = [];
  const open = (o: Partial<RunJournalOptions> = {}) => new RunJournal({ dir: join(dir, 'journal'), now: () => NOW, onWarn: (w) => warnings.push(w), ...o });
  const segments = () =>
    readdirSync(join(dir, 'journal'))
      .filter((n) => n.endsWith('.log'))
      .sort();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestrator-journal-'));
    warnings = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('appends finished records and reads them back newest first, with their output tails, after a reopen', async () => {
    const j = open();
    await j.append([record('a', { finishedAt: NOW - 3000, output: 'out a' }), record('b', { finishedAt: NOW - 2000 })]);
    await j.append([record('c', { finishedAt: NOW - 1000 })]);
    assert.deepEqual(ids((await j.search({})).runs), [['c'], ['b'], ['a']]);
    await j.close();
    const again = open();
    assert.deepEqual(ids((await again.search({})).runs), [['c'], ['b'], ['a']]);
    assert.equal(await again.output('a'), 'out a');
    assert.equal(await again.output('b'), undefined);
    assert.equal(await again.output('nope'), undefined);
    assert.deepEqual(warnings, []);
  });

  it('keeps only finished records, and a task appended again replaces its older record', async () => {
    const j = open();
    await j.append([record('a', { status: 'scheduled', finishedAt: undefined }), record('b', { output: 'first' })]);
    await j.append([record('b', { output: 'second' })]);
    assert.equal(await j.count(), 1);
    assert.equal(await j.output('b'), 'second');
    await j.close();
    assert.equal(await open().output('b'), 'second');
  });

  it('fires onDidAppend after an append and a removal', async () => {
    const j = open();
    let fired = 0;
    j.onDidAppend(() => fired++);
    await j.append([record('a')]);
    await j.remove(['a']);
    await j.remove(['unknown']);
    assert.equal(fired, 2);
  });

  it('skips a torn last entry (a crash mid-append), cuts it off and appends after it on a line of its own', async () => {
    const j = open();
    await j.append([record('a'), record('b')]);
    await j.close();
    const seg = join(dir, 'journal', segments()[0] as string);
    const whole = encodeFrame({ t: 'rec', r: record('torn') });
    appendFileSync(seg, whole.subarray(0, whole.length - 9));
    const again = open();
    assert.equal(await again.count(), 2);
    await again.append([record('c')]);
    await again.close();
    const third = open();
    assert.deepEqual((await third.search({})).runs.map((r) => r.tasks[0]?.id).sort(), ['a', 'b', 'c']);
    assert.equal(third.stats.corruptEntries, 0);
    assert.deepEqual(warnings, [], 'a torn tail is what a crash leaves: expected, not reported');
  });

  it('skips and reports a damaged entry in the middle of a segment, and an unreadable segment, without throwing', async () => {
    const j = open();
    await j.append([record('a', { output: 'x'.repeat(100) }), record('b'), record('c')]);
    await j.close();
    const seg = join(dir, 'journal', segments()[0] as string);
    const bytes = readFileSync(seg);
    bytes[60] = bytes[60] === 0x78 ? 0x79 : 0x78; // inside a's JSON
    writeFileSync(seg, bytes);
    mkdirSync(join(dir, 'journal', 'seg-000002.log')); // a segment that cannot be read as a file
    const again = open();
    assert.deepEqual((await again.search({})).runs.map((r) => r.tasks[0]?.id).sort(), ['b', 'c']);
    assert.equal(again.stats.corruptEntries, 1);
    assert.equal(again.stats.unreadableSegments, 1);
    assert.ok(
      warnings.some((w) => w.code === 'CORRUPT_HISTORY' && w.message.includes('1 damaged entries')),
      JSON.stringify(warnings),
    );
    assert.ok(
      warnings.some((w) => w.code === 'CORRUPT_HISTORY' && w.message.includes('seg-000002.log')),
      JSON.stringify(warnings),
    );
  });

  it('leaves an unreadable last segment as it is, and appends to a new segment numbered after it', async () => {
    const j = open({ segmentBytes: 1024 });
    for (let i = 0; i < 6; i++) await j.append([record(`t${i}`, { finishedAt: NOW - 100_000 + i, output: 'o'.repeat(100) })]);
    await j.close();
    const last = segments().at(-1) as string;
    const n = Number(/seg-(\d+)/.exec(last)?.[1]);
    const unreadable = `seg-${String(n + 1).padStart(6, '0')}.log`;
    mkdirSync(join(dir, 'journal', unreadable)); // where a later session's records would be, if it could be read
    const again = open({ segmentBytes: 1024 });
    // The records after it go after it: replayed before it, they would be overridden by older ones if it became readable.
    for (let i = 6; i < 9; i++) await again.append([record(`t${i}`, { finishedAt: NOW - 100_000 + i, output: 'o'.repeat(100) })]);
    await again.close();
    assert.equal(again.stats.unreadableSegments, 1);
    const after = segments().filter((s) => s !== unreadable);
    assert.ok(
      after.slice(-1).every((s) => s > unreadable),
      `new records go to a segment after ${unreadable}: ${after.join()}`,
    );
    const third = open({ segmentBytes: 1024 });
    assert.equal(await third.count(), 9);
    assert.equal(await third.output('t8'), 'o'.repeat(100));
    assert.ok(readdirSync(join(dir, 'journal', unreadable)).length === 0, 'the unreadable segment is left as it was');
  });

  it('compacts the segment a rotation seals in that same rotation', async () => {
    const j = open({ segmentBytes: 1024 });
    // Two records of 465 bytes and their tombstone (50): the first segment, under its 1024 bytes.
    await j.append([record('gone1', { output: 'g'.repeat(150) }), record('gone2', { output: 'g'.repeat(150) })]);
    await j.remove(['gone1', 'gone2']);
    const seg1 = join(dir, 'journal', 'seg-000001.log');
    assert.equal(segments().length, 1);
    // A live record (315) fills it; the next append seals it, three quarters dead.
    await j.append([record('kept')]);
    await j.append([record('next')]);
    assert.equal(j.stats.compactions, 1);
    const text = readFileSync(seg1, 'utf8');
    assert.ok(!text.includes('"id":"gone1"') && text.includes('"id":"kept"'), 'the dead records are gone from the sealed segment');
    await j.close();
    assert.deepEqual(
      ids((await open({ segmentBytes: 1024 }).search({})).runs)
        .flat()
        .sort(),
      ['kept', 'next'],
    );
  });

  it('opens even when moving an older history.jsonl in fails, says so, and moves it at the next start', async () => {
    writeFileSync(join(dir, 'history.jsonl'), [record('old1'), record('old2')].map((r) => JSON.stringify(r)).join('\n') + '\n');
    mkdirSync(join(dir, 'history.1.jsonl')); // read as absent, but it cannot be removed as a file
    const j = open({ legacyDir: dir });
    assert.equal(await j.count(), 2);
    await j.append([record('new')]);
    assert.equal(await j.count(), 3);
    assert.ok(
      warnings.some((w) => w.code === 'HISTORY_FAILED' && w.message.includes('history.jsonl')),
      JSON.stringify(warnings),
    );
    await j.close();
    rmSync(join(dir, 'history.1.jsonl'), { recursive: true });
    const again = open({ legacyDir: dir });
    assert.equal(await again.count(), 3);
    assert.ok(!existsSync(join(dir, 'history.jsonl')));
  });

  it('reports a record whose bytes changed after the index was built, and returns nothing for it', async () => {
    const j = open();
    await j.append([record('a', { output: 'tail' })]);
    const seg = join(dir, 'journal', segments()[0] as string);
    const bytes = readFileSync(seg);
    bytes[bytes.length - 5] ^= 1;
    writeFileSync(seg, bytes);
    assert.equal(await j.output('a'), undefined);
    assert.equal(warnings[0]?.code, 'CORRUPT_HISTORY');
  });

  it('remove() is not undone by the same record appended again later (the archive hand-off after the feed), but a rerun is kept', async () => {
    const j = open();
    await j.append([record('a', { finishedAt: NOW - 5000 }), record('b', { finishedAt: NOW - 4000 })]);
    await j.remove(['a']);
    await j.append([record('a', { finishedAt: NOW - 5000 })]);
    assert.deepEqual(ids((await j.search({})).runs), [['b']]);
    await j.close();
    const again = open();
    await again.append([record('a', { finishedAt: NOW - 5000 })]);
    assert.deepEqual(ids((await again.search({})).runs), [['b']]);
    await again.append([record('a', { finishedAt: NOW - 100 })]);
    assert.deepEqual(ids((await again.search({})).runs), [['a'], ['b']]);
  });

  it('remove() hides tasks at once and after a reopen; compaction then drops them from disk', async () => {
    const j = open({ segmentBytes: 1024 });
    for (let i = 0; i < 20; i++) await j.append([record(`t${i}`, { finishedAt: NOW - 100_000 + i, output: 'o'.repeat(100) })]);
    await j.remove(['t3', 't4']);
    assert.equal((await j.search({ text: 't3' })).runs.length, 0);
    await j.close();
    const again = open({ segmentBytes: 1024 });
    assert.equal(await again.count(), 18);
    assert.equal(await again.output('t3'), undefined);
    const before = segments()
      .map((n) => readFileSync(join(dir, 'journal', n), 'utf8'))
      .join('');
    assert.ok(before.includes('"id":"t3"'));
    // Remove most of the history: its segments are now mostly dead, and compaction rewrites them.
    await again.remove(Array.from({ length: 15 }, (_, i) => `t${i}`));
    await again.compact();
    const after = segments()
      .map((n) => readFileSync(join(dir, 'journal', n), 'utf8'))
      .join('');
    assert.ok(!after.includes('"id":"t3"') && !after.includes('"id":"t10"'), 'removed records are gone from disk');
    assert.ok(again.stats.compactions > 0);
    assert.deepEqual(
      (await again.search({})).runs.map((r) => r.tasks[0]?.id),
      ['t19', 't18', 't17', 't16', 't15'],
    );
    await again.close();
    const third = open({ segmentBytes: 1024 });
    assert.deepEqual(
      (await third.search({})).runs.map((r) => r.tasks[0]?.id),
      ['t19', 't18', 't17', 't16', 't15'],
    );
    assert.equal(await third.output('t19'), 'o'.repeat(100));
    assert.ok(!existsSync(join(dir, 'journal', `${segments()[0]}.tmp`)));
    assert.deepEqual(warnings, []);
  });

  it('keeps a tombstone while an older segment that compaction left alone still holds the record it hides', async () => {
    const j = open({ segmentBytes: 1024 });
    for (let i = 0; i < 12; i++) await j.append([record(`t${i}`, { finishedAt: NOW - 100_000 + i, output: 'o'.repeat(100) })]);
    // t0 sits in the first segment, which stays mostly live; the segment with the tombstone ends up all dead.
    await j.remove(['t0']);
    await j.remove(['t9', 't10', 't11']);
    await j.compact();
    const before = (await j.search({}, undefined, 100)).runs.map((r) => r.tasks[0]?.id);
    await j.close();
    const again = open({ segmentBytes: 1024 });
    assert.deepEqual(
      (await again.search({}, undefined, 100)).runs.map((r) => r.tasks[0]?.id),
      before,
    );
    assert.equal(await again.output('t0'), undefined);
  });

  it('opens sealed segments from their index files, and reads a segment whose index is damaged or stale instead', async () => {
    const j = open({ segmentBytes: 1024 });
    for (let i = 0; i < 12; i++) await j.append([record(`t${i}`, { finishedAt: NOW - 100_000 + i, workflowId: i % 2 ? 'wf' : undefined, output: `out ${i}` })]);
    await j.remove(['t4']);
    const expected = ids((await j.search({}, undefined, 100)).runs);
    await j.close();
    const sealed = segments().length - 1;
    const fromIndex = open({ segmentBytes: 1024 });
    assert.deepEqual(ids((await fromIndex.search({}, undefined, 100)).runs), expected);
    assert.equal(fromIndex.stats.segmentsFromIndex, sealed);
    assert.equal(await fromIndex.output('t3'), 'out 3');
    const idx = (n: number) => join(dir, 'journal', `seg-${String(n).padStart(6, '0')}.idx`);
    writeFileSync(idx(1), 'garbage');
    appendFileSync(join(dir, 'journal', 'seg-000002.log'), ''); // unchanged size: still used
    const bytes = readFileSync(idx(2));
    writeFileSync(idx(2), bytes.subarray(0, bytes.length - 3)); // torn
    const again = open({ segmentBytes: 1024 });
    assert.deepEqual(ids((await again.search({}, undefined, 100)).runs), expected);
    assert.equal(again.stats.segmentsFromIndex, sealed - 2);
    assert.deepEqual(warnings, []);
  });

  it('rotates segments at segmentBytes, and reading spans them', async () => {
    const j = open({ segmentBytes: 1024 });
    for (let i = 0; i < 30; i++) await j.append([record(`t${i}`, { finishedAt: NOW - 100_000 + i, output: 'o'.repeat(100) })]);
    assert.ok(segments().length > 3, segments().join());
    for (const n of segments().slice(0, -1)) assert.ok(statSync(join(dir, 'journal', n)).size < 1024 + 600);
    await j.close();
    assert.equal(await open().count(), 30);
  });

  it('keeps records for retentionDays and at most maxRuns runs, hiding the rest and compacting them away', async () => {
    let now = NOW;
    const j = open({ segmentBytes: 1024, now: () => now, maxRuns: 5 });
    await j.append([record('old', { finishedAt: NOW - 31 * DAY }), record('recent', { finishedAt: NOW - 29 * DAY })]);
    assert.deepEqual(ids((await j.search({})).runs), [['recent']]);
    now += 2 * DAY;
    assert.deepEqual(ids((await j.search({})).runs), []);
    now = NOW;
    for (let i = 0; i < 8; i++) await j.append([record(`w${i}`, { workflowId: `wf${i % 4}`, finishedAt: NOW - 1000 + i, output: 'x'.repeat(200) })]);
    await j.append([record('single', { finishedAt: NOW - 10 })]);
    await j.compact();
    // Newest five runs: single, wf3 (w7, w3), wf2, wf1, wf0; `recent` is the sixth.
    assert.deepEqual(ids((await j.search({})).runs), [['single'], ['w3', 'w7'], ['w2', 'w6'], ['w1', 'w5'], ['w0', 'w4']]);
    await j.close();
    const text = segments()
      .map((n) => readFileSync(join(dir, 'journal', n), 'utf8'))
      .join('');
    assert.ok(!text.includes('"id":"old"'), 'an expired record is compacted away');
  });

  describe('search', () => {
    async function filled(): Promise<RunJournal> {
      const j = open();
      await j.append([
        record('lint', { workflowId: 'wf-1', command: 'npm run lint', finishedAt: NOW - 5000, exitCode: 0 }),
        record('build', {
          workflowId: 'wf-1',
          command: 'tsc -b',
          finishedAt: NOW - 4000,
          status: 'failed',
          exitCode: 2,
          error: { message: 'Type error in app.ts' },
        }),
        record('deploy', { command: 'scp dist host:', finishedAt: NOW - 3000, status: 'cancelled' }),
        record('test', { workflowId: 'wf-2', command: 'mocha', finishedAt: NOW - 2000, exitCode: 0 }),
        record('docs', { command: 'typedoc', finishedAt: NOW - 1000, status: 'failed', exitCode: 1 }),
      ]);
      return j;
    }

    it('groups a workflow run and orders runs by their newest task', async () => {
      const j = await filled();
      assert.deepEqual(ids((await j.search({})).runs), [['docs'], ['test'], ['deploy'], ['lint', 'build']]);
      const run = (await j.search({ workflow: 'wf-1' })).runs[0] as HistoryRun;
      assert.equal(run.workflowId, 'wf-1');
      assert.equal(run.startedAt, NOW - 5050);
      assert.equal(run.finishedAt, NOW - 4000);
    });

    it('filters by text (name, command, workflow, error message), status, exit code and date range', async () => {
      const j = await filled();
      assert.deepEqual(ids((await j.search({ text: 'LINT' })).runs), [['lint']]);
      assert.deepEqual(ids((await j.search({ text: 'typedoc' })).runs), [['docs']]);
      assert.deepEqual(ids((await j.search({ text: 'type error' })).runs), [['build']]);
      assert.deepEqual(ids((await j.search({ text: 'wf-2' })).runs), [['test']]);
      assert.deepEqual(ids((await j.search({ status: ['failed', 'cancelled'] })).runs), [['docs'], ['deploy'], ['build']]);
      assert.deepEqual(ids((await j.search({ exitCode: 0 })).runs), [['test'], ['lint']]);
      assert.deepEqual(ids((await j.search({ from: NOW - 4000, to: NOW - 2000 })).runs), [['test'], ['deploy'], ['build']]);
      assert.deepEqual(ids((await j.search({ text: 'tsc', status: ['completed'] })).runs), []);
    });

    it('pages with a cursor: every run once, newest first, and no `next` on the last page', async () => {
      const j = open();
      for (let i = 0; i < 25; i++)
        await j.append([record(`t${i}`, { workflowId: i % 5 === 0 ? undefined : `wf${Math.floor(i / 5)}`, finishedAt: NOW - 1000 + i })]);
      const seen: string[][] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await j.search({}, cursor, 3);
        assert.ok(page.runs.length > 0 && page.runs.length <= 3);
        seen.push(...ids(page.runs));
        cursor = page.next;
        pages++;
      } while (cursor !== undefined);
      assert.deepEqual(seen, ids((await j.search({}, undefined, 100)).runs));
      assert.equal(seen.flat().length, 25);
      assert.equal(pages, 4); // 10 runs: 5 single tasks and 5 workflow runs
    });

    it('refuses a bad query, page size or cursor with a ValidationError naming it', async () => {
      const j = await filled();
      await assert.rejects(
        j.search({ status: ['done' as TaskStatus] }),
        (e: unknown) => e instanceof ValidationError && /Expected `status` to be an array of/.test(e.message),
      );
      await assert.rejects(j.search({ exitCode: 1.5 }), /Expected `exitCode` to be an integer, got `1.5` \(number\)/);
      await assert.rejects(j.search({}, undefined, 0), /Expected `pageSize` to be an integer from 1 to 1000/);
      await assert.rejects(j.search({}, 'garbage!'), /Expected `cursor` to be a previous page's `next`/);
      await assert.rejects(j.remove('a' as unknown as string[]), /Expected `taskIds` to be an array of task ids/);
    });
  });

  it('clear() deletes every segment, and the journal goes on appending after it', async () => {
    const j = open({ segmentBytes: 1024 });
    for (let i = 0; i < 10; i++) await j.append([record(`t${i}`, { output: 'o'.repeat(200) })]);
    await j.clear();
    assert.deepEqual(segments(), []);
    assert.equal(await j.count(), 0);
    await j.append([record('after')]);
    await j.close();
    assert.deepEqual(ids((await open().search({})).runs), [['after']]);
  });

  it('migrates an older history.jsonl once, then deletes it', async () => {
    const lines = [JSON.stringify(record('old1')), '{"cut by a cra', JSON.stringify(record('old2'))].join('\n') + '\n';
    writeFileSync(join(dir, 'history.1.jsonl'), JSON.stringify(record('older')) + '\n');
    writeFileSync(join(dir, 'history.jsonl'), lines);
    const j = open({ legacyDir: dir });
    assert.equal(await j.count(), 3);
    assert.equal(j.stats.migrated, 3);
    assert.ok(!existsSync(join(dir, 'history.jsonl')) && !existsSync(join(dir, 'history.1.jsonl')));
    await j.close();
    const again = open({ legacyDir: dir });
    assert.equal(await again.count(), 3);
    assert.equal(again.stats.migrated, 0);
  });
});
