import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import { sign } from '@octokit/webhooks-methods';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTest, hasChromium, horizontalOverflow, launchChromium, saveFailureScreenshot, type BrowserTestOptions, type WatchedPage } from './helpers/browser.js';
import { ADMIN_TOKEN, startTestHookyard, type TestHookyard } from './helpers/hookyard.js';
import { Receiver } from './helpers/receiver.js';

// The web dashboard in real headless Chromium (Debian's chromium, driven by playwright-core), against a real
// Hookyard in this process. Any console error or uncaught exception in the page fails the test; a failing test
// leaves test-results/<test name>.png. HOOKYARD_SCREENSHOTS=1 also (re)writes the README images in docs/images/.

const githubExamples = createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];
const pushExample = JSON.stringify(githubExamples.find((d) => d.name === 'push')!.examples[0]);

const SECRET = 'It’s a Secret to Everybody';
const SCREENSHOTS = process.env.HOOKYARD_SCREENSHOTS === '1';

let hy: TestHookyard;
let receiver: Receiver;
let browser: Browser;

const browserIt = (name: string, fn: (w: WatchedPage) => Promise<void>, options?: BrowserTestOptions): void => browserTest(() => browser, name, fn, options);

async function signIn(page: Page, token = ADMIN_TOKEN, app?: string, base = hy.url): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel('Token').fill(token);
  if (app !== undefined) await page.getByLabel('App (only with an app key)').fill(app);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function sendGithub(sourceUrl: string, body: string, secret = SECRET): Promise<Response> {
  return fetch(sourceUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': await sign(secret, body),
      'user-agent': 'GitHub-Hookshot/1a2b3c4',
    },
    body,
  });
}

async function expectNoOverflow(page: Page, view: string): Promise<void> {
  const { overflow, offenders } = await horizontalOverflow(page);
  expect(overflow, `${view} overflows a phone width by ${overflow}px: ${offenders.join(', ')}`).toBe(0);
}

async function shoot(page: Page, name: string, fullPage = false): Promise<void> {
  if (!SCREENSHOTS) return;
  const dir = join(process.cwd(), 'docs', 'images');
  mkdirSync(dir, { recursive: true });
  await page.waitForTimeout(300); // let the flash of a fresh row fade a little
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage });
}

// Without Debian's chromium the browser tests skip locally; under CI they run (and fail loudly if it is missing).
const describeBrowser = hasChromium() || process.env.CI ? describe : describe.skip;

describeBrowser('web dashboard (headless Chromium)', () => {
  beforeAll(async () => {
    [hy, receiver, browser] = await Promise.all([startTestHookyard(), Receiver.start(), launchChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await hy?.stop();
  });

  it('serves the page and its assets with the right types, out of the OpenAPI document, without path traversal', async () => {
    const index = await fetch(`${hy.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await index.text()).toContain('dashboard/js/main.js');
    const js = await fetch(`${hy.url}/dashboard/js/main.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const css = await fetch(`${hy.url}/dashboard/app.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const etag = css.headers.get('etag')!;
    expect((await fetch(`${hy.url}/dashboard/app.css`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    for (const path of ['/dashboard/%2e%2e/routes.ts', '/dashboard/..%2f..%2fpackage.json', '/dashboard/js/%2e%2e%2f%2e%2e%2froutes.ts', '/dashboard/nope.js']) {
      expect((await fetch(`${hy.url}${path}`)).status, path).toBe(404);
    }
    const openapi = (await (await fetch(`${hy.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths).filter((p) => p === '/' || p.startsWith('/dashboard'))).toEqual([]);
    // The API stays where it was.
    expect((await fetch(`${hy.url}/health`)).status).toBe(200);
    expect((await fetch(`${hy.url}/api/v1/sources`)).status).toBe(401);
  });

  browserIt('creates a GitHub source in the UI, shows a signed webhook live, opens it and replays it', async ({ page }) => {
    await signIn(page);
    await page.getByRole('link', { name: 'Sources', exact: true }).click();
    await page.getByRole('link', { name: 'New source' }).click();

    await page.getByLabel('Name').fill('github-ui');
    await page.getByLabel('Preset').selectOption('github');
    await page.getByLabel('Webhook secret').fill(SECRET);
    await page.getByRole('button', { name: 'Add forward' }).click();
    await page.getByLabel('Forward URL').fill(`${receiver.url}/forwarded`);
    await page.getByRole('button', { name: 'Create source' }).click();

    await expect.poll(() => page.locator('h1').textContent()).toBe('github-ui');
    const url = await page.getByLabel('Receiving URL of github-ui').inputValue();
    expect(url).toBe(`${hy.url}/in/github-ui`);
    const stored = (await hy.api('GET', '/api/v1/sources/github-ui')).body;
    expect(stored.verification).toEqual({ type: 'github', secret: '********' });
    expect(stored.forward).toEqual([{ url: `${receiver.url}/forwarded` }]);
    await page.locator('.live[data-state="open"]').waitFor();

    // A marker on window proves nothing reloads the page: the request arrives over the SSE stream.
    await page.evaluate('window.marker = 42');
    expect((await sendGithub(url, pushExample)).status).toBe(202);
    const item = page.locator('.req-item').first();
    await expect.poll(() => item.textContent()).toContain('accepted');
    expect(await page.evaluate('window.marker')).toBe(42);

    // A forged one shows up as rejected, and the status filter tells them apart.
    expect((await sendGithub(url, '{"forged":true}', 'wrong secret')).status).toBe(401);
    await expect.poll(() => page.locator('.req-item').count()).toBe(2);
    await page.getByLabel('Filter requests by status').selectOption('rejected');
    await expect.poll(() => page.locator('.req-item').count()).toBe(1);
    await expect.poll(() => page.locator('.req-item').textContent()).toContain('rejected');
    await page.locator('.req-item').click();
    await expect.poll(() => page.locator('.request').textContent()).toContain('signature mismatch');
    await page.getByLabel('Filter requests by status').selectOption('accepted');
    await expect.poll(() => page.locator('.req-item').count()).toBe(1);

    // The detail: method, headers, pretty body with a raw toggle, verification, processing.
    await page.locator('.req-item').click();
    const detail = page.locator('.request');
    await expect.poll(() => detail.locator('h2').textContent()).toContain('POST');
    await expect.poll(() => detail.textContent()).toContain('verified');
    expect(await detail.locator('.sub-card', { hasText: 'Headers (' }).textContent()).toContain('x-github-eventpush');
    const body = detail.getByLabel('Request body');
    expect(await body.textContent()).toContain('\n  "ref": "refs/tags/simple-tag"');
    await detail.getByRole('button', { name: 'Raw' }).click();
    expect(await body.textContent()).toBe(pushExample);
    await detail.getByRole('button', { name: 'Pretty' }).click();
    await receiver.waitFor(1, '/forwarded');
    await expect.poll(() => detail.locator('[data-processing]').textContent(), { timeout: 15_000 }).toContain('succeeded');
    expect(JSON.parse(receiver.at('/forwarded')[0]!.body)).toEqual(JSON.parse(pushExample));

    // Replay runs the forward again.
    await detail.getByRole('button', { name: 'Replay' }).click();
    await page.getByText('Replay queued').waitFor();
    await receiver.waitFor(2, '/forwarded');
    await expect.poll(() => detail.locator('[data-processing]').textContent(), { timeout: 15_000 }).toContain('succeeded');
    expect(page.url()).toContain('#/sources/github-ui/requests/req_');

    // The copy button puts the receiving URL on the clipboard.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hy.url });
    await page.getByRole('button', { name: 'Copy URL' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(url);
  }, { timeout: 45_000 });

  browserIt('edits a source: keeps the stored secret unless verification changes', async ({ page }) => {
    await hy.api('POST', '/api/v1/sources', { name: 'edit-me', verification: { type: 'github', secret: SECRET } });
    await signIn(page);
    await page.goto(`${hy.url}/#/sources/edit-me/edit`);
    await page.getByLabel('Description').fill('Pushes from the monorepo');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => page.locator('.sub').first().textContent()).toBe('Pushes from the monorepo');
    // The secret was kept: a webhook signed with it still passes.
    expect((await sendGithub(`${hy.url}/in/edit-me`, '{"zen":"x"}')).status).toBe(202);

    // Changing the preset's fields without the secret is refused in the form, with the reason.
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Preset').selectOption('hmac');
    await page.getByLabel('Signature header').fill('X-Signature');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Secret is required').waitFor();
    await page.getByLabel('Secret').fill('s3cret');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(async () => (await hy.api('GET', '/api/v1/sources/edit-me')).body.verification?.type).toBe('hmac');
    const source = (await hy.api('GET', '/api/v1/sources/edit-me')).body;
    expect(source.verification).toEqual({ type: 'hmac', header: 'X-Signature', algorithm: 'sha256', encoding: 'hex', secret: '********' });
  });

  browserIt('makes a new bin that takes any method and opens its live view', async ({ page }) => {
    await signIn(page);
    await page.goto(`${hy.url}/#/sources`);
    await page.getByRole('button', { name: 'New bin' }).click();
    await expect.poll(() => page.url()).toMatch(/#\/sources\/bin-[a-z0-9]{8}$/);
    const url = await page.locator('.url-input').first().inputValue();
    await page.locator('.live[data-state="open"]').waitFor();
    expect((await fetch(`${url}/deep/path?plan=pro`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'hello bin' })).status).toBe(202);
    const item = page.locator('.req-item').first();
    await expect.poll(() => item.textContent()).toContain('PUT');
    expect(await item.textContent()).toContain('/deep/path?plan=pro');
    await item.click();
    await expect.poll(() => page.getByLabel('Request body').textContent()).toBe('hello bin');
    expect(await page.locator('.request').textContent()).toContain('not checked');
  });

  browserIt('creates an app and an endpoint, sends a message, shows the attempt, resends, rotates the secret', async ({ page }) => {
    await signIn(page);
    await page.getByRole('link', { name: 'Apps', exact: true }).click();
    await page.getByLabel('Name').fill('Acme Corp');
    await page.getByLabel('UID (optional)').fill('acme');
    await page.getByRole('button', { name: 'Create app' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Acme Corp');

    await page.getByRole('link', { name: 'New endpoint' }).click();
    await page.getByLabel('URL').fill(`${receiver.url}/acme`);
    await page.getByLabel('Event types').fill('invoice.paid, invoice.failed');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe(`${receiver.url}/acme`);
    expect(await page.locator('.kv').first().textContent()).toContain('invoice.paid, invoice.failed');

    // Reveal, then rotate: a new whsec_ secret, and the old one keeps signing beside it.
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    const secretField = page.getByLabel('Signing secret', { exact: true });
    const first = await secretField.inputValue();
    expect(first).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('button', { name: 'Rotate now' }).click();
    await page.getByText('Secret rotated').waitFor();
    await expect.poll(() => secretField.inputValue()).not.toBe(first);
    const second = await secretField.inputValue();
    expect(second).toMatch(/^whsec_/);
    const epId = page.url().split('/').pop()!;
    expect((await hy.api('GET', `/api/v1/apps/acme/endpoints/${epId}/secret`)).body.key).toBe(second);

    // Send a message from the UI and watch its attempt arrive.
    await page.getByRole('link', { name: 'Acme Corp' }).click();
    await page.getByRole('link', { name: 'Messages' }).click();
    await page.getByRole('link', { name: 'Send message' }).click();
    await page.getByLabel('Event type').fill('invoice.paid');
    await page.getByLabel('Payload (JSON object)').fill('{"invoice": "in_123", "amount": 4200}');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('invoice.paid');
    const attempt = page.locator('.attempt').first();
    await expect.poll(() => attempt.textContent(), { timeout: 15_000 }).toContain('success');
    expect(await attempt.textContent()).toContain('200');
    expect(await page.locator('[data-status="succeeded"]').count()).toBeGreaterThan(0);
    await attempt.getByText(/Response body/).click();
    expect(await attempt.locator('pre').textContent()).toBe('ok');
    const delivered = receiver.at('/acme');
    expect(delivered).toHaveLength(1);
    expect(JSON.parse(delivered[0]!.body)).toEqual({ invoice: 'in_123', amount: 4200 });
    expect(String(delivered[0]!.headers['webhook-signature']).split(' ')).toHaveLength(2);

    // Resend: one more attempt, manual.
    await page.getByRole('button', { name: `Resend to ${receiver.url}/acme` }).click();
    await expect.poll(() => page.locator('.attempt').count(), { timeout: 15_000 }).toBe(2);
    expect(await page.locator('.attempt').first().textContent()).toContain('manual');
    await receiver.waitFor(2, '/acme');

    // The messages list shows the per-endpoint delivery state; the endpoint page lists the attempts.
    await page.getByRole('link', { name: 'Messages' }).click();
    await expect.poll(() => page.locator('.deliveries').first().textContent()).toContain('succeeded');
    await page.goto(`${hy.url}/#/apps/acme/endpoints/${epId}`);
    await expect.poll(() => page.locator('.attempt').count()).toBe(2);

    // Disable and enable again; recover asks the server and reports the count.
    await page.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => page.locator('.kv').first().textContent()).toContain('disabled');
    await page.getByRole('button', { name: 'Enable' }).click();
    await expect.poll(() => page.locator('.kv').first().textContent()).toContain('enabled');
    await page.getByRole('button', { name: 'Recover failed messages' }).click();
    await page.getByText('No failed deliveries in that window.').waitFor();
  }, { timeout: 45_000 });

  browserIt('an app key sees only its app; admin-only pages say so instead of breaking', async (w) => {
    const app = (await hy.api('POST', '/api/v1/apps', { name: 'Tenant Two', uid: 'tenant-two' })).body;
    await hy.api('POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${receiver.url}/two` });
    const key = (await hy.api('POST', `/api/v1/apps/${app.id}/keys`, { name: 'dash' })).body;
    const { page } = w;
    // The 403s this test provokes on purpose show in the console as failed loads.
    w.allow(/status of 403/);

    await page.goto(`${hy.url}/`);
    await page.getByLabel('Token').fill(key.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This is an app key: enter its app (id or uid) as well.').waitFor();

    await signIn(page, key.token, 'tenant-two');
    await expect.poll(() => page.locator('h1').textContent()).toBe('Tenant Two');
    expect(await page.getByRole('link', { name: 'Sources', exact: true }).isVisible()).toBe(false);
    expect(await page.getByRole('link', { name: 'Overview', exact: true }).isVisible()).toBe(false);
    expect(await page.locator('.row-title').textContent()).toBe(`${receiver.url}/two`);

    await page.goto(`${hy.url}/#/sources`);
    await page.getByText('Not available with this token').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('needs the admin token');
  });

  browserIt('works from the keyboard', async ({ page }) => {
    await hy.api('POST', '/api/v1/sources', { name: 'kbd-source' });
    await page.goto(`${hy.url}/`);
    // The token field has the focus: type and press Enter.
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.keyboard.press('g');
    await page.keyboard.press('s');
    await expect.poll(() => page.locator('h1').textContent()).toBe('Sources');
    await page.keyboard.press('j');
    const focused = await page.evaluate<string | undefined>('document.activeElement?.textContent');
    expect(focused).toMatch(/-/);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.url()).toMatch(/#\/sources\/[\w-]+$/);
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').isVisible()).toBe(false);
    // Every control reached by Tab shows a focus ring.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.tagName')).not.toBe('BODY');
    const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).not.toBe('none');
  });

  browserIt('fits a phone (390×844) with no horizontal overflow on the main views', async ({ page }) => {
    const app = (await hy.api('POST', '/api/v1/apps', { name: 'Phone App With A Rather Long Name', uid: 'phone' })).body;
    const ep = (await hy.api('POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${receiver.url}/phone/a/rather/long/path/that/could/overflow`, eventTypes: ['order.created'] })).body;
    const msg = (await hy.api('POST', `/api/v1/apps/${app.id}/messages`, { eventType: 'order.created', payload: { id: 'ord_1', note: 'x'.repeat(300) } })).body;
    await receiver.waitFor(1, '/phone/a/rather/long/path/that/could/overflow');
    await hy.api('POST', '/api/v1/sources', { name: 'phone-src', verification: { type: 'github', secret: SECRET } });
    expect((await sendGithub(`${hy.url}/in/phone-src`, pushExample)).status).toBe(202);
    const req = (await hy.api('GET', '/api/v1/sources/phone-src/requests')).body.data[0];

    await signIn(page);
    const views: Array<[string, string, string]> = [
      ['overview', '#/', '.tiles'],
      ['sources', '#/sources', '.rows'],
      ['source', '#/sources/phone-src', '.req-item'],
      ['request', `#/sources/phone-src/requests/${req.id}`, '.request'],
      ['source form', '#/sources/new', 'form'],
      ['apps', '#/apps', '.rows'],
      ['endpoints', `#/apps/${app.id}`, '.rows'],
      ['messages', `#/apps/${app.id}/messages`, '.deliveries .chip'],
      ['endpoint', `#/apps/${app.id}/endpoints/${ep.id}`, '.attempt'],
      ['message', `#/apps/${app.id}/messages/${msg.id}`, '.attempt'],
      ['endpoint form', `#/apps/${app.id}/endpoints/new`, 'form'],
    ];
    for (const [name, hash, ready] of views) {
      await page.goto(`${hy.url}/${hash}`);
      await page.locator(ready).first().waitFor();
      await expectNoOverflow(page, name);
    }
    // On a phone the request detail replaces the list, with a way back.
    await page.goto(`${hy.url}/#/sources/phone-src/requests/${req.id}`);
    await page.locator('.request').waitFor();
    expect(await page.locator('.list-pane').isVisible()).toBe(false);
    await page.getByRole('link', { name: '← All requests' }).click();
    await page.locator('.req-item').first().waitFor();
    expect(await page.locator('.detail-pane').isVisible()).toBe(false);
  }, { viewport: { width: 390, height: 844 }, isMobile: true, timeout: 45_000 });

  browserIt('writes the README screenshots (HOOKYARD_SCREENSHOTS=1)', async ({ page }) => {
    // A Hookyard of its own, so that the pictures show only what is made here.
    const yard = await startTestHookyard();
    try {
    // Some activity for the overview and the lists.
    const app = (await yard.api('POST', '/api/v1/apps', { name: 'Globex', uid: 'globex' })).body;
    receiver.on('/globex/flaky', (_request, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"maintenance"}'));
    const good = (await yard.api('POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${receiver.url}/globex/orders`, description: 'Order service', eventTypes: ['order.created', 'order.paid'] })).body;
    await yard.api('POST', `/api/v1/apps/${app.id}/endpoints`, { url: `${receiver.url}/globex/flaky`, description: 'Legacy ERP' });
    let last = '';
    for (let i = 0; i < 6; i++) {
      last = (await yard.api('POST', `/api/v1/apps/${app.id}/messages`, { eventType: i % 2 ? 'order.paid' : 'order.created', payload: { id: `ord_${1000 + i}`, total: 1999 + i * 100, currency: 'EUR' } })).body.id;
    }
    await receiver.waitFor(6, '/globex/orders');
    await receiver.waitFor(6, '/globex/flaky');
    await yard.api('POST', '/api/v1/sources', {
      name: 'github', description: 'Pushes and pull requests from the monorepo',
      verification: { type: 'github', secret: SECRET }, forward: [{ url: `${receiver.url}/ci` }],
    });
    await yard.api('POST', '/api/v1/sources', { name: 'stripe', verification: { type: 'stripe', secret: 'whsec_abc' }, response: { mode: 'async', status: 200 } });
    for (let i = 0; i < 3; i++) await sendGithub(`${yard.url}/in/github`, pushExample);
    await sendGithub(`${yard.url}/in/github`, '{"forged":true}', 'nope');

    await page.setViewportSize({ width: 1280, height: 800 });
    await signIn(page, ADMIN_TOKEN, undefined, yard.url);
    await page.locator('.tiles').waitFor();
    await shoot(page, 'overview');
    await page.goto(`${yard.url}/#/sources`);
    await page.locator('.rows').waitFor();
    await shoot(page, 'sources');
    const req = (await yard.api('GET', '/api/v1/sources/github/requests?status=accepted')).body.data[0];
    await page.goto(`${yard.url}/#/sources/github/requests/${req.id}`);
    await page.locator('.request').waitFor();
    await expect.poll(() => page.locator('[data-processing]').textContent(), { timeout: 15_000 }).toContain('succeeded');
    await page.reload();
    await page.locator('.request').waitFor();
    await shoot(page, 'inspector');
    await page.goto(`${yard.url}/#/sources/new`);
    await page.getByLabel('Preset').selectOption('stripe');
    await shoot(page, 'source-form');
    await page.goto(`${yard.url}/#/apps/${app.id}`);
    await page.locator('.rows').waitFor();
    await shoot(page, 'endpoints');
    await page.goto(`${yard.url}/#/apps/${app.id}/messages`);
    await page.locator('.deliveries .chip').first().waitFor();
    await shoot(page, 'messages');
    await page.goto(`${yard.url}/#/apps/${app.id}/messages/${last}`);
    await page.locator('.attempt').first().waitFor();
    await shoot(page, 'message');
    await page.goto(`${yard.url}/#/apps/${app.id}/endpoints/${good.id}`);
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    await page.locator('[data-secret]').waitFor();
    await shoot(page, 'endpoint');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${yard.url}/#/sources/github`);
    await page.locator('.req-item').first().waitFor();
    await shoot(page, 'phone-inspector');
    } catch (err) {
      await saveFailureScreenshot(page, 'writes the README screenshots');
      throw err;
    } finally {
      // Closing the page ends its event stream, which the server would otherwise wait for when it stops.
      await page.close();
      await yard.stop();
    }
  }, { skip: !SCREENSHOTS, timeout: 60_000 });
});
