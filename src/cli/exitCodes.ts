// What `orchestrator` exits with. CI systems and scripts read these; they never change meaning.

export const ExitCode = {
  /** Every task completed (or, for validate/list, the file is valid). */
  ok: 0,
  /** A task failed, or was cancelled because another failed; `validate`: the file has errors. */
  failed: 1,
  /** A bad invocation or an invalid file: nothing ran. */
  usage: 2,
  /** Interrupted (Ctrl-C): everything was cancelled and every process tree it started stopped. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * A bad invocation: an unknown option or workflow, a value that does not parse, a missing file.
 * Its message is one line saying what was wrong and what is allowed; the CLI prints it and exits 2
 * before anything runs.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
