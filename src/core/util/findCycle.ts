// A cycle search over a directed graph, for every check that must refuse a circle of dependencies:
// a workflow (model/workflowValidation), the restored records (state/restoreCheck). Pure; imports nothing.

/**
 * Finds a cycle in a directed graph given as node -> the nodes it points at (for dependencies: a task
 * -> the tasks it depends on). Targets that are not keys of `adjacency` are leaves. Returns the cycle
 * in edge order with its first node repeated at the end (`['build', 'test', 'build']`), or undefined.
 * Iterative depth-first search with an explicit stack: a 10,000-node chain cannot overflow the stack.
 * Deterministic: nodes and edges are visited in the order the map and its arrays give them.
 */
export function findCycle(adjacency: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const DONE = -1;
  // Node -> DONE once fully explored, or its position on the current path while on it.
  const state = new Map<string, number>();
  const path: string[] = [];
  const edgeIndex: number[] = [];
  for (const root of adjacency.keys()) {
    if (state.has(root)) continue;
    state.set(root, 0);
    path.push(root);
    edgeIndex.push(0);
    while (path.length > 0) {
      // path and edgeIndex grow and shrink together, so `top` is inside both.
      const top = path.length - 1;
      const node = path[top]!;
      const edges = adjacency.get(node) ?? [];
      const at = edgeIndex[top]!;
      if (at >= edges.length) {
        state.set(node, DONE);
        path.pop();
        edgeIndex.pop();
        continue;
      }
      edgeIndex[top] = at + 1;
      const next = edges[at]!;
      const s = state.get(next);
      if (s === undefined) {
        state.set(next, path.length);
        path.push(next);
        edgeIndex.push(0);
      } else if (s !== DONE) {
        // A back edge to a node on the current path: the path from it to here is the cycle.
        const cycle = path.slice(s);
        cycle.push(next);
        return cycle;
      }
    }
  }
  return undefined;
}
