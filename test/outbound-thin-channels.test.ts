import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHookyard, type TestHookyard } from './helpers/hookyard.js';
import { Receiver, type Received } from './helpers/receiver.js';

describe('thin payloads and channels', () => {
  let hy: TestHookyard;
  let receiver: Receiver;
  let appId: string;

  beforeAll(async () => {
    receiver = await Receiver.start();
    hy = await startTestHookyard();
    appId = (await hy.api('POST', '/api/v1/apps', { name: 'thin' })).body.id;
  });
  afterAll(async () => {
    await hy.stop();
    await receiver.close();
  });

  const endpoint = async (path: string, extra: Record<string, unknown> = {}) => {
    const res = await hy.api('POST', `/api/v1/apps/${appId}/endpoints`, { url: `${receiver.url}${path}`, ...extra });
    expect(res.status).toBe(201);
    const secret = await hy.api('GET', `/api/v1/apps/${appId}/endpoints/${res.body.id}/secret`);
    return { ...res.body, secret: secret.body.key as string };
  };
  const send = async (body: Record<string, unknown>) => {
    const res = await hy.api('POST', `/api/v1/apps/${appId}/messages`, body);
    expect(res.status).toBe(202);
    return res.body;
  };
  const verify = (secret: string, request: Received) =>
    new Webhook(secret).verify(request.body, {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    });

  it('sends thin deliveries that point at the resource, signed like any delivery', async () => {
    const created = await hy.api('POST', '/api/v1/event-types', {
      name: 'exercise.created',
      resourceUrlTemplate: 'https://api.example.com/v3/exercises/{{entity_id}}',
    });
    expect(created.status).toBe(201);
    expect(created.body.resourceUrlTemplate).toBe('https://api.example.com/v3/exercises/{{entity_id}}');
    const thin = await endpoint('/thin', { payloadMode: 'thin', eventTypes: ['exercise.created'] });
    const full = await endpoint('/full', { eventTypes: ['exercise.created'] });
    expect([thin.payloadMode, full.payloadMode]).toEqual(['thin', 'full']);

    const large = { entity_id: 'aQ lC/83', samples: 'x'.repeat(50_000) };
    const message = await send({ eventType: 'exercise.created', payload: large });
    expect(message.resourceUrl).toBe('https://api.example.com/v3/exercises/aQ%20lC%2F83');
    await receiver.waitFor(1, '/thin');
    await receiver.waitFor(1, '/full');
    const [thinRequest] = receiver.at('/thin');
    expect(verify(thin.secret, thinRequest!)).toEqual({
      type: 'exercise.created',
      id: message.id,
      timestamp: message.timestamp,
      data: { id: 'aQ lC/83', url: 'https://api.example.com/v3/exercises/aQ%20lC%2F83' },
    });
    expect(thinRequest!.headers['webhook-id']).toBe(message.id);
    expect(verify(full.secret, receiver.at('/full')[0]!)).toEqual(large);

    // A URL given on send wins over the template; a Standard Webhooks envelope's data.id is the resource's id.
    const explicit = await send({ eventType: 'exercise.created', payload: { data: { id: 7 } }, resourceUrl: 'https://files.example.com/7' });
    expect(explicit.resourceUrl).toBe('https://files.example.com/7');
    await receiver.waitFor(2, '/thin');
    expect(verify(thin.secret, receiver.at('/thin')[1]!)).toMatchObject({ data: { id: 7, url: 'https://files.example.com/7' } });

    // A placeholder whose field is missing leaves the URL out rather than sending a wrong one.
    const missing = await send({ eventType: 'exercise.created', payload: { other: 1 } });
    expect(missing.resourceUrl).toBeNull();
    await receiver.waitFor(3, '/thin');
    expect(verify(thin.secret, receiver.at('/thin')[2]!)).toMatchObject({ data: { id: null, url: null } });
  });

  it('refuses bad templates, resource URLs and channel names with a 422 naming the field', async () => {
    for (const template of ['not a url', 'ftp://x/{{id}}', 'https://x/{{ bad name }}', 'https://x/{id}']) {
      const res = await hy.api('POST', '/api/v1/event-types', { name: `bad.${Math.random().toString(36).slice(2)}`, resourceUrlTemplate: template });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('validation_error');
      expect(JSON.stringify(res.body)).toContain('resourceUrlTemplate');
    }
    const badUrl = await hy.api('POST', `/api/v1/apps/${appId}/messages`, { eventType: 'x', payload: {}, resourceUrl: 'javascript:alert(1)' });
    expect(badUrl.status).toBe(422);
    const badChannel = await hy.api('POST', `/api/v1/apps/${appId}/endpoints`, { url: `${receiver.url}/c`, channels: ['no spaces'] });
    expect(badChannel.status).toBe(422);
    const tooMany = await hy.api('POST', `/api/v1/apps/${appId}/messages`, { eventType: 'x', payload: {}, channels: Array.from({ length: 11 }, (_, i) => `c${i}`) });
    expect(tooMany.status).toBe(422);
    const badMode = await hy.api('POST', `/api/v1/apps/${appId}/endpoints`, { url: `${receiver.url}/c`, payloadMode: 'tiny', ordering: 'lifo' });
    expect(badMode.status).toBe(422);
  });

  it('filters deliveries by channel beside event types, and lists messages by channel', async () => {
    const project1 = await endpoint('/ch/project1', { channels: ['project_1'], eventTypes: ['ch.test'] });
    await endpoint('/ch/any', { eventTypes: ['ch.test'] });
    await endpoint('/ch/project2', { channels: ['project_2', 'group_9'], eventTypes: ['ch.test'] });
    expect(project1.channels).toEqual(['project_1']);

    const toProject1 = await send({ eventType: 'ch.test', payload: { n: 1 }, channels: ['project_1', 'group_0'] });
    const toNone = await send({ eventType: 'ch.test', payload: { n: 2 } });
    const toGroup9 = await send({ eventType: 'ch.test', payload: { n: 3 }, channels: ['group_9'] });
    expect(toProject1.channels).toEqual(['project_1', 'group_0']);
    await receiver.waitFor(3, '/ch/any');
    await receiver.waitFor(1, '/ch/project1');
    await receiver.waitFor(1, '/ch/project2');
    // Give a wrongly fanned-out delivery time to arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const got = (path: string) => receiver.at(path).map((request) => JSON.parse(request.body).n);
    expect(got('/ch/project1')).toEqual([1]);
    expect(got('/ch/project2')).toEqual([3]);
    expect(got('/ch/any').sort()).toEqual([1, 2, 3]);

    const listed = await hy.api('GET', `/api/v1/apps/${appId}/messages?channel=group_9`);
    expect(listed.body.data.map((m: { id: string }) => m.id)).toEqual([toGroup9.id]);
    expect(toNone.channels).toBeNull();

    // Changing an endpoint's channels changes its fan-out from the next message on.
    await hy.api('PATCH', `/api/v1/apps/${appId}/endpoints/${project1.id}`, { channels: [] });
    await send({ eventType: 'ch.test', payload: { n: 4 } });
    await receiver.waitFor(2, '/ch/project1');
    expect(got('/ch/project1')).toEqual([1, 4]);
  });
});
