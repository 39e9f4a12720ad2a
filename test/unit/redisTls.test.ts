// The Redis backend over TLS (`rediss://`) on a real redis-server with only a TLS port and a
// throw-away CA: with `ca` the coordinator and a worker run a workflow; without it, connecting
// fails at once naming the TLS verification code (retrying cannot fix a certificate).
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { redisOptions } from '../../src/backends/redis/connection';
import { RedisExecution } from '../../src/backends/redis/redisExecution';
import { RedisWorker } from '../../src/backends/redis/redisWorker';
import { createOrchestrator } from '../../src/core/orchestrator/orchestrator';
import { ValidationError } from '../../src/core/model/errors';
import type { TaskSpec } from '../../src/core/model/model';
import { untrustedTlsCode } from '../../src/backends/redis/tlsTrust';
import { REDIS_SERVER, redisTlsAvailable, startRedis } from '../support/redisServer';
import { redisSuite } from '../support/redisSuite';
import { until } from '../support/until';
import { spawn } from 'node:child_process';

/** What Node says of a chain it cannot verify; which one depends on the chain the server sends. */
const UNTRUSTED =
  /TLS certificate not trusted \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|DEPTH_ZERO_SELF_SIGNED_CERT)\)/;

(redisTlsAvailable() ? describe : describe.skip)('redis backend over TLS (skipped without redis-server or openssl)', function () {
  this.timeout(30_000);
  const suite = redisSuite('redis-tls', { tls: true });
  let n = 0;
  /** Closed after the test. */
  const keepWorker = (w: RedisWorker): RedisWorker => {
    suite.closeAfter(() => w.close());
    return w;
  };
  const keepPort = (port: RedisExecution): RedisExecution => {
    suite.closeAfter(() => port.dispose());
    return port;
  };

  const sh = (key: string, command: string, deps: string[] = []): TaskSpec => ({ key, name: key, kind: 'shell', command, dependsOn: deps });

  it('the test server speaks only TLS, with a CA of its own', () => {
    assert.match(suite.redis.url, /^rediss:\/\/127\.0\.0\.1:\d+$/);
    assert.match(suite.redis.ca ?? '', /-----BEGIN CERTIFICATE-----/);
    assert.equal(readFileSync(suite.redis.caFile ?? '', 'utf8'), suite.redis.ca);
  });

  it('with `ca`, a coordinator and a worker run two dependent shell tasks over rediss://', async () => {
    const prefix = `tls${++n}`;
    keepWorker(await RedisWorker.start({ url: suite.redis.url, ca: suite.redis.ca, prefix, name: 'tlsw', concurrency: 2 }));
    const warnings: string[] = [];
    const remote = keepPort(await RedisExecution.connect({ url: suite.redis.url, ca: suite.redis.ca, prefix, onWarn: (m) => warnings.push(m) }));
    assert.equal(remote.connected, true);
    const o = await createOrchestrator({ remote, concurrency: 4 });
    const trace = join(suite.dir, 'trace');
    const ids = await o.scheduleWorkflow([sh('first', `echo first >> ${trace}`), sh('second', `echo second >> ${trace}`, ['first'])]);
    await o.whenIdle();
    for (const id of ids) {
      const r = o.getTask(id);
      assert.equal(r?.status, 'completed', `${r?.name}: ${JSON.stringify(r?.error)}`);
      assert.equal(r?.result?.worker, 'tlsw');
    }
    assert.deepEqual(readFileSync(trace, 'utf8').trim().split('\n'), ['first', 'second']);
    assert.deepEqual(warnings, []);
    await o.dispose();
  });

  it('without `ca`, the coordinator refuses at once naming the TLS code, and nothing is sent', async () => {
    const prefix = `tls${++n}`;
    keepWorker(await RedisWorker.start({ url: suite.redis.url, ca: suite.redis.ca, prefix, name: 'tlsw', concurrency: 1 }));
    const warnings: string[] = [];
    const started = Date.now();
    // A wait far longer than the test allows a refusal: an outage-style wait would resolve only after it.
    const err = await RedisExecution.connect({ url: suite.redis.url, prefix, onWarn: (m) => warnings.push(m) }, 20_000).then(
      (r) => {
        keepPort(r);
        return undefined;
      },
      (e: unknown) => e,
    );
    assert.ok(err instanceof Error, 'connect rejects');
    assert.ok(Date.now() - started < 3000, `refused within 3 s, took ${Date.now() - started} ms`);
    assert.match(err.message, UNTRUSTED);
    assert.match(err.message, new RegExp(`Redis at 127\\.0\\.0\\.1:${suite.redis.port}`));
    assert.match(err.message, /the CA that signed it is not trusted/);
    // How to trust it depends on the caller (a CLI flag, an editor setting): each adds its own hint.
    assert.doesNotMatch(err.message, /--redis-ca|ORCHESTRATOR_REDIS_CA|caFile/);
    assert.equal((err as { code?: unknown }).code, 'REDIS_TLS_UNTRUSTED');
    assert.ok(!warnings.some((w) => /unreachable/.test(w)), `no "unreachable" warning: ${JSON.stringify(warnings)}`);
  });

  it('without `ca`, a worker refuses at once naming the TLS code', async () => {
    const started = Date.now();
    const err = await RedisWorker.start({ url: suite.redis.url, prefix: `tls${++n}`, name: 'bare', concurrency: 1 }).then(
      (w) => {
        keepWorker(w);
        return undefined;
      },
      (e: unknown) => e,
    );
    assert.ok(err instanceof Error, 'start rejects');
    assert.ok(Date.now() - started < 3000, `refused within 3 s, took ${Date.now() - started} ms`);
    assert.match(err.message, UNTRUSTED);
  });

  it('with `ca` but a host the certificate does not name, the connect is refused naming ERR_TLS_CERT_ALTNAME_INVALID', async () => {
    // ioredis resolves IPv4 by default: localhost is 127.0.0.1, which the certificate names only as an IP.
    const err = await RedisExecution.connect({ url: `rediss://localhost:${suite.redis.port}`, ca: suite.redis.ca, prefix: `tls${++n}` }, 20_000).then(
      (r) => {
        keepPort(r);
        return undefined;
      },
      (e: unknown) => e,
    );
    assert.ok(err instanceof Error, 'connect rejects');
    assert.match(err.message, /Redis at localhost:\d+: TLS certificate not trusted \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
    assert.match(err.message, /the certificate does not name this host/);
  });

  it('after a connect, a server certificate that is no longer trusted is warned by its name, not as an outage', async () => {
    const other = await startRedis({ tls: true });
    const warnings: string[] = [];
    const remote = keepPort(await RedisExecution.connect({ url: suite.redis.url, ca: suite.redis.ca, prefix: `tls${++n}`, onWarn: (m) => warnings.push(m) }));
    assert.equal(remote.connected, true);
    // The same port, now served with a certificate of another CA.
    await suite.redis.down();
    const impostor = spawn(
      REDIS_SERVER,
      [
        ...['--port', '0', '--tls-port', String(suite.redis.port), '--bind', '127.0.0.1', '--save', '', '--dir', other.dir],
        ...['--tls-cert-file', join(other.dir, 'server.pem'), '--tls-key-file', join(other.dir, 'server.key'), '--tls-auth-clients', 'no'],
      ],
      { stdio: 'ignore' },
    );
    try {
      await until(() => warnings.some((w) => /TLS certificate not trusted/.test(w)), 10_000, 'the TLS warning');
      const tls = warnings.find((w) => /TLS certificate not trusted/.test(w)) ?? '';
      assert.match(tls, UNTRUSTED);
      assert.doesNotMatch(tls, /--redis-ca/, "the hint is the caller's");
      assert.equal(remote.connected, false);
    } finally {
      const gone = new Promise((resolve) => impostor.once('exit', resolve));
      impostor.kill('SIGKILL');
      await gone;
      await other.stop();
      await suite.redis.up();
    }
  });

  it('`ca` is refused with a redis:// URL, and when it is not PEM', () => {
    assert.throws(
      () => redisOptions('redis://127.0.0.1:6379', undefined, { ca: suite.redis.ca }),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.equal(e.field, 'ca');
        assert.match(e.message, /`ca`.*rediss:\/\//);
        return true;
      },
    );
    assert.throws(
      () => redisOptions('rediss://127.0.0.1:6379', undefined, { ca: 'not a certificate' }),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.equal(e.field, 'ca');
        assert.match(e.message, /Expected `ca` to be PEM text/);
        assert.match(e.message, /got `"not a certificate"`/);
        return true;
      },
    );
    const o = redisOptions('rediss://127.0.0.1:6380', undefined, { ca: suite.redis.ca });
    assert.deepEqual(o.tls, { ca: suite.redis.ca });
  });
});

describe('untrustedTlsCode', () => {
  it('names certificate verification failures only; a refused or dropped connection stays an outage', () => {
    for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED'])
      assert.equal(untrustedTlsCode(Object.assign(new Error('x'), { code })), code);
    for (const err of [
      Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('x'), { code: 'ECONNRESET' }),
      new Error('x'),
      undefined,
      'text',
    ])
      assert.equal(untrustedTlsCode(err), undefined);
  });
});
