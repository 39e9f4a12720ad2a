// `orchestrator exec -- CMD…`: one shell task through the same engine, for scripts: its timeout and
// retries from the options, its process tree stopped on Ctrl-C or timeout, its output passed through
// as it comes. Exits with the command's own exit code when it ran and failed with one.
import { MemoryStore } from '../../core/ports';
import type { TaskRecord } from '../../core/model/model';
import { LIMITS } from '../../core/model/limits';
import { ExitCode, UsageError } from '../exitCodes';
import { parseCount } from '../options';
import { runSession } from '../session';
import type { RunSummary, RunView } from '../view/runView';
import type { Io } from './io';

export interface ExecFlags {
  timeout?: string;
  retries?: string;
  retryDelay?: string;
  name?: string;
}

/** argv as one shell command line: a single argument as written (it may be a whole script), several quoted one by one. */
export function commandLine(argv: readonly string[]): string {
  if (argv.length === 1) return argv[0] as string;
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Output to stdout as it comes; what happens to the task, one line each, to stderr. */
class ExecView implements RunView {
  constructor(private readonly io: Io) {}
  start(): void {}
  change(record: TaskRecord): void {
    if (record.status === 'scheduled' && record.attempts > 0) {
      this.io.stderr.write(`orchestrator: attempt ${record.attempts} failed (${record.error?.message ?? 'no message'}); retrying\n`);
    } else if (record.status === 'failed' || record.status === 'cancelled') {
      this.io.stderr.write(`orchestrator: ${record.status}: ${record.error?.message ?? 'no reason given'}\n`);
    }
  }
  /** exec runs one plain command: it has no readiness to tell. */
  ready(): void {}
  output(_id: string, chunk: string): void {
    this.io.stdout.write(chunk);
  }
  warn(message: string): void {
    this.io.stderr.write(`orchestrator: warning: ${message}\n`);
  }
  finish(): Promise<void> {
    return new Promise((resolve) => this.io.stdout.write('', () => resolve()));
  }
}

function exitCodeOfExec(summary: RunSummary): number {
  const task = summary.tasks[0];
  if (summary.interrupted || summary.exitCode === ExitCode.ok || !task) return summary.exitCode;
  const code = task.result?.exitCode;
  return typeof code === 'number' && code > 0 && code < 256 ? code : ExitCode.failed;
}

export async function execCommand(argv: readonly string[], flags: ExecFlags, io: Io): Promise<number> {
  if (!argv.length) throw new UsageError('Expected a command after `--`, like: orchestrator exec --timeout 60000 -- npm test');
  const command = commandLine(argv);
  const timeoutMs = flags.timeout === undefined ? undefined : parseCount('--timeout', flags.timeout, LIMITS.maxDelayMs, ' of milliseconds');
  const retries = flags.retries === undefined ? undefined : parseCount('--retries', flags.retries, LIMITS.retries);
  const retryDelayMs = flags.retryDelay === undefined ? undefined : parseCount('--retry-delay', flags.retryDelay, LIMITS.maxDelayMs, ' of milliseconds');
  const { summary } = await runSession({
    store: new MemoryStore(),
    concurrency: 1,
    resources: {},
    folder: io.cwd,
    view: new ExecView(io),
    workflows: [],
    schedule: async (orchestrator) => [
      await orchestrator.scheduleTask({
        name: flags.name ?? (command.length > 80 ? `${command.slice(0, 77)}...` : command),
        kind: 'shell',
        command,
        cwd: io.cwd,
        ...(timeoutMs ? { timeoutMs } : {}),
        ...(retries !== undefined ? { retries } : {}),
        ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
      }),
    ],
  });
  return exitCodeOfExec(summary);
}
