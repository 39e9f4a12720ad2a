import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const CORE = resolve(__dirname, '../../src/core');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import and re-export of every core file, type-only ones included, resolved to files. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const spec = /(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?['"](\.[^'"]+)['"]/g;
  for (const file of sources(CORE)) {
    const targets: string[] = [];
    for (const m of readFileSync(file, 'utf8').matchAll(spec)) {
      const base = resolve(dirname(file), m[1] as string);
      const target = [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p));
      if (target) targets.push(target);
    }
    graph.set(
      relative(CORE, file),
      targets.map((t) => relative(CORE, t)),
    );
  }
  return graph;
}

/** One import circle, as the files around it, or undefined. */
function findCircle(graph: Map<string, string[]>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    const at = path.indexOf(node);
    if (at >= 0) return [...path.slice(at), node];
    if (done.has(node)) return undefined;
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const circle = visit(next);
      if (circle) return circle;
    }
    path.pop();
    done.add(node);
    return undefined;
  };
  for (const node of graph.keys()) {
    const circle = visit(node);
    if (circle) return circle;
  }
  return undefined;
}

describe('core imports', () => {
  it('form no circle, type-only imports included', () => {
    assert.equal(findCircle(importGraph())?.join(' -> '), undefined);
  });

  it('never reach up into the orchestrator from a lower layer', () => {
    const offenders = [...importGraph()].filter(
      ([file, targets]) => !file.startsWith('orchestrator/') && file !== 'index.ts' && targets.some((t) => t.startsWith('orchestrator/')),
    );
    assert.deepEqual(
      offenders.map(([file]) => file),
      [],
    );
  });
});
