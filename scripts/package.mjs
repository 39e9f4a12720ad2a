// `npm run package`: production build, then `vsce package` writing orchestrator-<version>.vsix at the repo
// root (.vscodeignore keeps only dist/, media, package.json, README.md and LICENSE). Dependencies are bundled
// by esbuild, so vsce runs with --no-dependencies.
// Then, when code-server is in the tools cache (scripts/tools.mjs), it checks the .vsix installs with
// `code-server --install-extension` into a scratch extensions dir. --verify installs the tools first if
// needed; --no-verify skips the check.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, installVsix } from './codeServer.mjs';
import { stopAll } from './processes.mjs';
import { codeServerEntry } from './tools.mjs';

const args = process.argv.slice(2);

function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: REPO_ROOT, stdio: 'inherit', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed (${r.status ?? r.signal})`);
}

async function main() {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  const vsix = join(REPO_ROOT, `${pkg.name}-${pkg.version}.vsix`);
  run(process.execPath, ['esbuild.mjs', '--production']);
  const vsce = join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  // README images are relative (media/*.png, not in the .vsix); vsce needs a base URL to rewrite them when
  // the repository is not on GitHub/GitLab. Take it from package.json's repository.
  const repoUrl = String(pkg.repository?.url ?? pkg.repository ?? '')
    .replace(/^git\+/, '')
    .replace(/\.git$/, '');
  const base = repoUrl ? ['--baseContentUrl', `${repoUrl}/blob/HEAD/`, '--baseImagesUrl', `${repoUrl}/raw/HEAD/`] : [];
  run(process.execPath, [vsce, 'package', '--no-dependencies', ...base, '--out', vsix]);
  console.log(`[package] ${vsix} (${(statSync(vsix).size / 1024).toFixed(0)} KiB)`);

  if (args.includes('--no-verify')) return 0;
  if (!args.includes('--verify') && !existsSync(codeServerEntry())) {
    console.log('[package] code-server is not in the tools cache: skipped the install check (run with --verify to do it)');
    return 0;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'orchestrator-vsix-'));
  try {
    const extensionsDir = join(scratch, 'extensions');
    const out = await installVsix(vsix, extensionsDir, scratch);
    const id = `${pkg.publisher}.${pkg.name}`;
    const installed = readdirSync(extensionsDir).find((d) => d.toLowerCase().startsWith(`${id}-`.toLowerCase()));
    if (!installed || !existsSync(join(extensionsDir, installed, pkg.main))) {
      throw new Error(`the .vsix did not install ${id} with ${pkg.main}:\n${out}`);
    }
    console.log(`[package] installs into code-server: ${extensionsDir}/${installed} (${out.trim().split('\n').pop()})`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return 0;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (e) {
  console.error(`[package] ${e.message}`);
} finally {
  await stopAll();
}
process.exit(exitCode);
