// A validator for the subset of JSON Schema (draft-07) that workflowSchema.json uses. The editor
// checks the file with the same schema through `contributes.jsonValidation`, so the two cannot drift;
// `SUPPORTED_KEYWORDS` lists what this validator understands and a unit test fails if the schema
// uses anything else. Messages follow p-queue's style and name the field, e.g.
// "Expected `workflows.ci.tasks[1].priority` to be an integer, got `"high"` (string)".
// This file imports nothing from 'vscode', so plain Node tests load it.
import { describeValue } from '../core/model/errors';
import { isObjectLike } from '../core/model/guards';

export interface SchemaIssue {
  /** The offending field, e.g. `workflows.ci.tasks[1].priority`; '' for the document itself. */
  path: string;
  message: string;
}

/** A JSON schema node as read from the file: every keyword unknown until checked. */
export type JsonSchema = { readonly [keyword: string]: unknown } | boolean;

/** Keywords with meaning for validation here, and annotations the editor uses that validation ignores. */
export const SUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'items',
  'minItems',
  'uniqueItems',
  'minimum',
  'maximum',
  'minLength',
  'pattern',
  '$ref',
  'oneOf',
  'anyOf',
  'definitions',
  // Annotations, and VS Code's message extensions (also shown by the editor).
  '$schema',
  '$id',
  'title',
  'description',
  'markdownDescription',
  'default',
  'defaultSnippets',
  'examples',
  'errorMessage',
  'patternErrorMessage',
]);

const MAX_ISSUES = 20;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isInteger(value)) return 'integer';
  return typeof value;
}

const ARTICLES: Record<string, string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  null: 'null',
};

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** The issue path of `key` under `path`, as issues name fields: `a.b[0]`, a key that is not an identifier quoted (`workflows."my ci"`). */
export function joinPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const safe = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key);
  return path ? `${path}.${safe}` : safe;
}

function shown(path: string): string {
  return path ? `\`${path}\`` : 'the document';
}

/**
 * Validates `value` against `schema` (whose `#/definitions/...` refs resolve against `root`); `at` is
 * the path of `value` in its document, which every issue's path and message then starts with.
 */
export function validateAgainstSchema(value: unknown, schema: JsonSchema, root: JsonSchema = schema, at = ''): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  check(value, schema, at, root, issues);
  return issues.slice(0, MAX_ISSUES);
}

function resolveRef(ref: unknown, root: JsonSchema): JsonSchema {
  if (typeof ref !== 'string' || !ref.startsWith('#/')) throw new Error(`Unsupported $ref ${describeValue(ref)}: only local refs`);
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    node = isObjectLike(node) ? node[part] : undefined;
  }
  if (!isObjectLike(node) && typeof node !== 'boolean') throw new Error(`Unresolved $ref \`${ref}\``);
  return node;
}

function check(value: unknown, schema: JsonSchema, path: string, root: JsonSchema, issues: SchemaIssue[]): void {
  if (issues.length >= MAX_ISSUES) return;
  if (schema === true) return;
  if (schema === false) {
    issues.push({ path, message: `Unexpected ${shown(path)}` });
    return;
  }
  if (schema.$ref !== undefined) {
    check(value, resolveRef(schema.$ref, root), path, root, issues);
    return;
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type.map(String) : [String(schema.type)];
    if (!types.some((t) => matchesType(value, t))) {
      const wanted = types.map((t) => ARTICLES[t] ?? t).join(' or ');
      issues.push({ path, message: `Expected ${shown(path)} to be ${wanted}, got ${describeValue(value)}` });
      // Further keywords would only repeat the type mismatch.
      return;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((allowed) => JSON.stringify(allowed) === JSON.stringify(value))) {
    const allowed = schema.enum.map((a) => `\`${JSON.stringify(a)}\``).join(', ');
    issues.push({ path, message: `Expected ${shown(path)} to be one of ${allowed}, got ${describeValue(value)}` });
  }

  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) {
      const wanted = schema.minLength === 1 ? 'a non-empty string' : `a string of at least ${schema.minLength} characters`;
      issues.push({ path, message: `Expected ${shown(path)} to be ${wanted}, got ${describeValue(value)}` });
    }
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
      const wanted = typeof schema.patternErrorMessage === 'string' ? schema.patternErrorMessage : `a string matching /${schema.pattern}/`;
      issues.push({ path, message: `Expected ${shown(path)} to be ${wanted}, got ${describeValue(value)}` });
    }
  }

  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) {
      issues.push({
        path,
        message: `Expected ${shown(path)} to be ${ARTICLES[String(schema.type)] ?? 'a number'} >= ${schema.minimum}, got ${describeValue(value)}`,
      });
    }
    if (typeof schema.maximum === 'number' && value > schema.maximum) {
      issues.push({
        path,
        message: `Expected ${shown(path)} to be ${ARTICLES[String(schema.type)] ?? 'a number'} <= ${schema.maximum}, got ${describeValue(value)}`,
      });
    }
  }

  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
      issues.push({ path, message: `Expected ${shown(path)} to have at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}, got none` });
    }
    if (schema.uniqueItems === true) {
      const seen = new Set<string>();
      for (const item of value) {
        const k = JSON.stringify(item);
        if (seen.has(k)) issues.push({ path, message: `Expected ${shown(path)} to have unique items, got ${describeValue(item)} twice` });
        seen.add(k);
      }
    }
    if (schema.items !== undefined && (isObjectLike(schema.items) || typeof schema.items === 'boolean')) {
      const items = schema.items;
      value.forEach((item, i) => check(item, items, joinPath(path, i), root, issues));
    }
  }

  if (isObjectLike(value)) {
    const properties = isObjectLike(schema.properties) ? schema.properties : {};
    if (Array.isArray(schema.required)) {
      for (const key of schema.required) {
        if (typeof key === 'string' && !(key in value)) {
          issues.push({ path: joinPath(path, key), message: `Expected ${shown(path)} to have the property \`${key}\`` });
        }
      }
    }
    if (typeof schema.minProperties === 'number' && Object.keys(value).length < schema.minProperties) {
      issues.push({
        path,
        message: `Expected ${shown(path)} to have at least ${schema.minProperties} entr${schema.minProperties === 1 ? 'y' : 'ies'}, got none`,
      });
    }
    for (const [key, child] of Object.entries(value)) {
      const childSchema = properties[key];
      if (isObjectLike(childSchema) || typeof childSchema === 'boolean') {
        check(child, childSchema, joinPath(path, key), root, issues);
      } else if (schema.additionalProperties === false) {
        const allowed = Object.keys(properties)
          .map((k) => `\`${k}\``)
          .join(', ');
        issues.push({ path: joinPath(path, key), message: `Unexpected property ${shown(joinPath(path, key))}; allowed: ${allowed}` });
      } else if (isObjectLike(schema.additionalProperties)) {
        check(child, schema.additionalProperties, joinPath(path, key), root, issues);
      }
    }
  }

  if (Array.isArray(schema.oneOf)) {
    const matching = schema.oneOf.filter(
      (branch) => (isObjectLike(branch) || typeof branch === 'boolean') && validateAgainstSchema(value, branch, root).length === 0,
    ).length;
    if (matching !== 1) {
      const why =
        typeof schema.errorMessage === 'string' ? schema.errorMessage : `it must match exactly one of ${schema.oneOf.length} alternatives, matches ${matching}`;
      issues.push({ path, message: `Invalid ${shown(path)}: ${why}` });
    }
  }

  if (Array.isArray(schema.anyOf)) {
    const matches = schema.anyOf.some(
      (branch) => (isObjectLike(branch) || typeof branch === 'boolean') && validateAgainstSchema(value, branch, root).length === 0,
    );
    if (!matches) {
      const why = typeof schema.errorMessage === 'string' ? schema.errorMessage : `it must match at least one of ${schema.anyOf.length} alternatives`;
      issues.push({ path, message: `Invalid ${shown(path)}: ${why}` });
    }
  }
}

/** Every keyword used anywhere in `schema` that this validator does not know. */
export function unsupportedKeywords(schema: JsonSchema): string[] {
  const found = new Set<string>();
  const visit = (node: unknown, isSchema: boolean): void => {
    if (!isObjectLike(node)) return;
    for (const [key, child] of Object.entries(node)) {
      if (isSchema && !SUPPORTED_KEYWORDS.has(key)) found.add(key);
      if (!isSchema) {
        visit(child, true);
      } else if (key === 'properties' || key === 'definitions') {
        visit(child, false);
      } else if (key === 'items' || key === 'additionalProperties') {
        visit(child, true);
      } else if ((key === 'oneOf' || key === 'anyOf') && Array.isArray(child)) {
        child.forEach((c) => visit(c, true));
      }
    }
  };
  visit(schema, true);
  return [...found].sort();
}
