// The globs of a cache spec (`inputs`, `outputs`) and their expansion to files under a root.
//
// Invariants:
//  - A glob is a non-empty string, relative, without a `..` segment: a cache reads and writes only
//    under its root. Anything else is refused with a ValidationError before the file system is touched.
//  - Expansion never follows a symbolic link (a link could lead out of the root), so links, and what
//    lies behind a linked directory, are never matched: only regular files under the root are.
//  - `.git` and `node_modules` are skipped unless the glob itself names them as a segment
//    (`node_modules/foo/**` matches, `**` does not reach into them); `exclude` (e.g. the cache's own
//    folder) is skipped always. A glob starting with `!` removes what it matches from the others.
//  - A glob without wildcards naming a folder means the files in it (`src` is `src/**`), so a
//    folder named as an input is never silently an empty input.
//  - Results are paths relative to the root with `/` separators, sorted and without duplicates, so
//    the same tree always yields the same list.
import { lstat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
// fast-glob, not tinyglobby: tinyglobby's fdir, bundled by esbuild to CommonJS (dist/*.js), calls
// createRequire(import.meta.url) with import.meta empty and throws on load.
import fg from 'fast-glob';
import { fail } from '../model/fieldChecks';

/** Folders a glob reaches into only when it names them. */
const SKIPPED_UNLESS_NAMED: readonly string[] = ['.git', 'node_modules'];

const RELATIVE_GLOB = 'a relative glob (a cache never reads or writes outside its folder), not an absolute path';

/** `value` as a checked glob; throws a ValidationError naming `field` otherwise. */
export function checkCacheGlob(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) fail(field, 'a non-empty glob string', value);
  if (value.includes('\0')) fail(field, 'a glob free of NUL characters', value);
  const body = value.startsWith('!') ? value.slice(1) : value;
  if (body.startsWith('/') || body.startsWith('\\') || /^[A-Za-z]:/.test(body)) fail(field, RELATIVE_GLOB, value);
  if (body.split(/[\\/]/).includes('..')) fail(field, 'a glob without `..` segments (a cache never reads or writes outside its folder)', value);
  return value;
}

/** Every glob checked (`globs[i]` named in the error); throws on the first refused. */
export function checkCacheGlobs(field: string, globs: unknown): string[] {
  if (!Array.isArray(globs)) fail(field, 'an array of glob strings', globs);
  return globs.map((g, i) => checkCacheGlob(`${field}[${i}]`, g));
}

/** `dir` as a glob relative to `root` matching everything in it, or undefined when `dir` is not inside `root`. */
function insideAsGlob(root: string, dir: string): string | undefined {
  const rel = relative(root, dir);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return `${fg.escapePath(rel.split(sep).join('/'))}/**`;
}

/** `glob`, or `glob/**` when it has no wildcard and names a real folder (not a link) under `root`. */
async function asFolderGlob(root: string, glob: string): Promise<string> {
  if (fg.isDynamicPattern(glob)) return glob;
  const st = await lstat(join(root, glob)).catch(() => undefined);
  return st?.isDirectory() ? `${fg.escapePath(glob.replace(/[\\/]+$/, ''))}/**` : glob;
}

/**
 * The regular files under `root` (absolute) matched by `globs` (checked here), as sorted relative
 * paths. `exclude` lists absolute folders never matched (the cache's own folder).
 */
export async function expandCacheGlobs(root: string, globs: readonly unknown[], exclude: readonly string[] = []): Promise<string[]> {
  const checked = checkCacheGlobs('globs', globs);
  const negated = checked.filter((g) => g.startsWith('!')).map((g) => g.slice(1));
  const excluded = exclude.map((d) => insideAsGlob(root, d)).filter((g): g is string => g !== undefined);
  // Globs are grouped by which skipped folders they name, so each group crawls with its own ignores.
  const groups = new Map<string, string[]>();
  for (const g of checked) {
    if (g.startsWith('!')) continue;
    const pattern = await asFolderGlob(root, g);
    const segments = pattern.split(/[\\/]/);
    const skipped = SKIPPED_UNLESS_NAMED.filter((name) => !segments.includes(name)).join('\0');
    groups.set(skipped, [...(groups.get(skipped) ?? []), pattern]);
  }
  const found = new Set<string>();
  for (const [skipped, patterns] of groups) {
    const ignore = [...(skipped === '' ? [] : skipped.split('\0').map((name) => `**/${name}/**`)), ...excluded, ...negated];
    const files = await fg.glob(patterns, { cwd: root, dot: true, followSymbolicLinks: false, onlyFiles: true, unique: true, ignore });
    for (const f of files) found.add(f);
  }
  return [...found].sort();
}
