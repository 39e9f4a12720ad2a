// Proves the host suite runs inside a real extension host: the real 'vscode' module, our extension
// loaded from this repo and activated, its commands registered and its tree returning the six stages
// (after the Watching node of the demo's trigger).
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import { EXTENSION_ID, CommandIds, ViewIds } from '../../src/extension/ids';
import { labelOf, waitFor } from './helpers';

interface TestingApi {
  testing?: { tree: vscode.TreeDataProvider<unknown> };
}

async function activated(): Promise<vscode.Extension<TestingApi>> {
  const ext = vscode.extensions.getExtension<TestingApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded in this host`);
  await ext.activate();
  return ext;
}

describe('extension host smoke', () => {
  it('runs against the real vscode API', () => {
    assert.match(vscode.version, /^\d+\.\d+\.\d+/);
    assert.strictEqual(typeof vscode.window.createTreeView, 'function');
    console.log(`      VS Code ${vscode.version}, ${vscode.env.appName}, ${vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop'} UI`);
  });

  it('loads the extension under development from this repository and activates it', async () => {
    const ext = await activated();
    assert.strictEqual(ext.isActive, true);
    const pkg = ext.packageJSON as { name: string; publisher: string };
    assert.strictEqual(`${pkg.publisher}.${pkg.name}`, EXTENSION_ID);
    assert.ok(ext.extensionUri.fsPath.length > 0);
  });

  it('opens the demo workspace, trusted (the untrusted/ pass checks Restricted Mode)', () => {
    assert.strictEqual(vscode.workspace.isTrusted, true);
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.strictEqual(folders.length, 1, 'one workspace folder');
    assert.ok(path.basename(folders[0].uri.fsPath).length > 0);
  });

  it('registers every command it contributes', async () => {
    const ext = await activated();
    const contributed = (ext.packageJSON as { contributes: { commands: { command: string }[] } }).contributes.commands.map((c) => c.command);
    assert.ok(contributed.includes(CommandIds.refresh));
    const all = new Set(await vscode.commands.getCommands(true));
    for (const id of contributed) assert.ok(all.has(id), `command ${id} is registered`);
    await vscode.commands.executeCommand(CommandIds.refresh);
  });

  it('contributes the Tasks view, which can be focused', async () => {
    await vscode.commands.executeCommand(`${ViewIds.tasks}.focus`);
  });

  it('shows the Watching node (the demo has a trigger) and the six lifecycle stages at the root of the Tasks tree', async () => {
    const ext = await activated();
    const tree = ext.exports?.testing?.tree;
    assert.ok(tree, 'the extension exposes its tree when run by extension tests (api.testing.tree)');
    // The demo's `watch` workflow has an `"on": { "save": [...] }` trigger: Watching comes first, once
    // the workflow file has been read (after activation).
    const roots = await waitFor(async () => {
      const r = (await tree.getChildren()) ?? [];
      return r.length === 7 && r;
    }, 'the Watching node and the six stages');
    const items = await Promise.all(roots.map((r) => tree.getTreeItem(r)));
    const labels = items.map(labelOf);
    assert.deepStrictEqual(labels, ['Watching', 'Created', 'Scheduled', 'Running', 'Completed', 'Failed', 'Cancelled']);
    for (const i of items) assert.match(String(i.description ?? ''), /\d+/, `${String(i.label)} shows a count`);
    const triggers = await Promise.all(((await tree.getChildren(roots[0])) ?? []).map((r) => tree.getTreeItem(r)));
    assert.deepStrictEqual(triggers.map(labelOf), ['watch']);
    assert.match(String(triggers[0].description ?? ''), /on save src\/\*\*\/\*\.js/);
  });
});
