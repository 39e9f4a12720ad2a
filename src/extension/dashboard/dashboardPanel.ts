// The dashboard's webview panel: one at a time, opened by `orchestrator.showDashboard`, restored by a
// serializer after a window reload, fed by a DashboardFeed while it is visible.
//
// Security: the page's CSP is `default-src 'none'`; its one script runs by a fresh nonce from
// crypto.randomBytes, its one stylesheet comes from the extension, and `localResourceRoots` is only
// the built webview folder (dist/webview), so the page can load nothing else, from disk or network.
import * as vscode from 'vscode';
import { DASHBOARD_VIEW_TYPE, parseViewState } from '../../dashboardProtocol/protocol';
import type { DashboardSource } from './dashboardData';
import { dashboardHtml, nonce } from './dashboardHtml';
import { CommandIds } from '../ids';
import { DashboardFeed, type FeedState, type FleetSource } from './dashboardFeed';

/**
 * Test accessor, registered only outside production mode: returns the open panel's FeedState (the
 * message types posted and received, the last seq the page rendered, the last snapshot), or
 * undefined when no dashboard is open. Not contributed in package.json: nobody should call it by hand.
 */
export const DASHBOARD_TEST_STATE_COMMAND = 'orchestrator.dashboard.testState';

export interface DashboardDeps {
  /** Shows the task in the Tasks tree; provided by the extension, which owns the tree. */
  revealTask(id: string): Thenable<void> | void;
  /** The redis backend's fleet, for the Workers section; absent with the local backend. */
  fleet?: FleetSource;
}

const TITLE = 'Orchestrator Dashboard';

class DashboardPanel implements vscode.Disposable {
  readonly feed: DashboardFeed;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    source: DashboardSource,
    deps: DashboardDeps,
    private readonly onDispose: () => void,
  ) {
    const root = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    const webview = panel.webview;
    // Set again on a restored panel too: the serializer's panel comes with whatever options it had.
    webview.options = { enableScripts: true, localResourceRoots: [root] };
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'orchestrator.svg');

    this.feed = new DashboardFeed({
      source,
      post: (message) => {
        // A post can fail only when the page went away meanwhile; its next `ready` starts it over.
        void webview.postMessage(message);
      },
      revealTask: (id) => void this.reveal(source, deps, id),
      ...(deps.fleet ? { fleet: deps.fleet } : {}),
    });
    this.disposables.push(
      this.feed,
      webview.onDidReceiveMessage((m: unknown) => this.feed.receive(m)),
      panel.onDidChangeViewState((e) => this.feed.setVisible(e.webviewPanel.visible)),
      panel.onDidDispose(() => this.dispose()),
    );
    this.feed.setVisible(panel.visible);
    webview.html = dashboardHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'dashboard.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'dashboard.css')).toString(),
      nonce: nonce(),
    });
  }

  private async reveal(source: DashboardSource, deps: DashboardDeps, id: string): Promise<void> {
    // The id came from the page: act only on a task the orchestrator knows.
    const task = source.getTask(id);
    if (!task) {
      void vscode.window.showInformationMessage(`Task ${id} is no longer in the history.`);
      return;
    }
    try {
      await deps.revealTask(task.id);
    } catch (err) {
      void vscode.window.showWarningMessage(`Could not reveal task "${task.name}": ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

/**
 * Registers the dashboard: its command (`orchestrator.showDashboard`), its serializer (so a window reload brings the panel back)
 * and, outside production, its test accessor. Call once from `activate`, synchronously, so the
 * serializer is in place when VS Code restores panels (package.json activates the extension on
 * `onWebviewPanel:orchestrator.dashboard` for that).
 */
export function registerDashboard(context: vscode.ExtensionContext, source: DashboardSource, deps: DashboardDeps): vscode.Disposable {
  let current: DashboardPanel | undefined;
  const adopt = (panel: vscode.WebviewPanel): DashboardPanel => {
    current?.dispose();
    const created = new DashboardPanel(panel, context.extensionUri, source, deps, () => {
      if (current === created) current = undefined;
    });
    current = created;
    return created;
  };

  const disposables: vscode.Disposable[] = [
    vscode.commands.registerCommand(CommandIds.showDashboard, () => {
      if (current) {
        current.panel.reveal();
        return;
      }
      adopt(
        vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, TITLE, vscode.ViewColumn.Active, {
          enableScripts: true,
          localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview')],
        }),
      );
    }),
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Thenable<void> {
        // Nothing in the state is needed to rebuild the page; reading it only checks it is ours.
        parseViewState(state);
        adopt(panel);
        return Promise.resolve();
      },
    }),
  ];
  if (context.extensionMode !== vscode.ExtensionMode.Production) {
    disposables.push(vscode.commands.registerCommand(DASHBOARD_TEST_STATE_COMMAND, (): FeedState | undefined => current?.feed.state()));
  }
  return vscode.Disposable.from(...disposables, { dispose: () => current?.dispose() });
}
