import { strict as assert } from 'node:assert';
import { editorVariablesIn, needsEditor } from '../../src/workspaceFiles/taskVariables';

describe('taskVariables', () => {
  it('lists the variables of a tasks.json entry that need an active editor, each once', () => {
    const entry = {
      label: 'x',
      command: 'cat ${file} ${relativeFile} ${file}',
      options: { cwd: '${fileDirname}' },
      args: ['${workspaceFolder}', '${env:HOME}', '${input:who}'],
    };
    assert.deepEqual(editorVariablesIn(entry), ['${file}', '${relativeFile}', '${fileDirname}']);
  });

  it('finds none in an entry without them, or in nothing', () => {
    assert.deepEqual(editorVariablesIn({ command: 'echo ${workspaceFolder} ${fileX} $file' }), []);
    assert.deepEqual(editorVariablesIn(undefined), []);
  });

  it('says which variables only VS Code can resolve: of the editor, inputs, commands and its own', () => {
    for (const name of [
      'file',
      'relativeFile',
      'selectedText',
      'input:who',
      'command:extension.pick',
      'execPath',
      'defaultBuildTask',
      'extensionInstallFolder:a.b',
    ]) {
      assert.equal(needsEditor(name), true, name);
    }
    for (const name of ['workspaceFolder', 'env:HOME', 'config:a.b', 'userHome', 'fileX', 'HOME', 'inputs']) {
      assert.equal(needsEditor(name), false, name);
    }
  });
});
