import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { browserTest, hasChromium, horizontalOverflow, launchChromium, type BrowserTestOptions, type WatchedPage } from './helpers/browser.js';
import { ADMIN_TOKEN, startTestHookyard, type TestHookyard } from './helpers/hookyard.js';
import { waitFor } from './helpers/wait.js';

let hy: TestHookyard;
let browser: Browser;

async function signIn(page: Page): Promise<void> {
  await page.goto(`${hy.url}/`);
  await page.getByLabel('Token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

const it = (name: string, fn: (w: WatchedPage) => Promise<void>, options: BrowserTestOptions = {}): void =>
  browserTest(() => browser, name, fn, { timeout: 45_000, ...options });

// Without Debian's chromium the browser tests skip locally; under CI they run (and fail loudly if it is missing).
(hasChromium() || process.env.CI ? describe : describe.skip)('workflows in the dashboard (headless Chromium)', () => {
  beforeAll(async () => {
    [hy, browser] = await Promise.all([startTestHookyard(), launchChromium()]);
    expect((await hy.api('POST', '/api/v1/sources', { name: 'shop' })).status).toBe(201);
  });
  afterAll(async () => {
    await browser?.close();
    await hy?.stop();
  });

  it('creates a workflow in the editor, points at the node a save refuses, and shows the execution of a webhook', async ({ page, allow }) => {
    // The refused save answers 422; the page shows it, the browser logs the failed request.
    allow(/422/);
    await signIn(page);
    await page.locator('[data-nav="workflows"]').click();
    await page.getByRole('link', { name: 'New workflow' }).click();
    await page.locator('input[name="key"]').fill('big-orders');
    await page.locator('input[name="name"]').fill('Big orders');

    // The first node is a condition; make it send big orders to a create node.
    await page.getByLabel('expression of check').fill('$context.data.amount > 100');
    await page.getByLabel('Type of the node to add').selectOption('create');
    await page.getByRole('button', { name: 'Add node' }).click();
    const create = page.locator('[data-node="create2"]');
    await create.getByLabel('collection of create2').fill('orders');
    await create.getByLabel('values of create2').fill('{"amount": "{{$context.data.amount}}", "who": "{{$context.data.who}}"}');
    // A dangling key first: the save is refused and the message sits on the node.
    await page.getByLabel('Then → of check').fill('nowhere');
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await page.locator('[data-node-error="check"]').waitFor();
    expect(await page.locator('[data-node-error="check"]').textContent()).toContain('then names "nowhere"');
    expect(await page.locator('[data-node="check"]').getAttribute('class')).toContain('has-error');

    await page.getByLabel('Then → of check').fill('create2');
    // The JSON view shows the same definition.
    await page.getByRole('button', { name: 'JSON' }).click();
    const json = JSON.parse(await page.getByLabel('Workflow as JSON').inputValue()) as { nodes: Array<{ key: string; then?: string }> };
    expect(json.nodes.map((node) => node.key)).toEqual(['check', 'create2']);
    expect(json.nodes[0]!.then).toBe('create2');
    await page.getByRole('button', { name: 'Nodes' }).click();
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await page.getByRole('heading', { name: 'Big orders' }).waitFor();

    const sent = await fetch(`${hy.url}/in/shop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 250, who: 'ann' }) });
    const { id: requestId } = (await sent.json()) as { id: string };
    await waitFor(() => hy.api('GET', `/api/v1/workflows/big-orders/executions?requestId=${requestId}`), (r) => r.body.data[0]?.status === 'succeeded');

    // The execution view: the path through the nodes, each job's input and output.
    await page.reload();
    await page.locator('a.row-title.mono').first().click();
    await page.locator('[data-jobs]').waitFor();
    expect(await page.locator('[data-job]').evaluateAll((items) => items.map((item) => item.getAttribute('data-job')))).toEqual(['check', 'create2']);
    await page.locator('[data-job="create2"] summary').click();
    const output = await page.locator('[data-job="create2"] .job-io').textContent();
    expect(output).toContain('"who": "ann"');
    expect(output).toContain('"amount": 250');

    // The request inspector links to the execution it caused.
    await page.getByRole('link', { name: requestId }).click();
    await page.locator('[data-executions]').waitFor();
    await page.locator('[data-executions] a', { hasText: 'Big orders' }).click();
    await page.locator('[data-jobs]').waitFor();

    // Disable it from the list.
    await page.locator('[data-nav="workflows"]').click();
    await page.locator('[data-toggle="big-orders"]').click();
    await waitFor(() => hy.api('GET', '/api/v1/workflows/big-orders'), (r) => r.body.enabled === false);
  });

  it('fits a phone (390×844): the list, the editor and an execution have no horizontal overflow', async ({ page }) => {
    const wf = await hy.api('POST', '/api/v1/workflows', {
      key: 'phone-flow', trigger: { type: 'webhook', source: 'shop' },
      nodes: [{ key: 'check', type: 'condition', config: { expression: '$context.data.amount > 100' }, then: 'note', else: null },
        { key: 'note', type: 'set', config: { values: { long: '{{$context.data.text}}' } } }],
    });
    expect(wf.status).toBe(201);
    const sent = await fetch(`${hy.url}/in/shop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 500, text: 'x'.repeat(400) }) });
    const { id } = (await sent.json()) as { id: string };
    const done = await waitFor(() => hy.api('GET', `/api/v1/workflows/phone-flow/executions?requestId=${id}`), (r) => r.body.data[0]?.status === 'succeeded');
    await signIn(page);
    for (const path of ['#/workflows', '#/workflows/phone-flow', '#/workflows/phone-flow/edit', `#/workflows/phone-flow/executions/${done.body.data[0].id}`]) {
      await page.goto(`${hy.url}/${path}`);
      await page.locator('h1').first().waitFor();
      // The execution with its long output open.
      if (path.includes('/executions/')) await page.locator('[data-job="note"] summary').click();
      else await page.locator('.row-title, [data-nodes], .node-list').first().waitFor();
      expect({ path, ...(await horizontalOverflow(page)) }).toEqual({ path, overflow: 0, offenders: [] });
    }
  }, { viewport: { width: 390, height: 844 }, isMobile: true });
});
