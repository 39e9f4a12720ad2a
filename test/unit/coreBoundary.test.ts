import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('core boundary', () => {
  it('keeps src/core free of vscode and of the extension, webview and dashboard protocol layers', () => {
    const offenders = sources(join(__dirname, '../../src/core')).filter((file) => {
      const text = readFileSync(file, 'utf8');
      return /from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\)|from\s+['"][^'"]*\/(extension|webview|dashboardProtocol)\//.test(
        text,
      );
    });
    assert.deepEqual(offenders, []);
  });
});
