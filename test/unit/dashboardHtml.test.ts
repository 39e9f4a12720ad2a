import * as assert from 'node:assert/strict';
import { dashboardHtml, nonce } from '../../src/extension/dashboard/dashboardHtml';

const page = (n = 'abc123') =>
  dashboardHtml({
    cspSource: 'https://webview.test',
    scriptUri: 'https://webview.test/dashboard.js',
    styleUri: 'https://webview.test/dashboard.css',
    nonce: n,
  });

function csp(html: string): Map<string, string[]> {
  const content = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
  assert.ok(content, 'the page declares a CSP');
  return new Map(
    content
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...sources]) => [name, sources]),
  );
}

describe('dashboardHtml', () => {
  it('denies everything by default and allows only its script, by nonce, and its stylesheet', () => {
    const policy = csp(page());
    assert.deepEqual(policy.get('default-src'), ["'none'"]);
    assert.deepEqual(policy.get('script-src'), ["'nonce-abc123'"]);
    assert.deepEqual(policy.get('style-src'), ['https://webview.test']);
    assert.deepEqual([...policy.keys()].sort(), ['default-src', 'script-src', 'style-src']);
    assert.doesNotMatch(page(), /unsafe-inline|unsafe-eval|https?:\/\/(?!webview\.test)/);
  });

  it('gives its one script the nonce, and has no inline script or style', () => {
    const html = page();
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    assert.deepEqual(scripts, ['<script nonce="abc123" src="https://webview.test/dashboard.js">']);
    assert.doesNotMatch(html, /<style|style="/);
  });

  it('makes a fresh, unguessable nonce each time', () => {
    const seen = new Set(Array.from({ length: 100 }, nonce));
    assert.equal(seen.size, 100);
    for (const n of seen) assert.match(n, /^[A-Za-z0-9+/]{24}$/);
  });
});
