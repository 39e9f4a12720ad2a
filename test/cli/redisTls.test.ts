// The built CLI over TLS: a real redis-server with only a TLS port and a throw-away CA. With
// --redis-ca (or ORCHESTRATOR_REDIS_CA, or NODE_EXTRA_CA_CERTS) a worker and `run --backend redis`
// run a workflow; without it both exit non-zero at once naming the TLS failure instead of waiting.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { redisTlsAvailable, startRedis, type RedisServer } from '../support/redisServer';
import { assertBuilt, events, killMarked, makeWorkspace, removeWorkspace, startCli, until, type CliResult, type Running } from './support/cli';

const UNTRUSTED = /TLS certificate not trusted \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/;

(redisTlsAvailable() ? describe : describe.skip)('orchestrator over rediss:// (the built CLI; skipped without redis-server or openssl)', function () {
  this.timeout(60_000);
  const marker = `orch-redis-tls-test-${process.pid}`;
  let redis: RedisServer;
  let dir = '';
  let started: Running[] = [];

  before(async () => {
    assertBuilt();
    redis = await startRedis({ tls: true });
  });
  after(async () => {
    await redis?.stop();
  });
  beforeEach(() => {
    dir = makeWorkspace({
      pair: {
        tasks: [
          { key: 'first', command: 'echo first' },
          { key: 'second', command: 'echo second', dependsOn: ['first'] },
        ],
      },
    });
  });
  afterEach(async () => {
    for (const r of started) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await Promise.all(started.map((r) => r.done));
    started = [];
    killMarked(marker);
    removeWorkspace(dir);
  });

  function cli(args: string[], env: NodeJS.ProcessEnv = {}): Running {
    const r = startCli(args, dir, { ORCH_TEST_MARK: marker, ...env });
    started.push(r);
    return r;
  }

  /** Its result, or a failure if it is still running after `ms` (it would have waited silently). */
  async function exitWithin(r: Running, ms: number): Promise<CliResult> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after ${ms} ms; stderr: ${r.stderr()}; stdout: ${r.stdout()}`)), ms);
    });
    try {
      return await Promise.race([r.done, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function worker(name: string, extra: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
    const w = cli(['worker', '--redis', redis.url, '--name', name, '--concurrency', '2', '--prefix', name, ...extra], env);
    await until(() => w.stdout().includes(`worker ${name}:`) || w.child.exitCode !== null, `worker ${name} to listen`);
    assert.ok(w.stdout().includes(`worker ${name}:`), w.stderr());
  }

  function assertRan(result: CliResult, name: string): void {
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const completed = events(result.stdout).filter((e) => e.type === 'task.completed');
    assert.deepEqual(
      completed.map((e) => [e.key, e.worker]),
      [
        ['first', name],
        ['second', name],
      ],
    );
  }

  it('--redis-ca: a worker and run --backend redis run a workflow over TLS', async () => {
    await worker('tlsw1', ['--redis-ca', redis.caFile ?? '']);
    const run = cli(['run', 'pair', '--backend', 'redis', '--redis', redis.url, '--redis-ca', redis.caFile ?? '', '--prefix', 'tlsw1', '--json']);
    assertRan(await exitWithin(run, 30_000), 'tlsw1');
  });

  it('ORCHESTRATOR_REDIS_CA and NODE_EXTRA_CA_CERTS are trusted too', async () => {
    await worker('tlsw2', [], { ORCHESTRATOR_REDIS_CA: redis.caFile });
    const run = cli(['run', 'pair', '--backend', 'redis', '--redis', redis.url, '--prefix', 'tlsw2', '--json'], { NODE_EXTRA_CA_CERTS: redis.caFile });
    assertRan(await exitWithin(run, 30_000), 'tlsw2');
  });

  it('without a CA, run --backend redis exits non-zero at once naming the TLS failure; nothing runs', async () => {
    const run = cli(['run', 'pair', '--backend', 'redis', '--redis', redis.url, '--json']);
    const result = await exitWithin(run, 10_000);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, UNTRUSTED);
    assert.match(result.stderr, /--redis-ca/);
    assert.doesNotMatch(result.stderr, /unreachable/);
    assert.equal(events(result.stdout).filter((e) => e.type === 'task.running').length, 0);
  });

  it('without a CA, a worker exits non-zero at once naming the TLS failure', async () => {
    const w = cli(['worker', '--redis', redis.url, '--name', 'bare']);
    const result = await exitWithin(w, 10_000);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, UNTRUSTED);
    // The CLI's own hint: how to trust a CA from the command line.
    assert.match(result.stderr, /--redis-ca FILE \(or ORCHESTRATOR_REDIS_CA, NODE_EXTRA_CA_CERTS\)/);
  });

  it('--redis-ca refusals are usage errors (exit 2) naming the file or the URL', async () => {
    const missing = join(dir, 'nope.pem');
    for (const args of [
      ['worker', '--redis', redis.url, '--redis-ca', missing],
      ['run', 'pair', '--backend', 'redis', '--redis', redis.url, '--redis-ca', missing],
    ]) {
      const result = await exitWithin(cli(args), 10_000);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /--redis-ca/);
      assert.ok(result.stderr.includes(missing), result.stderr);
    }
    const notPem = await exitWithin(cli(['worker', '--redis', redis.url, '--redis-ca', join(dir, '.vscode', 'orchestrator.json')]), 10_000);
    assert.equal(notPem.code, 2, notPem.stderr);
    assert.match(notPem.stderr, /PEM/);
    const plain = await exitWithin(cli(['worker', '--redis', `redis://127.0.0.1:${redis.port}`, '--redis-ca', redis.caFile ?? '']), 10_000);
    assert.equal(plain.code, 2, plain.stderr);
    assert.match(plain.stderr, /rediss:\/\//);
  });
});
