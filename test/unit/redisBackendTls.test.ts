// The extension's redis backend (src/extension/backend/redisBackend.ts) and `orchestrator.redis.caFile`:
// with the real connect on a real TLS-only redis-server and a throw-away CA, a backend that reads the
// CA attaches and a task runs on an in-process worker; without it, or with a CA file it cannot use,
// the one warning names the setting (the editor's way to trust a CA, not a CLI flag).
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisWorker } from '../../src/backends/redis/redisWorker';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import { RedisBackend, connectRedis, type ConnectOptions, type FleetBackend, type RedisBackendDeps } from '../../src/extension/backend/redisBackend';
import { redisTlsAvailable, startRedis, type RedisServer } from '../support/redisServer';

/** A deps whose connect is never to be called: the backend must block before it. */
function blockedDeps(url: string, caFile: string, warnings: string[], connects: ConnectOptions[]): RedisBackendDeps {
  return {
    url,
    caFile,
    password: async () => undefined,
    connect: (o) => (connects.push(o), Promise.reject(new Error('connect must not be called'))),
    warn: (m) => warnings.push(m),
  };
}

describe('RedisBackend: orchestrator.redis.caFile (no server)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'redis-ca-setting-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('blocks with one warning naming the setting and the file when the CA file cannot be read', async () => {
    const missing = join(dir, 'nope.pem');
    const warnings: string[] = [];
    const connects: ConnectOptions[] = [];
    const backend = new RedisBackend(blockedDeps('rediss://127.0.0.1:6380', missing, warnings, connects));
    await backend.settled;
    assert.ok(backend.blocked, 'blocked, so the orchestrator starts paused');
    assert.equal(connects.length, 0);
    assert.equal(backend.remote.attached, false);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /`orchestrator\.redis\.caFile`/);
    assert.ok(warnings[0]!.includes(missing), warnings[0]);
    assert.match(warnings[0]!, /ENOENT/);
    assert.match(warnings[0]!, /readable PEM file/);
    assert.match(warnings[0]!, /wait \(the orchestrator is paused\)/);
  });

  it('blocks when the file holds no certificate, and when the URL is not rediss://', async () => {
    const notPem = join(dir, 'ca.txt');
    writeFileSync(notPem, 'not a certificate\n');
    const cases: [string, string, RegExp][] = [
      ['rediss://127.0.0.1:6380', notPem, /PEM file \(-----BEGIN CERTIFICATE-----/],
      ['redis://127.0.0.1:6379', notPem, /needs a `rediss:\/\/` URL in `orchestrator\.redis\.url`, got a redis:\/\/ one/],
      ['rediss://127.0.0.1:6380', 'ca.pem', /an absolute path/],
    ];
    for (const [url, file, what] of cases) {
      const warnings: string[] = [];
      const connects: ConnectOptions[] = [];
      const backend = new RedisBackend(blockedDeps(url, file, warnings, connects));
      await backend.settled;
      assert.ok(backend.blocked, `${url} ${file}`);
      assert.equal(connects.length, 0);
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.match(warnings[0]!, /`orchestrator\.redis\.caFile`/);
      assert.ok(warnings[0]!.includes(file), warnings[0]);
      assert.match(warnings[0]!, what);
    }
  });
});

(redisTlsAvailable() ? describe : describe.skip)('RedisBackend over TLS (skipped without redis-server or openssl)', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  let dir: string;
  let worker: RedisWorker | undefined;
  let dispose: (() => Promise<void>) | undefined;

  before(async () => {
    redis = await startRedis({ tls: true });
  });
  after(async () => {
    await redis?.stop();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'redis-backend-tls-'));
  });
  afterEach(async () => {
    await dispose?.();
    dispose = undefined;
    await worker?.close();
    worker = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('with the CA file, the backend attaches and a shell task runs on a worker given the same CA', async () => {
    worker = await RedisWorker.start({ url: redis.url, ca: redis.ca, name: 'tlsw', concurrency: 1 });
    const warnings: string[] = [];
    const calls: ConnectOptions[] = [];
    const backend = new RedisBackend({
      url: redis.url,
      caFile: redis.caFile,
      password: async () => undefined,
      connect: (o) => (calls.push(o), connectRedis(o)),
      warn: (m) => warnings.push(m),
    });
    assert.equal(backend.blocked, undefined);
    const o = await createOrchestrator({ remote: backend.remote, concurrency: 2 });
    dispose = () => o.dispose();
    await backend.settled;
    assert.deepEqual(warnings, []);
    assert.equal(calls[0]!.ca, redis.ca, 'the CA read from the file reaches the connect');
    assert.equal(backend.remote.attached, true);
    const [id] = await o.scheduleWorkflow([{ key: 'a', name: 'a', kind: 'shell', command: 'echo over-tls', dependsOn: [] }]);
    await o.whenIdle();
    const r = o.getTask(id!);
    assert.equal(r?.status, 'completed', JSON.stringify(r?.error));
    assert.equal(r?.result?.worker, 'tlsw');
    assert.equal((await backend.fleet()).connected, true);
  });

  it('without the CA, the one warning names the TLS failure and `orchestrator.redis.caFile`, not a CLI flag', async () => {
    const warnings: string[] = [];
    let attached: FleetBackend | undefined;
    const backend = new RedisBackend({
      url: redis.url,
      password: async () => undefined,
      connect: async (o) => (attached = await connectRedis(o)),
      warn: (m) => warnings.push(m),
    });
    const o = await createOrchestrator({ remote: backend.remote, concurrency: 2 });
    dispose = async () => {
      await o.dispose();
      await attached?.dispose();
    };
    await backend.settled;
    assert.equal(backend.remote.attached, false);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0]!, /TLS certificate not trusted \([A-Z_]+\)/);
    assert.match(warnings[0]!, /set `orchestrator\.redis\.caFile` to the CA's PEM file and reload the window/);
    assert.doesNotMatch(warnings[0]!, /--redis-ca|ORCHESTRATOR_REDIS_CA/);
  });
});
