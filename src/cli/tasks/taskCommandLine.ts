// A tasks.json command and its args as one command line for POSIX sh, which the core's ShellExecutor
// runs. VS Code builds a shell task's line the same way: the args are appended to the command, each
// quoted only when it needs to be, so `$HOME`, `*.js` and `~` still expand as they do in its terminal.
// An arg is quoted when it holds what would split or end the word (whitespace, quotes, `;&|<>()`, a
// backquote, a backslash, a leading `#`), in POSIX single quotes, so it reaches the program intact. An
// arg already wrapped in a pair of quotes is the user's own quoting, passed as written (as VS Code does).

/** VS Code's `ShellQuoting`: how an `{ value, quoting }` arg is quoted. */
export type QuotingStyle = 'escape' | 'strong' | 'weak';

/** A tasks.json `command` or `args` item: a string, or `{ value, quoting }` (value may be a list of words). */
export interface QuotedArg {
  value: string;
  quoting?: QuotingStyle;
}
export type TaskArg = string | QuotedArg;

const WORD_BREAK = /[\s'"`\\;&|<>()]|^#/;
const ESCAPED = /[^\w@%+=:,./-]/g;

/** POSIX single quotes: nothing inside is special; a single quote is closed, escaped and reopened. */
export function singleQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function wrappedInQuotes(value: string): boolean {
  const first = value[0];
  return value.length >= 2 && (first === '"' || first === "'") && value[value.length - 1] === first;
}

/** One word of a shell command line, quoted as VS Code's `quoting` asks or, for a plain string, when it must be. */
export function quoteArg(arg: TaskArg): string {
  if (typeof arg === 'string') {
    if (arg === '') return "''";
    return wrappedInQuotes(arg) || !WORD_BREAK.test(arg) ? arg : singleQuote(arg);
  }
  const { value, quoting = 'strong' } = arg;
  switch (quoting) {
    case 'weak':
      // Double quotes: `$VAR` and `$(…)` still expand, as VS Code's weak quoting means.
      return `"${value.replace(/["\\]/g, '\\$&')}"`;
    case 'escape':
      // A backslash cannot escape a newline (it would join the lines), so such a value is quoted instead.
      return value.includes('\n') ? singleQuote(value) : value.replace(ESCAPED, '\\$&');
    default:
      return singleQuote(value);
  }
}

/**
 * A `shell` task's command line: the command alone as written (it is a shell line already), or with
 * args, the command and each arg as a quoted word.
 */
export function shellCommandLine(command: TaskArg, args: readonly TaskArg[]): string {
  if (args.length === 0) return typeof command === 'string' ? command : quoteArg(command);
  return [command, ...args].map(quoteArg).join(' ');
}

/**
 * A `process` task's command line: no shell interprets it, so every word is single-quoted whatever its
 * quoting says, and `exec` replaces the shell by the program, which the core then stops as a tree.
 */
export function processCommandLine(command: string, args: readonly TaskArg[]): string {
  return ['exec', ...[command, ...args.map((a) => (typeof a === 'string' ? a : a.value))].map(singleQuote)].join(' ');
}
