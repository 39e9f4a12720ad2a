// `orchestrator list`: the workflows of the folder's file and their tasks, in declared order; then
// the workflows that cannot run, each with its count of problems (`validate` lists them).
import { ExitCode } from '../exitCodes';
import { loadWorkspace } from '../workspace';
import type { Io } from './io';

export function listCommand(flags: { file?: string; json?: boolean }, io: Io): number {
  const workspace = loadWorkspace(io.cwd, flags.file);
  const workflows = workspace.workflows.workflows;
  if (flags.json) {
    const unusable = Object.fromEntries(workspace.workflowProblems);
    io.stdout.write(`${JSON.stringify({ file: workspace.shownFile, workflows, ...(workspace.workflowProblems.size ? { unusable } : {}) })}\n`);
    return ExitCode.ok;
  }
  const lines: string[] = [];
  for (const [name, workflow] of Object.entries(workflows)) {
    lines.push(`${name}${workflow.description ? ` — ${workflow.description}` : ''}`);
    for (const task of workflow.tasks) {
      const what = task.command !== undefined ? `$ ${task.command}` : task.task !== undefined ? `tasks.json: ${task.task}` : `kind ${task.kind ?? 'shell'}`;
      const after = task.dependsOn?.length ? `  (after ${task.dependsOn.join(', ')})` : '';
      lines.push(`  ${task.key}  ${what}${after}`);
    }
  }
  for (const [name, problems] of workspace.workflowProblems) {
    lines.push(`${name}  (not usable: ${problems.length} problem${problems.length === 1 ? '' : 's'}; orchestrator validate lists them)`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}
