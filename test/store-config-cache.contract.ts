import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../src/ids.js';
import type { Endpoint, Store } from '../src/store/store.js';

/** Two stores on one database: two processes on one SQLite file, or two nodes on one PostgreSQL schema. */
export interface StorePair {
  a: Store;
  b: Store;
  cleanup(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * The configuration cache (apps, keys, event types, fan-out): a store sees its own changes at once, another
 * process's or node's before it accepts a message on them, and refuses messages whose fan-out was read before a change.
 * On PostgreSQL store b is told it hears notifications (watchConfig) but is never sent one, so only the counter check
 * inside the insert stands between it and a stale fan-out.
 */
export function runConfigCacheContract(name: string, makePair: () => Promise<StorePair>): void {
  describe(`configuration cache: ${name}`, () => {
    let pair: StorePair;
    let a: Store;
    let b: Store;

    beforeEach(async () => {
      pair = await makePair();
      ({ a, b } = pair);
      a.watchConfig(true);
      b.watchConfig(true);
    });
    afterEach(async () => {
      await pair.cleanup();
    });

    const makeApp = (uid: string) => a.createApp({ id: newId('app', T0), uid, name: uid, metadata: {}, portal: null, createdAt: T0, updatedAt: T0 });
    const makeEndpoint = (appId: string, patch: Partial<Endpoint> = {}): Promise<Endpoint> =>
      a.createEndpoint(
        {
          id: newId('ep', T0), appId, url: 'https://example.com/hook', description: '', eventTypes: null, headers: {}, rateLimit: null,
          timeoutMs: null, disabled: false, disabledReason: null, failingSince: null, flavor: 'standard', channels: null, payloadMode: 'full', ordering: 'parallel', metadata: {}, createdAt: T0, updatedAt: T0,
          ...patch,
        },
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      );
    const message = (appId: string) => ({ id: newId('msg', T0), appId, eventType: 'order.paid', eventId: null, payload: '{}', channels: null, resourceUrl: null, createdAt: T0 });

    it('moves the counter with every change that fan-out, keys, apps or event types depend on, and not otherwise', async () => {
      const moves = async (change: () => Promise<unknown>): Promise<boolean> => {
        await nextTurn();
        const before = await a.configVersion();
        await change();
        await nextTurn();
        return (await a.configVersion()) !== before;
      };
      let app = await makeApp('counted');
      let endpoint = await makeEndpoint(app.id);
      expect(await moves(() => makeApp('another'))).toBe(true);
      expect(await moves(async () => (app = (await a.updateApp(app.id, { name: 'renamed' }, T0 + 1))!))).toBe(true);
      expect(await moves(() => a.createApiKey({ id: 'key_counted', appId: app.id, name: null, kind: 'api', expiresAt: null, readOnly: false, createdAt: T0 }, 'hash-counted'))).toBe(true);
      expect(await moves(() => a.deleteApiKey(app.id, 'key_counted'))).toBe(true);
      expect(await moves(() => a.createEventType({ name: 'order.paid', description: '', schema: null, resourceUrlTemplate: null, createdAt: T0, updatedAt: T0 }))).toBe(true);
      expect(await moves(() => a.updateEventType('order.paid', { description: 'paid' }, T0 + 1))).toBe(true);
      expect(await moves(() => a.deleteEventType('order.paid'))).toBe(true);
      expect(await moves(() => makeEndpoint(app.id))).toBe(true);
      expect(await moves(async () => (endpoint = (await a.updateEndpoint(app.id, endpoint.id, { eventTypes: ['order.paid'] }, T0 + 1))!))).toBe(true);
      expect(await moves(() => a.updateEndpoint(app.id, endpoint.id, { channels: ['project_1'] }, T0 + 2))).toBe(true);
      expect(await moves(() => a.updateEndpoint(app.id, endpoint.id, { ordering: 'fifo' }, T0 + 2))).toBe(true);
      expect(await moves(() => a.updateEndpoint(app.id, endpoint.id, { payloadMode: 'thin' }, T0 + 2))).toBe(false);
      expect(await moves(() => a.updateEndpoint(app.id, endpoint.id, { disabled: true }, T0 + 2))).toBe(true);
      // What the worker and the dashboard change all the time leaves the cache alone.
      expect(await moves(() => a.updateEndpoint(app.id, endpoint.id, { description: 'docs', url: 'https://example.com/other' }, T0 + 3))).toBe(false);
      expect(await moves(() => a.rotateSecret(endpoint.id, 'whsec_bmV3LXNlY3JldC1mb3ItdGhlLXRlc3Q=', T0 + 10, T0 + 4))).toBe(false);
      expect(await moves(() => a.insertMessages([{ message: message(app.id), endpointIds: [] }]))).toBe(false);
      expect(await moves(() => a.deleteEndpoint(app.id, endpoint.id))).toBe(true);
      expect(await moves(() => a.deleteApp(app.id))).toBe(true);
    });

    it("sees its own changes at once: apps, keys, event types and fan-out", async () => {
      const app = await makeApp('own');
      const endpoint = await makeEndpoint(app.id);
      await a.createApiKey({ id: 'key_own', appId: app.id, name: null, kind: 'api', expiresAt: null, readOnly: false, createdAt: T0 }, 'hash-own');
      await a.createEventType({ name: 'order.paid', description: '', schema: null, resourceUrlTemplate: null, createdAt: T0, updatedAt: T0 });
      // Warm every entry, then change each and read again in the same turn.
      expect(await a.getApp('own')).toMatchObject({ id: app.id });
      expect(await a.findApiKeyByHash('hash-own')).toMatchObject({ id: 'key_own' });
      expect(await a.getEventType('order.paid')).toMatchObject({ schema: null });
      expect(await a.fanoutEndpoints(app.id)).toEqual([{ id: endpoint.id, eventTypes: null, channels: null, fifo: false }]);

      await a.updateApp(app.id, { uid: 'own-2' }, T0 + 1);
      expect(await a.getApp('own')).toBeNull();
      expect(await a.getApp('own-2')).toMatchObject({ id: app.id });
      await a.deleteApiKey(app.id, 'key_own');
      expect(await a.findApiKeyByHash('hash-own')).toBeNull();
      await a.updateEventType('order.paid', { schema: { type: 'object', required: ['id'] } }, T0 + 1);
      expect(await a.getEventType('order.paid')).toMatchObject({ schema: { required: ['id'] } });
      await a.updateEndpoint(app.id, endpoint.id, { eventTypes: ['order.paid'] }, T0 + 1);
      expect(await a.fanoutEndpoints(app.id)).toEqual([{ id: endpoint.id, eventTypes: ['order.paid'], channels: null, fifo: false }]);
      await a.updateEndpoint(app.id, endpoint.id, { disabled: true }, T0 + 2);
      expect(await a.fanoutEndpoints(app.id)).toEqual([]);
    });

    it('hands out frozen values, so that no caller can change what the next one reads', async () => {
      const app = await makeApp('frozen');
      await makeEndpoint(app.id, { eventTypes: ['order.paid'] });
      const cached = (await a.fanoutEndpoints(app.id))[0]!;
      expect(() => (cached.eventTypes as string[]).push('other')).toThrow(TypeError);
      expect(() => Object.assign(cached, { id: 'x' })).toThrow(TypeError);
      expect((await a.fanoutEndpoints(app.id))[0]!.eventTypes).toEqual(['order.paid']);
    });

    it("refuses a message whose fan-out was read before another node's change, then reads the change", async () => {
      const app = await makeApp('stale');
      const endpoint = await makeEndpoint(app.id);
      await nextTurn();
      // b caches the fan-out (one endpoint) under the counter of this moment.
      const version = await b.configVersion();
      expect(await b.fanoutEndpoints(app.id)).toEqual([{ id: endpoint.id, eventTypes: null, channels: null, fifo: false }]);

      await a.updateEndpoint(app.id, endpoint.id, { disabled: true }, T0 + 1);
      // b's insert of a message fanned out on what it read is refused whole: no message, no delivery.
      const stale = message(app.id);
      const [refused] = await b.insertMessages([{ message: stale, endpointIds: [endpoint.id], configVersion: version }]);
      expect(refused).toEqual({ ok: false, stale: true });
      expect(await b.getMessage(app.id, stale.id)).toBeNull();
      // A message read on the current counter is accepted, in the same batch as a stale one.
      const fresh = message(app.id);
      const current = await b.configVersion();
      expect(current).not.toBe(version);
      expect(await b.fanoutEndpoints(app.id)).toEqual([]);
      const results = await b.insertMessages([
        { message: fresh, endpointIds: [], configVersion: current },
        { message: message(app.id), endpointIds: [endpoint.id], configVersion: version },
      ]);
      expect(results.map((result) => result.ok)).toEqual([true, false]);
      expect(await b.listDeliveries(app.id, fresh.id)).toEqual([]);
      // Without a counter (nothing cached), nothing is checked.
      expect((await b.insertMessages([{ message: message(app.id), endpointIds: [] }]))[0]!.ok).toBe(true);
    });

    it("refuses a revoked key's stale fan-out, and reads the key again after the refusal", async () => {
      const app = await makeApp('revoked');
      await a.createApiKey({ id: 'key_revoked', appId: app.id, name: null, kind: 'api', expiresAt: null, readOnly: false, createdAt: T0 }, 'hash-revoked');
      await nextTurn();
      const version = await b.configVersion();
      expect(await b.findApiKeyByHash('hash-revoked')).toMatchObject({ id: 'key_revoked' });
      await a.deleteApiKey(app.id, 'key_revoked');
      const [result] = await b.insertMessages([{ message: message(app.id), endpointIds: [], configVersion: version }]);
      expect(result).toEqual({ ok: false, stale: true });
      expect(await b.findApiKeyByHash('hash-revoked')).toBeNull();
    });

    it('drops everything when told another node changed something', async () => {
      const app = await makeApp('told');
      await nextTurn();
      expect(await b.getApp('told')).toMatchObject({ name: 'told' });
      await a.updateApp(app.id, { name: 'renamed' }, T0 + 1);
      b.configChanged();
      expect(await b.getApp('told')).toMatchObject({ name: 'renamed' });
    });
  });
}
