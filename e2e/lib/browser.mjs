// Debian's chromium driven by playwright-core (no Playwright browser download).
import { chromium } from 'playwright-core';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');
// Without the networking flags chromium keeps trying to reach Google on this closed network.
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Launches chromium with a fresh user-data-dir (a persistent context, since Playwright manages
 * --user-data-dir itself). Returns { context, page, userDataDir, close() }.
 */
export async function launchBrowser({ args = [], ...options } = {}) {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'mcp-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
    ...options,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const close = async () => {
    await context.close().catch(() => {});
    await rm(userDataDir, { recursive: true, force: true });
  };
  return { context, page, userDataDir, close };
}

/** Saves a full-page PNG as e2e/screenshots/<name>.png and returns its path. */
export async function screenshot(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * From the page shown in `page` (an authorization URL just opened), signs in as `username` on every sign-in form
 * (a form with a password field) and allows on every consent page (button decision=allow), following the
 * redirects, until `until(url)` holds for the page reached. `onPage(kind, page)` (optional) is called on each
 * sign-in ('login') and consent ('consent') page before it is submitted, e.g. for a screenshot. Bounded by `maxSteps`.
 */
export async function signInAndConsent(page, { username, password, until, onPage, maxSteps = 8 }) {
  for (let step = 0; step < maxSteps; step++) {
    await page.waitForLoadState('domcontentloaded');
    const login = page.locator('form:has(input[name=password])');
    const allow = page.locator('button[name=decision][value=allow]');
    let submit;
    if (await login.count()) {
      await onPage?.('login', page);
      await login.locator('input[name=username]').fill(username);
      await login.locator('input[name=password]').fill(password);
      submit = login.locator('button[type=submit]').first();
    } else if (await allow.count()) {
      await onPage?.('consent', page);
      submit = allow;
    } else if (until(page.url())) {
      return;
    } else {
      const body = ((await page.textContent('body')) ?? '').replace(/\s+/g, ' ').trim().slice(0, 300);
      throw new Error(`neither a sign-in nor a consent page at ${page.url()}: ${body}`);
    }
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), submit.click()]);
  }
  throw new Error(`not done after ${maxSteps} pages, at ${page.url()}`);
}
