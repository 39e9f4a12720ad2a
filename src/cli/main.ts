// `orchestrator`: the command-line runner, built to dist/cli.js (package.json `bin`). A plain Node
// program on the same core as the extension; it never loads 'vscode'. Parses the command line with
// commander and maps every outcome to an exit code (exitCodes.ts): a refusal prints one line saying
// what was wrong and what is allowed, and exits 2 before anything runs.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { RedisTlsError } from '../backends/redis/tlsTrust';
import { OrchestratorError } from '../core/model/errors';
import { execCommand, type ExecFlags } from './commands/exec';
import { processIo, type Io } from './commands/io';
import { listCommand } from './commands/list';
import { runCommand, type RunFlags } from './commands/run';
import { validateCommand } from './commands/validate';
import { workerCommand, type WorkerFlags } from './commands/worker';
import { ExitCode, UsageError } from './exitCodes';
import { StateFileError } from './fileStore';
import { withRedisCaHint } from './redisCa';
import { formatProblem, InvalidFileError } from './workspace';

/** The package's version, from the package.json next to dist/ (a clone, or an installed package). */
function version(): string {
  for (const candidate of [path.join(__dirname, '..', 'package.json'), path.join(__dirname, '..', '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'orchestrator' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not there: the next candidate.
    }
  }
  return '0.0.0';
}

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

function program(io: Io, done: (code: number) => void): Command {
  const root = new Command('orchestrator')
    .description("Run the workflows of a workspace's .vscode/orchestrator.json from a terminal, a git hook or CI, on the same core as the VS Code extension.")
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // One line: what was wrong, and where the allowed commands and options are listed.
      outputError: (s, write) =>
        write(
          `orchestrator: ${s
            .replace(/^error: /, '')
            .replace(/\s*\n\s*/g, ' ')
            .trimEnd()}; --help lists what is allowed\n`,
        ),
    })
    .exitOverride();

  const fileOption = new Option('-f, --file <file>', 'the workflow file (default: .vscode/orchestrator.json here or in a folder above)');

  root
    .command('run')
    .description('run workflows: the named ones, or the only one of the file')
    .argument('[workflow...]', 'workflow names (orchestrator list shows them)')
    .addOption(fileOption)
    .option(
      '-c, --concurrency <n>',
      "tasks running at once; 0: automatic, one per CPU plus with --backend redis the workers' live slots (default: orchestrator.concurrency of .vscode/settings.json)",
    )
    .option('-r, --resources <pools>', 'pool capacities, like cpu=2,gpu=1 (default: orchestrator.resources of .vscode/settings.json)')
    .option('--only <keys>', 'only these task keys (comma-separated or repeated) and what they depend on', collect)
    .option('--dry-run', 'print the plan: the dependency graph in layers and the pools; run nothing')
    .option('--json', 'write one JSON event per line (every transition) instead of the live view')
    .option('--report <format=file>', 'also write a report: junit=FILE (one testcase per task)')
    .option('--no-color', 'no colours (also: the NO_COLOR environment variable)')
    .option('--state <file>', "keep the run's state in FILE, so that --resume can finish it after a crash")
    .option('--resume', 'finish the unfinished tasks saved in --state FILE')
    .option('--backend <local|redis>', 'where shell tasks run: here (local, the default) or on `orchestrator worker`s through Redis')
    .option(
      '--redis <url>',
      'the Redis of --backend redis: redis://host:6379, rediss:// for TLS (also ORCHESTRATOR_REDIS_URL; a password in ORCHESTRATOR_REDIS_PASSWORD)',
    )
    .option('--redis-ca <file>', "a PEM file of the CA that signed a rediss:// Redis's certificate (also ORCHESTRATOR_REDIS_CA; NODE_EXTRA_CA_CERTS works too)")
    .option('--prefix <name>', 'the Redis key prefix shared with the workers (default: orchestrator)')
    .option('--no-cache', 'run every task, even one whose inputs are unchanged since a cached run (results are still stored)')
    .action(async (names: string[], flags: RunFlags) => done(await runCommand(names, flags, io)));

  root
    .command('validate')
    .description("check the workflow file with the extension's schema; problems as file:line:column")
    .addOption(fileOption)
    .action((flags: { file?: string }) => done(validateCommand(flags, io)));

  root
    .command('list')
    .description('list the workflows and their tasks')
    .addOption(fileOption)
    .option('--json', 'the workflows as one JSON document')
    .action((flags: { file?: string; json?: boolean }) => done(listCommand(flags, io)));

  root
    .command('exec')
    .description('run one shell command as a task: timeout, retries and process-tree stop from the same engine')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-t, --timeout <ms>', 'stop it after this many milliseconds per attempt')
    .option('--retries <n>', 'extra attempts after a failure')
    .option('--retry-delay <ms>', 'first backoff between attempts, doubled each time')
    .option('--name <name>', "the task's name in messages")
    .passThroughOptions()
    .action(async (argv: string[], flags: ExecFlags) => done(await execCommand(argv, flags, io)));

  root
    .command('worker')
    .description('run tasks for coordinators (the editor, orchestrator run --backend redis) through Redis')
    .option('--redis <url>', 'redis://host:6379, rediss:// for TLS (also ORCHESTRATOR_REDIS_URL; a password in ORCHESTRATOR_REDIS_PASSWORD)')
    .option('--redis-ca <file>', "a PEM file of the CA that signed a rediss:// Redis's certificate (also ORCHESTRATOR_REDIS_CA; NODE_EXTRA_CA_CERTS works too)")
    .option('-c, --concurrency <n>', 'attempts at once; 0: one per CPU (default)')
    .option('-r, --resources <pools>', 'the pools this machine has, like cpu=8,gpu=1: jobs needing others never come here')
    .option('--kinds <kinds>', 'the task kinds it agrees to run (comma-separated or repeated; default: shell)', collect)
    .option('--name <name>', 'its name in records and the dashboard (default: host-pid)')
    .option('--prefix <name>', 'the Redis key prefix shared with the coordinators (default: orchestrator)')
    .action(async (flags: WorkerFlags) => done(await workerCommand(flags, io)));

  return root;
}

function fail(io: Io, message: string, code: number): number {
  io.stderr.write(`orchestrator: ${message}\n`);
  return code;
}

/** Runs the command line `argv` (without node and the script) and resolves with the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const cli = program(io, (code) => (exitCode = code));
  if (argv.length === 0) {
    cli.outputHelp({ error: true });
    return ExitCode.usage;
  }
  try {
    await cli.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end with code 0; commander has already printed its one-line error otherwise.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (err instanceof UsageError) return fail(io, err.message, ExitCode.usage);
    if (err instanceof InvalidFileError) {
      for (const problem of err.problems) io.stderr.write(`${formatProblem(problem)}\n`);
      return fail(io, `${err.subject} is not valid (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}); nothing ran`, ExitCode.usage);
    }
    if (err instanceof OrchestratorError && err.code === 'VALIDATION') return fail(io, err.message, ExitCode.usage);
    // A state file in use by another run, or unreadable: nothing ran.
    if (err instanceof StateFileError && err.code !== 'STATE_FILE_WRITE_FAILED') return fail(io, err.message, ExitCode.usage);
    // An untrusted Redis certificate (run --backend redis, worker): the CLI's way to trust its CA.
    if (err instanceof RedisTlsError) return fail(io, withRedisCaHint(err.message), ExitCode.failed);
    const message = err instanceof Error ? (io.env.ORCHESTRATOR_DEBUG ? (err.stack ?? err.message) : err.message) : String(err);
    return fail(io, message, ExitCode.failed);
  }
}

if (require.main === module) {
  // A reader that went away (`orchestrator run ci | head`) must not crash the run: its tasks go on
  // and the exit code still says how they ended.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // Ends on its own once stdout has drained; this only bounds a handle something left open.
    setTimeout(() => process.exit(code), 2000).unref();
  });
}
