// Activation builds the object graph and registers everything through disposables that
// `context.subscriptions` owns. Nothing runs on activation by itself: the only work that starts is
// work the user asked for before a reload, resumed by the core's recovery policy.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { createOrchestrator } from '../core/orchestrator/orchestrator';
import { STATE_KEY } from '../core/state/snapshot';
import type { OrchestratorWarning } from '../core/orchestrator/orchestratorTypes';
import { createApi, type OrchestratorApiV1 } from './api';
import { registerDashboard } from './dashboard/dashboardPanel';
import { registerCommands } from './commands/commands';
import { RunJournal } from '../core/history/runJournal';
import type { HostOrchestrator } from './hostOrchestrator';
import { ConfigKeys, ContextKeys, VSCODE_TASK_KIND, ViewIds } from './ids';
import { CACHE_KEYS, cacheOptionsOf, onDidChangeSettings, readSettings, type Settings } from './settings';
import { TaskStatusBar } from './tasksView/statusBar';
import { DETAILS_SCHEME, TaskDetailsProvider } from './tasksView/taskDetails';
import { TaskOutput } from './tasksView/taskOutput';
import { TaskTreeProvider, type TreeNode } from './tasksView/taskTree';
import { TrustGate } from './trust';
import { createHistoryView } from './historyView/historyView';
import { HistoryFeed } from './historyView/historyFeed';
import { VscodeTaskExecutor } from './executors/vscodeTaskExecutor';
import { VscodeTaskRuns } from './executors/vscodeTaskRuns';
import { followCompounds } from './executors/compoundTasks';
import { backendSettingsChanged, createBackend, offerReload, registerBackendCommands } from './backend/backendUi';
import { runWorkflow } from './commands/scheduling';
import { registerTriggerCommands } from './triggers/triggerCommands';
import { TriggerService } from './triggers/triggerService';

export type { OrchestratorApiV1 } from './api';

/** The orchestrator of the active session, so `deactivate` can wait for its last state write. */
let active: HostOrchestrator | undefined;

function warnSettings(problems: readonly string[]): void {
  for (const p of problems) void vscode.window.showWarningMessage(`Orchestrator: ${p}`);
}

export async function activate(context: vscode.ExtensionContext): Promise<OrchestratorApiV1> {
  const problems: string[] = [];
  let settings: Settings = readSettings(problems);
  warnSettings(problems);

  const trust = new TrustGate();
  context.subscriptions.push(trust);

  // Long history and task output live in files (CONVENTIONS 12); without a workspace, in the
  // extension's global storage.
  const storageDir = (context.storageUri ?? context.globalStorageUri).fsPath;
  // Finished records (and their output tails) go to the run journal, which the History view reads:
  // `history` below, also `deps.archive` in the commands. An older history.jsonl there is migrated once.
  const history = new RunJournal({
    dir: path.join(storageDir, 'journal'),
    legacyDir: storageDir,
    retentionDays: settings.historyRetentionDays,
    onWarn: (w) => void vscode.window.showWarningMessage(`Orchestrator: ${w.message}`),
  });
  const archive = history;

  // In Restricted Mode the `vscodeTask` kind has no executor: such tasks (restored ones included)
  // wait in Created, and run once trust is granted and the executor is registered.
  // A compound's own task follows its steps through the orchestrator, which exists by the time it runs.
  const vscodeRuns = new VscodeTaskRuns();
  const vscodeTasks = new VscodeTaskExecutor(
    () => trust.trusted,
    () => orchestrator,
    vscodeRuns,
  );
  // Restored work may come from the workspace's files (a workflow saved while the folder was
  // trusted). In Restricted Mode it is held: the orchestrator starts paused and says why, and
  // granting trust (or Resume, the user's explicit choice) lets it go on.
  const holdForTrust = !trust.trusted && hasUnfinishedSavedTasks(context.workspaceState.get<unknown>(STATE_KEY));
  // `redis`: shell tasks run on workers; the backend connects in the background (backend/redisBackend.ts).
  // One it can never reach (a bad URL) keeps the orchestrator paused: tasks wait, none runs here.
  const backend = createBackend(context, settings);
  const created = await createOrchestrator({
    startPaused: holdForTrust || backend?.blocked !== undefined,
    concurrency: settings.concurrency,
    resources: settings.resources,
    maxFinished: settings.maxFinished,
    // The Memento is the core's Store port as it is: keys, get, update.
    store: context.workspaceState,
    archive,
    // Unfinished tasks beyond the state's budget go to the journal too: the state stays small.
    pending: history,
    executors: trust.trusted ? { [VSCODE_TASK_KIND]: vscodeTasks } : {},
    ...(backend ? { remote: backend.remote } : {}),
    // Tasks that declare `cache` in the workflow file are restored when their key was stored.
    cache: cacheOptionsOf(settings, storageDir),
  });
  const orchestrator: HostOrchestrator = created;
  active = orchestrator;
  const showWarning = (w: OrchestratorWarning): void => {
    const show = w.code === 'RECOVERED' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    void show(`Orchestrator: ${w.message}`);
  };
  // Warnings of the restore happened before anyone could listen; the core keeps them.
  created.warnings.forEach(showWarning);
  context.subscriptions.push({ dispose: () => void orchestrator.dispose() }, history, orchestrator.onDidWarn(showWarning), followCompounds(orchestrator));
  if (!trust.trusted) {
    context.subscriptions.push(
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        context.subscriptions.push(orchestrator.registerExecutor(VSCODE_TASK_KIND, vscodeTasks));
        if (holdForTrust && orchestrator.paused) orchestrator.resume();
      }),
    );
  }
  if (holdForTrust) {
    void vscode.window
      .showWarningMessage(
        'Orchestrator: restored tasks are held because this workspace is not trusted (Restricted Mode). Trust the workspace to let them go on, or Resume to run them anyway.',
        'Manage Workspace Trust',
      )
      .then((choice) => choice && vscode.commands.executeCommand('workbench.trust.manage'));
  }

  const output = new TaskOutput(orchestrator.onDidOutput, { dir: path.join(storageDir, 'output') });
  // The workflow files' triggers run their workflow as Run Workflow… does; none is watched in Restricted Mode.
  const triggers = new TriggerService({
    trusted: () => trust.trusted,
    run: (name, folder, task) => runWorkflow({ orchestrator, trust, settings: () => settings }, name, folder, task),
    tasks: orchestrator,
    warn: (message) => void vscode.window.showWarningMessage(`Orchestrator: ${message}`),
  });
  const tree = new TaskTreeProvider(orchestrator, { problemsOf: (id) => vscodeRuns.get(id)?.problems, triggers });
  const treeView = vscode.window.createTreeView<TreeNode>(ViewIds.tasks, { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  tree.setVisible(treeView.visible);
  // The History view reads the run journal; in Restricted Mode it lists and removes, and refuses reruns.
  const historyView = createHistoryView({ history, orchestrator, trust });
  // Each record goes to the journal as it finishes (not only when it leaves workspace state), so the
  // History view shows a run when it ends.
  const historyFeed = new HistoryFeed(
    history,
    orchestrator.onDidChangeTask,
    (err) => void vscode.window.showWarningMessage(`Orchestrator: the run history could not be written: ${err instanceof Error ? err.message : String(err)}`),
  );
  const statusBar = new TaskStatusBar(orchestrator);
  const details = new TaskDetailsProvider((id) => orchestrator.getTask(id), orchestrator.onDidChangeTask);
  void vscode.commands.executeCommand('setContext', ContextKeys.paused, orchestrator.paused);

  context.subscriptions.push(
    triggers,
    ...registerTriggerCommands(triggers),
    output,
    tree,
    treeView,
    treeView.onDidChangeVisibility((e) => tree.setVisible(e.visible)),
    ...historyView.disposables,
    historyFeed,
    statusBar,
    details,
    vscode.workspace.registerTextDocumentContentProvider(DETAILS_SCHEME, details),
    ...registerCommands({ orchestrator, tree, output, statusBar, trust, settings: () => settings, archive, runs: vscodeRuns }),
    ...registerBackendCommands(context, () => settings),
    onDidChangeSettings((next, changed, problems) => {
      warnSettings(problems);
      settings = next;
      // Applied at once: the scheduler admits more (or fewer) tasks on its next dispatch.
      if (changed.includes(ConfigKeys.concurrency)) orchestrator.setConcurrency(next.concurrency);
      if (changed.includes(ConfigKeys.resources)) orchestrator.setResources(next.resources);
      if (changed.includes(ConfigKeys.maxFinished)) orchestrator.setMaxFinished(next.maxFinished);
      // Default timeout and retries are read per scheduled spec, so they need nothing here.
      backendSettingsChanged(changed);
      // The core takes its cache when it is created: a change applies from the next start.
      if (changed.some((k) => CACHE_KEYS.includes(k))) void offerReload('the cache settings apply after a window reload.');
      statusBar.update();
    }),
  );

  context.subscriptions.push(
    registerDashboard(context, orchestrator, {
      ...(backend ? { fleet: { read: () => backend.fleet(), url: backend.url } } : {}),
      // A click on a failure in the dashboard: the task's row, selected, in the Tasks view.
      revealTask: async (id) => {
        await vscode.commands.executeCommand(`${ViewIds.tasks}.focus`);
        // Pending changes first, so the row is where the tree shows it. A row beyond its stage's shown
        // page cannot be revealed: the focused view is then the best there is.
        tree.flush();
        const node = tree.nodeOf(id);
        if (node) await Promise.resolve(treeView.reveal(node, { select: true, focus: true, expand: true })).catch(() => undefined);
      },
    }),
  );

  const testing =
    context.extensionMode === vscode.ExtensionMode.Production
      ? undefined
      : {
          orchestrator,
          tree,
          treeView,
          history,
          historyTree: historyView.tree,
          historyView: historyView.view,
          historyFeed,
          statusBar,
          output,
          triggers,
          spareMemento: context.globalState,
          settings: () => settings,
          ...(backend ? { backend } : {}),
        };
  return createApi({ orchestrator, settings: () => settings, requireTrust: (what) => trust.require(what), ...(testing ? { testing } : {}) });
}

/** True when the saved state (still unvalidated: the core checks it) lists a task not yet finished. */
function hasUnfinishedSavedTasks(saved: unknown): boolean {
  // A pointer to a pending set: unfinished tasks beyond the state's budget, kept in the run journal.
  if ((saved as { pending?: unknown } | undefined)?.pending !== undefined) return true;
  const tasks = (saved as { tasks?: unknown } | undefined)?.tasks;
  if (!Array.isArray(tasks)) return false;
  return tasks.some((t) => {
    const status = (t as { status?: unknown } | null)?.status;
    return status === 'created' || status === 'scheduled' || status === 'running';
  });
}

/** VS Code waits for this promise: the core writes its last snapshot before the host goes. */
export async function deactivate(): Promise<void> {
  const orchestrator = active;
  active = undefined;
  await orchestrator?.dispose();
}
