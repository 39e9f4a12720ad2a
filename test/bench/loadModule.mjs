// Loads one source module of the project in a benchmark: bundled by esbuild (CommonJS, as the
// extension and the CLI ship) into out/bench/<name>.js, then required.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as esbuild from 'esbuild';

/** `entry` relative to the repository root, e.g. `src/core/history/runJournal.ts`. */
export async function loadModule(root, entry, name) {
  const outfile = join(root, 'out', 'bench', `${name}.js`);
  await esbuild.build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  });
  return createRequire(import.meta.url)(outfile);
}
