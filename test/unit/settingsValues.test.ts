import * as assert from 'node:assert/strict';
import { ConfigKeys, type ConfigKey } from '../../src/workspaceFiles/names';
import { DEFAULTS, readSettingsFrom } from '../../src/workspaceFiles/settingsValues';

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
});
