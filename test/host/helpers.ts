// Shared by this extension's host suites: the activated API (with its test-only accessor), waits with
// timeouts, and a reset between tests so suites sharing one extension host do not see each other's tasks.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { TaskRecord, TaskStatus } from '../../src/core/model/model';
import type { OrchestratorApiV1, TestingHooks } from '../../src/extension/api';
import { CommandIds, EXTENSION_ID } from '../../src/extension/ids';

export async function getApi(): Promise<OrchestratorApiV1 & { testing: TestingHooks }> {
  const ext = vscode.extensions.getExtension<OrchestratorApiV1>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is loaded`);
  const api = await ext.activate();
  assert.ok(api.testing, 'the test accessor is present outside production');
  return api as OrchestratorApiV1 & { testing: TestingHooks };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function waitForStatus(api: OrchestratorApiV1, id: string, statuses: TaskStatus | TaskStatus[], timeoutMs = 10_000): Promise<TaskRecord> {
  const wanted = Array.isArray(statuses) ? statuses : [statuses];
  return waitFor(
    () => {
      const r = api.getTask(id);
      return r && wanted.includes(r.status) ? r : undefined;
    },
    `task ${id} to be ${wanted.join(' or ')} (is ${api.getTask(id)?.status})`,
    timeoutMs,
  );
}

/** Cancels and removes every task, resumes, and lets the tree catch up. */
export async function reset(api: OrchestratorApiV1 & { testing: TestingHooks }): Promise<void> {
  const o = api.testing.orchestrator;
  if (o.paused) await vscode.commands.executeCommand(CommandIds.resume);
  await o.cancelAll('test reset');
  await waitFor(() => o.getTasks().every((r) => ['completed', 'failed', 'cancelled'].includes(r.status)), 'every task to finish');
  await o.clearFinished();
  api.testing.tree.resync();
  api.testing.tree.flush();
}

/** A tree row's label as a string. */
export function labelOf(item: vscode.TreeItem): string {
  return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
}

export function workspaceFolder(): vscode.WorkspaceFolder {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'a workspace folder is open');
  return f;
}

/** Writes the workflow file of the scratch workspace (a copy of demo-workspace; never the repository's). */
export async function writeWorkflowFile(content: unknown): Promise<void> {
  const uri = vscode.Uri.joinPath(workspaceFolder().uri, '.vscode', 'orchestrator.json');
  const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
}

export async function readWorkflowFile(): Promise<string> {
  const uri = vscode.Uri.joinPath(workspaceFolder().uri, '.vscode', 'orchestrator.json');
  return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
}

/** Rejection message of a promise that must reject. */
export async function rejection(p: Thenable<unknown> | Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
  assert.fail('expected a rejection');
}

/** Empties the scratch workspace's task cache (`.orchestrator/cache`, the default folder), so the next run of a cached task runs. */
export async function clearTaskCache(): Promise<void> {
  const uri = vscode.Uri.joinPath(workspaceFolder().uri, '.orchestrator', 'cache');
  await Promise.resolve(vscode.workspace.fs.delete(uri, { recursive: true, useTrash: false })).catch(() => undefined);
}
