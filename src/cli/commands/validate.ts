// `orchestrator validate`: the workflow file checked with the extension's schema and checks, each
// problem as `file:line:column: message`. Exit 0 when valid, 1 when not.
import { ExitCode } from '../exitCodes';
import { formatProblem, InvalidFileError, loadWorkspace } from '../workspace';
import type { Io } from './io';

export function validateCommand(flags: { file?: string }, io: Io): number {
  try {
    const workspace = loadWorkspace(io.cwd, flags.file);
    for (const problem of workspace.settingProblems) io.stderr.write(`warning: ${problem}\n`);
    const names = Object.keys(workspace.workflows.workflows);
    const tasks = Object.values(workspace.workflows.workflows).reduce((n, w) => n + w.tasks.length, 0);
    io.stdout.write(`${workspace.shownFile}: valid, ${names.length} workflow${names.length === 1 ? '' : 's'} (${names.join(', ')}), ${tasks} tasks\n`);
    return ExitCode.ok;
  } catch (err) {
    if (!(err instanceof InvalidFileError)) throw err;
    for (const problem of err.problems) io.stderr.write(`${formatProblem(problem)}\n`);
    io.stderr.write(`${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}\n`);
    return ExitCode.failed;
  }
}
