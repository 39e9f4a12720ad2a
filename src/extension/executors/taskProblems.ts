// What an extension can know of a VS Code task's problems, and how we count them.
//
// Measured in VS Code 1.139 (code-server 4.139.1):
// - `tasks.onDidStartTaskProblemMatchers` / `onDidEndTaskProblemMatchers` (and its `hasErrors`) are
//   still the proposed API `taskProblemMatcherStatus`: a published extension cannot use them. They
//   would only say "errors: yes/no" anyway.
// - A task from `fetchTasks()` has `problemMatchers: []` whatever tasks.json says.
// - The problems a matcher reports reach `languages.getDiagnostics()`; each diagnostic carries the
//   matcher's `source` (undefined when the matcher declares none), never its `owner`.
// So a task's problems are the diagnostics whose `source` is one of its matchers' sources, read from
// its tasks.json entry (inline matchers, or `$name` resolved through the matchers extensions
// contribute and the workbench's built-in ones). A language server that reports with the same source
// (TypeScript's `ts` for `$tsc`) adds its diagnostics to the count, as it does to the Problems view.
import * as vscode from 'vscode';
import type { ProblemCounts } from '../../core/model/model';
import type { ConfiguredTask } from './taskResolver';
import { isObjectLike } from '../../core/model/guards';

/** The workbench's own matchers (not contributed by an extension), name -> source, as in 1.139. */
const BUILT_IN_SOURCES: Readonly<Record<string, string>> = {
  msCompile: 'cpp',
  lessCompile: 'less',
  'gulp-tsc': 'ts',
  jshint: 'jshint',
  'jshint-stylish': 'jshint',
  'eslint-compact': 'eslint',
  'eslint-stylish': 'eslint',
  go: 'go',
};

/** The problem matcher an extension contributes (its package.json `problemMatchers`) by name, without the `$`. */
export function contributedMatcher(name: string): Record<string, unknown> | undefined {
  for (const ext of vscode.extensions.all) {
    const contributes: unknown = (ext.packageJSON as { contributes?: unknown } | undefined)?.contributes;
    const matchers = isObjectLike(contributes) ? contributes.problemMatchers : undefined;
    if (!Array.isArray(matchers)) continue;
    for (const m of matchers as unknown[]) if (isObjectLike(m) && m.name === name) return m;
  }
  return undefined;
}

/** The source of a matcher named `$name`: an extension's contribution, else a built-in one. */
function namedSource(reference: string): string | undefined {
  const name = reference.startsWith('$') ? reference.slice(1) : reference;
  const m = contributedMatcher(name);
  if (!m) return BUILT_IN_SOURCES[name];
  if (typeof m.source === 'string') return m.source;
  if (typeof m.base === 'string') return namedSource(m.base);
  return undefined;
}

/** Sources of a tasks.json `problemMatcher` value: a name, an inline matcher, or a list of both. */
export function matcherSources(value: unknown): string[] {
  const list: unknown[] = Array.isArray(value) ? value : value === undefined ? [] : [value];
  const sources = new Set<string>();
  for (const m of list) {
    const source =
      typeof m === 'string'
        ? namedSource(m)
        : isObjectLike(m)
          ? typeof m.source === 'string'
            ? m.source
            : typeof m.base === 'string'
              ? namedSource(m.base)
              : undefined
          : undefined;
    if (source) sources.add(source);
  }
  return [...sources];
}

/**
 * The diagnostic sources of a task's problem matchers; empty when none can be known. `entry` is its
 * tasks.json entry (taskResolver's configuredEntry): the tasks API lists no matchers for those.
 */
export function taskProblemSources(task: vscode.Task, entry: ConfiguredTask | undefined): string[] {
  if (entry) return matcherSources(entry.raw.problemMatcher);
  // A provider's own task (not configured in tasks.json) may carry its matchers' names.
  return matcherSources(task.problemMatchers);
}

/** Errors and warnings among the workspace's diagnostics whose source is one of `sources`. */
export function countProblems(
  sources: readonly string[],
  all: readonly [vscode.Uri, readonly vscode.Diagnostic[]][] = vscode.languages.getDiagnostics(),
): ProblemCounts {
  let errors = 0;
  let warnings = 0;
  for (const [, diagnostics] of all) {
    for (const d of diagnostics) {
      if (d.source === undefined || !sources.includes(d.source)) continue;
      if (d.severity === vscode.DiagnosticSeverity.Error) errors++;
      else if (d.severity === vscode.DiagnosticSeverity.Warning) warnings++;
    }
  }
  return { errors, warnings };
}

/** "1 error, 2 warnings". */
export function formatProblems(p: ProblemCounts): string {
  return `${p.errors} error${p.errors === 1 ? '' : 's'}, ${p.warnings} warning${p.warnings === 1 ? '' : 's'}`;
}

/**
 * Calls `onChange` with the counts each time they change while it lives (diagnostics changes are
 * coalesced for `coalesceMs`: a watcher's rebuild changes many files at once). Counts once at start.
 */
export function watchProblems(sources: readonly string[], onChange: (counts: ProblemCounts) => void, coalesceMs = 100): vscode.Disposable {
  let last: ProblemCounts | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const update = (): void => {
    timer = undefined;
    const next = countProblems(sources);
    if (last && last.errors === next.errors && last.warnings === next.warnings) return;
    last = next;
    onChange(next);
  };
  const sub = vscode.languages.onDidChangeDiagnostics(() => {
    timer ??= setTimeout(update, coalesceMs);
  });
  update();
  return {
    dispose: () => {
      sub.dispose();
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
