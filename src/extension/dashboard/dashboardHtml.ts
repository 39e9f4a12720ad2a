// The dashboard page's HTML and its Content Security Policy. No 'vscode' here, so the policy is
// unit-tested: `default-src 'none'`, the one script allowed by a nonce that is fresh per page, the one
// stylesheet and nothing else from the webview's own origin, no 'unsafe-inline' and no remote source.
import { randomBytes } from 'node:crypto';

/** 144 random bits, base64: unguessable, and valid in a CSP nonce source. */
export function nonce(): string {
  return randomBytes(18).toString('base64');
}

/** The page's HTML. Exported for tests; `cspSource`, `scriptUri` and `styleUri` come from the webview. */
export function dashboardHtml(args: { cspSource: string; scriptUri: string; styleUri: string; nonce: string }): string {
  const csp = ["default-src 'none'", `style-src ${args.cspSource}`, `script-src 'nonce-${args.nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${args.styleUri}">
<title>Orchestrator Dashboard</title>
</head>
<body>
<main id="app" aria-busy="true"><p class="loading">Loading metrics…</p></main>
<script nonce="${args.nonce}" src="${args.scriptUri}"></script>
</body>
</html>`;
}
