import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputIndex, type InputIndexFs } from '../../src/core/cache/inputIndex';
import { ValidationError } from '../../src/core/model/errors';

const scratchDirs: string[] = [];

function scratch(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'inputIndex-'));
  scratchDirs.push(dir);
  return dir;
}

function write(root: string, rel: string, content: string): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), content);
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** node:fs/promises, counting content reads; `failRead` makes reads of one path fail with EACCES. */
function countingFs(failRead?: string): InputIndexFs & { reads: string[] } {
  const reads: string[] = [];
  const denied = (p: string): Promise<never> => Promise.reject(Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES' }));
  return {
    reads,
    lstatSync: (p) => lstatSync(p),
    readFile: (p) => (reads.push(p), p === failRead ? denied(p) : fsp.readFile(p)),
    open: (p, flags) => (reads.push(p), p === failRead ? denied(p) : fsp.open(p, flags)),
  };
}

/**
 * A clock a minute ahead of the file system's: every file written by the test is older than the racy
 * window, as a workspace's sources are, so the stat index may vouch for it.
 */
const ahead = (): number => Date.now() + 60_000;

describe('InputIndex', () => {
  after(() => {
    for (const d of scratchDirs) rmSync(d, { recursive: true, force: true });
  });

  it('hashes the files the globs match, as sorted relative paths with their content sha256', async () => {
    const root = scratch();
    write(root, 'src/b.ts', 'b');
    write(root, 'src/a.ts', 'a');
    write(root, 'src/.hidden', 'h');
    write(root, 'package.json', '{}');
    write(root, 'README.md', 'unrelated');
    const index = new InputIndex(path.join(scratch(), 'index.json'));
    const out = await index.hashFiles(root, ['src/**', 'package.json']);
    assert.deepEqual(out, {
      files: [
        ['package.json', sha('{}')],
        ['src/.hidden', sha('h')],
        ['src/a.ts', sha('a')],
        ['src/b.ts', sha('b')],
      ],
    });
  });

  it('skips .git, node_modules and the cache folder unless a glob names them; `!` removes matches', async () => {
    const root = scratch();
    write(root, 'a.txt', 'a');
    write(root, '.git/HEAD', 'ref');
    write(root, 'node_modules/p/index.js', 'p');
    write(root, 'pkg/node_modules/q/index.js', 'q');
    write(root, '.orchestrator/cache/entries/x.json', '{}');
    write(root, 'b.test.txt', 'b');
    const index = new InputIndex(path.join(root, '.orchestrator/cache/index.json'));
    const all = await index.hashFiles(root, ['**', '!*.test.txt']);
    assert.deepEqual(
      all.files.map(([p]) => p),
      ['a.txt'],
    );
    const named = await index.hashFiles(root, ['node_modules/**', '.git/HEAD']);
    assert.deepEqual(
      named.files.map(([p]) => p),
      ['.git/HEAD', 'node_modules/p/index.js'],
    );
  });

  it('takes a glob naming a folder for the files in it', async () => {
    const root = scratch();
    write(root, 'src/a.ts', 'a');
    write(root, 'src/deep/b.ts', 'b');
    write(root, 'other.ts', 'o');
    const out = await new InputIndex(path.join(scratch(), 'index.json')).hashFiles(root, ['src', 'other.ts']);
    assert.deepEqual(
      out.files.map(([p]) => p),
      ['other.ts', 'src/a.ts', 'src/deep/b.ts'],
    );
  });

  it('never follows a symbolic link, so nothing outside the root is read', async () => {
    const root = scratch();
    const outside = scratch();
    write(outside, 'secret.txt', 's');
    write(outside, 'dir/x.txt', 'x');
    write(root, 'src/a.txt', 'a');
    symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'src/link.txt'));
    symlinkSync(path.join(outside, 'dir'), path.join(root, 'src/dirlink'));
    const fs = countingFs();
    const out = await new InputIndex(path.join(scratch(), 'index.json'), { fs }).hashFiles(root, ['src/**']);
    assert.deepEqual(
      out.files.map(([p]) => p),
      ['src/a.txt'],
    );
    assert.deepEqual(fs.reads, [path.join(root, 'src/a.txt')]);
  });

  it('does not re-read an unchanged file, and re-reads one changed (same size too)', async () => {
    const root = scratch();
    write(root, 'a.txt', 'aaaa');
    write(root, 'b.txt', 'bbbb');
    const fs = countingFs();
    const index = new InputIndex(path.join(scratch(), 'index.json'), { fs, now: ahead });
    await index.hashFiles(root, ['*.txt']);
    assert.equal(fs.reads.length, 2);
    fs.reads.length = 0;
    const again = await index.hashFiles(root, ['*.txt']);
    assert.deepEqual(fs.reads, [], 'unchanged files are vouched for by their stat');
    assert.deepEqual(again.files, [
      ['a.txt', sha('aaaa')],
      ['b.txt', sha('bbbb')],
    ]);
    write(root, 'a.txt', 'AAAA');
    const changed = await index.hashFiles(root, ['*.txt']);
    assert.deepEqual(fs.reads, [path.join(root, 'a.txt')], 'only the changed file is read');
    assert.deepEqual(changed.files[0], ['a.txt', sha('AAAA')]);
  });

  it('re-reads a file modified within the racy window of its hashing (racy git)', async () => {
    const root = scratch();
    write(root, 'a.txt', 'a');
    const fs = countingFs();
    // The real clock: the file was written just now, within the window of its hashing.
    const index = new InputIndex(path.join(scratch(), 'index.json'), { fs, racyWindowMs: 60_000 });
    await index.hashFiles(root, ['a.txt']);
    await index.hashFiles(root, ['a.txt']);
    assert.equal(fs.reads.length, 2);
  });

  it('persists the index: a new process trusts what the saved one hashed', async () => {
    const root = scratch();
    write(root, 'a.txt', 'a');
    const file = path.join(scratch(), 'cache', 'index.json');
    const first = new InputIndex(file, { now: ahead });
    await first.hashFiles(root, ['a.txt']);
    await first.save();
    const fs = countingFs();
    const second = new InputIndex(file, { fs, now: ahead });
    assert.deepEqual((await second.hashFiles(root, ['a.txt'])).files, [['a.txt', sha('a')]]);
    assert.deepEqual(fs.reads, []);
  });

  it('takes a corrupt index file for an empty index', async () => {
    const root = scratch();
    write(root, 'a.txt', 'a');
    const file = path.join(scratch(), 'index.json');
    const st = lstatSync(path.join(root, 'a.txt'));
    const numbers = [st.size, st.mtimeMs, st.ctimeMs, st.ino, Date.now() + 60_000, Date.now()];
    const corrupt = [
      '{"format":"orchestrator-input-index/2","paths":["x"',
      // Well-formed but lying: a hash that is not the file's, in columns of the wrong length.
      JSON.stringify({ format: 'orchestrator-input-index/2', paths: [path.join(root, 'a.txt')], numbers, sha256: sha('b').slice(1) }),
      JSON.stringify({ format: 'orchestrator-input-index/2', paths: [path.join(root, 'a.txt')], numbers: numbers.slice(1), sha256: sha('b') }),
    ];
    for (const text of corrupt) {
      writeFileSync(file, text);
      const fs = countingFs();
      const out = await new InputIndex(file, { fs, now: ahead }).hashFiles(root, ['a.txt']);
      assert.deepEqual(out.files, [['a.txt', sha('a')]], text);
      assert.equal(fs.reads.length, 1);
    }
  });

  it('reports an unreadable input by path and reason, and hashes the rest', async () => {
    const root = scratch();
    write(root, 'a.txt', 'a');
    write(root, 'b.txt', 'b');
    const fs = countingFs(path.join(root, 'a.txt'));
    const out = await new InputIndex(path.join(scratch(), 'index.json'), { fs }).hashFiles(root, ['*.txt']);
    assert.equal(out.unreadable, 'a.txt: EACCES');
    assert.deepEqual(out.files, [['b.txt', sha('b')]]);
  });

  it('refuses a glob that is not a string, is absolute or climbs out with `..`, before reading anything', async () => {
    const root = scratch();
    write(root, 'a.txt', 'a');
    const fs = countingFs();
    const index = new InputIndex(path.join(scratch(), 'index.json'), { fs });
    const cases: [unknown, RegExp][] = [
      [5, /Expected `globs\[0\]` to be a non-empty glob string, got `5` \(number\)/],
      ['', /non-empty glob string/],
      ['/etc/**', /relative glob .*not an absolute path, got `"\/etc\/\*\*"`/],
      ['C:\\x\\**', /relative glob/],
      ['../**', /without `\.\.` segments/],
      ['src/../../x', /without `\.\.` segments/],
    ];
    for (const [glob, message] of cases) {
      await assert.rejects(index.hashFiles(root, [glob as string]), (err: unknown) => err instanceof ValidationError && message.test(err.message));
    }
    assert.deepEqual(fs.reads, []);
  });
});
