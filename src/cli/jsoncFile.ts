// A VS Code JSON file (tasks.json, settings.json) read as VS Code reads it: comments and trailing
// commas allowed. A syntax error names `file:line:column`, so a terminal or an editor can jump there.
import { readFileSync } from 'node:fs';
// The ESM build: the package's `main` is a UMD file whose dynamic requires a bundle cannot follow.
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import { ValidationError } from '../core/model/errors';
import { positionAt } from './sourcePositions';

/** The parsed file, or undefined when it does not exist. Throws ValidationError for a syntax error or an unreadable file. */
export function readJsonc(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ValidationError(`Cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, file);
  }
  const errors: ParseError[] = [];
  const data: unknown = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  const [first] = errors;
  if (first) {
    const { line, column } = positionAt(text, first.offset);
    throw new ValidationError(`${file}:${line}:${column}: Expected valid JSON with comments, got ${printParseErrorCode(first.error)}`, file);
  }
  return data;
}
