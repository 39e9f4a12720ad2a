// Building the dashboard's DOM: one element helper for every section of the page.

/** A child of an element: a node, text, or nothing (skipped, for optional parts). */
export type Child = Node | string | undefined;

/** `<tag attrs…>children…</tag>`; undefined children are left out. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) if (c !== undefined) node.append(c);
  return node;
}
