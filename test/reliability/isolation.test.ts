import { afterAll, beforeAll, expect, it } from 'vitest';
import { SVIX_PREFIXES } from '../../src/api/svix/index.js';
import { ADMIN_TOKEN, startTestHookyard, type TestHookyard } from '../helpers/hookyard.js';
import { Receiver } from '../helpers/receiver.js';
import { call, describeReliability, listAll, report, tally, waitUntil } from './support.js';

/*
 * Every route of the server, read from the server itself (its OpenAPI document, checked against Fastify's route
 * table so that a route left out of the document is noticed), is tried with another app's key: it must answer 403 or
 * 404, change nothing of the other app, and echo none of its identifiers or secrets. Read-only global routes (event
 * types, health, metrics) are the only ones an app key may read, and they hold no tenant's data.
 */

interface Tenant {
  app: string;
  uid: string;
  key: { id: string; token: string };
  endpoint: string;
  endpointUrl: string;
  secret: string;
  polarEndpoint: string;
  message: string;
  /** Its message's first attempt (filled once delivered). */
  attempt: string;
}

interface Operation {
  method: string;
  /** OpenAPI form: /api/v1/apps/{app}. */
  path: string;
}

/** Global routes an app key may use: they carry no tenant's data. */
const OPEN_TO_APP_KEYS: ReadonlyMap<string, number> = new Map([
  ...['GET', 'HEAD'].flatMap((method) => [
    `${method} /api/v1/event-types`, `${method} /api/v1/event-types/{name}`,
    `${method} /api/v1/event-type`, `${method} /api/v1/event-type/{event_type_name}`,
    // The caller's own app and session, whatever app it names elsewhere.
    `${method} /api/v1/portal/session`,
  ].map((route) => [route, 200] as const)),
  // The Svix API's health answers any valid token.
  ['GET /api/v1/health', 204], ['HEAD /api/v1/health', 204],
]);
/** The Svix API's catch-alls (answering not_supported), hidden from the document, as the route table prints them. */
const SVIX_CATCH_ALLS = new Set(SVIX_PREFIXES.map((prefix) => prefix.replace(/\/?\*$/, '*')));
/** An app in the path (Hookyard's `{app}`, Svix's `{app_id}`), and then one of its resources. */
const APP_PARAM = /\{app(_id)?\}/;
const APP_THEN_RESOURCE = /\{app(_id)?\}.*\{(ep|msg|key|endpoint_id|msg_id|attempt_id)\}/;
/** Routes without authentication by design. */
const PUBLIC = new Set(['GET /health', 'HEAD /health', 'GET /metrics', 'HEAD /metrics']);

/** A valid body for each operation that takes one, so that validation (422) cannot answer before authorisation. */
const BODIES: Record<string, unknown> = {
  'POST /api/v1/apps': { name: 'intruder' },
  'PATCH /api/v1/apps/{app}': { name: 'pwned' },
  'POST /api/v1/apps/{app}/keys': { name: 'backdoor' },
  'POST /api/v1/event-types': { name: 'intruder.type' },
  'PATCH /api/v1/event-types/{name}': { description: 'pwned' },
  'POST /api/v1/apps/{app}/endpoints': { url: 'https://example.com/steal' },
  'PATCH /api/v1/apps/{app}/endpoints/{ep}': { url: 'https://example.com/steal', description: 'pwned' },
  'POST /api/v1/apps/{app}/endpoints/{ep}/secret/rotate': { key: `whsec_${Buffer.alloc(32, 1).toString('base64')}` },
  'POST /api/v1/apps/{app}/endpoints/{ep}/recover': { since: '2020-01-01T00:00:00Z' },
  'POST /api/v1/apps/{app}/messages': { eventType: 'iso.test', payload: { injected: true } },
  'POST /api/v1/apps/{app}/endpoints/{ep}/test': { eventType: 'iso.test' },
  'POST /api/v1/apps/{app}/messages/batch': { messages: [{ eventType: 'iso.test', payload: { injected: true } }] },
  'POST /v3/webhooks': { events: ['iso.test'], url: 'https://example.com/polar' },
  'POST /api/v1/sources': { name: 'intruder' },
  'PATCH /api/v1/sources/{src}': { description: 'pwned' },
  'POST /api/v1/workflows': { key: 'intruder', trigger: { type: 'webhook', source: 'iso-source' }, nodes: [{ key: 'a', type: 'end' }] },
  'PATCH /api/v1/workflows/{wf}': { name: 'pwned', enabled: false },
  // The Svix API's.
  'POST /api/v1/app': { name: 'intruder' },
  'PUT /api/v1/app/{app_id}': { name: 'pwned' },
  'POST /api/v1/event-type': { name: 'intruder.type', description: 'intruder' },
  'PUT /api/v1/event-type/{event_type_name}': { description: 'pwned' },
  'POST /api/v1/app/{app_id}/endpoint': { url: 'https://example.com/steal' },
  'PUT /api/v1/app/{app_id}/endpoint/{endpoint_id}': { url: 'https://example.com/steal' },
  'PUT /api/v1/app/{app_id}/endpoint/{endpoint_id}/headers': { headers: { 'x-pwned': '1' } },
  'PATCH /api/v1/app/{app_id}/endpoint/{endpoint_id}/headers': { headers: { 'x-pwned': '1' } },
  'POST /api/v1/app/{app_id}/endpoint/{endpoint_id}/recover': { since: '2020-01-01T00:00:00Z' },
  'POST /api/v1/app/{app_id}/msg': { eventType: 'iso.test', payload: { injected: true } },
};

/** The routes in Fastify's own table (`printRoutes`), as "METHOD /path/{param}". */
function routeTable(tree: string): Set<string> {
  const routes = new Set<string>();
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const at = line.search(/[├└]── /);
    if (at === -1) continue;
    const depth = at / 4;
    const match = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(at + 4))!;
    stack.length = depth;
    stack.push(match[1]!);
    const path = stack.join('').replace(/^\/\//, '/').replace(/:(\w+)/g, '{$1}');
    for (const method of (match[2] ?? '').split(', ').filter(Boolean)) routes.add(`${method} ${path}`);
  }
  return routes;
}

describeReliability('isolation: every route with another app\'s key', () => {
  let hy: TestHookyard;
  let receiver: Receiver;
  let mine: Tenant;
  let theirs: Tenant;
  let operations: Operation[];
  let source: { id: string; name: string; request: string };
  let workflow: { key: string; execution: string };

  const basic = (t: Tenant) => ({ authorization: `Basic ${Buffer.from(`${t.key.id}:${t.key.token}`).toString('base64')}` });

  async function tenant(uid: string): Promise<Tenant> {
    const app = (await hy.api('POST', '/api/v1/apps', { name: uid, uid })).body.id as string;
    const key = (await hy.api('POST', `/api/v1/apps/${app}/keys`, { name: 'k' })).body;
    const endpointUrl = `${receiver.url}/${uid}/hook?token=${uid}-url-token`;
    const endpoint = (await hy.api('POST', `/api/v1/apps/${app}/endpoints`, { url: endpointUrl })).body.id as string;
    const secret = (await hy.api('GET', `/api/v1/apps/${app}/endpoints/${endpoint}/secret`)).body.key as string;
    const polar = await hy.api('POST', '/v3/webhooks', { events: ['iso.test'], url: `${receiver.url}/${uid}/polar` }, { token: null, headers: basic({ key } as Tenant) });
    const message = (await hy.api('POST', `/api/v1/apps/${app}/messages`, { eventType: 'iso.test', payload: { owner: uid } })).body.id as string;
    return { app, uid, key, endpoint, endpointUrl, secret, polarEndpoint: polar.body.data.id, message, attempt: '' };
  }

  /** Everything of a tenant, as the admin sees it. */
  async function snapshot(t: Tenant): Promise<unknown> {
    const endpoints = await listAll(hy.url, ADMIN_TOKEN, `/api/v1/apps/${t.app}/endpoints`);
    return {
      app: (await hy.api('GET', `/api/v1/apps/${t.app}`)).body,
      keys: (await hy.api('GET', `/api/v1/apps/${t.app}/keys`)).body,
      endpoints,
      secrets: await Promise.all(endpoints.map(async (e) => (await hy.api('GET', `/api/v1/apps/${t.app}/endpoints/${e.id}/secret`)).body)),
      messages: await listAll(hy.url, ADMIN_TOKEN, `/api/v1/apps/${t.app}/messages`),
      deliveries: (await hy.api('GET', `/api/v1/apps/${t.app}/messages/${t.message}/deliveries`)).body,
      eventTypes: await listAll(hy.url, ADMIN_TOKEN, '/api/v1/event-types'),
      sources: await listAll(hy.url, ADMIN_TOKEN, '/api/v1/sources'),
      requests: await listAll(hy.url, ADMIN_TOKEN, `/api/v1/sources/${source.name}/requests`),
      workflows: await listAll(hy.url, ADMIN_TOKEN, '/api/v1/workflows'),
      executions: await listAll(hy.url, ADMIN_TOKEN, `/api/v1/workflows/${workflow.key}/executions`),
    };
  }

  /** The path with its parameters filled from these tenants' resources. */
  function fill(op: Operation, app: Tenant, sub: Tenant, useUid = false): string {
    const values: Record<string, string> = {
      app: useUid ? app.uid : app.app,
      ep: sub.endpoint,
      msg: sub.message,
      key: sub.key.id,
      id: sub.polarEndpoint,
      src: source.name,
      req: source.request,
      name: 'iso.test',
      app_id: useUid ? app.uid : app.app,
      endpoint_id: sub.endpoint,
      msg_id: sub.message,
      attempt_id: sub.attempt,
      event_type_name: 'iso.test',
      wf: workflow.key,
      ex: workflow.execution,
      version: '1',
    };
    return op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
      if (values[name] === undefined) throw new Error(`no value for path parameter {${name}} of ${op.method} ${op.path}: add one to fill()`);
      return encodeURIComponent(values[name]!);
    });
  }

  beforeAll(async () => {
    receiver = await Receiver.start();
    hy = await startTestHookyard({ HOOKYARD_RETRY_SCHEDULE: '100ms' });
    expect((await hy.api('POST', '/api/v1/event-types', { name: 'iso.test' })).status).toBe(201);
    const created = await hy.api('POST', '/api/v1/sources', { name: 'iso-source', verification: { type: 'github', secret: 'iso-source-secret-value' } });
    source = { id: created.body.id, name: created.body.name, request: '' };
    // Unsigned, so refused (401) and stored as rejected: a request record all the same.
    expect((await fetch(`${hy.url}/in/iso-source`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(401);
    source.request = (await listAll(hy.url, ADMIN_TOKEN, '/api/v1/sources/iso-source/requests'))[0].id;
    // A workflow with a finished execution, on a source that accepts unsigned requests.
    expect((await hy.api('POST', '/api/v1/sources', { name: 'iso-flow' })).status).toBe(201);
    const flow = await hy.api('POST', '/api/v1/workflows', { key: 'iso-wf', trigger: { type: 'webhook', source: 'iso-flow' }, nodes: [{ key: 'a', type: 'set', config: { values: { a: 1 } } }] });
    expect(flow.status).toBe(201);
    expect((await fetch(`${hy.url}/in/iso-flow`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(202);
    await waitUntil('execution finished', async () => (await hy.api('GET', '/api/v1/workflows/iso-wf/executions')).body.data[0]?.status === 'succeeded', 10_000);
    workflow = { key: 'iso-wf', execution: (await hy.api('GET', '/api/v1/workflows/iso-wf/executions')).body.data[0].id };
    mine = await tenant('attacker-tenant');
    theirs = await tenant('victim-tenant');
    await receiver.waitFor(4);
    await waitUntil('deliveries recorded', async () => (await hy.api('GET', `/api/v1/apps/${theirs.app}/messages/${theirs.message}/attempts`)).body.data.length === 2, 10_000);
    for (const t of [mine, theirs]) t.attempt = (await hy.api('GET', `/api/v1/apps/${t.app}/messages/${t.message}/attempts`)).body.data[0].id;

    const doc = (await hy.api('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).flatMap((method) => {
      const upper = method.toUpperCase();
      return upper === 'GET' ? [{ method: 'GET', path }, { method: 'HEAD', path }] : [{ method: upper, path }];
    }));
  });
  afterAll(async () => {
    await hy?.stop();
    await receiver?.close();
  });

  it('knows every route: the OpenAPI document lists every API route of the server', () => {
    const table = [...routeTable(hy.hookyard.server.printRoutes({ commonPrefix: false }))]
      .filter((r) => / \/(api|v3)\//.test(r) && !SVIX_CATCH_ALLS.has(r.slice(r.indexOf(' ') + 1).replace(/\/?\*$/, '*')));
    expect(new Set(table)).toEqual(new Set(operations.filter((op) => /^\/(api|v3)\//.test(op.path)).map((op) => `${op.method} ${op.path}`)));
    expect(operations.length).toBeGreaterThan(40);
  });

  it('the fixtures are real: the owner reaches every readable route of its own app', async () => {
    for (const op of operations.filter((o) => (o.method === 'GET' || o.method === 'HEAD') && o.path.includes('{app}'))) {
      const res = await call(hy.url, theirs.key.token, op.method, fill(op, theirs, theirs));
      expect({ op, status: res.status }).toEqual({ op, status: op.path.endsWith('/keys') ? 403 : 200 });
    }
    for (const op of operations.filter((o) => o.method === 'GET' && /^\/api\/v1\/(sources|stats|workflows)/.test(o.path))) {
      expect({ op, status: (await call(hy.url, ADMIN_TOKEN, op.method, fill(op, theirs, theirs))).status }).toEqual({ op, status: 200 });
    }
  });

  it('answers 403 or 404 on every route to another app\'s key, leaks nothing and changes nothing', async () => {
    const before = await snapshot(theirs);
    const victimMarks = [theirs.app, theirs.uid, theirs.endpoint, theirs.message, theirs.key.id, theirs.key.token, theirs.secret, theirs.polarEndpoint, 'victim-tenant-url-token'];
    const failures: string[] = [];
    const outcomes: string[] = [];
    const attempt = async (label: string, op: Operation, path: string, auth: { token: string | null; headers?: Record<string, string> }, allowed: number[]) => {
      const key = `${op.method} ${op.path}`;
      const res = await call(hy.url, auth.token, op.method, path, BODIES[key] ?? (op.method === 'POST' || op.method === 'PATCH' ? {} : undefined), auth.headers);
      outcomes.push(String(res.status));
      const text = JSON.stringify(res.body ?? '');
      const leaked = victimMarks.filter((mark) => text.includes(mark));
      if (!allowed.includes(res.status)) failures.push(`${label}: ${op.method} ${path} → ${res.status} ${text.slice(0, 200)}`);
      if (leaked.length > 0) failures.push(`${label}: ${op.method} ${path} leaked ${leaked.join(', ')}`);
      // A HEAD answer has no body to carry the code.
      const code = { 403: 'forbidden', 404: 'not_found' }[res.status];
      if (code !== undefined && op.method !== 'HEAD' && res.body?.code !== code) failures.push(`${label}: ${op.method} ${path} ${res.status} without code ${code}`);
    };

    for (const op of operations) {
      const key = `${op.method} ${op.path}`;
      if (PUBLIC.has(key)) {
        await attempt('public', op, op.path, { token: mine.key.token }, [200]);
        continue;
      }
      if (op.path.startsWith('/v3/')) {
        // Polar-style routes take Basic auth with an app key: they reach only the key's own app.
        const expected = op.path.includes('{id}') ? [404] : op.method === 'POST' ? [201] : [200];
        await attempt('polar', op, fill(op, theirs, theirs), { token: null, headers: basic(mine) }, expected);
        await attempt('polar with a bearer', op, fill(op, theirs, theirs), { token: mine.key.token }, [401]);
        continue;
      }
      const open = OPEN_TO_APP_KEYS.get(key);
      const expected = open === undefined ? [403, 404] : [open];
      // Their app (by id and by uid) with their resources.
      await attempt('their app', op, fill(op, theirs, theirs), { token: mine.key.token }, expected);
      if (APP_PARAM.test(op.path)) await attempt('their app by uid', op, fill(op, theirs, theirs, true), { token: mine.key.token }, expected);
      // My own app, with their resources' ids.
      if (APP_THEN_RESOURCE.test(op.path)) await attempt('their ids under my app', op, fill(op, mine, theirs), { token: mine.key.token }, [403, 404]);
      // No token, and a token that is not one.
      await attempt('no token', op, fill(op, theirs, theirs), { token: null }, [401]);
      await attempt('forged token', op, fill(op, theirs, theirs), { token: `${theirs.key.token.slice(0, -4)}AAAA` }, [401]);
    }
    expect(failures).toEqual([]);
    expect(await snapshot(theirs)).toEqual(before);
    report('isolation', { operations: operations.length, requests: outcomes.length, statuses: tally(outcomes), failures: failures.length });
  });
});
