import { strict as assert } from 'node:assert';
import { editorVariablesIn } from '../../src/extension/executors/taskVariables';

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
});
