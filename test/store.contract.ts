import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../src/ids.js';
import type { App, ClaimedDelivery, Endpoint, Store } from '../src/store/store.js';
import { decideOutcome } from '../src/delivery/outcome.js';

export interface StoreFixture {
  store: Store;
  cleanup(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);

/** The one behavioural suite every Store implementation must pass (run by store.sqlite.test.ts and, later, PostgreSQL). */
export function runStoreContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    const makeApp = async (uid: string | null = null, now = T0): Promise<App> =>
      store.createApp({ id: newId('app', now), uid, name: `app ${uid}`, metadata: { tier: 'gold' }, portal: null, createdAt: now, updatedAt: now });

    const makeEndpoint = async (appId: string, patch: Partial<Endpoint> = {}, secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'): Promise<Endpoint> =>
      store.createEndpoint(
        {
          id: newId('ep', T0), appId, url: 'https://example.com/hook', description: '', eventTypes: null, headers: {}, rateLimit: null,
          timeoutMs: null, disabled: false, disabledReason: null, failingSince: null, flavor: 'standard', channels: null, payloadMode: 'full', ordering: 'parallel', metadata: {}, createdAt: T0, updatedAt: T0,
          ...patch,
        },
        secret,
      );

    const send = async (appId: string, endpointIds: string[], eventId: string | null = null, now = T0) => {
      const message = { id: newId('msg', now), appId, eventType: 'user.created', eventId, payload: '{"a":1}', channels: null, resourceUrl: null, createdAt: now };
      const [result] = await store.insertMessages([{ message, endpointIds }]);
      return result!;
    };

    const claimAll = (now: number, owner = 'w1', exclude: string[] = []) =>
      store.claimDueDeliveries({ now, limit: 100, leaseUntil: now + 30_000, owner, excludeEndpoints: exclude });

    it('creates, finds by id or uid, updates and deletes apps', async () => {
      const app = await makeApp('acme');
      expect(await store.getApp(app.id)).toEqual(app);
      expect(await store.getApp('acme')).toEqual(app);
      expect(await store.getApp('nope')).toBeNull();
      const updated = await store.updateApp(app.id, { name: 'Acme', uid: 'acme-2' }, T0 + 5);
      expect(updated).toMatchObject({ name: 'Acme', uid: 'acme-2', updatedAt: T0 + 5, metadata: { tier: 'gold' } });
      expect(await store.getApp('acme')).toBeNull();
      expect(await store.deleteApp(app.id)).toBe(true);
      expect(await store.getApp(app.id)).toBeNull();
      expect(await store.deleteApp(app.id)).toBe(false);
    });

    it('refuses a duplicate uid with a conflict naming the existing app', async () => {
      const app = await makeApp('acme');
      await expect(makeApp('acme')).rejects.toMatchObject({ code: 'conflict', details: { id: app.id } });
      const other = await makeApp('other');
      await expect(store.updateApp(other.id, { uid: 'acme' }, T0)).rejects.toMatchObject({ code: 'conflict' });
    });

    it('pages through apps in creation order with a cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await makeApp(`u${i}`, T0 + i)).id);
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.listApps({ limit: 3, after });
        seen.push(...page.data.map((app) => app.id));
        if (page.next === null) break;
        after = page.next;
      }
      expect(seen).toEqual(ids);
    });

    it('stores API keys by hash and scopes them to an app', async () => {
      const app = await makeApp();
      expect(await store.countAdminKeys()).toBe(0);
      await store.createApiKey({ id: 'key_admin', appId: null, name: null, kind: 'api', expiresAt: null, readOnly: false, createdAt: T0 }, 'hash-admin');
      await store.createApiKey({ id: 'key_app', appId: app.id, name: 'ci', kind: 'api', expiresAt: null, readOnly: false, createdAt: T0 }, 'hash-app');
      expect(await store.countAdminKeys()).toBe(1);
      expect(await store.findApiKeyByHash('hash-app')).toMatchObject({ id: 'key_app', appId: app.id });
      expect(await store.findApiKeyByHash('nope')).toBeNull();
      expect((await store.listApiKeys(app.id)).map((key) => key.id)).toEqual(['key_app']);
      expect(await store.deleteApiKey('app_other', 'key_app')).toBe(false);
      expect(await store.deleteApiKey(app.id, 'key_app')).toBe(true);
      expect(await store.findApiKeyByHash('hash-app')).toBeNull();
    });

    it('keeps event types with their schemas', async () => {
      const schema = { type: 'object', required: ['id'] };
      await store.createEventType({ name: 'user.created', description: 'd', schema, resourceUrlTemplate: null, createdAt: T0, updatedAt: T0 });
      await expect(store.createEventType({ name: 'user.created', description: '', schema: null, resourceUrlTemplate: null, createdAt: T0, updatedAt: T0 })).rejects.toMatchObject({ code: 'conflict' });
      expect((await store.getEventType('user.created'))?.schema).toEqual(schema);
      expect((await store.updateEventType('user.created', { schema: null }, T0 + 1))?.schema).toBeNull();
      expect((await store.listEventTypes({ limit: 10 })).data.map((e) => e.name)).toEqual(['user.created']);
      expect(await store.deleteEventType('user.created')).toBe(true);
    });

    it('isolates endpoints, messages and attempts by app', async () => {
      const a = await makeApp('a');
      const b = await makeApp('b');
      const ep = await makeEndpoint(a.id);
      const sent = await send(a.id, [ep.id]);
      expect(sent.ok).toBe(true);
      const msgId = sent.ok ? sent.message.id : '';
      expect(await store.getEndpoint(b.id, ep.id)).toBeNull();
      expect(await store.getMessage(b.id, msgId)).toBeNull();
      expect((await store.listEndpoints(b.id, { limit: 10 })).data).toEqual([]);
      expect((await store.listMessages(b.id, {}, { limit: 10 })).data).toEqual([]);
      expect(await store.listDeliveries(b.id, msgId)).toEqual([]);
      expect(await store.updateEndpoint(b.id, ep.id, { description: 'x' }, T0)).toBeNull();
      expect(await store.deleteEndpoint(b.id, ep.id)).toBe(false);
      expect(await store.recoverDeliveries(b.id, ep.id, 0, T0 + 1, T0)).toBe(0);
    });

    it('rotates secrets: the new one first, the old one until it expires', async () => {
      const app = await makeApp();
      const ep = await makeEndpoint(app.id, {}, 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      expect(await store.getActiveSecrets(ep.id, T0)).toEqual(['whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']);
      await store.rotateSecret(ep.id, 'whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', T0 + 1000, T0);
      expect(await store.getActiveSecrets(ep.id, T0 + 999)).toEqual(['whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']);
      expect(await store.getActiveSecrets(ep.id, T0 + 1000)).toEqual(['whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB']);
    });

    it('answers a duplicate eventId with the existing message, also inside one batch', async () => {
      const app = await makeApp();
      const first = await send(app.id, [], 'evt-1');
      const again = await send(app.id, [], 'evt-1');
      expect(first.ok).toBe(true);
      expect(again).toEqual({ ok: false, existingId: first.ok ? first.message.id : '' });
      const other = await makeApp('other');
      expect((await send(other.id, [], 'evt-1')).ok).toBe(true);
      const m = (id: string) => ({ message: { id, appId: app.id, eventType: 't', eventId: 'evt-2', payload: '{}', channels: null, resourceUrl: null, createdAt: T0 }, endpointIds: [] });
      const results = await store.insertMessages([m(newId('msg')), m(newId('msg'))]);
      expect(results[0]!.ok).toBe(true);
      expect(results[1]).toEqual({ ok: false, existingId: results[0]!.ok ? results[0]!.message.id : '' });
    });

    it('commits a batch whose fan-out outgrows one statement (SQLite binds at most 32,766 parameters)', async () => {
      const app = await makeApp();
      const endpoints: string[] = [];
      for (let i = 0; i < 300; i++) endpoints.push((await makeEndpoint(app.id)).id);
      // 30 messages × 300 endpoints: 9,000 deliveries, 36,000 values in one bulk insert.
      const items = Array.from({ length: 30 }, (_, i) => ({
        message: { id: newId('msg', T0 + i), appId: app.id, eventType: 'fan.out', eventId: null, payload: `{"i":${i}}`, channels: null, resourceUrl: null, createdAt: T0 + i },
        endpointIds: endpoints,
      }));
      const results = await store.insertMessages(items);
      expect(results.every((result) => result.ok)).toBe(true);
      expect(await store.queueDepth()).toEqual({ pending: 9_000, sending: 0 });
      expect(await store.listDeliveries(app.id, items[29]!.message.id)).toHaveLength(300);
    });

    it('filters and pages messages newest first', async () => {
      const app = await makeApp();
      for (let i = 0; i < 5; i++) {
        const message = { id: newId('msg', T0 + i * 1000), appId: app.id, eventType: i % 2 ? 'odd' : 'even', eventId: null, payload: `{"i":${i}}`, channels: null, resourceUrl: null, createdAt: T0 + i * 1000 };
        await store.insertMessages([{ message, endpointIds: [] }]);
      }
      const all = await store.listMessages(app.id, {}, { limit: 2 });
      expect(all.data.map((m) => JSON.parse(m.payload).i)).toEqual([4, 3]);
      const next = await store.listMessages(app.id, {}, { limit: 2, after: all.next! });
      expect(next.data.map((m) => JSON.parse(m.payload).i)).toEqual([2, 1]);
      expect((await store.listMessages(app.id, { eventType: 'odd' }, { limit: 10 })).data).toHaveLength(2);
      const windowed = await store.listMessages(app.id, { after: T0 + 1000, before: T0 + 4000 }, { limit: 10 });
      expect(windowed.data.map((m) => JSON.parse(m.payload).i)).toEqual([3, 2]);
    });

    it('claims due deliveries once, honours exclusions, and releases expired leases', async () => {
      const app = await makeApp();
      const ep1 = await makeEndpoint(app.id);
      const ep2 = await makeEndpoint(app.id);
      await send(app.id, [ep1.id, ep2.id]);
      expect(await store.nextDueAt()).toBe(T0);
      expect(await claimAll(T0 - 1)).toEqual([]);
      const onlyEp2 = await claimAll(T0, 'w1', [ep1.id]);
      expect(onlyEp2.map((d) => d.endpointId)).toEqual([ep2.id]);
      expect(onlyEp2[0]).toMatchObject({ status: 'sending', payload: '{"a":1}', eventType: 'user.created', attempts: 0 });
      const rest = await claimAll(T0, 'w2');
      expect(rest.map((d) => d.endpointId)).toEqual([ep1.id]);
      expect(await claimAll(T0, 'w3')).toEqual([]);
      expect(await store.queueDepth()).toEqual({ pending: 0, sending: 2 });
      // A lease that runs out makes the delivery due again, for any worker.
      expect(await store.nextDueAt()).toBe(T0 + 30_000);
      expect(await claimAll(T0 + 29_999, 'w4')).toEqual([]);
      const retaken = await claimAll(T0 + 30_000, 'w4');
      expect(retaken.map((d) => d.endpointId).sort()).toEqual([ep1.id, ep2.id].sort());
      await store.releaseDeliveries(retaken, 'someone-else', T0 + 30_000);
      expect(await store.queueDepth()).toEqual({ pending: 0, sending: 2 });
      await store.releaseDeliveries(retaken, 'w4', T0 + 40_000);
      expect(await store.queueDepth()).toEqual({ pending: 2, sending: 0 });
      expect(await store.nextDueAt()).toBe(T0 + 40_000);
    });

    it('writes the deliveries of a message already leased to a worker in this process, except FIFO ones', async () => {
      const app = await makeApp();
      const ep1 = await makeEndpoint(app.id);
      const fifo = await makeEndpoint(app.id, { ordering: 'fifo' });
      const message = { id: newId('msg', T0), appId: app.id, eventType: 'user.created', eventId: null, payload: '{"a":1}', channels: null, resourceUrl: 'https://r.test/1', createdAt: T0 };
      const lease = { owner: 'w1', until: T0 + 30_000 };
      const [result] = await store.insertMessages([{ message, endpointIds: [ep1.id, fifo.id], fifoEndpointIds: [fifo.id], lease }]);
      expect(result!.ok).toBe(true);
      // What the worker sends is what a claim would have returned.
      const leased = result!.ok ? result!.leased : [];
      expect(leased).toEqual([{
        messageId: message.id, endpointId: ep1.id, appId: app.id, status: 'sending', attempts: 0, schedulePos: 0, nextAttemptAt: T0 + 30_000,
        nextTrigger: 'scheduled', singleShot: false, exhaustedAt: null, lastError: null, createdAt: T0, updatedAt: T0,
        eventType: 'user.created', payload: '{"a":1}', messageCreatedAt: T0, resourceUrl: 'https://r.test/1',
      }]);
      // Nobody else claims the leased one; the FIFO one is queued as usual.
      expect((await claimAll(T0, 'w2')).map((d) => d.endpointId)).toEqual([fifo.id]);
      const outcome = decideOutcome(leased[0]!, ep1.url, { kind: 'response', statusCode: 200, headers: {}, body: '', durationMs: 1 }, T0 + 5, { retrySchedule: [] });
      await store.recordOutcomes([outcome], { now: T0 + 5, disableAfterMs: 1e9, owner: 'w1' });
      expect((await store.listDeliveries(app.id, message.id)).map((d) => [d.endpointId, d.status])).toEqual(
        [[ep1.id, 'succeeded'], [fifo.id, 'sending']].sort((a, b) => a[0]!.localeCompare(b[0]!)),
      );
      // A lease whose worker died runs out like a claim's.
      const second = { ...message, id: newId('msg', T0 + 1) };
      const [other] = await store.insertMessages([{ message: second, endpointIds: [ep1.id], lease }]);
      expect(other!.ok && other!.leased.length).toBe(1);
      expect(await claimAll(T0 + 29_999, 'w3')).toEqual([]);
      const retaken = (await claimAll(T0 + 30_000, 'w3')).filter((d) => d.messageId === second.id);
      expect(retaken.map((d) => [d.endpointId, d.attempts])).toEqual([[ep1.id, 0]]);
    });

    it("claims other endpoints' due deliveries when a skipped endpoint's backlog fills the head of the queue", async () => {
      const app = await makeApp();
      const slow = await makeEndpoint(app.id);
      const others = [await makeEndpoint(app.id), await makeEndpoint(app.id), await makeEndpoint(app.id)];
      // 1,500 deliveries of the skipped endpoint, all due before any of the others' (more than a claim scans in due
      // order before it looks endpoint by endpoint).
      const message = (i: number, at: number) => ({ id: newId('msg', at), appId: app.id, eventType: 'e', eventId: null, payload: `{"i":${i}}`, channels: null, resourceUrl: null, createdAt: at });
      await store.insertMessages(Array.from({ length: 1_500 }, (_, i) => ({ message: message(i, T0 + i), endpointIds: [slow.id] })));
      for (const [n, endpoint] of others.entries()) {
        await store.insertMessages(Array.from({ length: 4 }, (_, i) => ({ message: message(i, T0 + 10_000 + n * 10 + i), endpointIds: [endpoint.id] })));
      }
      const now = T0 + 60_000;
      const first = await claimAll(now, 'w1', [slow.id]);
      expect(first).toHaveLength(12);
      expect(new Set(first.map((d) => d.endpointId))).toEqual(new Set(others.map((e) => e.id)));
      expect(await claimAll(now, 'w1', [slow.id])).toEqual([]);
      // Not skipped any more, the slow endpoint's oldest come first.
      const next = await claimAll(now, 'w2');
      expect(next).toHaveLength(100);
      expect(next.every((d) => d.endpointId === slow.id)).toBe(true);
      expect(next.map((d) => (JSON.parse(d.payload) as { i: number }).i).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect(await store.queueDepth()).toEqual({ pending: 1_400, sending: 112 });
    });

    it('records outcomes: retry, success, and a lost lease does not overwrite', async () => {
      const app = await makeApp();
      const ep = await makeEndpoint(app.id);
      await send(app.id, [ep.id]);
      const [claimed] = await claimAll(T0);
      const failure = decideOutcome(claimed!, ep.url, { kind: 'response', statusCode: 500, headers: {}, body: 'boom', durationMs: 3 }, T0 + 10, {
        retrySchedule: [1000],
        random: () => 0.5,
      });
      await store.recordOutcomes([failure], { now: T0 + 10, disableAfterMs: 86_400_000, owner: 'w1' });
      const [delivery] = await store.listDeliveries(app.id, claimed!.messageId);
      expect(delivery).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: T0 + 1010 });
      expect((await store.getEndpoint(app.id, ep.id))?.failingSince).toBe(T0 + 10);

      const [retry] = await claimAll(T0 + 1010, 'w2');
      const stale = decideOutcome(retry!, ep.url, { kind: 'error', error: 'late', durationMs: 1 }, T0 + 1011, { retrySchedule: [1000] });
      await store.recordOutcomes([stale], { now: T0 + 1011, disableAfterMs: 86_400_000, owner: 'w1' });
      expect((await store.listDeliveries(app.id, retry!.messageId))[0]?.status).toBe('sending');

      const ok = decideOutcome(retry!, ep.url, { kind: 'response', statusCode: 204, headers: {}, body: '', durationMs: 2 }, T0 + 1012, { retrySchedule: [1000] });
      await store.recordOutcomes([ok], { now: T0 + 1012, disableAfterMs: 86_400_000, owner: 'w2' });
      expect((await store.listDeliveries(app.id, retry!.messageId))[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect((await store.getEndpoint(app.id, ep.id))?.failingSince).toBeNull();
      const attempts = await store.listAttempts(app.id, { messageId: retry!.messageId }, { limit: 10 });
      expect(attempts.data.map((a) => a.status)).toEqual(['success', 'failed', 'failed']);
      expect((await store.listAttempts(app.id, { endpointId: ep.id }, { limit: 10 })).data).toHaveLength(3);
    });

    it('disables an endpoint on 410 once and fails its pending deliveries', async () => {
      const app = await makeApp();
      const ep = await makeEndpoint(app.id);
      await send(app.id, [ep.id]);
      const other = await send(app.id, [ep.id]);
      const [first] = await store.claimDueDeliveries({ now: T0, limit: 1, leaseUntil: T0 + 1000, owner: 'w', excludeEndpoints: [] });
      const gone = decideOutcome(first!, ep.url, { kind: 'response', statusCode: 410, headers: {}, body: '', durationMs: 1 }, T0, { retrySchedule: [1000] });
      const effects = await store.recordOutcomes([gone], { now: T0, disableAfterMs: 1e9, owner: 'w' });
      expect(effects.disabledEndpoints).toEqual([{ endpointId: ep.id, appId: app.id, reason: 'gone' }]);
      expect(await store.getEndpoint(app.id, ep.id)).toMatchObject({ disabled: true, disabledReason: 'gone' });
      const otherId = other.ok ? other.message.id : '';
      expect((await store.listDeliveries(app.id, otherId))[0]).toMatchObject({ status: 'failed', lastError: 'endpoint disabled' });
      expect((await store.listEnabledEndpoints(app.id)).map((e) => e.id)).toEqual([]);
    });

    it('disables an endpoint that has failed continuously for longer than the limit', async () => {
      const app = await makeApp();
      const ep = await makeEndpoint(app.id);
      await send(app.id, [ep.id]);
      const fail = async (now: number) => {
        const [claimed] = await claimAll(now);
        const outcome = decideOutcome(claimed!, ep.url, { kind: 'error', error: 'refused', durationMs: 1 }, now, { retrySchedule: [10, 10, 10] });
        return store.recordOutcomes([outcome], { now, disableAfterMs: 100, owner: 'w1' });
      };
      expect((await fail(T0)).disabledEndpoints).toEqual([]);
      expect((await fail(T0 + 50)).disabledEndpoints).toEqual([]);
      expect((await fail(T0 + 120)).disabledEndpoints).toEqual([{ endpointId: ep.id, appId: app.id, reason: 'failing' }]);
      await store.updateEndpoint(app.id, ep.id, { disabled: false }, T0 + 200);
      expect(await store.getEndpoint(app.id, ep.id)).toMatchObject({ disabled: false, disabledReason: null, failingSince: null });
    });

    it('resends and recovers failed deliveries', async () => {
      const app = await makeApp();
      const ep = await makeEndpoint(app.id);
      const late = await makeEndpoint(app.id);
      const sent = await send(app.id, [ep.id]);
      const msgId = sent.ok ? sent.message.id : '';
      const [claimed] = await claimAll(T0);
      const exhausted = decideOutcome(claimed!, ep.url, { kind: 'error', error: 'x', durationMs: 1 }, T0 + 1, { retrySchedule: [] });
      await store.recordOutcomes([exhausted], { now: T0 + 1, disableAfterMs: 1e9, owner: 'w1' });
      expect((await store.listDeliveries(app.id, msgId))[0]).toMatchObject({ status: 'failed', exhaustedAt: T0 + 1 });

      expect(await store.recoverDeliveries(app.id, ep.id, T0 + 1, T0 + 10, T0 + 5)).toBe(0);
      expect(await store.recoverDeliveries(app.id, ep.id, T0, T0 + 10, T0 + 5)).toBe(1);
      const [recovered] = await claimAll(T0 + 5);
      expect(recovered).toMatchObject({ schedulePos: 0, attempts: 1, nextTrigger: 'manual', singleShot: false });
      const done = decideOutcome(recovered!, ep.url, { kind: 'response', statusCode: 200, headers: {}, body: '', durationMs: 1 }, T0 + 6, { retrySchedule: [] });
      await store.recordOutcomes([done], { now: T0 + 6, disableAfterMs: 1e9, owner: 'w1' });
      expect((await store.listAttempts(app.id, { messageId: msgId }, { limit: 5 })).data[0]).toMatchObject({ trigger: 'manual', attempt: 2, status: 'success' });

      expect(await store.resendDelivery(app.id, msgId, ep.id, T0 + 7)).toBe('queued');
      expect(await store.resendDelivery(app.id, msgId, late.id, T0 + 7)).toBe('queued');
      const resent = await claimAll(T0 + 7);
      expect(resent.map((d) => [d.endpointId, d.singleShot, d.nextTrigger]).sort()).toEqual(
        [[ep.id, true, 'manual'], [late.id, true, 'manual']].sort(),
      );
      expect(await store.resendDelivery(app.id, msgId, ep.id, T0 + 8)).toBe('in_flight');
    });

    it("counts an endpoint's deliveries per status, within a window and its app only", async () => {
      const app = await makeApp();
      const ep = await makeEndpoint(app.id);
      const other = await makeEndpoint(app.id);
      await send(app.id, [ep.id, other.id], null, T0);
      await send(app.id, [ep.id], null, T0 + 10);
      const claimed = await claimAll(T0 + 20);
      const first = claimed.find((d) => d.endpointId === ep.id && d.messageCreatedAt === T0)!;
      const ok = decideOutcome(first, ep.url, { kind: 'response', statusCode: 200, headers: {}, body: '', durationMs: 1 }, T0 + 21, { retrySchedule: [] });
      await store.recordOutcomes([ok], { now: T0 + 21, disableAfterMs: 1e9, owner: 'w1' });
      expect(await store.endpointDeliveryCounts(app.id, ep.id, {})).toEqual({ pending: 0, sending: 1, succeeded: 1, failed: 0 });
      expect(await store.endpointDeliveryCounts(app.id, ep.id, { since: T0 + 5 })).toEqual({ pending: 0, sending: 1, succeeded: 0, failed: 0 });
      expect(await store.endpointDeliveryCounts(app.id, ep.id, { until: T0 + 5 })).toEqual({ pending: 0, sending: 0, succeeded: 1, failed: 0 });
      const stranger = await makeApp('stranger');
      expect(await store.endpointDeliveryCounts(stranger.id, ep.id, {})).toEqual({ pending: 0, sending: 0, succeeded: 0, failed: 0 });
    });

    describe('FIFO endpoints', () => {
      const sendFifo = async (appId: string, endpointIds: string[], fifo: string[], now: number) => {
        const message = { id: newId('msg', now), appId, eventType: 'e', eventId: null, payload: '{}', channels: null, resourceUrl: null, createdAt: now };
        const [result] = await store.insertMessages([{ message, endpointIds, fifoEndpointIds: fifo }]);
        expect(result!.ok).toBe(true);
        return message.id;
      };
      const finish = async (delivery: ClaimedDelivery, url: string, statusCode: number, now: number, retrySchedule: number[] = [1000]) => {
        const outcome = decideOutcome(delivery, url, { kind: 'response', statusCode, headers: {}, body: '', durationMs: 1 }, now, { retrySchedule, random: () => 0.5 });
        await store.recordOutcomes([outcome], { now, disableAfterMs: 1e12, owner: 'w1' });
      };
      const claimedOf = async (now: number, endpointId: string) => (await claimAll(now)).filter((d) => d.endpointId === endpointId);

      it('delivers one message at a time in message order; a failing head holds the rest until it succeeds or is exhausted', async () => {
        const app = await makeApp();
        const fifo = await makeEndpoint(app.id, { ordering: 'fifo' });
        const parallel = await makeEndpoint(app.id);
        const ids = [];
        for (let i = 0; i < 3; i++) ids.push(await sendFifo(app.id, [fifo.id, parallel.id], [fifo.id], T0 + i));

        const first = await claimAll(T0 + 10);
        expect(first.filter((d) => d.endpointId === parallel.id).map((d) => d.messageId)).toEqual(ids);
        const [head] = first.filter((d) => d.endpointId === fifo.id);
        expect(first.filter((d) => d.endpointId === fifo.id).map((d) => d.messageId)).toEqual([ids[0]]);
        expect(await store.queueDepth()).toEqual({ pending: 2, sending: 4 });

        // A retryable failure keeps the head: nothing behind it becomes due, neither now nor when its retry is.
        await finish(head!, fifo.url, 500, T0 + 20);
        expect(await claimedOf(T0 + 30, fifo.id)).toEqual([]);
        const [retry] = await claimedOf(T0 + 20 + 1000, fifo.id);
        expect(retry?.messageId).toBe(ids[0]);
        await finish(retry!, fifo.url, 200, T0 + 1030);

        const [second] = await claimedOf(T0 + 1030, fifo.id);
        expect(second?.messageId).toBe(ids[1]);
        // Exhausted (no retry left): the next one goes.
        await finish(second!, fifo.url, 500, T0 + 1040, []);
        expect((await store.listDeliveries(app.id, ids[1]!)).find((d) => d.endpointId === fifo.id)?.status).toBe('failed');
        const [third] = await claimedOf(T0 + 1040, fifo.id);
        expect(third?.messageId).toBe(ids[2]);

        // Sent while the head is in flight: it waits behind it.
        const fourth = await sendFifo(app.id, [fifo.id], [fifo.id], T0 + 1050);
        expect(await claimedOf(T0 + 1060, fifo.id)).toEqual([]);
        await finish(third!, fifo.url, 200, T0 + 1070);
        expect((await claimedOf(T0 + 1070, fifo.id)).map((d) => d.messageId)).toEqual([fourth]);
      });

      it('queues resends and recovered deliveries in message order, and lets all go when the endpoint turns parallel', async () => {
        const app = await makeApp();
        const fifo = await makeEndpoint(app.id, { ordering: 'fifo' });
        const ids = [];
        for (let i = 0; i < 2; i++) ids.push(await sendFifo(app.id, [fifo.id], [fifo.id], T0 + i));
        const [head] = await claimedOf(T0 + 5, fifo.id);
        await finish(head!, fifo.url, 500, T0 + 6, []);
        const [second] = await claimedOf(T0 + 7, fifo.id);
        expect(second?.messageId).toBe(ids[1]);

        // Recovering the failed first message while the second is in flight: it joins the end of the queue.
        const third = await sendFifo(app.id, [fifo.id], [fifo.id], T0 + 8);
        expect(await store.recoverDeliveries(app.id, fifo.id, T0, T0 + 100, T0 + 9)).toBe(1);
        expect(await claimedOf(T0 + 10, fifo.id)).toEqual([]);
        // A resend of a parked delivery leaves it in its place.
        expect(await store.resendDelivery(app.id, third, fifo.id, T0 + 10)).toBe('queued');
        expect(await claimedOf(T0 + 10, fifo.id)).toEqual([]);
        await finish(second!, fifo.url, 200, T0 + 11);
        const [next] = await claimedOf(T0 + 12, fifo.id);
        expect(next?.messageId).toBe(third);
        // A resend of a delivered message while another is in flight waits behind it instead of going beside it.
        expect(await store.resendDelivery(app.id, ids[1]!, fifo.id, T0 + 13)).toBe('queued');
        await finish(next!, fifo.url, 200, T0 + 14);
        const [recovered] = await claimedOf(T0 + 15, fifo.id);
        expect(recovered).toMatchObject({ messageId: ids[0], singleShot: false, nextTrigger: 'manual' });
        await finish(recovered!, fifo.url, 200, T0 + 16);
        const [resent] = await claimedOf(T0 + 17, fifo.id);
        expect([resent?.messageId, resent?.singleShot]).toEqual([ids[1], true]);
        await finish(resent!, fifo.url, 200, T0 + 18);

        // Switching to parallel releases everything parked; switching back queues what is due, oldest first.
        const later = [await sendFifo(app.id, [fifo.id], [fifo.id], T0 + 20), await sendFifo(app.id, [fifo.id], [fifo.id], T0 + 21)];
        await store.updateEndpoint(app.id, fifo.id, { ordering: 'parallel' }, T0 + 22);
        const released = await claimedOf(T0 + 23, fifo.id);
        expect(released.map((d) => d.messageId)).toEqual(later);
        for (const delivery of released) await finish(delivery, fifo.url, 200, T0 + 24);
        const more = [await sendFifo(app.id, [fifo.id], [], T0 + 30), await sendFifo(app.id, [fifo.id], [], T0 + 31)];
        await store.updateEndpoint(app.id, fifo.id, { ordering: 'fifo' }, T0 + 32);
        expect((await claimedOf(T0 + 33, fifo.id)).map((d) => d.messageId)).toEqual([more[0]]);
      });
    });

    it('keeps channels and resource URLs of messages and filters messages by channel', async () => {
      const app = await makeApp();
      const make = (i: number, channels: string[] | null) =>
        ({ id: newId('msg', T0 + i), appId: app.id, eventType: 'e', eventId: null, payload: '{}', channels, resourceUrl: `https://api.example.com/r/${i}`, createdAt: T0 + i });
      await store.insertMessages([{ message: make(0, ['project_1', 'group_a']), endpointIds: [] }, { message: make(1, ['project_2']), endpointIds: [] }, { message: make(2, null), endpointIds: [] }]);
      const inProject1 = await store.listMessages(app.id, { channel: 'project_1' }, { limit: 10 });
      expect(inProject1.data.map((m) => [m.channels, m.resourceUrl])).toEqual([[['project_1', 'group_a'], 'https://api.example.com/r/0']]);
      expect((await store.listMessages(app.id, { channel: 'group' }, { limit: 10 })).data).toEqual([]);
      expect((await store.listMessages(app.id, {}, { limit: 10 })).data.map((m) => m.channels)).toEqual([null, ['project_2'], ['project_1', 'group_a']]);
      const ep = await makeEndpoint(app.id, { channels: ['project_1'], ordering: 'fifo', payloadMode: 'thin' });
      expect(await store.getEndpoint(app.id, ep.id)).toMatchObject({ channels: ['project_1'], ordering: 'fifo', payloadMode: 'thin' });
      expect(await store.fanoutEndpoints(app.id)).toEqual([{ id: ep.id, eventTypes: null, channels: ['project_1'], fifo: true }]);
    });

    it('deletes an app with everything it owns', async () => {
      const app = await makeApp();
      const ep = await makeEndpoint(app.id);
      await send(app.id, [ep.id]);
      const [claimed] = await claimAll(T0);
      const outcome = decideOutcome(claimed!, ep.url, { kind: 'response', statusCode: 200, headers: {}, body: '', durationMs: 1 }, T0, { retrySchedule: [] });
      await store.recordOutcomes([outcome], { now: T0, disableAfterMs: 1e9, owner: 'w1' });
      expect(await store.deleteApp(app.id)).toBe(true);
      expect(await store.getEndpoint(app.id, ep.id)).toBeNull();
      expect((await store.listAttempts(app.id, { endpointId: ep.id }, { limit: 10 })).data).toEqual([]);
      expect(await store.queueDepth()).toEqual({ pending: 0, sending: 0 });
    });

    it('shares a rate-limit bucket per endpoint: a burst of one second, then the rate', async () => {
      const app = await makeApp();
      const endpoint = await makeEndpoint(app.id, { rateLimit: 4 });
      // Two workers asking at the same instant share the 4-token burst.
      expect(await store.takeRateTokens(endpoint.id, 3, 4, T0)).toEqual({ granted: 3, nextTokenInMs: 0 });
      const second = await store.takeRateTokens(endpoint.id, 3, 4, T0);
      expect(second.granted).toBe(1);
      expect(second.nextTokenInMs).toBe(250);
      expect((await store.takeRateTokens(endpoint.id, 1, 4, T0 + 100)).granted).toBe(0);
      // 4 per second: half a second later, two more.
      expect((await store.takeRateTokens(endpoint.id, 5, 4, T0 + 500)).granted).toBe(2);
      // The bucket never holds more than one second's worth.
      expect((await store.takeRateTokens(endpoint.id, 10, 4, T0 + 60_000)).granted).toBe(4);
    });

    it('reserves, completes, replays and expires idempotency keys', async () => {
      expect(await store.getIdempotent('s', 'k', T0)).toBeNull();
      expect(await store.reserveIdempotent('s', 'k', T0 + 100, T0)).toBe(true);
      expect(await store.reserveIdempotent('s', 'k', T0 + 100, T0)).toBe(false);
      expect(await store.getIdempotent('s', 'k', T0)).toBe('in_progress');
      await store.completeIdempotent('s', 'k', { statusCode: 201, body: '{"id":1}' });
      expect(await store.getIdempotent('s', 'k', T0 + 1)).toEqual({ statusCode: 201, body: '{"id":1}' });
      expect(await store.getIdempotent('s', 'k', T0 + 100)).toBeNull();
      expect(await store.reserveIdempotent('s', 'k', T0 + 300, T0 + 200)).toBe(true);
      await store.releaseIdempotent('s', 'k');
      expect(await store.getIdempotent('s', 'k', T0 + 201)).toBeNull();
    });
  });
}
