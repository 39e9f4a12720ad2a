// How the extension sets up the redis backend (src/extension/backend/redisBackend.ts), with a fake
// connect: the orchestrator's remote port exists at once, the backend is attached when it connects,
// and a URL it cannot use blocks it with one warning.
import * as assert from 'node:assert/strict';
import type { FleetStatus } from '../../src/backends/redis/fleetStatus';
import { runningRecord } from '../support/runningRecord';
import type { TaskRecord } from '../../src/core/model/model';
import { REMOTE_KINDS, RedisBackend, redactUrl, type ConnectOptions, type FleetBackend } from '../../src/extension/backend/redisBackend';

const record = (id: string): TaskRecord => runningRecord(id);

const FLEET: FleetStatus = { connected: true, workers: [], queues: [{ name: 'orchestrator.run.any', waiting: 1, active: 0, delayed: 0, failed: 0 }] };

function fakeBackend(started: string[]): FleetBackend {
  return {
    kinds: new Set(REMOTE_KINDS),
    start: (task) => {
      started.push(task.id);
      return { task };
    },
    cancel: async () => undefined,
    dispose: async () => undefined,
    fleet: async () => FLEET,
  };
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('RedisBackend (the extension side of the redis backend)', () => {
  it('gives the orchestrator a port at once, holds attempts while connecting, and attaches the backend', async () => {
    const connecting = deferred<FleetBackend>();
    const calls: ConnectOptions[] = [];
    const warnings: string[] = [];
    const backend = new RedisBackend({
      url: 'redis://127.0.0.1:6390',
      password: async () => 's3cret',
      connect: (o) => (calls.push(o), connecting.promise),
      warn: (m) => warnings.push(m),
    });
    assert.equal(backend.blocked, undefined);
    assert.deepEqual([...backend.remote.kinds], ['shell']);
    backend.remote.start(record('early'), 1, undefined, undefined, undefined, () => undefined);
    assert.deepEqual(await backend.fleet(), { connected: false, workers: [], queues: [] });
    await Promise.resolve();
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.password, 's3cret', 'the password from SecretStorage, apart from the URL');
    assert.deepEqual(calls[0]!.kinds, ['shell']);
    const started: string[] = [];
    connecting.resolve(fakeBackend(started));
    await backend.settled;
    assert.equal(backend.remote.attached, true);
    assert.deepEqual(started, ['early'], 'the attempt started while connecting reaches the backend');
    assert.deepEqual(await backend.fleet(), FLEET);
    // The backend's own warnings (an outage, its end) reach the user.
    calls[0]!.onWarn('Redis at 127.0.0.1:6390 is unreachable: ready tasks wait, reconnecting with backoff');
    assert.deepEqual(warnings, ['Redis at 127.0.0.1:6390 is unreachable: ready tasks wait, reconnecting with backoff']);
  });

  it('connects without a password when none is stored', async () => {
    const calls: ConnectOptions[] = [];
    const backend = new RedisBackend({
      url: 'redis://h:6379',
      password: async () => undefined,
      connect: async (o) => (calls.push(o), fakeBackend([])),
      warn: () => undefined,
    });
    await backend.settled;
    assert.equal('password' in calls[0]!, false);
  });

  it('blocks, with one warning naming the setting, on a URL the backend cannot use, and never connects', async () => {
    const warnings: string[] = [];
    let connects = 0;
    const backend = new RedisBackend({
      url: 'redis://h:6379/not-a-db',
      password: async () => undefined,
      connect: async () => (connects++, fakeBackend([])),
      warn: (m) => warnings.push(m),
    });
    await backend.settled;
    assert.equal(connects, 0);
    assert.ok(backend.blocked);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /`orchestrator\.redis\.url`.*not-a-db.*wait \(the orchestrator is paused\)/);
    assert.equal(backend.remote.attached, false);
  });

  it('warns when connecting fails, and leaves the port unattached so nothing runs here', async () => {
    const warnings: string[] = [];
    const backend = new RedisBackend({
      url: 'redis://user:pw@h:6379',
      password: async () => undefined,
      connect: () => Promise.reject(new Error('boom')),
      warn: (m) => warnings.push(m),
    });
    await backend.settled;
    assert.equal(backend.remote.attached, false);
    assert.deepEqual(warnings, [
      'could not start the redis backend (redis://user:***@h:6379): boom. Tasks that run on workers wait until the window is reloaded.',
    ]);
  });

  it('never shows a password in a URL', () => {
    assert.equal(redactUrl('rediss://user:secret@cache.example:6380/2'), 'rediss://user:***@cache.example:6380/2');
    assert.equal(redactUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
    assert.equal(backendUrl('redis://:tok@h'), 'redis://:***@h');
  });
});

function backendUrl(url: string): string {
  return new RedisBackend({ url, password: async () => undefined, connect: async () => fakeBackend([]), warn: () => undefined }).url;
}
