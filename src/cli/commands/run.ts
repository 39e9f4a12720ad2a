// `orchestrator run [workflow…]`: the named workflows of the folder's workflow file, on the core,
// shown live (a TTY), as plain prefixed lines (CI) or as JSON events; `--dry-run` prints the plan.
// Everything that can be refused is refused before anything runs (exit 2).
import { ValidationError } from '../../core/model/errors';
import { isFinished, type TaskSpec, type TaskStatus } from '../../core/model/model';
import { BUILTIN_KINDS } from '../../core/model/model';
import { validateWorkflow } from '../../core/model/workflowValidation';
import { MemoryStore, type Store } from '../../core/ports';
import { STATE_KEY } from '../../core/state/snapshot';
import { cacheDirOf, specDefaultsOf } from '../../workspaceFiles/settingsValues';
import { VSCODE_TASK_KIND } from '../../workspaceFiles/names';
import { workflowOptions, workflowToSpecs, type VscodeTaskPayload } from '../../workspaceFiles/workflowFile';
import type { WorkflowSpecs } from '../../workspaceFiles/workflowSelection';
import { defaultConcurrency } from '../../core/orchestrator/options';
import { ExitCode, UsageError } from '../exitCodes';
import { FileStore } from '../fileStore';
import { checkName, parseConcurrency, parseReport, parseResources, redisUrlOf, unknownName } from '../options';
import { redisCaOf, withRedisCaHint } from '../redisCa';
import { formatPlan, selectOnly } from '../plan';
import { writeJunitReport, junitReport } from '../report/junit';
import { runSession } from '../session';
import { resolveTasksFileTask, type ResolvedTask } from '../tasks/tasksFile';
import { invalidWorkflowError, loadWorkspace, type Workspace } from '../workspace';
import { chooseView, type Io } from './io';
import { DEFAULT_PREFIX } from '../../backends/redis/protocol';
import { RedisExecution } from '../../backends/redis/redisExecution';

export interface RunFlags {
  file?: string;
  concurrency?: string;
  resources?: string;
  only?: string[];
  dryRun?: boolean;
  json?: boolean;
  report?: string;
  color?: boolean;
  state?: string;
  resume?: boolean;
  backend?: string;
  redis?: string;
  redisCa?: string;
  prefix?: string;
  /** false with `--no-cache`: the run's tasks run without reading the cache (their results are still stored). */
  cache?: boolean;
}

/**
 * The workflows to run: the named ones, or the only one; several and none named is a usage error
 * listing them. A named workflow with problems is refused with them (InvalidFileError, exit 2);
 * the file's other workflows are not affected.
 */
function pickWorkflows(workspace: Workspace, names: readonly string[]): string[] {
  const usable = Object.keys(workspace.workflows.workflows);
  const declared = [...usable, ...workspace.workflowProblems.keys()];
  const picked = names.length === 0 && declared.length === 1 ? declared : [...new Set(names)];
  if (picked.length === 0) {
    throw new UsageError(
      `${workspace.shownFile} has ${declared.length} workflows; name one or more: ${declared.join(', ')} (orchestrator list shows their tasks)`,
    );
  }
  for (const name of picked) {
    const invalid = invalidWorkflowError(workspace, name);
    if (invalid) throw invalid;
    if (!usable.includes(name)) throw unknownName('workflow', name, declared);
  }
  return picked;
}

/**
 * Every check the orchestrator would make when scheduling, and every tasks.json step resolved,
 * before anything runs. Returns each step's resolved task, by spec.
 */
function preflight(workspace: Workspace, workflows: readonly WorkflowSpecs[], pools: Record<string, number>): Map<TaskSpec, ResolvedTask> {
  const resolved = new Map<TaskSpec, ResolvedTask>();
  const kinds = new Set<string>([...BUILTIN_KINDS, VSCODE_TASK_KIND]);
  for (const { workflow, specs } of workflows) {
    try {
      validateWorkflow(specs, { kinds, pools, taskExists: () => false });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      // The core names a spec by its index (`[2].resources.gpu`); the file's reader knows it by its key.
      const index = /^\[(\d+)\]\.?/.exec(err.field ?? '');
      const key = index ? specs[Number(index[1])]?.key : undefined;
      const message = index && key !== undefined ? err.message.split(`\`${index[0]}`).join('`') : err.message;
      throw new UsageError(`Workflow \`${workflow}\`${key !== undefined ? `, task \`${key}\`` : ''} of ${workspace.shownFile}: ${message}`);
    }
    for (const spec of specs) {
      if (spec.kind !== VSCODE_TASK_KIND) continue;
      try {
        resolved.set(spec, resolveTasksFileTask(workspace.folder, spec.payload as VscodeTaskPayload));
      } catch (err) {
        throw new UsageError(`Workflow \`${workflow}\`, task \`${spec.key as string}\`: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  return resolved;
}

/** The saved records that had not finished, read without restoring anything: what a resume is about. */
function unfinishedSaved(store: Store): { id: string; workflowId?: string }[] {
  const saved = store.get<{ tasks?: unknown }>(STATE_KEY);
  const tasks = saved && Array.isArray(saved.tasks) ? (saved.tasks as { id?: unknown; status?: unknown; workflowId?: unknown }[]) : [];
  return tasks
    .filter((t) => typeof t?.id === 'string' && typeof t.status === 'string' && !isFinished(t.status as TaskStatus))
    .map((t) => ({ id: t.id as string, ...(typeof t.workflowId === 'string' ? { workflowId: t.workflowId } : {}) }));
}

/** `spec` as a shell task when it is a tasks.json step of one command, else `spec`. */
function asShellStep(spec: TaskSpec, step: ResolvedTask | undefined): TaskSpec {
  if (!step || step.command === undefined || step.dependsOn.length > 0) return spec;
  const { payload: _payload, ...rest } = spec;
  void _payload;
  return { ...rest, kind: 'shell', command: step.command, cwd: step.cwd, ...(Object.keys(step.env).length ? { env: { ...step.env } } : {}) };
}

/**
 * With several workflows in one run, each task is known as `workflow/key`, so two workflows' `build`
 * stay apart in the view, the events and the report. Keys only need to be unique inside one
 * scheduleWorkflow call, so the dependencies, renamed alike, mean what they meant.
 */
function qualified({ workflow, specs }: WorkflowSpecs): TaskSpec[] {
  const name = (key: string): string => `${workflow}/${key}`;
  return specs.map((spec) => ({
    ...spec,
    ...(spec.key !== undefined ? { key: name(spec.key) } : {}),
    ...(spec.dependsOn ? { dependsOn: spec.dependsOn.map(name) } : {}),
  }));
}

export async function runCommand(names: readonly string[], flags: RunFlags, io: Io): Promise<number> {
  const concurrencyFlag =
    flags.concurrency === undefined
      ? undefined
      : parseConcurrency(flags.concurrency, "automatic, one per CPU plus, with --backend redis, the workers' live slots");
  const resourcesFlag = flags.resources === undefined ? undefined : parseResources(flags.resources);
  const report = flags.report === undefined ? undefined : parseReport(flags.report);
  if (flags.resume && flags.state === undefined) throw new UsageError('--resume needs --state FILE: the state file of the run to resume');
  if (flags.resume && names.length) throw new UsageError('--resume finishes the saved run; it takes no workflow names');
  if (flags.resume && flags.dryRun) throw new UsageError('--dry-run plans new work; it cannot be combined with --resume');
  const backend = flags.backend ?? 'local';
  if (backend !== 'local' && backend !== 'redis') throw new UsageError(`Expected --backend to be local or redis, got ${JSON.stringify(backend)}`);
  if (backend === 'local' && flags.redis !== undefined) throw new UsageError('--redis names the Redis of --backend redis; add --backend redis');
  if (backend === 'local' && flags.redisCa !== undefined) throw new UsageError('--redis-ca names the CA of the Redis of --backend redis; add --backend redis');
  const redisUrl = backend === 'redis' ? redisUrlOf(flags.redis, io.env) : undefined;
  const redisCa = redisUrl === undefined ? undefined : redisCaOf(flags.redisCa, io.env, redisUrl);
  const prefix = checkName('--prefix', flags.prefix ?? DEFAULT_PREFIX);

  const workspace = loadWorkspace(io.cwd, flags.file);
  for (const problem of workspace.settingProblems) io.stderr.write(`warning: ${problem}\n`);
  const pools = resourcesFlag ?? workspace.settings.resources;
  // 0: automatic, resolved by the orchestrator (concurrencyLimit.ts): one per CPU, plus the fleet's live slots.
  const concurrency = concurrencyFlag ?? workspace.settings.concurrency;

  let workflows: WorkflowSpecs[] = [];
  if (!flags.resume) {
    const picked = pickWorkflows(workspace, names);
    const defaults = { ...specDefaultsOf(workspace.settings), folder: workspace.folder };
    workflows = selectOnly(
      picked.map((workflow) => ({ workflow, specs: workflowToSpecs(workspace.workflows, workflow, defaults) })),
      flags.only ?? [],
    );
    const steps = preflight(workspace, workflows, pools);
    // With workers, a tasks.json step that is one command runs on them as a shell task; a compound
    // (several steps, their order) stays here, where the tasks-file executor runs it.
    if (redisUrl !== undefined) workflows = workflows.map((w) => ({ ...w, specs: w.specs.map((spec) => asShellStep(spec, steps.get(spec))) }));
    if (flags.dryRun) {
      const stepText = (spec: TaskSpec): string | undefined => {
        const step = steps.get(spec);
        if (!step) return undefined;
        const own = step.command === undefined ? undefined : `$ ${step.command}`;
        const before = step.dependsOn.map((d) => d.label).join(step.dependsOrder === 'sequence' ? ' then ' : ' and ');
        return [before && `${before}${own ? ', then' : ''}`, own].filter(Boolean).join(' ');
      };
      const limit =
        concurrency > 0 ? concurrency : redisUrl === undefined ? defaultConcurrency() : `auto (${defaultConcurrency()} here, plus the workers' live slots)`;
      io.stdout.write(`${formatPlan(workflows, { concurrency: limit, pools }, stepText)}\n`);
      return ExitCode.ok;
    }
  }

  const fileStore = flags.state === undefined ? undefined : await FileStore.open(flags.state);
  try {
    const store: Store = fileStore ?? new MemoryStore();
    for (const warning of fileStore?.warnings ?? []) io.stderr.write(`warning: ${warning}\n`);
    const resumed = unfinishedSaved(store);
    const saved = resumed.length;
    if (flags.resume && saved === 0) throw new UsageError(`Nothing to resume: ${flags.state as string} holds no unfinished tasks`);
    if (!flags.resume && saved > 0) {
      throw new UsageError(
        `${flags.state as string} holds ${saved} unfinished tasks of an earlier run: add --resume to finish them, or remove the file to start over`,
      );
    }
    const view = chooseView(io, { json: flags.json === true, color: flags.color !== false });
    const { exitCode, summary } = await runSession({
      ...(redisUrl === undefined
        ? {}
        : {
            remote: (warn: (message: string) => void) =>
              RedisExecution.connect({
                url: redisUrl,
                ...(io.env.ORCHESTRATOR_REDIS_PASSWORD ? { password: io.env.ORCHESTRATOR_REDIS_PASSWORD } : {}),
                ...(redisCa !== undefined ? { ca: redisCa } : {}),
                prefix,
                onWarn: (message) => warn(withRedisCaHint(message)),
              }),
          }),
      store,
      concurrency,
      resources: pools,
      maxFinished: workspace.settings.maxFinished,
      // The same cache the editor uses for this folder (orchestrator.cache.* settings).
      cache: {
        dir: cacheDirOf(workspace.settings.cache, workspace.folder, workspace.folder),
        root: workspace.folder,
        maxBytes: workspace.settings.cache.maxSizeMB * 1024 * 1024,
        enabled: workspace.settings.cache.enabled,
      },
      folder: workspace.folder,
      view,
      workflows: workflows.map((w) => w.workflow),
      schedule: async (orchestrator) => {
        if (flags.resume) {
          // The saved run: the tasks unfinished when it stopped (recovery may have failed or cancelled
          // some since) and the finished tasks of the same workflow runs, in creation order.
          const ids = new Set(resumed.map((t) => t.id));
          const runs = new Set(resumed.flatMap((t) => (t.workflowId === undefined ? [] : [t.workflowId])));
          return orchestrator
            .getTasks()
            .filter((t) => ids.has(t.id) || (t.workflowId !== undefined && runs.has(t.workflowId)))
            .map((t) => t.id);
        }
        const ids: string[] = [];
        for (const w of workflows) {
          const specs = workflows.length > 1 ? qualified(w) : w.specs;
          const options = { ...workflowOptions(workspace.workflows, w.workflow), ...(flags.cache === false ? { noCache: true } : {}) };
          ids.push(...(await orchestrator.scheduleWorkflow(specs, options)));
        }
        return ids;
      },
    });
    if (report) {
      await writeJunitReport(report.file, junitReport(summary, { suiteName: workflows.map((w) => w.workflow).join(', ') || 'orchestrator' }));
    }
    return exitCode;
  } finally {
    await fileStore?.close();
  }
}
