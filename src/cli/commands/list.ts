// `orchestrator list`: the workflows of the folder's file and their tasks, in declared order.
import { ExitCode } from '../exitCodes';
import { loadWorkspace } from '../workspace';
import type { Io } from './io';

export function listCommand(flags: { file?: string; json?: boolean }, io: Io): number {
  const workspace = loadWorkspace(io.cwd, flags.file);
  const workflows = workspace.workflows.workflows;
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ file: workspace.shownFile, workflows })}\n`);
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
  io.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}
