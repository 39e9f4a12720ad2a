// Runs in the second host pass: the same workspace, Workspace Trust on and the folder NOT trusted
// (Restricted Mode). Tests that check nothing from the workspace's files runs without trust go beside it.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { EXTENSION_ID } from '../../../src/extension/ids';

describe('untrusted workspace (Restricted Mode)', () => {
  it('opens the workspace untrusted', () => {
    assert.strictEqual(vscode.workspace.isTrusted, false);
    assert.strictEqual((vscode.workspace.workspaceFolders ?? []).length, 1);
  });

  it('still loads and activates the extension (untrustedWorkspaces: limited)', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is loaded`);
    await ext.activate();
    assert.strictEqual(ext.isActive, true);
  });
});
