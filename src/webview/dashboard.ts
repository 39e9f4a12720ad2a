// The dashboard page's entry point (bundled to dist/webview/dashboard.js, an IIFE). It talks to the
// host only through protocol.ts: it says `ready` once it listens, drops every message that does not
// validate, applies patches only on top of the seq they name (asking for a `resync` otherwise), and
// says `applied` after each render.
import { applyPatch } from '../dashboardProtocol/dashboardDiff';
import {
  PROTOCOL_VERSION,
  SECTION_NAMES,
  parseHostMessage,
  type DashboardSnapshot,
  type DashboardViewState,
  type SectionName,
  type WebviewMessage,
} from '../dashboardProtocol/protocol';
import './dashboard.css';
import { readPalette, watchTheme } from './theme';
import { DashboardView } from './view';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  setState(state: DashboardViewState): void;
  getState(): unknown;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('app');
if (!root) throw new Error('Expected the page to have a #app element');

const view = new DashboardView(
  root,
  readPalette(),
  (taskId) => vscode.postMessage({ type: 'revealTask', taskId }),
  (runId) => vscode.postMessage({ type: 'selectRun', runId }),
);
watchTheme(() => view.setPalette(readPalette()));

let snapshot: DashboardSnapshot | undefined;
let seq = 0;

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = parseHostMessage(event.data);
  if (!message) {
    // Only what claims to be ours is worth reporting; anything else is not from the host.
    const type = typeof event.data === 'object' && event.data !== null ? (event.data as { type?: unknown }).type : undefined;
    if (type === 'snapshot' || type === 'patch') vscode.postMessage({ type: 'rejected', what: `invalid ${type}` });
    return;
  }
  if (message.type === 'snapshot') {
    snapshot = message.data;
    seq = message.seq;
    view.render(snapshot, new Set(SECTION_NAMES), message.at);
  } else {
    const next = snapshot && message.base === seq ? applyPatch(snapshot, message.data) : undefined;
    if (!next) {
      // Out of step with the host (a lost message, a page reloaded mid-stream): start over from a snapshot.
      snapshot = undefined;
      vscode.postMessage({ type: 'resync', reason: `patch ${message.seq} on ${message.base} does not fit seq ${seq}` });
      return;
    }
    snapshot = next;
    seq = message.seq;
    view.render(snapshot, new Set(Object.keys(message.data) as SectionName[]), message.at);
  }
  vscode.postMessage({ type: 'applied', seq });
});

// The serializer restores the panel from this after a window reload.
vscode.setState({ v: 1 });
vscode.postMessage({ type: 'ready', protocol: PROTOCOL_VERSION });
