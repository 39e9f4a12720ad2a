// Mocha hooks for a suite on a redis-server of its own. The server lives for the whole suite and is
// stopped after it, also when a test failed; each test gets a scratch directory and a list of
// closers, run last-first after it whatever its outcome, then the directory is removed. `commands`,
// an ioredis client on the server, is made on first use and disconnected with the server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redisOptions } from '../../src/backends/redis/connection';
import { startRedis, type RedisServer } from './redisServer';

export interface RedisSuite {
  readonly redis: RedisServer;
  /** An ioredis client on the server (plain `redis://` only). */
  readonly commands: Redis;
  /** This test's scratch directory. */
  readonly dir: string;
  /** Runs `close` after this test (last added, first run). */
  closeAfter(close: () => Promise<unknown> | void): void;
}

/** Registers the hooks (call it in a `describe` body); `name` prefixes the scratch directories. */
export function redisSuite(name: string, options: Parameters<typeof startRedis>[0] = {}): RedisSuite {
  let redis: RedisServer | undefined;
  let commands: Redis | undefined;
  let dir: string | undefined;
  const closers: (() => Promise<unknown> | void)[] = [];
  before(async () => {
    redis = await startRedis(options);
  });
  after(async () => {
    commands?.disconnect();
    await redis?.stop();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), `${name}-`));
  });
  afterEach(async () => {
    try {
      for (const close of closers.splice(0).reverse()) await close();
    } finally {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }
  });
  const started = (): RedisServer => {
    if (!redis) throw new Error('redisSuite: the server starts in the before hook');
    return redis;
  };
  return {
    get redis() {
      return started();
    },
    get commands() {
      return (commands ??= new Redis(redisOptions(started().url)));
    },
    get dir() {
      if (dir === undefined) throw new Error('redisSuite: the scratch directory exists during a test');
      return dir;
    },
    closeAfter(close) {
      closers.push(close);
    },
  };
}
