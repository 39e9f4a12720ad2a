// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

/**
 * Node's own modules by their bare names (`fs`, `path`...), refused in browser code. Used as `/name`:
 * the leading slash anchors the gitignore-style pattern to the whole specifier, so a relative path
 * through a folder of the same name (`../core/util/formatDuration`) is not taken for Node's `util`.
 */
const NODE_BUILTINS = builtinModules.filter((m) => !m.startsWith('_'));

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'demo-workspace/**', '.test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Type-aware rules, where a mistake is easy to make and costly to find: a promise nobody awaits
    // loses its rejection (and its ordering); a promise where a void callback is expected (an event
    // listener, a setTimeout) does too. Each file is checked with its own layer's tsconfig.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // The core runs in plain Node and in the CLI: it must never reach for the editor.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'src/core must not import vscode: it runs in plain Node (CONVENTIONS.md 1).' }],
          patterns: [{ group: ['**/extension/**', '**/webview/**', '**/dashboardProtocol/**'], message: 'src/core imports nothing from the layers above it.' }],
        },
      ],
    },
  },
  {
    // What the workspace's files say, read by both hosts: the core below it, never the editor or a host.
    files: ['src/workspaceFiles/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'src/workspaceFiles is shared with the CLI: it reads files without vscode.' }],
          patterns: [
            { group: ['**/extension/**', '**/cli/**', '**/webview/**', '**/dashboardProtocol/**'], message: 'src/workspaceFiles imports only src/core.' },
          ],
        },
      ],
    },
  },
  {
    // Execution backends (BullMQ on Redis): plain Node on the core, shared by the extension and the CLI.
    files: ['src/backends/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'A backend runs in the CLI and in workers too: no vscode.' }],
          patterns: [{ group: ['**/extension/**', '**/cli/**', '**/webview/**', '**/dashboardProtocol/**'], message: 'src/backends imports only src/core.' }],
        },
      ],
    },
  },
  {
    // The command-line runner: plain Node on the core and the workspace's files; never the editor.
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'The CLI is a plain Node program: no vscode.' }],
          patterns: [
            { group: ['**/extension/**', '**/webview/**'], message: 'The CLI shares code with the extension only through src/core and src/workspaceFiles.' },
          ],
        },
      ],
    },
  },
  {
    // Browser code (the dashboard page) and what it shares with the host: neither the editor nor Node.
    files: ['src/webview/**/*.ts', 'src/dashboardProtocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'The webview runs in a browser frame: talk to the host through src/dashboardProtocol.' }],
          patterns: [
            { group: ['node:*', ...NODE_BUILTINS.map((m) => `/${m}`)], message: 'The webview and its protocol run in a browser frame: no Node modules.' },
            { group: ['**/extension/**'], message: 'The webview knows the host only through src/dashboardProtocol.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.cjs', '**/*.mjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
