import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { expect, it } from 'vitest';

/** Debian's chromium (`apt-get install chromium`); override with HOOKYARD_CHROMIUM. */
export const CHROMIUM_PATH = process.env.HOOKYARD_CHROMIUM ?? '/usr/bin/chromium';

export const hasChromium = (): boolean => existsSync(CHROMIUM_PATH);

/** Headless Chromium as this machine allows it: no sandbox as root, no GPU, no calls home (the network is closed). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** A page that records every console error and uncaught exception, so a test can fail on them. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  errors: string[];
  /** Messages that are expected (a 403 the test provoked): matching errors are not recorded. */
  allow(pattern: RegExp): void;
}

export async function openPage(browser: Browser, options: { viewport?: { width: number; height: number }; baseURL?: string; isMobile?: boolean } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1366, height: 900 },
    ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
    ...(options.isMobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const allowed: RegExp[] = [];
  const record = (text: string) => {
    if (!allowed.some((pattern) => pattern.test(text))) errors.push(text);
  };
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') record(`console.error: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => record(`pageerror: ${error.stack ?? error.message}`));
  return { page, context, errors, allow: (pattern) => allowed.push(pattern) };
}

/** Saves `test-results/<name>.png` (a full-page screenshot); never throws, it runs while a test is failing. */
export async function saveFailureScreenshot(page: Page | undefined, name: string): Promise<string | undefined> {
  if (!page || page.isClosed()) return undefined;
  const dir = join(process.cwd(), 'test-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name.replace(/[^\w.-]+/g, '_').slice(0, 150)}.png`);
  try {
    await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
    return file;
  } catch {
    return undefined;
  }
}

/** Widths by which the page overflows the viewport horizontally (0 when it fits), and the widest offenders. */
// Runs in the page (as a string: this project's TypeScript has no DOM types).
const OVERFLOW_SCRIPT = `(() => {
  const doc = document.documentElement;
  const width = doc.clientWidth;
  const offenders = [];
  for (const el of document.querySelectorAll('body *')) {
    const rect = el.getBoundingClientRect();
    if (rect.width > 0 && rect.right > width + 1 && getComputedStyle(el).position !== 'fixed') {
      const cls = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : '';
      offenders.push(el.tagName.toLowerCase() + cls + ' right=' + Math.round(rect.right));
    }
  }
  return { overflow: Math.max(0, doc.scrollWidth - width), offenders: offenders.slice(0, 10) };
})()`;

/** By how many pixels the page overflows the viewport horizontally (0 when it fits), and the widest offenders. */
export async function horizontalOverflow(page: Page): Promise<{ overflow: number; offenders: string[] }> {
  return page.evaluate<{ overflow: number; offenders: string[] }>(OVERFLOW_SCRIPT);
}

export interface BrowserTestOptions {
  timeout?: number;
  viewport?: { width: number; height: number };
  isMobile?: boolean;
  skip?: boolean;
}

/** A browser test: its own context (so its own sessionStorage), a failure screenshot, and no console errors allowed. */
export function browserTest(browser: () => Browser, name: string, fn: (w: WatchedPage) => Promise<void>, options: BrowserTestOptions = {}): void {
  (options.skip ? it.skip : it)(name, async () => {
    const w = await openPage(browser(), { viewport: options.viewport, isMobile: options.isMobile });
    w.page.setDefaultTimeout(10_000);
    try {
      await fn(w);
      expect(w.errors, 'console errors or uncaught exceptions in the page').toEqual([]);
    } catch (err) {
      const file = await saveFailureScreenshot(w.page, name);
      if (file && err instanceof Error) err.message += `\n(screenshot: ${file})`;
      throw err;
    } finally {
      await w.context.close();
    }
  }, options.timeout ?? 30_000);
}
