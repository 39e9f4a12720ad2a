import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CacheError } from '../../src/core/cache/cacheErrors';
import { cacheKey } from '../../src/core/cache/cacheKey';
import { CacheStore, type CacheEntry, type CacheStoreOptions } from '../../src/core/cache/cacheStore';
import { ValidationError } from '../../src/core/model/errors';
import { ManualClock } from '../support/manualClock';

const CACHE_STORE_MODULE = path.resolve(__dirname, '../../src/core/cache/cacheStore.ts');
const scratchDirs: string[] = [];

function scratch(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cacheStore-'));
  scratchDirs.push(dir);
  return dir;
}

function write(root: string, rel: string, content: string | Buffer, mode?: number): void {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  if (mode !== undefined) chmodSync(file, mode);
}

const key = (name: string): string => cacheKey({ kind: 'shell', command: name, env: {}, files: [], dependencyKeys: [] });
const data = (output = 'built\n'): Omit<CacheEntry, 'key' | 'outputs'> => ({ output, result: { exitCode: 0 }, durationMs: 4100, createdAt: 1000 });

/** Every file under `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort();
}

function store(dir: string, options: CacheStoreOptions = {}): CacheStore & { warnings: string[] } {
  const warnings: string[] = [];
  const s = new CacheStore(dir, { onWarn: (m) => warnings.push(m), ...options });
  return Object.assign(s, { warnings });
}

describe('CacheStore', () => {
  after(() => {
    for (const d of scratchDirs) rmSync(d, { recursive: true, force: true });
  });

  it('stores outputs and restores them, content and modes, under another root', async () => {
    const root = scratch();
    write(root, 'dist/app.js', '#!/usr/bin/env node\n', 0o755);
    write(root, 'dist/sub/data.txt', 'data', 0o640);
    write(root, 'src/index.ts', 'not an output');
    const s = store(scratch());
    const k = key('build');
    await s.put(k, root, ['dist/**'], data());
    const entry = await s.get(k);
    assert.ok(entry);
    assert.equal(entry.key, k);
    assert.equal(entry.output, 'built\n');
    assert.deepEqual(entry.result, { exitCode: 0 });
    assert.equal(entry.durationMs, 4100);
    assert.deepEqual(
      entry.outputs.map((o) => [o.path, o.mode]),
      [
        ['dist/app.js', 0o755],
        ['dist/sub/data.txt', 0o640],
      ],
    );
    const other = scratch();
    write(other, 'dist/app.js', 'stale', 0o600);
    await s.restore(entry, other);
    assert.deepEqual(
      filesUnder(other),
      ['dist/app.js', 'dist/sub/data.txt'].map((p) => p.split('/').join(path.sep)),
    );
    assert.equal(readFileSync(path.join(other, 'dist/app.js'), 'utf8'), '#!/usr/bin/env node\n');
    assert.equal(readFileSync(path.join(other, 'dist/sub/data.txt'), 'utf8'), 'data');
    assert.equal(statSync(path.join(other, 'dist/app.js')).mode & 0o777, 0o755);
    assert.equal(statSync(path.join(other, 'dist/sub/data.txt')).mode & 0o777, 0o640);
    assert.deepEqual(s.warnings, []);
  });

  it('misses a key never stored, silently', async () => {
    const s = store(scratch());
    assert.equal(await s.get(key('never')), undefined);
    assert.deepEqual(s.warnings, []);
  });

  it('refuses output globs outside the root, storing nothing', async () => {
    const root = scratch();
    const dir = scratch();
    write(root, 'dist/a.js', 'a');
    const s = store(dir);
    for (const glob of ['../**', 'dist/../../x', '/etc/**', 'C:\\x']) {
      await assert.rejects(s.put(key('b'), root, [glob], data()), (err: unknown) => err instanceof ValidationError && /outputs\[0\]/.test(err.message), glob);
    }
    assert.deepEqual(filesUnder(dir), []);
  });

  it('never restores outside the root: a path leaving it, or a folder that links out of it', async () => {
    const root = scratch();
    write(root, 'dist/a.js', 'a');
    const s = store(scratch());
    const k = key('b');
    await s.put(k, root, ['dist/**'], data());
    const entry = await s.get(k);
    assert.ok(entry);
    const target = scratch();
    const escaping: CacheEntry = { ...entry, outputs: [{ ...entry.outputs[0]!, path: '../escaped.js' }] };
    await assert.rejects(s.restore(escaping, target), (err: unknown) => err instanceof CacheError && err.code === 'CACHE_OUTSIDE_ROOT');
    assert.equal(existsSync(path.join(path.dirname(target), 'escaped.js')), false);
    const outside = scratch();
    symlinkSync(outside, path.join(target, 'dist'));
    await assert.rejects(s.restore(entry, target), (err: unknown) => err instanceof CacheError && err.code === 'CACHE_OUTSIDE_ROOT');
    assert.deepEqual(filesUnder(outside), []);
  });

  it('takes a corrupted blob for a miss, warns once naming the entry, removes it, and never restores it', async () => {
    const root = scratch();
    const dir = scratch();
    write(root, 'dist/a.js', 'good content');
    const s = store(dir);
    const k = key('b');
    await s.put(k, root, ['dist/**'], data());
    const [blob] = filesUnder(path.join(dir, 'blobs'));
    assert.ok(blob);
    writeFileSync(path.join(dir, 'blobs', blob), 'evil content');
    assert.equal(await s.get(k), undefined);
    assert.equal(s.warnings.length, 1);
    assert.match(s.warnings[0]!, new RegExp(`Cache entry \`${k}\` is corrupt \\(the content of \`dist/a.js\` does not match its hash\\)`));
    assert.equal(existsSync(path.join(dir, 'entries', `${k}.json`)), false);
    assert.equal(await s.get(k), undefined);
    assert.equal(s.warnings.length, 1, 'reported once');
  });

  it('refuses to restore a blob corrupted after get, leaving the outputs as they were', async () => {
    const root = scratch();
    const dir = scratch();
    write(root, 'dist/a.js', 'good a');
    write(root, 'dist/b.js', 'good b');
    const s = store(dir);
    const k = key('b');
    await s.put(k, root, ['dist/**'], data());
    const entry = await s.get(k);
    assert.ok(entry);
    const bBlob = entry.outputs.find((o) => o.path === 'dist/b.js')!.sha256;
    writeFileSync(path.join(dir, 'blobs', bBlob.slice(0, 2), bBlob), 'evil b');
    const target = scratch();
    write(target, 'dist/a.js', 'old a');
    await assert.rejects(s.restore(entry, target), (err: unknown) => err instanceof CacheError && err.code === 'CACHE_CORRUPT');
    assert.deepEqual(filesUnder(target), [path.join('dist', 'a.js')], 'no temporary file left, b not written');
    assert.equal(readFileSync(path.join(target, 'dist/a.js'), 'utf8'), 'old a', 'a not replaced either');
    assert.equal(s.warnings.length, 1);
    assert.equal(await s.get(k), undefined);
  });

  it('takes an entry whose JSON or content was altered for a miss, with a warning', async () => {
    const root = scratch();
    const dir = scratch();
    write(root, 'dist/a.js', 'a');
    const s = store(dir);
    const [k1, k2] = [key('one'), key('two')];
    await s.put(k1, root, ['dist/**'], data('output one'));
    await s.put(k2, root, ['dist/**'], data('output two'));
    const f1 = path.join(dir, 'entries', `${k1}.json`);
    writeFileSync(f1, readFileSync(f1, 'utf8').slice(0, 40));
    const f2 = path.join(dir, 'entries', `${k2}.json`);
    writeFileSync(f2, readFileSync(f2, 'utf8').replace('output two', 'output 2!!'));
    assert.equal(await s.get(k1), undefined);
    assert.equal(await s.get(k2), undefined);
    assert.equal(s.warnings.length, 2);
    assert.match(s.warnings[0]!, new RegExp(`\`${k1}\` is corrupt \\(not valid JSON\\)`));
    assert.match(s.warnings[1]!, new RegExp(`\`${k2}\` is corrupt \\(its content does not match its hash\\)`));
  });

  it('evicts the least recently used entries, and blobs no entry references, beyond maxBytes', async () => {
    const root = scratch();
    const dir = scratch();
    const clock = new ManualClock(1_700_000_000_000);
    write(root, 'shared/lib.js', Buffer.alloc(2_000, 's'));
    for (const name of ['a', 'b', 'c']) write(root, `${name}/out.bin`, Buffer.alloc(10_000, name));
    // Two entries fit (2 x 10,000 + the shared 2,000 + the entries' JSON); three do not.
    const s = store(dir, { maxBytes: 25_000, now: () => clock.now() });
    const [a, b, c] = [key('a'), key('b'), key('c')];
    await s.put(a, root, ['a/**', 'shared/**'], data());
    clock.set(clock.now() + 1000);
    await s.put(b, root, ['b/**', 'shared/**'], data());
    clock.set(clock.now() + 1000);
    assert.ok(await s.get(a), 'a used after b was stored');
    clock.set(clock.now() + 1000);
    await s.put(c, root, ['c/**', 'shared/**'], data());
    assert.equal(await s.get(b), undefined, 'b, the least recently used, is evicted');
    assert.ok(await s.get(a));
    assert.ok(await s.get(c));
    const blobs = filesUnder(path.join(dir, 'blobs'));
    assert.equal(blobs.length, 3, 'a, c and the shared blob: b’s own blob is gone, the shared one kept');
    assert.ok((await s.sizeBytes()) <= 25_000);
    assert.deepEqual(s.warnings, []);
  });

  it('keeps one valid entry when two processes write the same key at once, while a reader never sees a broken one', async function () {
    this.timeout(30_000);
    const root = scratch();
    const dir = scratch();
    for (let i = 0; i < 20; i++) write(root, `dist/f${i}.js`, `content ${i}\n`.repeat(200));
    const k = key('concurrent');
    const script = path.join(scratch(), 'writer.ts');
    writeFileSync(
      script,
      `import { CacheStore } from ${JSON.stringify(CACHE_STORE_MODULE)};\n` +
        `const s = new CacheStore(${JSON.stringify(dir)}, { onWarn: (m) => { console.error(m); process.exitCode = 3; } });\n` +
        `void (async () => { for (let i = 0; i < 15; i++) await s.put(${JSON.stringify(k)}, ${JSON.stringify(root)}, ['dist/**'], { output: 'out', result: { exitCode: 0 }, durationMs: 5, createdAt: 1 }); })();\n`,
    );
    const run = (): Promise<{ code: number | null; stderr: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
      });
    const reader = store(dir);
    let done = false;
    const both = Promise.all([run(), run()]).finally(() => (done = true));
    while (!done) {
      await reader.get(k);
      await new Promise((r) => setImmediate(r));
    }
    for (const r of await both) assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(reader.warnings, [], 'a reader during the writes never met a torn entry');
    assert.deepEqual(readdirSync(path.join(dir, 'entries')), [`${k}.json`]);
    assert.deepEqual(
      filesUnder(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
    const entry = await reader.get(k);
    assert.ok(entry);
    assert.equal(entry.outputs.length, 20);
  });

  it('flags a key flaky once it has both completed and failed', async () => {
    const s = store(scratch());
    const [k, other] = [key('t'), key('u')];
    assert.equal(await s.noteOutcome(k, 'completed'), false);
    assert.equal(await s.noteOutcome(k, 'completed'), false);
    assert.equal(await s.noteOutcome(other, 'failed'), false);
    assert.equal(await s.noteOutcome(k, 'failed'), true);
    assert.equal(await s.noteOutcome(k, 'completed'), true);
    assert.equal(await s.noteOutcome(other, 'failed'), false);
    const fresh = key('v');
    const [x, y] = await Promise.all([s.noteOutcome(fresh, 'completed'), s.noteOutcome(fresh, 'failed')]);
    assert.ok(x || y, 'concurrent outcomes: at least the later sees both');
    assert.equal(await s.noteOutcome(fresh, 'failed'), true);
  });

  it('refuses a key that is not a plain name, and a bad maxBytes', async () => {
    const s = store(scratch());
    await assert.rejects(s.get('../x'), (err: unknown) => err instanceof ValidationError && /Expected `key` to be a cache key/.test(err.message));
    assert.throws(() => new CacheStore(scratch(), { maxBytes: -5 }), /Expected `maxBytes` to be a positive number of bytes, got `-5` \(number\)/);
  });
});
