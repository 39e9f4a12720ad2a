// Builds every bundle of the project.
//   dist/extension.js   the extension (CommonJS, 'vscode' external)
//   dist/core.js        the core on its own (CommonJS, no 'vscode'), for other programs
//   dist/cli.js         the `orchestrator` command (package.json bin): the core, headless
//   dist/webview/       the dashboard's browser bundle
//   out/test/host/      the suites that run inside a real extension host
// --production minifies and keeps source maps out of the .vsix (see .vscodeignore); --watch rebuilds on change.
import * as esbuild from 'esbuild';
import { readdirSync, existsSync, mkdirSync, copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  sourcemap: production ? 'external' : 'linked',
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

// test/host/index.ts (the runner) and every test/host/**/*.test.ts; subfolders (e.g. untrusted/) are
// separate host passes and keep their folder under out/test/host.
const hostTests = existsSync('test/host')
  ? readdirSync('test/host', { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join('test/host', f))
  : [];

/** @type {import('esbuild').BuildOptions[]} */
const builds = [
  {
    ...common,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  { ...common, entryPoints: ['src/core/index.ts'], outfile: 'dist/core.js', platform: 'node', format: 'cjs', target: 'node20' },
  {
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
];
if (existsSync('src/webview/dashboard.ts')) {
  builds.push({
    ...common,
    entryPoints: { dashboard: 'src/webview/dashboard.ts' },
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'css' },
  });
}
if (hostTests.length) {
  // Host suites talk to the extension through its API and the real 'vscode'; mocha comes from node_modules.
  builds.push({
    ...common,
    minify: false,
    entryPoints: hostTests,
    outbase: 'test/host',
    outdir: 'out/test/host',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha'],
  });
}

/** `npx orchestrator` and an installed `orchestrator` run dist/cli.js itself (its #! line): it must be executable. */
function markCliExecutable() {
  if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
}

function copySchema() {
  if (existsSync('src/workspaceFiles/workflowSchema.json')) {
    mkdirSync('dist/schema', { recursive: true });
    copyFileSync('src/workspaceFiles/workflowSchema.json', 'dist/schema/orchestrator.schema.json');
  }
}

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  copySchema();
  markCliExecutable();
  console.log('[watch] watching for changes');
} else {
  const started = Date.now();
  await Promise.all(builds.map((b) => esbuild.build(b)));
  copySchema();
  markCliExecutable();
  console.log(`[build] ${builds.length} bundles${production ? ' (production)' : ''} in ${Date.now() - started} ms`);
}
