import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConfigKeys, type ConfigKey } from '../../src/workspaceFiles/names';
import { DEFAULTS, cacheDirOf, readSettingsFrom } from '../../src/workspaceFiles/settingsValues';

function read(values: Partial<Record<ConfigKey, unknown>>): { settings: ReturnType<typeof readSettingsFrom>; problems: string[] } {
  const problems: string[] = [];
  const settings = readSettingsFrom((key) => values[key], problems);
  return { settings, problems };
}

describe('settingsValues', () => {
  describe('orchestrator.backend', () => {
    it('is local when unset', () => {
      const { settings, problems } = read({});
      assert.equal(settings.backend, 'local');
      assert.deepEqual(problems, []);
    });

    it('takes local and redis', () => {
      assert.equal(read({ [ConfigKeys.backend]: 'redis' }).settings.backend, 'redis');
      assert.equal(read({ [ConfigKeys.backend]: 'local' }).settings.backend, 'local');
    });

    it('refuses anything else, names what is allowed, and falls back to local', () => {
      for (const bad of ['Redis', 'kafka', 1, true, {}]) {
        const { settings, problems } = read({ [ConfigKeys.backend]: bad });
        assert.equal(settings.backend, 'local');
        assert.equal(problems.length, 1);
        assert.match(problems[0]!, /Expected `orchestrator\.backend` to be one of `local`, `redis`, got .*; using local/);
      }
    });
  });

  describe('orchestrator.redis.url', () => {
    it('defaults to a Redis on this machine', () => {
      assert.equal(read({}).settings.redisUrl, DEFAULTS.redisUrl);
      assert.equal(DEFAULTS.redisUrl, 'redis://127.0.0.1:6379');
    });

    it('takes redis:// and rediss:// (TLS) URLs as written', () => {
      for (const url of ['redis://cache.example:6380/2', 'rediss://user@cache.example:6380', 'redis://[::1]:6379']) {
        const { settings, problems } = read({ [ConfigKeys.redisUrl]: url });
        assert.equal(settings.redisUrl, url);
        assert.deepEqual(problems, []);
      }
    });

    it('refuses another scheme, no host, or not a URL, and falls back to the default', () => {
      for (const bad of ['http://cache:6379', 'cache:6379', 'redis://', '', 6379]) {
        const { settings, problems } = read({ [ConfigKeys.redisUrl]: bad });
        assert.equal(settings.redisUrl, DEFAULTS.redisUrl, String(bad));
        assert.equal(problems.length, 1, String(bad));
        assert.match(problems[0]!, /Expected `orchestrator\.redis\.url` to be a URL like `redis:\/\/host:6379`/);
      }
    });
  });

  describe('orchestrator.redis.caFile', () => {
    it('is none when unset or empty (the editor clears a string setting to "")', () => {
      assert.equal(read({}).settings.redisCaFile, undefined);
      const { settings, problems } = read({ [ConfigKeys.redisCaFile]: '' });
      assert.equal(settings.redisCaFile, undefined);
      assert.deepEqual(problems, []);
    });

    it('takes a path as written', () => {
      const { settings, problems } = read({ [ConfigKeys.redisCaFile]: '/etc/redis/ca.pem' });
      assert.equal(settings.redisCaFile, '/etc/redis/ca.pem');
      assert.deepEqual(problems, []);
    });

    it('refuses a value that is not a path, naming the key and what is allowed, and uses none', () => {
      for (const bad of [42, true, ['/ca.pem'], { file: '/ca.pem' }, '   ', 'a\0b']) {
        const { settings, problems } = read({ [ConfigKeys.redisCaFile]: bad });
        assert.equal(settings.redisCaFile, undefined, JSON.stringify(bad));
        assert.equal(problems.length, 1, JSON.stringify(bad));
        assert.match(problems[0]!, /Expected `orchestrator\.redis\.caFile` to be the path of a PEM file .*, got .*; using none/);
      }
    });
  });
});

describe('settingsValues: orchestrator.cache.*', () => {
  it('is on, 512 MB, in the folder by default', () => {
    const { settings, problems } = read({});
    assert.deepEqual(settings.cache, { enabled: true, maxSizeMB: 512, directory: undefined });
    assert.deepEqual(problems, []);
    assert.equal(cacheDirOf(settings.cache, '/ws/app', '/storage/cache'), join('/ws/app', '.orchestrator', 'cache'));
  });

  it('takes a boolean, a size from 1 to 100000 MB and a folder, absolute or relative to the workspace folder', () => {
    const { settings, problems } = read({ [ConfigKeys.cacheEnabled]: false, [ConfigKeys.cacheMaxSizeMB]: 100_000, [ConfigKeys.cacheDirectory]: 'build/cache' });
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.cache, { enabled: false, maxSizeMB: 100_000, directory: 'build/cache' });
    assert.equal(cacheDirOf(settings.cache, '/ws/app', '/storage/cache'), join('/ws/app', 'build', 'cache'));
    assert.equal(cacheDirOf({ ...settings.cache, directory: '/var/cache/orch' }, '/ws/app', '/storage/cache'), join('/var/cache/orch'));
    assert.equal(read({ [ConfigKeys.cacheMaxSizeMB]: 1 }).settings.cache.maxSizeMB, 1);
  });

  it('keeps the cache in the editor storage without a workspace folder', () => {
    assert.equal(cacheDirOf(read({}).settings.cache, undefined, '/storage/cache'), join('/storage/cache'));
  });

  it('refuses a size out of range or not an integer, naming the range, and uses 512', () => {
    for (const bad of [0, -1, 100_001, 1.5, '512', true]) {
      const { settings, problems } = read({ [ConfigKeys.cacheMaxSizeMB]: bad });
      assert.equal(settings.cache.maxSizeMB, 512, String(bad));
      assert.equal(problems.length, 1, String(bad));
      assert.match(problems[0]!, /Expected `orchestrator\.cache\.maxSizeMB` to be an integer from 1 to 100000, got .*; using 512/);
    }
  });

  it('refuses an enabled that is not a boolean and a directory that is not a path, and uses the defaults', () => {
    const { settings, problems } = read({ [ConfigKeys.cacheEnabled]: 'no', [ConfigKeys.cacheDirectory]: 42 });
    assert.deepEqual(settings.cache, { enabled: true, maxSizeMB: 512, directory: undefined });
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /Expected `orchestrator\.cache\.enabled` to be a boolean, got "no"; using true/);
    assert.match(problems[1]!, /Expected `orchestrator\.cache\.directory` to be a folder path .*, got 42; using the default/);
    assert.deepEqual(read({ [ConfigKeys.cacheDirectory]: '' }).problems, [], 'an empty path is the default, not a mistake');
  });
});

describe('settingsValues: orchestrator.history.retentionDays', () => {
  it('is 30 days when unset, takes 1 to 3650, and falls back with a problem otherwise', () => {
    assert.equal(read({}).settings.historyRetentionDays, DEFAULTS.historyRetentionDays);
    assert.equal(read({}).settings.historyRetentionDays, 30);
    assert.equal(read({ [ConfigKeys.historyRetentionDays]: 1 }).settings.historyRetentionDays, 1);
    assert.equal(read({ [ConfigKeys.historyRetentionDays]: 3650 }).settings.historyRetentionDays, 3650);
    for (const bad of [0, 3651, 1.5, '7']) {
      const { settings, problems } = read({ [ConfigKeys.historyRetentionDays]: bad });
      assert.equal(settings.historyRetentionDays, 30, String(bad));
      assert.match(problems[0] ?? '', /Expected `orchestrator\.history\.retentionDays` to be an integer from 1 to 3650/);
    }
  });
});
