// What VS Code's own variable resolution leaves to us. executeTask resolves a tasks.json task's
// `${workspaceFolder}`, `${env:…}`, `${config:…}`, `${file}`… and prompts for `${input:…}` itself,
// as Run Task does (measured in code-server 1.139). One case it does not report to an extension: a
// variable of the active editor with no editor open. Run Task shows "Variable … can not be resolved.
// Please open an editor." and the task never starts nor ends, so a run waiting for it would wait forever.

/** The variables that need an active editor (VS Code's `configurationResolver`'s file variables). */
const EDITOR_VARIABLES = [
  'file',
  'fileBasename',
  'fileBasenameNoExtension',
  'fileDirname',
  'fileDirnameBasename',
  'fileExtname',
  'fileWorkspaceFolder',
  'fileWorkspaceFolderBasename',
  'relativeFile',
  'relativeFileDirname',
  'lineNumber',
  'columnNumber',
  'selectedText',
];
const EDITOR_VARIABLE = new RegExp(`\\$\\{(${EDITOR_VARIABLES.join('|')})\\}`, 'g');

/** The editor variables a tasks.json entry uses, each once, in order of appearance. */
export function editorVariablesIn(entry: unknown): string[] {
  const text = JSON.stringify(entry) ?? '';
  return [...new Set([...text.matchAll(EDITOR_VARIABLE)].map((m) => `\${${m[1]}}`))];
}
