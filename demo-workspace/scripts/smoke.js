'use strict';
// Smoke test against the dev server (scripts/devServer.js): a few pages and the answer each must give.
// Exits 1 on a wrong answer.
const base = `http://127.0.0.1:${process.env.DEV_PORT || 43117}`;

const checks = [
  { path: '/health', status: 200, body: 'ok' },
  { path: '/', status: 200, body: 'Hello, world!' },
  { path: '/api/greet?name=Ada', status: 200, body: '"message":"Hello, Ada!"' },
  { path: '/api/greet', status: 400, body: 'Expected a non-empty name' },
  { path: '/missing', status: 404 },
];

async function main() {
  let failed = 0;
  for (const c of checks) {
    let line;
    try {
      const res = await fetch(base + c.path);
      const text = await res.text();
      const ok = res.status === c.status && (!c.body || text.includes(c.body));
      line = `${ok ? 'ok  ' : 'FAIL'} GET ${c.path} -> ${res.status}${c.body ? ` (expects ${c.status} with ${JSON.stringify(c.body)})` : ` (expects ${c.status})`}`;
      if (!ok) failed++;
    } catch (e) {
      failed++;
      line = `FAIL GET ${c.path}: ${e.message}`;
    }
    console.log(line);
  }
  console.log(failed ? `${failed} of ${checks.length} checks failed` : `${checks.length} checks passed against ${base}`);
  process.exitCode = failed ? 1 : 0;
}

main();
