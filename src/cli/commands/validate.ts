// `orchestrator validate`: the workflow file checked with the extension's schema and checks, each
// problem as `file:line:column: message`. Exit 0 when every workflow is valid, 1 when the file or
// any workflow is not (a broken workflow does not stop the others from running, but it is an error).
import { ExitCode } from '../exitCodes';
import { formatProblem, InvalidFileError, loadWorkspace, type FileProblem } from '../workspace';
import type { Io } from './io';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function report(io: Io, problems: readonly FileProblem[], summary: string): number {
  for (const problem of problems) io.stderr.write(`${formatProblem(problem)}\n`);
  io.stderr.write(`${summary}\n`);
  return ExitCode.failed;
}

export function validateCommand(flags: { file?: string }, io: Io): number {
  let workspace;
  try {
    workspace = loadWorkspace(io.cwd, flags.file);
  } catch (err) {
    if (!(err instanceof InvalidFileError)) throw err;
    return report(io, err.problems, plural(err.problems.length, 'problem'));
  }
  for (const problem of workspace.settingProblems) io.stderr.write(`warning: ${problem}\n`);
  const names = Object.keys(workspace.workflows.workflows);
  if (workspace.workflowProblems.size) {
    const problems = [...workspace.workflowProblems.values()].flat();
    const broken = [...workspace.workflowProblems.keys()];
    return report(
      io,
      problems,
      `${plural(problems.length, 'problem')} in workflow${broken.length === 1 ? '' : 's'} ${broken.join(', ')}; usable: ${names.join(', ') || 'none'}`,
    );
  }
  const tasks = Object.values(workspace.workflows.workflows).reduce((n, w) => n + w.tasks.length, 0);
  io.stdout.write(`${workspace.shownFile}: valid, ${plural(names.length, 'workflow')} (${names.join(', ')}), ${tasks} tasks\n`);
  return ExitCode.ok;
}
