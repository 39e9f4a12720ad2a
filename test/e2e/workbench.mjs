// Helpers for UI scenarios: a real chromium (playwright-core) driving a real VS Code workbench
// (code-server) with this repository's extension loaded. scripts/test-e2e.mjs opens one Workbench per
// scenario and passes it to the scenario's `run(wb)`; every wait here has a timeout.
//
//   await wb.openContainer('Orchestrator');
//   await wb.runCommand('Orchestrator: Refresh');
//   const rows = await wb.treeRows();                  // [{ label, description, text }]
//   await wb.contextMenu('Running', 'Cancel');         // right-click a row, pick a menu item
//   const messages = await wb.notifications();         // texts in the Notification Center
//   await wb.reload();                                 // reload the window, wait until ready again
//   await wb.screenshot('after-cancel');               // <output>/<name>.png
//   await wb.waitFor(async () => ..., { message: 'the task completed' });
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, startCodeServer, devPayload } from '../../scripts/codeServer.mjs';
import { launchBrowser } from '../../scripts/browser.mjs';
import { atExit } from '../../scripts/processes.mjs';

export const DEMO_WORKSPACE = join(REPO_ROOT, 'demo-workspace');
const READY_TIMEOUT_MS = 60_000;

/**
 * Starts a fresh server (own user-data-dir), copies the workspace to a scratch folder, opens it in chromium.
 * @param {object} o
 * @param {string} o.outputDir                where screenshots and logs go (created)
 * @param {string} [o.workspace]              folder to copy and open (default demo-workspace)
 * @param {'disabled'|'untrusted'} [o.trust]  'untrusted': Workspace Trust on and the folder in Restricted Mode
 * @param {Record<string, unknown>} [o.settings]  extra user settings
 * @param {'symlink'|'payload'} [o.extension] symlink: installed into the extensions dir (toasts show);
 *                                            payload: loaded as a development extension (smoke-test driver; no toasts)
 * @param {string} [o.containerTitle]         the activity-bar container to wait for (default 'Orchestrator')
 */
export async function openWorkbench(o) {
  const outputDir = resolve(o.outputDir);
  mkdirSync(outputDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'orchestrator-e2e-'));
  // Also on Ctrl-C: 'exit' comes after processes.mjs has stopped the server and the browser.
  if (!process.env.KEEP_SCRATCH) atExit(() => rmSync(scratch, { recursive: true, force: true }));
  const workspace = join(scratch, 'workspace');
  // Without the task cache (.orchestrator/): a scenario sees the demo's tasks run, whatever ran in the copied folder before.
  cpSync(o.workspace ?? DEMO_WORKSPACE, workspace, { recursive: true, filter: (src) => !/[/\\]\.orchestrator$/.test(src) });
  const mode = o.extension ?? 'symlink';
  const server = await startCodeServer({
    scratch,
    trust: o.trust ?? 'disabled',
    settings: o.settings,
    linkExtension: mode === 'symlink' ? REPO_ROOT : undefined,
    smokeTestDriver: mode === 'payload',
  });
  let browser;
  try {
    browser = await launchBrowser(join(scratch, 'browser'));
  } catch (e) {
    await server.stop();
    throw e;
  }
  const wb = new Workbench({ server, browser, scratch, workspace, outputDir, mode, containerTitle: o.containerTitle ?? 'Orchestrator' });
  try {
    await wb.open();
  } catch (e) {
    await wb.close({ failed: true });
    throw e;
  }
  return wb;
}

export class Workbench {
  constructor({ server, browser, scratch, workspace, outputDir, mode, containerTitle }) {
    this.server = server;
    this.browser = browser;
    /** @type {import('playwright-core').Page} */
    this.page = browser.page;
    this.scratch = scratch;
    /** The scratch copy of the workspace: tests may write here, never into the repository. */
    this.workspace = workspace;
    this.outputDir = outputDir;
    this.mode = mode;
    this.containerTitle = containerTitle;
    this.consoleLines = [];
    this.page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') this.consoleLines.push(`[${m.type()}] ${m.text()}`);
    });
    this.page.on('pageerror', (e) => this.consoleLines.push(`[pageerror] ${e.message}`));
  }

  url() {
    const payload = this.mode === 'payload' ? devPayload(this.server) : undefined;
    return this.server.workbenchUrl({ folder: this.workspace, payload });
  }

  async open() {
    await this.page.goto(this.url(), { timeout: READY_TIMEOUT_MS });
    await this.waitReady();
  }

  /** The workbench is up and our extension's container is in the activity bar. */
  async waitReady() {
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: READY_TIMEOUT_MS });
    await this.activityItem().waitFor({ state: 'visible', timeout: READY_TIMEOUT_MS });
  }

  activityItem(title = this.containerTitle) {
    return this.page.locator(`.activitybar [aria-label^="${title}"]`).first();
  }

  /** Opens an activity-bar container (a second click would close it, so only when it is not showing). */
  async openContainer(title = this.containerTitle) {
    const item = this.activityItem(title);
    await item.waitFor({ state: 'visible' });
    const li = this.page.locator('.activitybar .action-item', { has: this.page.locator(`[aria-label^="${title}"]`) });
    const cls =
      (await li
        .first()
        .getAttribute('class')
        .catch(() => '')) ?? '';
    if (!cls.includes('checked')) await item.click();
    await this.page.locator('.part.sidebar').waitFor({ state: 'visible' });
  }

  /** Runs a command by its palette title, e.g. 'Orchestrator: Refresh'. */
  async runCommand(title, { timeout = 15_000 } = {}) {
    const input = this.page.locator('.quick-input-widget input.input');
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout });
    const row = this.page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
    // The palette filters the commands known when the text is typed: right after a reload an
    // extension's commands can arrive a little later, so the text is typed again until it shows.
    const deadline = Date.now() + timeout;
    for (;;) {
      await input.fill(`>${title}`);
      try {
        await row.waitFor({ state: 'visible', timeout: Math.max(1, Math.min(3_000, deadline - Date.now())) });
        break;
      } catch (err) {
        if (Date.now() >= deadline) throw err;
        await input.fill('>');
      }
    }
    await row.click({ timeout });
    await input.waitFor({ state: 'hidden', timeout }).catch(() => {}); // a command may open its own quick pick
  }

  /** The quick input (a command's quick pick or input box): type and accept. */
  async quickInput(text, { timeout = 15_000 } = {}) {
    const input = this.page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible', timeout });
    await input.fill(text);
    await this.page.keyboard.press('Enter');
  }

  /** Rows of the tree(s) in the side bar: label, description and the whole text. */
  async treeRows() {
    const rows = this.page.locator('.part.sidebar .monaco-list-row');
    const n = await rows.count();
    const out = [];
    for (let i = 0; i < n; i++) {
      const row = rows.nth(i);
      const label = (
        await row
          .locator('.label-name')
          .first()
          .innerText({ timeout: 2000 })
          .catch(() => '')
      ).trim();
      const description = (
        await row
          .locator('.label-description')
          .first()
          .innerText({ timeout: 2000 })
          .catch(() => '')
      ).trim();
      out.push({ label, description, text: (await row.innerText({ timeout: 2000 }).catch(() => '')).trim() });
    }
    return out;
  }

  /** The side-bar row whose label is `label` (exact). */
  treeRow(label) {
    return this.page
      .locator('.part.sidebar .monaco-list-row')
      .filter({ has: this.page.locator('.label-name').getByText(label, { exact: true }) })
      .first();
  }

  /** Waits until the side bar shows a row labelled `label`; returns its locator. */
  async waitForRow(label, { timeout = 20_000 } = {}) {
    const row = this.treeRow(label);
    await row.waitFor({ state: 'visible', timeout });
    return row;
  }

  /** Right-clicks a tree row and picks `item` from its context menu. */
  async contextMenu(rowLabel, item, { timeout = 15_000 } = {}) {
    const row = await this.waitForRow(rowLabel, { timeout });
    await row.click({ button: 'right', timeout });
    const entry = this.page.getByRole('menuitem', { name: item }).first();
    await entry.waitFor({ state: 'visible', timeout });
    // The workbench's menu ignores a synthetic click that comes right after it opened; hovering focuses
    // the item and Enter runs it, as a keyboard user would.
    await entry.hover({ timeout });
    await this.page.keyboard.press('Enter');
    await entry.waitFor({ state: 'hidden', timeout });
  }

  /** Messages shown as toasts right now (none with the smoke-test driver: use notifications()). */
  async toasts() {
    return this.page.locator('.notification-toast .notification-list-item-message').allInnerTexts();
  }

  /** Messages in the Notification Center (opened, read, closed again). */
  async notifications({ timeout = 10_000 } = {}) {
    const center = this.page.locator('.notifications-center');
    const wasVisible = await center.isVisible();
    if (!wasVisible) {
      // The bell toggles the center; a click that lands while the workbench is still busy can be
      // lost (seen once in a fresh-clone CI run: the center stayed hidden), so it is clicked again
      // until the center shows.
      const deadline = Date.now() + timeout;
      for (;;) {
        await this.page.locator('[id="status.notifications"]').click({ timeout });
        try {
          await center.waitFor({ state: 'visible', timeout: Math.max(1, Math.min(3_000, deadline - Date.now())) });
          break;
        } catch (err) {
          if (Date.now() >= deadline) throw err;
        }
      }
    }
    const texts = await center.locator('.notification-list-item-message').allInnerTexts();
    if (!wasVisible) await this.page.keyboard.press('Escape');
    return texts.map((t) => t.trim());
  }

  /** Reloads the window and waits until the workbench and the extension are back. */
  async reload() {
    await this.page.reload({ timeout: READY_TIMEOUT_MS });
    await this.waitReady();
  }

  /** Screenshot into the output folder; returns its path. */
  async screenshot(name) {
    const file = join(this.outputDir, `${name}.png`);
    await this.page.screenshot({ path: file, timeout: 15_000 });
    return file;
  }

  /** Polls `check` until it returns a truthy value (returned) or fails with `message` after `timeout`. */
  async waitFor(check, { timeout = 20_000, interval = 250, message = 'condition' } = {}) {
    const until = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        const v = await check();
        if (v) return v;
      } catch (e) {
        last = e;
      }
      if (Date.now() > until) throw new Error(`Timed out after ${timeout} ms waiting for ${message}${last ? `: ${last.message}` : ''}`);
      await sleep(interval);
    }
  }

  async close({ failed = false } = {}) {
    mkdirSync(this.outputDir, { recursive: true });
    writeFileSync(join(this.outputDir, 'browser-console.log'), this.consoleLines.join('\n') + '\n');
    if (failed) await this.screenshot('failure').catch(() => {});
    await this.browser.close();
    await this.server.stop();
    this.server.collectLogs(this.outputDir);
    if (process.env.KEEP_SCRATCH) console.log(`    scratch kept: ${this.scratch}`);
    else rmSync(this.scratch, { recursive: true, force: true });
  }
}
