import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestHookyard, type TestHookyard } from '../helpers/hookyard.js';
import { Receiver } from '../helpers/receiver.js';
import { describeReliability, report, sleep, waitUntil } from './support.js';

/*
 * Regression (found by the fuzz test: "could not record attempt: FOREIGN KEY constraint failed"). The attempt rows of a
 * batch of outcomes are written by one INSERT; when the endpoint of one delivery was deleted while its attempt was in
 * flight, its attempt row broke the foreign key and the whole batch rolled back, other tenants' outcomes with it (they
 * were sent again after their lease ran out). src/store/outcomes.ts now inserts only attempts whose delivery still
 * exists, and the worker records a refused batch one outcome at a time.
 */

describeReliability('deleting an endpoint while its delivery is in flight', () => {
  let hy: TestHookyard;
  let receiver: Receiver;
  const held: Array<{ path: string; res: ServerResponse }> = [];

  beforeAll(async () => {
    receiver = await Receiver.start();
    for (const path of ['/tenant-1', '/tenant-2']) receiver.on(path, (request, res) => void held.push({ path: request.path, res }));
    hy = await startTestHookyard({ HOOKYARD_RETRY_SCHEDULE: '100ms', HOOKYARD_DELIVERY_TIMEOUT_MS: '1000' });
  });
  afterAll(async () => {
    await hy?.stop();
    await receiver?.close();
  });

  /** Two tenants' deliveries in flight at once; tenant 1's endpoint is deleted; both are answered 200 together. */
  async function race(): Promise<{ app2: string; message2: string } | null> {
    held.length = 0;
    const setup = async (name: string, path: string) => {
      const app = (await hy.api('POST', '/api/v1/apps', { name })).body.id as string;
      const endpoint = (await hy.api('POST', `/api/v1/apps/${app}/endpoints`, { url: `${receiver.url}${path}` })).body.id as string;
      const message = (await hy.api('POST', `/api/v1/apps/${app}/messages`, { eventType: 'race', payload: {} })).body.id as string;
      return { app, endpoint, message };
    };
    const one = await setup('tenant-1', '/tenant-1');
    const two = await setup('tenant-2', '/tenant-2');
    await waitUntil('both deliveries in flight', () => held.length === 2, 10_000);
    if ((await hy.api('DELETE', `/api/v1/apps/${one.app}/endpoints/${one.endpoint}`)).status !== 204) return null;
    for (const { res } of held.splice(0)) res.writeHead(200).end();
    return { app2: two.app, message2: two.message };
  }

  it('records the other tenant\'s outcome when one delivery of the batch lost its endpoint', async () => {
    const raced = await race();
    expect(raced).not.toBeNull();
    await sleep(1_000);
    const [delivery] = (await hy.api('GET', `/api/v1/apps/${raced!.app2}/messages/${raced!.message2}/deliveries`)).body.data;
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  // Before the fix nothing was lost (at least once held) but the other tenant got its message twice.
  it('delivers the other tenant\'s message once, with one attempt in its log', async () => {
    const raced = await race();
    expect(raced).not.toBeNull();
    const { app2, message2 } = raced!;
    receiver.on('/tenant-2', (_request, res) => res.writeHead(200).end());
    await waitUntil('the other tenant\'s delivery recorded', async () => (await hy.api('GET', `/api/v1/apps/${app2}/messages/${message2}/deliveries`)).body.data[0]?.status === 'succeeded', 30_000, () => '', 250);
    // A lost outcome would have left the delivery `sending` until its lease ran out and then sent it again.
    const received = receiver.received.filter((r) => r.path === '/tenant-2' && r.headers['webhook-id'] === message2).length;
    const attempts = (await hy.api('GET', `/api/v1/apps/${app2}/messages/${message2}/attempts`)).body.data.length;
    report('delete-in-flight', { otherTenantDeliveries: received, otherTenantAttemptsRecorded: attempts });
    expect(received).toBe(1);
    expect(attempts).toBe(1);
  }, 60_000);
});
