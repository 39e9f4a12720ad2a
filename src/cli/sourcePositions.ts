// Where in a JSON file a problem is: `file:line:column`, as compilers print it, so a terminal or an
// editor can jump there. Lines and columns count from 1. A path that names no node (a missing
// property) points at the nearest node that exists above it.
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser/lib/esm/main.js';

export interface Position {
  line: number;
  column: number;
}

export function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * An issue path as the schema validator writes it (`workflows.ci.tasks[0].dependsOn[1]`, a name
 * that is not an identifier quoted: `workflows."my ci"`) as the segments jsonc-parser takes.
 */
export function pathSegments(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  const token = /\.?(?:([A-Za-z_$][\w$-]*)|("(?:[^"\\]|\\.)*")|\[(\d+)\])/y;
  let at = 0;
  while (at < path.length) {
    token.lastIndex = at;
    const m = token.exec(path);
    if (!m) break;
    if (m[1] !== undefined) segments.push(m[1]);
    else if (m[2] !== undefined) segments.push(JSON.parse(m[2]) as string);
    else segments.push(Number(m[3]));
    at = token.lastIndex;
  }
  return segments;
}

/** The position of the value at `path` in `text`, or of its nearest existing parent; 1:1 for the document. */
export function positionOfPath(text: string, path: string): Position {
  const root = parseTree(text, [], { disallowComments: false, allowTrailingComma: true });
  if (!root) return { line: 1, column: 1 };
  const segments = pathSegments(path);
  for (let n = segments.length; n >= 0; n--) {
    const node: Node | undefined = findNodeAtLocation(root, segments.slice(0, n));
    if (node) {
      // A property's value: point at its key, where the eye looks for it.
      const at = node.parent?.type === 'property' && node.parent.children?.[0] ? node.parent.children[0] : node;
      return positionAt(text, at.offset);
    }
  }
  return { line: 1, column: 1 };
}

/** Syntax errors of strict JSON (no comments, no trailing commas, as JSON.parse reads the workflow file), with positions. */
export function jsonSyntaxErrors(text: string): { position: Position; message: string }[] {
  const errors: ParseError[] = [];
  parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  return errors.map((e) => ({ position: positionAt(text, e.offset), message: `Expected valid JSON: ${describeParseError(printParseErrorCode(e.error))}` }));
}

function describeParseError(code: string): string {
  // printParseErrorCode gives names like `CommaExpected`; spelt out they read as a sentence.
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}
