// The History view's commands: search and clear the filter, load the next page, Rerun, Rerun Failed,
// Retry and Remove on a selection, Show Output.
//
// A row's command gets (clicked row, selected rows): with a multi-selection that includes the clicked
// row, it acts on the whole selection. Invoked from the UI, an error is shown and the command
// resolves; invoked with a plain argument (a test, another extension), it rejects the call.
// In Restricted Mode the view reads and removes, but nothing from it runs: reruns are refused
// through the trust gate, as the other run commands are.
import * as vscode from 'vscode';
import { NotFoundError, ValidationError, describeValue, errorMessage } from '../../core/model/errors';
import type { TaskRecord } from '../../core/model/model';
import type { Orchestrator } from '../../core/orchestrator/orchestratorTypes';
import { register as registerCommand } from '../commands/helpers';
import { CommandIds, ContextKeys } from '../ids';
import type { TrustGate } from '../trust';
import { parseHistoryFilter } from './historyFilter';
import { isSingleTask, runKey, runName } from './historyGroups';
import { historyOutputUri } from './historyOutput';
import { isHistoryNode, type HistoryNode, type HistoryTreeProvider } from './historyTree';
import { failedRerunPlan, hasFailed, runRerunPlan, taskRerunSpec, type RerunPlan } from './rerunSpecs';
import type { HistoryReader, HistoryRun } from './runHistory';

/** What the trust gate names when it refuses a rerun. */
export const RERUN_WHAT = 'Reruns from the run history';

export interface HistoryCommandDeps {
  history: HistoryReader;
  tree: HistoryTreeProvider;
  orchestrator: Pick<Orchestrator, 'scheduleTask' | 'scheduleWorkflow'>;
  trust: Pick<TrustGate, 'require'>;
  /** The view, for its description (the active filter). */
  view?: Pick<vscode.TreeView<HistoryNode>, 'description'>;
}

export function registerHistoryCommands(deps: HistoryCommandDeps): vscode.Disposable[] {
  const { history, tree, orchestrator, trust } = deps;

  const applyFilter = async (text: string): Promise<string> => {
    await tree.setFilter(text, parseHistoryFilter(text));
    if (deps.view) deps.view.description = tree.filter ? `Filter: ${tree.filter}` : undefined;
    await vscode.commands.executeCommand('setContext', ContextKeys.historyFiltered, tree.filter !== '');
    return tree.filter;
  };

  /** Every task of a run, not only those the filter matched: reruns and removals act on whole runs. */
  const wholeRun = async (run: HistoryRun): Promise<TaskRecord[]> => {
    if (run.workflowId === undefined) return run.tasks;
    const page = await history.search({ workflow: run.workflowId }, undefined, 1);
    const found = page.runs.find((r) => r.workflowId === run.workflowId);
    return found ? found.tasks : run.tasks;
  };

  const schedule = async (plan: RerunPlan): Promise<string[]> => (plan.specs.length ? orchestrator.scheduleWorkflow(plan.specs, plan.options) : []);

  return [
    register(CommandIds.searchHistory, async (text?: unknown) => {
      if (text !== undefined && typeof text !== 'string')
        throw new ValidationError(`Expected a filter string like \`status:failed exit:1\`, got ${describeValue(text)}`, 'filter');
      if (typeof text === 'string') return applyFilter(text);
      const input = await vscode.window.showInputBox({
        title: 'Search History',
        value: tree.filter,
        prompt: 'Text (name, command, error) and filters: status:failed[,cancelled]  exit:1  workflow:ci  since:2026-11-01  until:2026-11-30',
        placeHolder: 'e.g. test status:failed since:2026-11-01',
        validateInput: (value) => {
          try {
            parseHistoryFilter(value);
            return undefined;
          } catch (err) {
            return errorMessage(err);
          }
        },
      });
      return input === undefined ? undefined : applyFilter(input);
    }),

    register(CommandIds.clearHistoryFilter, () => applyFilter('')),

    register(CommandIds.loadMoreHistory, () => tree.loadMore()),

    register(CommandIds.rerunFromHistory, async (arg?: unknown, selection?: unknown) => {
      const targets = targetsOf(tree, arg, selection);
      trust.require(RERUN_WHAT);
      const ids: string[] = [];
      for (const t of targets) {
        if (t.record) ids.push(await orchestrator.scheduleTask(taskRerunSpec(t.record)));
        else ids.push(...(await schedule(runRerunPlan(await wholeRun(t.run)))));
      }
      return ids;
    }),

    register(CommandIds.rerunFailedFromHistory, async (arg?: unknown, selection?: unknown) => {
      const targets = targetsOf(tree, arg, selection);
      trust.require(RERUN_WHAT);
      const ids: string[] = [];
      for (const t of targets) {
        const tasks = t.record ? [t.record] : await wholeRun(t.run);
        if (!hasFailed(tasks)) throw new ValidationError(`Rerun Failed: nothing failed or was cancelled in \`${t.label}\``, 'id');
        ids.push(...(await schedule(failedRerunPlan(tasks))));
      }
      return ids;
    }),

    // Bulk Retry: each selected task alone with its spec; each selected workflow run, its failed part.
    register(CommandIds.retryFromHistory, async (arg?: unknown, selection?: unknown) => {
      const targets = targetsOf(tree, arg, selection);
      trust.require(RERUN_WHAT);
      const ids: string[] = [];
      for (const t of targets) {
        if (t.record) ids.push(await orchestrator.scheduleTask(taskRerunSpec(t.record)));
        else {
          const tasks = await wholeRun(t.run);
          if (hasFailed(tasks)) ids.push(...(await schedule(failedRerunPlan(tasks))));
        }
      }
      return ids;
    }),

    register(CommandIds.removeFromHistory, async (arg?: unknown, selection?: unknown) => {
      const targets = targetsOf(tree, arg, selection);
      const ids = new Set<string>();
      for (const t of targets) for (const r of t.record ? [t.record] : await wholeRun(t.run)) ids.add(r.id);
      await history.remove([...ids]);
      await tree.reload();
      return [...ids];
    }),

    register(CommandIds.showHistoryOutput, async (arg?: unknown) => {
      const [target] = targetsOf(tree, arg, undefined);
      const record = target?.record ?? target?.run.tasks[target.run.tasks.length - 1];
      if (!record) throw new NotFoundError('task', String(taskIdArg(arg)));
      const doc = await vscode.workspace.openTextDocument(historyOutputUri(record));
      await vscode.window.showTextDocument(doc, { preview: true });
      return record.id;
    }),
  ];
}

/** A command's target: one task (a task row, or a single-task run) or a whole workflow run. */
interface Target {
  label: string;
  run: HistoryRun;
  record?: TaskRecord;
}

/** The rows a command acts on: the selection when it includes the clicked row, else the row; or a task id / `{ id }`. */
function targetsOf(tree: HistoryTreeProvider, arg: unknown, selection: unknown): Target[] {
  if (arg === undefined) throw new ValidationError('Expected a History row, a task id or { id }: choose a row in the History view', 'id');
  const rows =
    Array.isArray(selection) && selection.length > 1 && selection.every(isHistoryNode) && selection.some((n) => sameNode(n, arg)) ? selection : [arg];
  const out: Target[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    const t = targetOf(tree, row);
    if (!t) continue;
    const key = t.record ? `task:${t.record.id}` : runKey(t.run);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(t);
  }
  if (!out.length) throw new ValidationError(`Expected a task or run row of the History view, a task id or { id }, got ${describeValue(arg)}`, 'id');
  return out;
}

function targetOf(tree: HistoryTreeProvider, row: unknown): Target | undefined {
  if (isHistoryNode(row)) {
    if (row.type === 'history.task') return taskTarget(tree, row.id);
    if (row.type === 'history.run') {
      const run = tree.run(row.key);
      if (!run) throw new NotFoundError('run', row.key);
      return isSingleTask(run) ? { label: run.tasks[0]!.name, run, record: run.tasks[0]! } : { label: runName(run), run };
    }
    return undefined;
  }
  const id = taskIdArg(row);
  if (id === undefined) throw new ValidationError(`Expected a History row, a task id or { id }, got ${describeValue(row)}`, 'id');
  return taskTarget(tree, id);
}

function taskTarget(tree: HistoryTreeProvider, id: string): Target {
  const record = tree.record(id);
  const run = tree.runOf(id);
  if (!record || !run) throw new NotFoundError('task', id);
  return { label: record.name, run, record };
}

function taskIdArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (typeof arg === 'object' && arg !== null && typeof (arg as { id?: unknown }).id === 'string') return (arg as { id: string }).id;
  return undefined;
}

function sameNode(a: HistoryNode, b: unknown): boolean {
  if (!isHistoryNode(b) || a.type !== b.type) return false;
  if (a.type === 'history.task') return a.id === (b as typeof a).id;
  if (a.type === 'history.run' || a.type === 'history.day') return a.key === (b as typeof a).key;
  return true;
}

/** The commands' `register` (commands/helpers.ts), with this view's rows counted as the UI. */
function register(id: string, handler: (...args: unknown[]) => unknown): vscode.Disposable {
  return registerCommand(id, handler, isHistoryNode);
}
