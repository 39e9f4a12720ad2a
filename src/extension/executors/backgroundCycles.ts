// When a background VS Code task (`isBackground`) has finished a compile cycle, read from its output
// with its problem matchers' `background.beginsPattern` / `endsPattern`, as VS Code itself reads them.
//
// It relies on the stable API only: the patterns come from the task's tasks.json `problemMatcher` (or a
// provider task's `problemMatchers` names) and from the `problemMatchers` extensions contribute in their
// package.json (`$tsc-watch` from the built-in TypeScript extension); the lines come from the task's
// terminal, read through shell integration (taskTerminalOutput.ts). The status events that would say
// the same without reading the terminal (`tasks.onDidStartTaskProblemMatchers` /
// `onDidEndTaskProblemMatchers`) are still the proposed API `taskProblemMatcherStatus` in 1.139.
//
// Pure: no `vscode` import, so it is unit-tested in plain Node; the caller passes the lookup of
// contributed matchers.
import { isObjectLike } from '../../core/model/guards';

/** One matcher's background patterns. Without an end pattern a cycle never ends: such a matcher has none. */
export interface BackgroundPattern {
  begins?: RegExp;
  ends: RegExp;
  /** `background.activeOnStart`: a cycle is under way from the start, before any begin line. */
  activeOnStart: boolean;
}

/** A matcher contributed by an extension, by its name without the `$`; undefined when none has it. */
export type MatcherLookup = (name: string) => unknown;

/** References through `base` or `$name` followed at most this deep: a cycle of bases ends here. */
const MAX_DEPTH = 8;

/** A pattern as tasks.json and package.json write it: a string, or `{ "regexp": "..." }`. */
function compile(value: unknown): RegExp | undefined {
  const source = typeof value === 'string' ? value : isObjectLike(value) && typeof value.regexp === 'string' ? value.regexp : undefined;
  if (source === undefined) return undefined;
  try {
    // VS Code compiles them without flags, and matches each line on its own.
    return new RegExp(source);
  } catch {
    // VS Code refuses such a matcher too; it reports nothing for it.
    return undefined;
  }
}

/** The `background` (or its older name `watching`) of one matcher, following `$name` and `base`. */
function backgroundOf(matcher: unknown, lookup: MatcherLookup, depth: number): Record<string, unknown> | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (typeof matcher === 'string') {
    return backgroundOf(lookup(matcher.startsWith('$') ? matcher.slice(1) : matcher), lookup, depth + 1);
  }
  if (!isObjectLike(matcher)) return undefined;
  const own = matcher.background ?? matcher.watching;
  if (isObjectLike(own)) return own;
  return typeof matcher.base === 'string' ? backgroundOf(matcher.base, lookup, depth + 1) : undefined;
}

/**
 * The background patterns of a tasks.json `problemMatcher` value (a name, an inline matcher, or a
 * list of both), one per matcher that has an end pattern; empty when none has.
 */
export function backgroundPatterns(problemMatcher: unknown, lookup: MatcherLookup): BackgroundPattern[] {
  const list: unknown[] = Array.isArray(problemMatcher) ? problemMatcher : problemMatcher === undefined ? [] : [problemMatcher];
  const patterns: BackgroundPattern[] = [];
  for (const m of list) {
    const background = backgroundOf(m, lookup, 0);
    if (!background) continue;
    const ends = compile(background.endsPattern);
    if (!ends) continue;
    const begins = compile(background.beginsPattern);
    // `activeBegins` is the workbench's internal name of the same flag; some hand-written matchers use it.
    const activeOnStart = background.activeOnStart === true || background.activeBegins === true;
    patterns.push({ ...(begins ? { begins } : {}), ends, activeOnStart });
  }
  return patterns;
}

export type CycleEvent = 'begin' | 'end';

/** A line longer than this is cut: the rest of it is matched as the next line, as a terminal wraps. */
const MAX_LINE = 64 * 1024;

/**
 * Follows a background task's output and says when a cycle begins and when it ends. As in VS Code,
 * with several matchers a cycle ends when every matcher that began one has ended it. An end line
 * counts even when no begin line was seen: the first lines may have been written before the terminal
 * could be read (shell integration does not replay them), and a watcher's first build then shows only
 * its end.
 */
export class BackgroundCycles {
  /** Matchers (by index) whose cycle has begun and not ended. */
  private readonly active = new Set<number>();
  private partial = '';

  constructor(
    private readonly patterns: readonly BackgroundPattern[],
    private readonly onCycle: (event: CycleEvent) => void,
  ) {
    patterns.forEach((p, i) => {
      if (p.activeOnStart) this.active.add(i);
    });
  }

  /** Whether a cycle is under way: one has begun (or is active on start) and not ended. */
  get busy(): boolean {
    return this.active.size > 0;
  }

  /** Output text (escape sequences already removed), in chunks that may split a line anywhere. */
  write(text: string): void {
    let data = this.partial + text;
    let nl = data.indexOf('\n');
    while (nl >= 0) {
      this.line(data.slice(0, nl));
      data = data.slice(nl + 1);
      nl = data.indexOf('\n');
    }
    while (data.length > MAX_LINE) {
      this.line(data.slice(0, MAX_LINE));
      data = data.slice(MAX_LINE);
    }
    this.partial = data;
  }

  /** The output has ended: its last line, if it had no line break, is matched too. */
  flush(): void {
    const rest = this.partial;
    this.partial = '';
    if (rest) this.line(rest);
  }

  private line(text: string): void {
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    let began = false;
    let ended = false;
    this.patterns.forEach((p, i) => {
      if (p.begins?.test(line)) {
        this.active.add(i);
        began = true;
      }
    });
    if (began) this.onCycle('begin');
    this.patterns.forEach((p, i) => {
      if (p.ends.test(line)) {
        this.active.delete(i);
        ended = true;
      }
    });
    if (ended && this.active.size === 0) this.onCycle('end');
  }
}
