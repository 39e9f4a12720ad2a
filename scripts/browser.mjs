// Launches Debian's chromium through playwright-core (no browser download) with a fresh profile folder.
// The browser is closed by its owner, and by processes.mjs's cleanup on failure or SIGINT/SIGTERM.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureChromium } from './tools.mjs';
import { onCleanup, withTimeout } from './processes.mjs';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** @returns {Promise<{ context: import('playwright-core').BrowserContext, page: import('playwright-core').Page, close: () => Promise<void> }>} */
export async function launchBrowser(profileDir, { viewport = { width: 1400, height: 900 } } = {}) {
  const executablePath = await ensureChromium();
  mkdirSync(profileDir, { recursive: true });
  const xdg = join(profileDir, '..', 'xdg');
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    timeout: 60_000,
    handleSIGINT: false, // processes.mjs handles signals and closes the browser through onCleanup
    handleSIGTERM: false,
    handleSIGHUP: false,
    env: { ...process.env, XDG_CONFIG_HOME: join(xdg, 'config'), XDG_DATA_HOME: join(xdg, 'data'), XDG_CACHE_HOME: join(xdg, 'cache') },
  });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(60_000);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    unregister();
    await withTimeout(context.close(), 15_000, 'closing chromium').catch(() => {});
  };
  const unregister = onCleanup(close);
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, close };
}
