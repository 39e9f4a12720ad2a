// The tasks.json variables only an editor can resolve, shared by both hosts. In the editor,
// executeTask resolves a task's `${workspaceFolder}`, `${env:…}`, `${config:…}`, `${file}`… and prompts
// for `${input:…}` itself, as Run Task does (measured in code-server 1.139). One case it does not report
// to an extension: a variable of the active editor with no editor open. Run Task shows "Variable … can
// not be resolved. Please open an editor." and the task never starts nor ends, so a run waiting for it
// would wait forever. The CLI has no editor at all: it refuses these and the ones VS Code itself answers.

/** The variables that need an active editor (VS Code's `configurationResolver`'s file variables). */
export const EDITOR_VARIABLES: readonly string[] = [
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

/** Variables VS Code answers itself, with a prompt, a command or its own install: `input:who`, `command:x`. */
const VSCODE_VARIABLE = /^(?:input|command|extensionInstallFolder):|^(?:execPath|defaultBuildTask)$/;

/** The editor variables a tasks.json entry uses, each once, in order of appearance. */
export function editorVariablesIn(entry: unknown): string[] {
  const text = JSON.stringify(entry) ?? '';
  return [...new Set([...text.matchAll(EDITOR_VARIABLE)].map((m) => `\${${m[1]}}`))];
}

/** Whether the variable named inside `${…}` (`file`, `input:who`) can be resolved only in VS Code. */
export function needsEditor(name: string): boolean {
  return EDITOR_VARIABLES.includes(name) || VSCODE_VARIABLE.test(name);
}
