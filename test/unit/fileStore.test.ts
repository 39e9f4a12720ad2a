import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import { FileStore, StateFileError, type FileStoreOptions } from '../../src/cli/fileStore';
import { storeConformance } from '../support/storeConformance';

const FILE_STORE_MODULE = path.resolve(__dirname, '../../src/cli/fileStore.ts');

const scratchDirs: string[] = [];
const openStores: FileStore[] = [];

function scratch(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fileStore-'));
  scratchDirs.push(dir);
  return dir;
}

async function open(file: string, options?: FileStoreOptions): Promise<FileStore> {
  const store = await FileStore.open(file, options);
  openStores.push(store);
  return store;
}

function onDisk(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** The pid of a process that has exited: nothing answers to it (barring reuse within milliseconds). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid;
  assert.ok(pid !== undefined);
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return pid;
}

async function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

describe('fileStore', () => {
  afterEach(async () => {
    for (const store of openStores.splice(0)) await store.close();
    for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  storeConformance('FileStore', () => open(path.join(scratch(), 'state.json')));

  describe('persistence', () => {
    it('starts empty on a missing file and creates its directory', async () => {
      const file = path.join(scratch(), 'nested', 'deeper', 'state.json');
      const store = await open(file);
      assert.deepEqual(store.keys(), []);
      assert.deepEqual(store.warnings, []);
      await store.update('a', 1);
      assert.deepEqual(onDisk(file), { a: 1 });
    });

    it('has a value on disk when its update resolves', async () => {
      const file = path.join(scratch(), 'state.json');
      const store = await open(file);
      await store.update('first', { list: [1, 2] });
      assert.deepEqual(onDisk(file), { first: { list: [1, 2] } });
      await store.update('second', 'two');
      assert.deepEqual(onDisk(file), { first: { list: [1, 2] }, second: 'two' });
      await store.update('first', undefined);
      assert.deepEqual(onDisk(file), { second: 'two' });
    });

    it('gives back after a reopen what was written before close', async () => {
      const file = path.join(scratch(), 'state.json');
      const a = await open(file);
      await a.update('n', 42);
      await a.update('obj', { nested: { ok: true }, list: ['x'] });
      await a.update('gone', 1);
      await a.update('gone', undefined);
      await a.close();
      const b = await open(file);
      assert.deepEqual([...b.keys()].sort(), ['n', 'obj']);
      assert.equal(b.get('n'), 42);
      assert.deepEqual(b.get('obj'), { nested: { ok: true }, list: ['x'] });
      assert.deepEqual(b.warnings, []);
    });

    it('leaves no temp file behind after writes', async () => {
      const dir = scratch();
      const file = path.join(dir, 'state.json');
      const store = await open(file);
      for (let i = 0; i < 5; i++) await store.update(`k${i}`, i);
      await store.close();
      assert.deepEqual(readdirSync(dir), ['state.json']);
    });

    it('coalesces updates made while a write is in flight, resolving each once it is on disk', async () => {
      const dir = scratch();
      const file = path.join(dir, 'state.json');
      let renames = 0;
      const store = await open(file, {
        fs: {
          rename: async (from, to) => {
            renames++;
            await fsp.rename(from, to);
          },
        },
      });
      const updates: Promise<void>[] = [];
      for (let i = 0; i < 100; i++) updates.push(store.update(`k${i % 10}`, i));
      // Some more while the first write is on its way.
      await new Promise((resolve) => setImmediate(resolve));
      for (let i = 100; i < 120; i++) updates.push(store.update(`k${i % 10}`, i));
      await Promise.all(updates);
      const expected: Record<string, number> = {};
      for (let i = 0; i < 10; i++) expected[`k${i}`] = 110 + i;
      assert.deepEqual(onDisk(file), expected);
      assert.ok(renames >= 1 && renames < 10, `expected a few writes for 120 updates, got ${renames}`);
      assert.deepEqual(readdirSync(dir).sort(), ['state.json', 'state.json.lock']);
    });

    it('refuses a value with no JSON form and keeps what was there', async () => {
      const store = await open(path.join(scratch(), 'state.json'));
      await store.update('k', 1);
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const err = await rejection(store.update('k', cyclic));
      assert.match(String(err), /Expected `k` to be a JSON value/);
      assert.equal(store.get('k'), 1);
    });
  });

  describe('corrupt and unreadable files', () => {
    for (const [what, bytes] of [
      ['not JSON', '{"a": 1,,'],
      ['JSON that is not an object', '[1, 2, 3]'],
    ] as const) {
      it(`keeps a file holding ${what} as a backup, warns and starts empty`, async () => {
        const dir = scratch();
        const file = path.join(dir, 'state.json');
        writeFileSync(file, bytes);
        const store = await open(file);
        const backups = readdirSync(dir).filter((f) => f.startsWith('state.json.corrupt-'));
        assert.equal(backups.length, 1);
        const backup = path.join(dir, backups[0] ?? '');
        assert.match(backups[0] ?? '', /^state\.json\.corrupt-\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z$/);
        assert.equal(readFileSync(backup, 'utf8'), bytes);
        assert.equal(store.warnings.length, 1);
        assert.ok(store.warnings[0]?.includes(file) && store.warnings[0].includes(backup), store.warnings[0]);
        assert.deepEqual(store.keys(), []);
        await store.update('fresh', true);
        assert.deepEqual(onDisk(file), { fresh: true });
      });
    }

    it('rejects open with a named error when the file exists but cannot be read', async () => {
      const file = path.join(scratch(), 'state.json');
      mkdirSync(file);
      const err = await rejection(open(file));
      assert.ok(err instanceof StateFileError);
      assert.equal(err.code, 'STATE_FILE_UNREADABLE');
      assert.match(err.message, /Cannot read the state file .*state\.json: EISDIR/);
      assert.ok(err.message.includes(file));
      // It let go of the lock: once the path is a file again, the store opens.
      rmSync(file, { recursive: true });
      await open(file);
    });
  });

  describe('failed writes', () => {
    it('rejects the update naming the file when the path became a directory, and writes again once fixed', async () => {
      const dir = scratch();
      const file = path.join(dir, 'state.json');
      const store = await open(file);
      mkdirSync(file);
      const err = await rejection(store.update('k', 1));
      assert.ok(err instanceof StateFileError);
      assert.equal(err.code, 'STATE_FILE_WRITE_FAILED');
      assert.ok(err.message.includes(file), err.message);
      assert.match(err.message, /EISDIR|ENOTEMPTY|EEXIST/);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.includes('.tmp-')),
        [],
      );
      rmSync(file, { recursive: true });
      await store.update('k2', 2);
      assert.deepEqual(onDisk(file), { k: 1, k2: 2 });
    });

    it('rejects the update when the directory was removed, and writes again once it is back', async () => {
      const dir = path.join(scratch(), 'state');
      const file = path.join(dir, 'state.json');
      const store = await open(file);
      rmSync(dir, { recursive: true });
      const err = await rejection(store.update('k', 1));
      assert.ok(err instanceof StateFileError);
      assert.ok(err.message.includes(file), err.message);
      assert.match(err.message, /ENOENT/);
      mkdirSync(dir);
      await store.update('k', 2);
      assert.deepEqual(onDisk(file), { k: 2 });
    });

    it('removes the temp file when the rename fails, and rejects every update of that write', async () => {
      const dir = scratch();
      const file = path.join(dir, 'state.json');
      let failRename = true;
      const store = await open(file, {
        fs: {
          rename: async (from, to) => {
            if (failRename) throw Object.assign(new Error(`EIO: i/o error, rename '${String(from)}'`), { code: 'EIO' });
            await fsp.rename(from, to);
          },
        },
      });
      const errs = await Promise.all([rejection(store.update('a', 1)), rejection(store.update('b', 2))]);
      for (const err of errs) assert.match(String(err), /Cannot write the state file .*state\.json: EIO/);
      assert.deepEqual(readdirSync(dir), ['state.json.lock']);
      failRename = false;
      await store.update('c', 3);
      assert.deepEqual(onDisk(file), { a: 1, b: 2, c: 3 });
    });

    it('rejects updates after close', async () => {
      const store = await open(path.join(scratch(), 'state.json'));
      await store.close();
      const err = await rejection(store.update('k', 1));
      assert.ok(err instanceof StateFileError);
      assert.equal(err.code, 'STATE_FILE_CLOSED');
    });
  });

  describe('lock', () => {
    it('refuses a second open of the same file while the first is open, and opens after close', async () => {
      const file = path.join(scratch(), 'state.json');
      const first = await open(file);
      assert.equal(readFileSync(`${file}.lock`, 'utf8').trim(), String(process.pid));
      const err = await rejection(FileStore.open(file));
      assert.ok(err instanceof StateFileError);
      assert.equal(err.code, 'STATE_FILE_IN_USE');
      assert.equal(err.message, `${file} is in use by process ${process.pid}; wait for it to finish or use another --state file`);
      await first.update('k', 1);
      await first.close();
      await first.close();
      assert.equal(existsSync(`${file}.lock`), false);
      const second = await open(file);
      assert.equal(second.get('k'), 1);
    });

    it('refuses the same file opened under another spelling of its path', async () => {
      const file = path.join(scratch(), 'state.json');
      await open(file);
      const err = await rejection(FileStore.open(path.relative(process.cwd(), file)));
      assert.ok(err instanceof StateFileError);
      assert.equal(err.code, 'STATE_FILE_IN_USE');
    });

    it('lets exactly one of several opens racing for a stale lock take it over', async () => {
      const dir = scratch();
      const file = path.join(dir, 'state.json');
      writeFileSync(`${file}.lock`, `${await deadPid()}\n`);
      const outcomes = await Promise.allSettled([FileStore.open(file), FileStore.open(file), FileStore.open(file)]);
      for (const o of outcomes) if (o.status === 'fulfilled') openStores.push(o.value);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      for (const o of outcomes) if (o.status === 'rejected') assert.equal((o.reason as StateFileError).code, 'STATE_FILE_IN_USE');
      assert.equal(readFileSync(`${file}.lock`, 'utf8').trim(), String(process.pid));
      assert.deepEqual(readdirSync(dir), ['state.json.lock']);
    });

    it('puts back a lock another open took over while this one was taking over the same stale lock', async () => {
      const dir = scratch();
      const file = path.join(dir, 'state.json');
      writeFileSync(`${file}.lock`, `${await deadPid()}\n`);
      let winner: FileStore | undefined;
      // The slow open has judged the lock stale; the fast one takes it over before the slow one moves it.
      const slow = FileStore.open(file, {
        fs: {
          rename: async (from, to) => {
            if (winner === undefined && String(from).endsWith('.lock')) winner = await open(file);
            await fsp.rename(from, to);
          },
        },
      });
      const err = await rejection(slow);
      assert.ok(winner !== undefined);
      assert.ok(err instanceof StateFileError);
      assert.equal(err.code, 'STATE_FILE_IN_USE');
      assert.equal(readFileSync(`${file}.lock`, 'utf8').trim(), String(process.pid));
      assert.deepEqual(readdirSync(dir), ['state.json.lock']);
      await winner.update('k', 1);
    });

    it('close waits for the writes in flight', async () => {
      const file = path.join(scratch(), 'state.json');
      const store = await open(file);
      const written = store.update('k', 'v');
      await store.close();
      assert.deepEqual(onDisk(file), { k: 'v' });
      await written;
    });

    for (const [what, content] of [
      ['a dead pid', 'dead'],
      ['content that is not a pid', 'not a pid\n'],
      ['this pid, left by an earlier process', String(process.pid)],
    ] as const) {
      it(`takes over a stale lock holding ${what}`, async () => {
        const dir = scratch();
        const file = path.join(dir, 'state.json');
        writeFileSync(`${file}.lock`, content === 'dead' ? `${await deadPid()}\n` : content);
        const store = await open(file);
        assert.equal(readFileSync(`${file}.lock`, 'utf8').trim(), String(process.pid));
        await store.update('k', 1);
        await store.close();
        assert.deepEqual(readdirSync(dir), ['state.json']);
      });
    }

    it('detaches its exit listener on close', async () => {
      const before = process.listenerCount('exit');
      const a = await open(path.join(scratch(), 'a.json'));
      const b = await open(path.join(scratch(), 'b.json'));
      assert.equal(process.listenerCount('exit'), before + 1);
      await a.close();
      await b.close();
      assert.equal(process.listenerCount('exit'), before);
    });

    it('removes its lock when the process exits without close', () => {
      const dir = scratch();
      const file = path.join(dir, 'state.json');
      const script = path.join(dir, 'holder.ts');
      writeFileSync(
        script,
        `import { FileStore } from ${JSON.stringify(FILE_STORE_MODULE)};\n` +
          `void FileStore.open(${JSON.stringify(file)}).then(async (s) => { await s.update('k', 1); process.stdout.write(require('node:fs').existsSync(${JSON.stringify(`${file}.lock`)}) ? 'locked' : 'unlocked'); });\n`,
      );
      const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 8000 });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, 'locked');
      assert.equal(existsSync(`${file}.lock`), false);
      assert.deepEqual(onDisk(file), { k: 1 });
    });
  });

  it('carries an orchestrator state across a reopen of the file', async () => {
    const file = path.join(scratch(), 'state.json');
    const first = await open(file);
    const a = await createOrchestrator({ store: first });
    a.pause();
    const id = await a.scheduleTask({ name: 'round trip', kind: 'shell', command: 'true', priority: 3 });
    await a.dispose();
    await first.close();

    const second = await open(file);
    const b = await createOrchestrator({ store: second });
    b.pause();
    try {
      assert.equal(b.getTask(id)?.name, 'round trip');
      assert.equal(b.getTask(id)?.priority, 3);
      assert.equal(b.getTask(id)?.status, 'created');
    } finally {
      await b.cancelTask(id);
      await b.dispose();
    }
  });
});
