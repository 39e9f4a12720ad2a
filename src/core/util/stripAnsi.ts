// Terminal escape sequences in a task's output: colours and cursor moves a tool wrote for a terminal.
// Plain logs without colour, JUnit reports and readiness patterns want the text alone.

// CSI sequences (ESC [ or the 8-bit CSI, parameters, one final byte), OSC sequences (ESC ], ended by
// BEL or ESC \; hyperlinks and titles), and the two-byte ESC sequences (charset, keypad, reset).
// The shape of chalk's ansi-regex, kept here so the core needs no package for one expression.
const ANSI =
  // eslint-disable-next-line no-control-regex -- matching escape characters is this expression's job
  /[\u001B\u009B][[\]()#;?]*(?:(?:(?:(?:;[-a-zA-Z\d/#&.:=?%@~_]+)*|[a-zA-Z\d]+(?:;[-a-zA-Z\d/#&.:=?%@~_]*)*)?(?:\u0007|\u001B\\))|(?:(?:\d{1,4}(?:[;:]\d{0,4})*)?[\dA-PR-TZcf-nq-uy=><~]))/g;

/** `text` without its terminal escape sequences. */
export function stripAnsi(text: string): string {
  // Most output has no ESC at all: skip the regular expression then.
  return text.includes('\u001B') || text.includes('\u009B') ? text.replace(ANSI, '') : text;
}
