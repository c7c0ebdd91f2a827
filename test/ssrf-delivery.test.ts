import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isForbiddenAddress } from '../src/delivery/ssrf.js';
import { startTestHookyard, type TestHookyard } from './helpers/hookyard.js';
import { Receiver } from './helpers/receiver.js';

/** With private destinations not allowed (the default), nothing reaches loopback or private addresses. */
describe('SSRF guard end to end', () => {
  let hy: TestHookyard;
  let receiver: Receiver;
  let appId: string;

  beforeAll(async () => {
    receiver = await Receiver.start();
    hy = await startTestHookyard({ HOOKYARD_ALLOW_PRIVATE_DESTINATIONS: 'false', HOOKYARD_RETRY_SCHEDULE: '1h' });
    appId = (await hy.api('POST', '/api/v1/apps', { name: 'ssrf' })).body.id;
  });
  afterAll(async () => {
    await hy.stop();
    await receiver.close();
  });

  it('refuses literal private, loopback, link-local and ULA addresses when the endpoint is created', async () => {
    const port = new URL(receiver.url).port;
    for (const url of [
      `http://127.0.0.1:${port}/`,
      'http://10.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      `http://[::1]:${port}/`,
      'http://[::ffff:127.0.0.1]/',
      'http://[fd12:3456::1]/',
      'http://2130706433/',
      'http://0177.0.0.1/',
      'http://0x7f.0.0.1/',
      'http://192.168.1.10/',
      `http://localhost:${port}/`,
    ]) {
      const res = await hy.api('POST', `/api/v1/apps/${appId}/endpoints`, { url });
      expect({ url, status: res.status, code: res.body.code }).toEqual({ url, status: 422, code: 'unsafe_destination' });
      const patched = await hy.api('POST', `/api/v1/apps/${appId}/endpoints`, { url: 'https://example.com/' });
      expect((await hy.api('PATCH', `/api/v1/apps/${appId}/endpoints/${patched.body.id}`, { url })).status).toBe(422);
      await hy.api('DELETE', `/api/v1/apps/${appId}/endpoints/${patched.body.id}`);
    }
  });

  it('refuses at connect time a host name that resolves to a private address', async () => {
    const name = hostname();
    const resolved = await lookup(name);
    // This machine's own name resolves to a loopback or private address (as on any host with /etc/hosts).
    expect(isForbiddenAddress(resolved.address)).toBe(true);
    const url = `http://${name}:${new URL(receiver.url).port}/rebind`;
    const ep = await hy.api('POST', `/api/v1/apps/${appId}/endpoints`, { url });
    expect(ep.status).toBe(201);
    const msg = await hy.api('POST', `/api/v1/apps/${appId}/messages`, { eventType: 'x', payload: { secret: 'metadata' } });
    let attempts: any[] = [];
    for (let i = 0; i < 200 && attempts.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      attempts = (await hy.api('GET', `/api/v1/apps/${appId}/messages/${msg.body.id}/attempts`)).body.data;
    }
    expect(attempts[0]).toMatchObject({ status: 'failed', responseStatusCode: null });
    expect(attempts[0].error).toMatch(/destination_refused/);
    expect(receiver.received).toHaveLength(0);
  });
});
