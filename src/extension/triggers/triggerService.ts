// The triggers of the workspace's workflow files (`"on": { "save" | "change" }`), watched: one
// TriggerRunner per trigger, fed by saves and file-system events of matching files, starting the
// workflow (or a task and what it depends on) through the same path as Run Workflow….
//
// Invariants:
// - Restricted Mode: nothing is read and no watcher exists until the workspace is trusted; granting
//   trust loads the triggers then. So no trigger ever fires in an untrusted workspace.
// - The triggers follow the workflow file: any change to it (saved, created, deleted) reloads them.
//   A trigger whose definition is unchanged keeps its runner (a run in progress, its last run); a
//   changed one gets a new runner. Paused is kept by id for the session, across reloads and edits.
// - A file that does not validate has no triggers (none of its workflows runs anyway).
// - Reloads are serialized; events while one is under way make one more, never two at once.
import * as vscode from 'vscode';
import { errorMessage } from '../../core/model/errors';
import { TriggerRunner, type TriggerState } from '../../core/triggers/triggerRunner';
import { Emitter, type Event } from '../../core/util/events';
import { triggersOf, type TriggerDef } from '../../workspaceFiles/triggers';
import { WORKFLOW_FILE } from '../ids';
import { loadWorkflowFiles } from '../workflows/workflowService';
import { workflowRunHandle, type RunTasks } from './workflowRunHandle';

/** A trigger as the Tasks view and the commands see it. */
export interface TriggerItem {
  /** Unique in the window: the folder and the trigger's id. */
  readonly key: string;
  readonly def: TriggerDef;
  /** The workspace folder whose workflow file declares it. */
  readonly folder: vscode.WorkspaceFolder;
  readonly state: TriggerState;
}

export interface TriggerServiceDeps {
  trusted: () => boolean;
  /** Schedules the workflow `name` of `folder`, narrowed to `task` and its dependencies when given: the ids. */
  run: (name: string, folder: string, task: string | undefined) => Promise<string[]>;
  tasks: RunTasks;
  /** Where a trigger that could not be set up is reported. */
  warn: (message: string) => void;
}

interface Entry {
  readonly key: string;
  readonly def: TriggerDef;
  readonly folder: vscode.WorkspaceFolder;
  readonly runner: TriggerRunner;
  /** What a saved document must match (`languages.match`); empty when the trigger has no `save` globs. */
  readonly saveSelector: vscode.DocumentFilter[];
  readonly disposables: vscode.Disposable[];
}

export class TriggerService implements vscode.Disposable {
  private readonly changed = new Emitter<string | undefined>();
  /** A trigger's state changed (its key), or the list of triggers did (undefined). */
  readonly onDidChange: Event<string | undefined> = this.changed.event;

  private entries = new Map<string, Entry>();
  /** Keys paused by the user, kept across reloads for the session. */
  private readonly pausedKeys = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  private enabled = false;
  private disposed = false;
  private dirty = false;
  private loading: Promise<void> | undefined;

  constructor(private readonly deps: TriggerServiceDeps) {
    if (deps.trusted()) this.enable();
    else this.disposables.push(vscode.workspace.onDidGrantWorkspaceTrust(() => this.enable()));
  }

  /** Every trigger, in folder and file order. */
  list(): TriggerItem[] {
    return [...this.entries.values()].map(itemOf);
  }

  get(key: string): TriggerItem | undefined {
    const entry = this.entries.get(key);
    return entry && itemOf(entry);
  }

  /** The triggers with this id (`workflow` or `workflow/task`), in `folder` if given. */
  find(id: string, folder?: string): TriggerItem[] {
    return this.list().filter((t) => t.def.id === id && (folder === undefined || t.folder.name === folder));
  }

  setPaused(key: string, paused: boolean): void {
    const entry = this.entries.get(key);
    if (paused) this.pausedKeys.add(key);
    else this.pausedKeys.delete(key);
    if (!entry) return;
    if (paused) entry.runner.pause();
    else entry.runner.resume();
  }

  /** Reads the workflow files again; resolves once the triggers follow what they say now. */
  reload(): Promise<void> {
    if (!this.enabled || this.disposed) return Promise.resolve();
    this.dirty = true;
    this.loading ??= this.reloadLoop();
    return this.loading;
  }

  dispose(): void {
    this.disposed = true;
    for (const entry of this.entries.values()) disposeEntry(entry);
    this.entries.clear();
    for (const d of this.disposables) d.dispose();
    this.disposables.length = 0;
    this.changed.dispose();
  }

  private enable(): void {
    if (this.enabled || this.disposed) return;
    this.enabled = true;
    const workflowFiles = vscode.workspace.createFileSystemWatcher(`**/${WORKFLOW_FILE}`);
    const reload = (): void => void this.reload();
    this.disposables.push(
      workflowFiles,
      workflowFiles.onDidCreate(reload),
      workflowFiles.onDidChange(reload),
      workflowFiles.onDidDelete(reload),
      vscode.workspace.onDidChangeWorkspaceFolders(reload),
      vscode.workspace.onDidSaveTextDocument((doc) => this.onSave(doc)),
    );
    reload();
  }

  private async reloadLoop(): Promise<void> {
    try {
      while (this.dirty && !this.disposed) {
        this.dirty = false;
        let found: { folder: vscode.WorkspaceFolder; def: TriggerDef }[];
        try {
          const result = await loadWorkflowFiles();
          found = result.files.flatMap(({ folder, file }) => triggersOf(file).map((def) => ({ folder, def })));
        } catch (err) {
          // An unreadable file (not a missing or invalid one: those load as nothing) leaves the triggers as they were.
          this.deps.warn(`could not read the workflow files for their triggers: ${errorMessage(err)}`);
          continue;
        }
        if (!this.disposed) this.apply(found);
      }
    } finally {
      // Cleared before this promise settles, so a reload() asked for from now on starts a new loop.
      this.loading = undefined;
    }
  }

  private apply(found: { folder: vscode.WorkspaceFolder; def: TriggerDef }[]): void {
    const previous = this.entries;
    const next = new Map<string, Entry>();
    let listChanged = found.length !== previous.size;
    for (const { folder, def } of found) {
      const key = keyOf(folder, def.id);
      const old = previous.get(key);
      if (old && sameDef(old.def, def) && old.folder.uri.toString() === folder.uri.toString()) {
        next.set(key, old);
        previous.delete(key);
        continue;
      }
      listChanged = true;
      const entry = this.create(key, folder, def);
      if (entry) next.set(key, entry);
    }
    for (const stale of previous.values()) disposeEntry(stale);
    this.entries = next;
    if (listChanged || previous.size) this.changed.fire(undefined);
  }

  private create(key: string, folder: vscode.WorkspaceFolder, def: TriggerDef): Entry | undefined {
    let runner: TriggerRunner;
    try {
      runner = new TriggerRunner({
        debounceMs: def.debounceMs,
        onRunning: def.onRunning,
        start: async () => workflowRunHandle(this.deps.tasks, await this.deps.run(def.workflow, folder.name, def.task)),
      });
    } catch (err) {
      this.deps.warn(`trigger \`${def.id}\` of ${folder.name} is not watched: ${errorMessage(err)}`);
      return undefined;
    }
    if (this.pausedKeys.has(key)) runner.pause();
    const disposables: vscode.Disposable[] = [runner.onDidChange(() => this.changed.fire(key))];
    for (const glob of def.change) {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, glob));
      const fire = (uri: vscode.Uri): void => runner.fire(vscode.workspace.asRelativePath(uri, false));
      disposables.push(watcher, watcher.onDidCreate(fire), watcher.onDidChange(fire), watcher.onDidDelete(fire));
    }
    const saveSelector = def.save.map((glob) => ({ pattern: new vscode.RelativePattern(folder, glob) }));
    return { key, def, folder, runner, saveSelector, disposables };
  }

  private onSave(doc: vscode.TextDocument): void {
    for (const entry of this.entries.values()) {
      if (entry.saveSelector.length && vscode.languages.match(entry.saveSelector, doc) > 0) {
        entry.runner.fire(vscode.workspace.asRelativePath(doc.uri, false));
      }
    }
  }
}

function keyOf(folder: vscode.WorkspaceFolder, id: string): string {
  return `${folder.uri.toString()}#${id}`;
}

function sameDef(a: TriggerDef, b: TriggerDef): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function itemOf(entry: Entry): TriggerItem {
  return { key: entry.key, def: entry.def, folder: entry.folder, state: entry.runner.state };
}

function disposeEntry(entry: Entry): void {
  entry.runner.dispose();
  for (const d of entry.disposables) d.dispose();
}
