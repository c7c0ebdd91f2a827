import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { Svix } from 'svix';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { browserTest, hasChromium, horizontalOverflow, launchChromium, type BrowserTestOptions, type WatchedPage } from './helpers/browser.js';
import { ADMIN_TOKEN, startTestHookyard, type TestHookyard } from './helpers/hookyard.js';
import { Receiver } from './helpers/receiver.js';

// The consumer portal page in real headless Chromium against a real Hookyard: a customer opens the URL an operator
// minted, adds an endpoint from the event catalog, sends a test event and sees the attempt; the token reaches its own
// app only; an expired one is told so; the page can be framed by the configured origin only.

// Acme's logo is a remote https image: on this closed network its load fails, which the page must survive.
const REMOTE_LOGO = /cdn\.example\.com|ERR_NAME_NOT_RESOLVED|Failed to load resource/;

const describeBrowser = hasChromium() || process.env.CI ? describe : describe.skip;

/** A page on another origin that frames `src`: the operator's product embedding the portal. */
async function framingHost(): Promise<{ server: Server; url: string; frame(src: string): string }> {
  let src = '';
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>host</title><iframe src="${src}" width="900" height="700"></iframe>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, frame: (to) => { src = to; return `${url}/`; } };
}

describeBrowser('consumer portal page (headless Chromium)', () => {
  let hy: TestHookyard;
  let receiver: Receiver;
  let browser: Browser;
  let allowedHost: Awaited<ReturnType<typeof framingHost>>;
  let otherHost: Awaited<ReturnType<typeof framingHost>>;
  let acme: { id: string };
  let globex: { id: string };
  let globexEndpoint: { id: string };

  const browserIt = (name: string, fn: (w: WatchedPage) => Promise<void>, options?: BrowserTestOptions): void => browserTest(() => browser, name, fn, options);

  const portalUrl = async (appId: string, body?: unknown): Promise<string> => {
    const res = await hy.api('POST', `/api/v1/apps/${appId}/portal-access`, body);
    expect(res.status).toBe(201);
    return res.body.url as string;
  };

  beforeAll(async () => {
    [allowedHost, otherHost, receiver, browser] = await Promise.all([framingHost(), framingHost(), Receiver.start(), launchChromium()]);
    hy = await startTestHookyard({ HOOKYARD_PORTAL_FRAME_ANCESTORS: `'self' ${allowedHost.url}` });
    acme = (await hy.api('POST', '/api/v1/apps', { name: 'Acme Billing', uid: 'acme', portal: { color: '#0a7c4a', logoUrl: 'https://cdn.example.com/acme.png' } })).body;
    globex = (await hy.api('POST', '/api/v1/apps', { name: 'Globex' })).body;
    globexEndpoint = (await hy.api('POST', `/api/v1/apps/${globex.id}/endpoints`, { url: `${receiver.url}/globex` })).body;
    await hy.api('POST', '/api/v1/event-types', {
      name: 'invoice.paid',
      description: 'An invoice was paid in full',
      schema: { type: 'object', required: ['amount'], properties: { amount: { type: 'integer', minimum: 100 }, currency: { enum: ['EUR', 'USD'] } } },
    });
    await hy.api('POST', '/api/v1/event-types', { name: 'invoice.voided', description: 'An invoice was voided' });
  });

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await hy?.stop();
    allowedHost?.server.close();
    otherHost?.server.close();
  });

  browserIt('adds an endpoint from the catalog, sends a test event, sees the attempt and resends it', async ({ page, allow }) => {
    // The logo is a remote image on a closed network: its failed load is expected.
    allow(REMOTE_LOGO);
    // Opened as a Svix user would: the URL from the official SDK's appPortalAccess.
    const { url } = await new Svix(ADMIN_TOKEN, { serverUrl: hy.url }).authentication.appPortalAccess('acme', {});
    await page.goto(url);
    await expect.poll(() => page.locator('#app-name').textContent()).toBe('Acme Billing');
    // The token left the address bar; the theme is the app's.
    expect(new URL(page.url()).hash).toBe('#/');
    expect(await page.evaluate('getComputedStyle(document.documentElement).getPropertyValue("--accent").trim()')).toBe('#0a7c4a');
    expect(await page.locator('#logo').getAttribute('src')).toBe('https://cdn.example.com/acme.png');

    await page.getByRole('link', { name: 'Add endpoint' }).click();
    await page.getByLabel('Endpoint URL').fill(`${receiver.url}/acme`);
    await expect.poll(() => page.getByText('An invoice was paid in full').count()).toBe(1);
    await page.getByLabel('invoice.paid').check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe(`${receiver.url}/acme`);
    const endpoints = (await hy.api('GET', `/api/v1/apps/${acme.id}/endpoints`)).body.data;
    expect(endpoints).toEqual([expect.objectContaining({ url: `${receiver.url}/acme`, eventTypes: ['invoice.paid'] })]);

    await page.getByRole('button', { name: 'Reveal secret' }).click();
    const secret = await page.getByLabel('Signing secret').inputValue();
    expect(secret).toMatch(/^whsec_/);

    // The test event carries the event type's example payload, and lands signed with the endpoint's secret.
    expect(JSON.parse(await page.getByLabel('Payload').inputValue())).toEqual({ amount: 100, currency: 'EUR' });
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.locator('.timeline li[data-status="success"]').first().waitFor();
    await receiver.waitFor(1, '/acme');
    const [got] = receiver.at('/acme');
    expect(new Webhook(secret).verify(got!.body, got!.headers as Record<string, string>)).toEqual({ amount: 100, currency: 'EUR' });
    // The attempt shows the receiver's response body.
    await page.locator('.timeline details summary').first().click();
    await expect.poll(() => page.locator('.timeline pre').first().textContent()).toBe('ok');

    await page.getByRole('button', { name: `Resend to ${receiver.url}/acme` }).click();
    await expect.poll(() => page.locator('.timeline li[data-status="success"]').count(), { timeout: 10_000 }).toBe(2);
    expect(receiver.at('/acme')).toHaveLength(2);

    await page.locator('#nav a[data-nav="messages"]').click();
    await expect.poll(() => page.locator('[data-message]').count()).toBe(1);
    await page.locator('#nav a[data-nav="event-types"]').click();
    await expect.poll(() => page.locator('[data-type]').count()).toBe(2);
  });

  browserIt('rotates the secret and recovers failed messages; keyboard only', async ({ page, allow }) => {
    allow(REMOTE_LOGO);
    const endpoint = (await hy.api('POST', `/api/v1/apps/${acme.id}/endpoints`, { url: `${receiver.url}/kbd`, eventTypes: ['invoice.voided'] })).body;
    const before = (await hy.api('GET', `/api/v1/apps/${acme.id}/endpoints/${endpoint.id}/secret`)).body.key;
    await page.goto(await portalUrl(acme.id));
    await page.locator('#app-name').getByText('Acme Billing').waitFor();
    // To the endpoint's page by keyboard: Tab to its link, Enter.
    await page.getByRole('link', { name: `${receiver.url}/kbd` }).waitFor();
    const focused = () => page.evaluate<string | undefined>('document.activeElement?.textContent');
    for (let i = 0; i < 20 && (await focused()) !== `${receiver.url}/kbd`; i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('h1').textContent()).toBe(`${receiver.url}/kbd`);

    await page.getByRole('button', { name: 'Rotate secret' }).focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter'); // "Rotate now" has the focus
    await page.getByLabel('Signing secret').waitFor();
    const after = await page.getByLabel('Signing secret').inputValue();
    expect(after).not.toBe(before);
    expect((await hy.api('GET', `/api/v1/apps/${acme.id}/endpoints/${endpoint.id}/secret`)).body.key).toBe(after);

    // A delivery that failed (its endpoint was disabled during a retry), recovered from the page.
    receiver.on('/kbd', (_req, res) => res.writeHead(500).end('down'));
    expect((await hy.api('POST', `/api/v1/apps/${acme.id}/messages`, { eventType: 'invoice.voided', payload: { id: 'inv_1' } })).status).toBe(202);
    await receiver.waitFor(1, '/kbd');
    await hy.api('PATCH', `/api/v1/apps/${acme.id}/endpoints/${endpoint.id}`, { disabled: true });
    await hy.api('PATCH', `/api/v1/apps/${acme.id}/endpoints/${endpoint.id}`, { disabled: false });
    receiver.on('/kbd', (_req, res) => res.writeHead(200).end('back'));
    await page.reload();
    await page.getByRole('button', { name: 'Recover failed messages' }).click();
    await receiver.waitFor(2, '/kbd');
    expect(JSON.parse(receiver.at('/kbd')[1]!.body)).toEqual({ id: 'inv_1' });
    await expect.poll(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return page.locator('.timeline li[data-status="success"]').count();
    }).toBe(1);
  });

  browserIt("cannot reach another app's data with the same token", async ({ page, allow }) => {
    allow(REMOTE_LOGO);
    await page.goto(await portalUrl(acme.id));
    await page.locator('#app-name').getByText('Acme Billing').waitFor();
    await page.evaluate(`location.hash = '#/endpoints/${globexEndpoint.id}'`);
    await page.getByText('endpoint not found').waitFor();
    const statuses = await page.evaluate(`(async () => {
      const token = sessionStorage.getItem('hookyard.portal.token');
      const call = (method, path) => fetch(path, { method, headers: { authorization: 'Bearer ' + token } }).then((r) => r.status);
      return [
        await call('GET', '/api/v1/apps/${globex.id}/endpoints'),
        await call('GET', '/api/v1/apps/${globex.id}/endpoints/${globexEndpoint.id}/secret'),
        await call('DELETE', '/api/v1/apps/${globex.id}/endpoints/${globexEndpoint.id}'),
        await call('GET', '/api/v1/apps'),
      ];
    })()`);
    expect(statuses).toEqual([404, 404, 404, 403]);
    expect((await hy.api('GET', `/api/v1/apps/${globex.id}/endpoints/${globexEndpoint.id}`)).status).toBe(200);
  });

  browserIt('refuses an expired or revoked session with a clear message', async ({ page, allow }) => {
    allow(/401|Failed to load resource/);
    const { services } = hy.hookyard;
    const app = (await services.store.getApp(acme.id))!;
    const expired = await services.portal.createAccess(app, { expirySeconds: 60 }, hy.url, Date.now() - 61_000);
    await page.goto(expired.url);
    await page.getByRole('heading', { name: 'Session ended' }).waitFor();
    expect(await page.locator('#nav').isHidden()).toBe(true);

    const live = (await hy.api('POST', `/api/v1/apps/${acme.id}/portal-access`)).body;
    await page.goto('about:blank');
    await page.goto(live.url);
    await page.locator('#app-name').getByText('Acme Billing').waitFor();
    expect((await hy.api('DELETE', `/api/v1/apps/${acme.id}/keys/${live.keyId}`)).status).toBe(204);
    await page.locator('#nav a[data-nav="messages"]').click();
    await page.getByRole('heading', { name: 'Session ended' }).waitFor();
  });

  browserIt('shows a read-only session everything but the buttons that change things', async ({ page, allow }) => {
    allow(REMOTE_LOGO);
    await page.goto(await portalUrl(acme.id, { readOnly: true }));
    await page.locator('#app-name').getByText('Acme Billing').waitFor();
    await expect.poll(() => page.locator('[data-endpoint]').count()).toBeGreaterThan(0);
    expect(await page.getByRole('link', { name: 'Add endpoint' }).count()).toBe(0);
    expect(await page.locator('#who').textContent()).toContain('Read-only');
    await page.locator('[data-endpoint] a').first().click();
    await page.getByRole('button', { name: 'Reveal secret' }).waitFor();
    for (const name of ['Rotate secret', 'Send test event', 'Recover failed messages', 'Delete', 'Disable']) {
      expect(await page.getByRole('button', { name }).count(), name).toBe(0);
    }
  });

  browserIt('fits a phone screen', async ({ page, allow }) => {
    allow(REMOTE_LOGO);
    await page.goto(await portalUrl(acme.id));
    await expect.poll(() => page.locator('[data-endpoint]').count()).toBeGreaterThan(0);
    for (const view of ['#/', '#/messages', '#/event-types']) {
      await page.evaluate(`location.hash = '${view}'`);
      await page.locator('main h1').waitFor();
      const { overflow, offenders } = await horizontalOverflow(page);
      expect(overflow, `${view}: ${offenders.join(', ')}`).toBe(0);
    }
    await page.locator('#nav a[data-nav="endpoints"]').click();
    await page.locator('[data-endpoint] a').first().click();
    await page.getByRole('button', { name: 'Send test event' }).waitFor();
    expect((await horizontalOverflow(page)).overflow).toBe(0);
  }, { viewport: { width: 375, height: 740 }, isMobile: true });

  browserIt('can be framed by the configured origin only', async ({ page, allow }) => {
    allow(/frame-ancestors|Refused to frame|cdn\.example\.com|Failed to load resource/);
    await page.goto(allowedHost.frame(await portalUrl(acme.id)));
    await page.frameLocator('iframe').locator('#app-name').getByText('Acme Billing').waitFor();

    await page.goto(otherHost.frame(await portalUrl(acme.id)));
    // Chromium replaces a refused frame with its error page.
    const frame = () => page.frames().find((f) => f !== page.mainFrame());
    await expect.poll(() => frame()?.url()).toMatch(/^chrome-error:/);
    expect(await frame()!.locator('#app-name').count()).toBe(0);
  });
});
