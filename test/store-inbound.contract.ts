import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../src/ids.js';
import type { InboundRecord, NewInboundRequest, Source, Store } from '../src/store/store.js';
import type { StoreFixture } from './store.contract.js';

const T0 = Date.UTC(2026, 0, 1);

/** The inbound half of the store contract: sources, the request log with dedup, processing jobs, documents. */
export function runInboundStoreContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`inbound store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    const makeSource = (name: string, patch: Partial<Source> = {}): Promise<Source> =>
      store.createSource({
        id: newId('src', T0), name, description: '', methods: ['POST'], verification: { type: 'github', secret: 'It\'s a Secret to Everybody' },
        ipAllowlist: null, dedup: null, response: null, handler: null, forward: [], ordering: null, createdAt: T0, updatedAt: T0, ...patch,
      });

    const record = (sourceId: string, patch: Partial<InboundRecord> = {}, at = T0): InboundRecord => ({
      id: newId('req', at), sourceId, method: 'POST', path: '', query: 'a=1', headers: { 'content-type': 'application/json' },
      body: Buffer.from([0x7b, 0x7d, 0x00, 0xff]), receivedAt: at, status: 'accepted', responseStatus: 202, verified: true, reason: null,
      dedupKey: null, duplicateOf: null, stale: false, processing: { status: 'pending', output: null, error: null, durationMs: null, finishedAt: null },
      ...patch,
    });

    const pending = (r: InboundRecord): NewInboundRequest => ({ record: r, job: { status: 'pending' } });

    it('creates, finds by id or name, updates and deletes sources; names are unique', async () => {
      const source = await makeSource('github');
      expect(await store.getSource(source.id)).toEqual(source);
      expect(await store.getSource('github')).toEqual(source);
      await expect(makeSource('github')).rejects.toMatchObject({ code: 'conflict', details: { id: source.id } });
      const updated = await store.updateSource(source.id, { description: 'pushes', methods: ['POST', 'PUT'], verification: null }, T0 + 1);
      expect(updated).toMatchObject({ description: 'pushes', methods: ['POST', 'PUT'], verification: null, updatedAt: T0 + 1 });
      const other = await makeSource('stripe');
      await expect(store.updateSource(other.id, { name: 'github' }, T0 + 2)).rejects.toMatchObject({ code: 'conflict' });
      expect((await store.listSources({ limit: 1 })).data).toHaveLength(1);
      expect(await store.deleteSource(source.id)).toBe(true);
      expect(await store.getSource('github')).toBeNull();
      expect(await store.updateSource(source.id, { description: 'x' }, T0)).toBeNull();
    });

    it('stores request bodies byte-exact and lists newest first with a status filter', async () => {
      const source = await makeSource('bin');
      const first = record(source.id, {}, T0);
      const rejected = record(source.id, { status: 'rejected', responseStatus: 401, verified: false, reason: 'signature mismatch' }, T0 + 1);
      await store.insertRequests([pending(first), { record: rejected, job: null }]);
      const read = await store.getRequest(source.id, first.id);
      expect(read?.body.equals(first.body)).toBe(true);
      expect(read).toMatchObject({ query: 'a=1', headers: { 'content-type': 'application/json' }, verified: true, status: 'accepted' });
      const page = await store.listRequests(source.id, {}, { limit: 10 });
      expect(page.data.map((r) => r.id)).toEqual([rejected.id, first.id]);
      const onlyRejected = await store.listRequests(source.id, { status: 'rejected' }, { limit: 10 });
      expect(onlyRejected.data.map((r) => r.reason)).toEqual(['signature mismatch']);
      expect(await store.getRequest('src_other', first.id)).toBeNull();
      expect((await store.listRequestsSince(source.id, first.id, 10)).map((r) => r.id)).toEqual([rejected.id]);
    });

    it('lists the ids strictly between two ids, oldest first, of one source only (the stream\'s look-back)', async () => {
      const source = await makeSource('window');
      const other = await makeSource('window-other');
      const ids = Array.from({ length: 5 }, (_, i) => record(source.id, {}, T0 + i));
      await store.insertRequests([...ids.map(pending), pending(record(other.id, {}, T0 + 2))]);
      expect(await store.listRequestIdsBetween(source.id, ids[0]!.id, ids[4]!.id, 10)).toEqual([ids[1]!.id, ids[2]!.id, ids[3]!.id]);
      expect(await store.listRequestIdsBetween(source.id, '', ids[4]!.id, 2)).toEqual([ids[0]!.id, ids[1]!.id]);
      expect(await store.listRequestIdsBetween(source.id, ids[4]!.id, ids[0]!.id, 10)).toEqual([]);
    });

    it('deduplicates by key, within one batch and across batches, without a job for the copies', async () => {
      const source = await makeSource('gh');
      const a = record(source.id, { dedupKey: 'delivery-1' });
      const b = record(source.id, { dedupKey: 'delivery-1' });
      const c = record(source.id, { dedupKey: 'delivery-2' });
      const results = await store.insertRequests([pending(a), pending(b), pending(c)]);
      expect(results).toEqual([
        { id: a.id, duplicateOf: null, stale: false }, { id: b.id, duplicateOf: a.id, stale: false }, { id: c.id, duplicateOf: null, stale: false },
      ]);
      const [later] = await store.insertRequests([pending(record(source.id, { dedupKey: 'delivery-1' }))]);
      expect(later?.duplicateOf).toBe(a.id);
      expect(await store.getRequest(source.id, b.id)).toMatchObject({ status: 'duplicate', responseStatus: 200, duplicateOf: a.id, processing: { status: 'none' } });
      // The same key in another source is not a duplicate.
      const other = await makeSource('gh2');
      const [elsewhere] = await store.insertRequests([pending(record(other.id, { dedupKey: 'delivery-1' }))]);
      expect(elsewhere?.duplicateOf).toBeNull();
      expect(await store.jobDepth()).toEqual({ pending: 3, running: 0 });
    });

    it('marks a request older than its entity\'s newest stale, without a job, in batch order and across batches', async () => {
      const source = await makeSource('ordered', { ordering: { entity: '$.ticket.id', timestamp: '$.at' } });
      expect((await store.getSource(source.id))?.ordering).toEqual({ entity: '$.ticket.id', timestamp: '$.at' });
      const guarded = (entity: string, at: number, patch: Partial<InboundRecord> = {}): NewInboundRequest =>
        ({ ...pending(record(source.id, patch)), ordering: { entity, at } });
      const newer = guarded('t1', 200);
      const older = guarded('t1', 100);
      const tie = guarded('t1', 200);
      const otherEntity = guarded('t2', 50);
      const unguarded = pending(record(source.id));
      const results = await store.insertRequests([newer, older, tie, otherEntity, unguarded]);
      expect(results.map((r) => r.stale)).toEqual([false, true, false, false, false]);
      expect(await store.getRequest(source.id, older.record.id)).toMatchObject({ stale: true, status: 'accepted', processing: { status: 'none' } });
      expect(await store.getRequest(source.id, newer.record.id)).toMatchObject({ stale: false, processing: { status: 'pending' } });
      expect(await store.jobDepth()).toEqual({ pending: 4, running: 0 });
      // Later batches judge against what the earlier ones accepted; inside a batch each sees the ones before it.
      const [late, latest, between] = await store.insertRequests([guarded('t1', 150), guarded('t1', 300), guarded('t1', 250)]);
      expect([late?.stale, latest?.stale, between?.stale]).toEqual([true, false, true]);
      expect((await store.insertRequests([guarded('t1', 300)]))[0]?.stale).toBe(false);
      // A duplicate (dedup key) moves nothing, and another source keeps its own newest per entity.
      const [copy] = await store.insertRequests([guarded('t2', 500, { dedupKey: 'd1' })]);
      expect(copy?.stale).toBe(false);
      const [dup] = await store.insertRequests([guarded('t2', 900, { dedupKey: 'd1' })]);
      expect(dup).toMatchObject({ duplicateOf: expect.any(String), stale: false });
      expect((await store.insertRequests([guarded('t2', 600)]))[0]?.stale).toBe(false);
      const second = await makeSource('ordered-2');
      const [elsewhere] = await store.insertRequests([{ ...pending(record(second.id)), ordering: { entity: 't1', at: 1 } }]);
      expect(elsewhere?.stale).toBe(false);
      // Replay forces a stale request through: it stays marked stale, and gets a job.
      expect(await store.requeueRequest(source.id, older.record.id, T0 + 1)).toBe(true);
      expect(await store.getRequest(source.id, older.record.id)).toMatchObject({ stale: true, processing: { status: 'pending' } });
      const claimed = await store.claimJobs({ now: T0 + 2, limit: 100, leaseUntil: T0 + 10_000, owner: 'w1' });
      expect(claimed.map((job) => job.request.id)).toContain(older.record.id);
      expect(await store.deleteSource(source.id)).toBe(true);
    });

    it('resolves concurrent arrivals for one entity: the newest is never stale and becomes the entity\'s newest', async () => {
      const source = await makeSource('racing');
      const times = Array.from({ length: 20 }, (_, i) => 1_000 + i * 10).sort(() => Math.random() - 0.5);
      const items = times.map((at) => ({ ...pending(record(source.id)), ordering: { entity: 'e', at } }));
      const results = await Promise.all(items.map((item) => store.insertRequests([item]).then(([result]) => result!)));
      const max = Math.max(...times);
      results.forEach((result, i) => {
        if (times[i] === max) expect(result.stale).toBe(false);
      });
      expect(results.some((result) => !result.stale)).toBe(true);
      const probe = (at: number) => store.insertRequests([{ ...pending(record(source.id)), ordering: { entity: 'e', at } }]).then(([r]) => r!.stale);
      expect(await probe(max - 1)).toBe(true);
      expect(await probe(max)).toBe(false);
      const stored = await Promise.all(items.map((item) => store.getRequest(source.id, item.record.id)));
      expect(stored.map((r) => r?.stale)).toEqual(results.map((r) => r.stale));
      expect(await store.jobDepth()).toEqual({ pending: results.filter((r) => !r.stale).length + 1, running: 0 });
    });

    it('claims jobs with a lease, retakes expired leases, and finishes only under the lease', async () => {
      const source = await makeSource('jobs');
      const r = record(source.id);
      await store.insertRequests([pending(r)]);
      expect(await store.nextJobDueAt()).toBe(T0);
      const [claimed] = await store.claimJobs({ now: T0 + 10, limit: 10, leaseUntil: T0 + 1_000, owner: 'w1' });
      expect(claimed).toMatchObject({ attempts: 0, request: { id: r.id, processing: { status: 'running' } } });
      expect(claimed?.request.body.equals(r.body)).toBe(true);
      expect(await store.claimJobs({ now: T0 + 20, limit: 10, leaseUntil: T0 + 2_000, owner: 'w2' })).toEqual([]);
      // w1 died: its lease runs out and w2 takes the job over.
      const [retaken] = await store.claimJobs({ now: T0 + 1_001, limit: 10, leaseUntil: T0 + 3_000, owner: 'w2' });
      expect(retaken?.attempts).toBe(1);
      const result = { status: 'succeeded' as const, output: { ok: true }, error: null, durationMs: 5, finishedAt: T0 + 1_100 };
      expect(await store.finishJob(r.id, result, 'w1')).toBe(false);
      expect(await store.finishJob(r.id, result, 'w2')).toBe(true);
      expect(await store.getRequest(source.id, r.id)).toMatchObject({ processing: result });
      expect(await store.jobDepth()).toEqual({ pending: 0, running: 0 });
      expect(await store.nextJobDueAt()).toBeNull();
    });

    it('runs a sync-mode job inline under its lease, and requeues a request for replay', async () => {
      const source = await makeSource('sync');
      const r = record(source.id);
      await store.insertRequests([{ record: r, job: { status: 'running', leaseOwner: 'api-1', leaseUntil: T0 + 10_000 } }]);
      expect(await store.claimJobs({ now: T0 + 5, limit: 10, leaseUntil: T0 + 20_000, owner: 'w1' })).toEqual([]);
      await store.finishJob(r.id, { status: 'failed', output: null, error: 'boom', durationMs: 1, finishedAt: T0 + 6 }, 'api-1');
      expect(await store.requeueRequest(source.id, r.id, T0 + 7)).toBe(true);
      expect(await store.getRequest(source.id, r.id)).toMatchObject({ processing: { status: 'pending', error: null } });
      expect(await store.claimJobs({ now: T0 + 8, limit: 10, leaseUntil: T0 + 20_000, owner: 'w1' })).toHaveLength(1);
      expect(await store.requeueRequest(source.id, 'req_missing', T0)).toBe(false);
    });

    it('purges old requests and those beyond the per-source maximum, but never one with a job', async () => {
      const source = await makeSource('purge');
      const old = record(source.id, { processing: { status: 'succeeded', output: null, error: null, durationMs: 1, finishedAt: T0 } }, T0);
      const oldWithJob = record(source.id, {}, T0 + 1);
      const recent = Array.from({ length: 4 }, (_, i) => record(source.id, { processing: { status: 'none', output: null, error: null, durationMs: null, finishedAt: null } }, T0 + 100 + i));
      await store.insertRequests([{ record: old, job: null }, pending(oldWithJob), ...recent.map((r) => ({ record: r, job: null }))]);
      expect(await store.purgeRequests({ before: T0 + 50, maxPerSource: 2 })).toBe(3);
      const left = (await store.listRequests(source.id, {}, { limit: 10 })).data.map((r) => r.id);
      expect(left).toEqual([recent[3]!.id, recent[2]!.id, oldWithJob.id]);
    });

    it('deleting a source deletes its requests and jobs', async () => {
      const source = await makeSource('gone');
      const r = record(source.id);
      await store.insertRequests([pending(r)]);
      await store.deleteSource(source.id);
      expect(await store.getRequest(source.id, r.id)).toBeNull();
      expect(await store.jobDepth()).toEqual({ pending: 0, running: 0 });
    });

    it('keeps documents per collection, filtered by top-level and dotted fields', async () => {
      const doc = (id: string, data: Record<string, unknown>, at = T0) => store.insertDocument('payments', { id, data, createdAt: at, updatedAt: at });
      await doc('p1', { amount: 10, status: 'paid', customer: { id: 'c1' }, tags: ['a'] });
      await doc('p2', { amount: 20, status: 'open', customer: { id: 'c2' }, flag: true }, T0 + 1);
      await doc('p3', { amount: 30, status: 'paid', customer: { id: 'c1' }, note: null }, T0 + 2);
      await store.insertDocument('other', { id: 'p1', data: { amount: 10 }, createdAt: T0, updatedAt: T0 });
      await expect(doc('p1', {})).rejects.toMatchObject({ code: 'conflict' });
      const ids = async (filter: Record<string, unknown>) => (await store.findDocuments('payments', filter, 100)).map((d) => d.id);
      expect(await ids({})).toEqual(['p1', 'p2', 'p3']);
      expect(await ids({ status: 'paid' })).toEqual(['p1', 'p3']);
      expect(await ids({ 'customer.id': 'c1', amount: 30 })).toEqual(['p3']);
      expect(await ids({ flag: true })).toEqual(['p2']);
      // As in MongoDB, null matches a field that is null or missing.
      expect(await ids({ note: null })).toEqual(['p1', 'p2', 'p3']);
      expect(await ids({ note: null, amount: 30 })).toEqual(['p3']);
      expect(await ids({ tags: ['a'] })).toEqual(['p1']);
      expect(await ids({ _id: 'p2' })).toEqual(['p2']);
      expect(await store.findDocuments('payments', {}, 1)).toHaveLength(1);
      expect(await store.updateDocuments('payments', { status: 'paid' }, { status: 'refunded', refundedBy: 'ops' }, T0 + 9)).toBe(2);
      const [p1] = await store.findDocuments('payments', { _id: 'p1' }, 1);
      expect(p1).toMatchObject({ data: { amount: 10, status: 'refunded', refundedBy: 'ops', customer: { id: 'c1' } }, updatedAt: T0 + 9 });
      expect(await store.deleteDocuments('payments', { status: 'refunded' })).toBe(2);
      expect(await ids({})).toEqual(['p2']);
      expect(await store.findDocuments('other', {}, 10)).toHaveLength(1);
      await expect(store.findDocuments('payments', { 'a..b': 1 }, 10)).rejects.toMatchObject({ code: 'validation_error' });
    });
  });

  describe(`inbound store contract, documents' scan and read-modify-write (the Mongo layer): ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
      const doc = (id: string, data: Record<string, unknown>, at: number) => store.insertDocument('docs', { id, data, createdAt: at, updatedAt: at });
      await doc('d1', { flag: true, tags: ['a', 'b'], n: 1, customer: { id: 'c1' } }, T0);
      await doc('d2', { flag: 1, tags: 'a', n: 2, text: '{"x":1}' }, T0 + 1);
      await doc('d3', { tags: [null, 'c'], text: 'plain', obj: { x: 1 } }, T0 + 2);
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    const scanIds = async (fields: Record<string, string | number | boolean | null>, ids?: string[], limit = 100) =>
      (await store.scanDocuments('docs', { fields, ids, limit })).map((d) => d.id);

    it('scans by scalar equality with exact JSON types, matching elements of arrays, by ids, oldest first', async () => {
      expect(await scanIds({})).toEqual(['d1', 'd2', 'd3']);
      expect(await scanIds({ tags: 'a' })).toEqual(['d1', 'd2']);
      expect(await scanIds({ tags: null })).toEqual(['d3']);
      expect(await scanIds({ missing: null })).toEqual(['d1', 'd2', 'd3']);
      expect(await scanIds({ flag: true })).toEqual(['d1']);
      expect(await scanIds({ flag: 1 })).toEqual(['d2']);
      expect(await scanIds({ n: 1 })).toEqual(['d1']);
      expect(await scanIds({ text: '{"x":1}' })).toEqual(['d2']);
      expect(await scanIds({ obj: '{"x":1}' })).toEqual([]);
      expect(await scanIds({ 'customer.id': 'c1', tags: 'b' })).toEqual(['d1']);
      expect(await scanIds({}, ['d3', 'd1', 'nope'])).toEqual(['d1', 'd3']);
      expect(await scanIds({ tags: 'a' }, ['d2', 'd3'])).toEqual(['d2']);
      expect(await scanIds({}, [])).toEqual([]);
      expect(await scanIds({}, undefined, 2)).toEqual(['d1', 'd2']);
      await expect(scanIds({ 'a..b': 1 })).rejects.toMatchObject({ code: 'validation_error' });
    });

    it('applies the writes of a modify step in one transaction, and nothing when the step throws', async () => {
      const result = await store.modifyDocuments('docs', { fields: { tags: 'a' }, limit: 10 }, (found) => ({
        writes: {
          update: found.filter((d) => d.id === 'd1').map((d) => ({ ...d, data: { ...d.data, n: 10 }, updatedAt: T0 + 5 })),
          delete: ['d2'],
          insert: [{ id: 'd4', data: { new: true }, createdAt: T0 + 5, updatedAt: T0 + 5 }],
        },
        result: found.map((d) => d.id),
      }));
      expect(result).toEqual(['d1', 'd2']);
      expect(await store.scanDocuments('docs', { fields: {}, limit: 10 })).toEqual([
        { id: 'd1', data: { flag: true, tags: ['a', 'b'], n: 10, customer: { id: 'c1' } }, createdAt: T0, updatedAt: T0 + 5 },
        expect.objectContaining({ id: 'd3' }),
        { id: 'd4', data: { new: true }, createdAt: T0 + 5, updatedAt: T0 + 5 },
      ]);
      await expect(store.modifyDocuments('docs', { fields: {}, limit: 10 }, () => {
        throw new Error('refused');
      })).rejects.toThrow('refused');
      await expect(store.modifyDocuments('docs', { fields: {}, limit: 10 }, () => ({
        writes: { delete: ['d1'], insert: [{ id: 'd3', data: {}, createdAt: T0, updatedAt: T0 }] }, result: null,
      }))).rejects.toMatchObject({ code: 'conflict' });
      expect(await scanIds({})).toEqual(['d1', 'd3', 'd4']);
    });

    it('serialises concurrent read-modify-writes of one document', async () => {
      await Promise.all(Array.from({ length: 20 }, () =>
        store.modifyDocuments('docs', { fields: {}, ids: ['d2'], limit: 1 }, ([d]) => ({
          writes: { update: [{ ...d!, data: { ...d!.data, n: (d!.data.n as number) + 1 } }] }, result: null,
        }))));
      expect((await store.scanDocuments('docs', { fields: {}, ids: ['d2'], limit: 1 }))[0]!.data.n).toBe(22);
    });
  });
}
