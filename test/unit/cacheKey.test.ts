import * as assert from 'node:assert/strict';
import { cacheKey, encodeCacheKey, KEY_FORMAT, type CacheKeyParts } from '../../src/core/cache/cacheKey';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);
const H3 = 'c'.repeat(64);

function base(): CacheKeyParts {
  return {
    kind: 'shell',
    command: 'npm run build',
    payload: { type: 'npm', script: 'build' },
    cwd: '/ws',
    env: { NODE_ENV: 'production' },
    files: [
      ['src/a.ts', H1],
      ['src/b.ts', H2],
    ],
    dependencyKeys: ['k1', 'k2'],
  };
}

describe('cacheKey', () => {
  it('is a sha256 hex digest, the same for the same parts', () => {
    assert.match(cacheKey(base()), /^[0-9a-f]{64}$/);
    assert.equal(cacheKey(base()), cacheKey(base()));
  });

  it('changes with each part: kind, command, payload, cwd, an env value, a file path or content, a dependency key', () => {
    const k = cacheKey(base());
    const variants: [string, (p: CacheKeyParts) => void][] = [
      ['kind', (p) => (p.kind = 'function')],
      ['command', (p) => (p.command = 'npm run build -- --watch')],
      ['command dropped', (p) => delete p.command],
      ['payload', (p) => (p.payload = { type: 'npm', script: 'test' })],
      ['cwd', (p) => (p.cwd = '/ws/pkg')],
      ['env value', (p) => (p.env = { NODE_ENV: 'development' })],
      ['env unset', (p) => (p.env = { NODE_ENV: undefined })],
      ['env empty', (p) => (p.env = { NODE_ENV: '' })],
      ['env name added', (p) => (p.env = { NODE_ENV: 'production', CI: undefined })],
      [
        'file content',
        (p) =>
          (p.files = [
            ['src/a.ts', H3],
            ['src/b.ts', H2],
          ]),
      ],
      [
        'file renamed',
        (p) =>
          (p.files = [
            ['src/c.ts', H1],
            ['src/b.ts', H2],
          ]),
      ],
      ['file added', (p) => p.files.push(['src/c.ts', H3])],
      ['file removed', (p) => p.files.pop()],
      ['dependency key', (p) => (p.dependencyKeys = ['k1', 'k3'])],
      ['dependency added', (p) => p.dependencyKeys.push('k3')],
    ];
    const seen = new Set([k]);
    for (const [name, change] of variants) {
      const p = base();
      change(p);
      const changed = cacheKey(p);
      assert.notEqual(changed, k, name);
      seen.add(changed);
    }
    assert.equal(seen.size, variants.length + 1, 'every variant gives its own key');
  });

  it('does not depend on the order of files, env names, dependency keys or payload object keys', () => {
    const p = base();
    p.files.reverse();
    p.env = { B: '2', A: '1' };
    const q = base();
    q.env = { A: '1', B: '2' };
    p.dependencyKeys.reverse();
    p.payload = { script: 'build', type: 'npm' };
    assert.equal(cacheKey(p), cacheKey(q));
  });

  it('keeps a path and a hash apart: no two different lists encode alike', () => {
    const a = { ...base(), files: [['a', 'b,c'] as [string, string]] };
    const b = { ...base(), files: [['a,b', 'c'] as [string, string]] };
    assert.notEqual(cacheKey(a), cacheKey(b));
  });

  it('leads its encoding with the format version, so a format change invalidates old keys', () => {
    assert.ok(encodeCacheKey(base()).startsWith(`["${KEY_FORMAT}"`));
  });

  it('refuses a payload with a cycle', () => {
    const payload: Record<string, unknown> = {};
    payload.self = payload;
    assert.throws(() => cacheKey({ ...base(), payload }), TypeError);
  });
});
