import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../src/crypto/secret-box.js';
import { createDocumentDb, type DocumentDb } from '../src/inbound/handlers/documents.js';
import { createMongoExecutor, MongoOperationError, type MongoExecutor } from '../src/inbound/handlers/mongo.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { createSchema, describePg } from './helpers/postgres.js';

const box = SecretBox.fromKey('0'.repeat(64));

/** Two stores on one database where that is how it runs (PostgreSQL nodes), so that concurrency is real. */
interface Fixture {
  a: Store;
  b: Store;
  cleanup(): Promise<void>;
}

function runMongoSuite(name: string, makeFixture: () => Promise<Fixture>): void {
  describe(`mongo operations: ${name}`, () => {
    let fixture: Fixture;
    let mongo: MongoExecutor;
    let db: DocumentDb;
    let clock = Date.UTC(2026, 0, 1);
    let collections = 0;
    const now = () => (clock += 1);

    beforeAll(async () => {
      fixture = await makeFixture();
      mongo = createMongoExecutor(fixture.a, now);
      db = createDocumentDb(fixture.a, now);
    });
    afterAll(() => fixture?.cleanup());

    /** A fresh collection per test, with the executor's calls bound to it. */
    const collection = () => {
      const name = `c${++collections}`;
      return { name, call: (op: string, ...args: unknown[]) => mongo(name, op, args) };
    };
    const fails = (promise: Promise<unknown>, message: string | RegExp) =>
      expect(promise).rejects.toSatisfy((err: unknown) => {
        expect(err).toBeInstanceOf(MongoOperationError);
        expect((err as Error).message).toMatch(message);
        return true;
      });

    const seed = async () => {
      const c = collection();
      await c.call('insert_many', [
        { _id: 'p1', amount: 10, status: 'paid', customer: { id: 'c1', tier: 'gold' }, tags: ['a', 'b'], flag: true },
        { _id: 'p2', amount: 20, status: 'open', customer: { id: 'c2' }, tags: ['b'], flag: 1, note: null },
        { _id: 'p3', amount: 30, status: 'paid', customer: { id: 'c1' }, tags: [], name: 'zed' },
        { _id: 'p4', amount: 'n/a', status: 'void', customer: { id: 'c3' }, name: '{"a":1}' },
        { _id: 'p5', amount: 5.5, status: 'open', name: 'abe', nested: { a: 1 } },
      ]);
      const ids = async (filter: unknown, options?: unknown) =>
        ((await c.call('find', filter, options)) as Array<{ _id: string }>).map((doc) => doc._id);
      return { ...c, ids };
    };

    it('inserts one or many, generating ids, and ctx.db reads the same documents back', async () => {
      const c = collection();
      const one = (await c.call('insert_one', { kind: 'a', n: 1, at: { day: 1 } })) as { inserted_id: string };
      expect(one).toEqual({ inserted_id: expect.stringMatching(/^doc_/) });
      expect(await c.call('insert_one', { _id: 'mine', kind: 'b' })).toEqual({ inserted_id: 'mine' });
      const many = (await c.call('insert_many', [{ kind: 'c' }, { _id: 'x2', kind: 'd' }])) as { inserted_ids: string[] };
      expect(many.inserted_ids).toEqual([expect.stringMatching(/^doc_/), 'x2']);

      expect(await c.call('find_one', { _id: one.inserted_id })).toEqual({ _id: one.inserted_id, kind: 'a', n: 1, at: { day: 1 } });
      const viaDb = db.collection(c.name);
      expect(await viaDb.findOne({ _id: 'mine' })).toEqual({ _id: 'mine', kind: 'b' });
      expect((await viaDb.find()).map((doc) => doc.kind)).toEqual(['a', 'b', 'c', 'd']);
      await viaDb.insert({ _id: 'fromdb', kind: 'e', tags: ['t'] });
      expect(await c.call('find_one', { tags: 't' })).toEqual({ _id: 'fromdb', kind: 'e', tags: ['t'] });
      expect(await c.call('count_documents', {})).toBe(5);
      expect(await c.call('find_one', { kind: 'nope' })).toBeNull();
      expect(await c.call('find')).toHaveLength(5);
    });

    it('refuses duplicate ids, ids that are not strings and values that are not JSON', async () => {
      const c = collection();
      await c.call('insert_one', { _id: 'd1' });
      await expect(c.call('insert_one', { _id: 'd1' })).rejects.toMatchObject({ code: 'duplicate_key', message: expect.stringMatching(/duplicate key: _id "d1"/) });
      // Ordered, as pymongo's default: the documents before the duplicate stay inserted.
      await fails(c.call('insert_many', [{ _id: 'd2' }, { _id: 'd1' }, { _id: 'd3' }]), /document 1; the 1 before it were inserted/);
      expect(await c.call('count_documents', {})).toBe(2);
      await fails(c.call('insert_one', { _id: 5 }), /_id must be a non-empty string/);
      await fails(c.call('insert_one', { _id: '' }), /_id must be a non-empty string/);
      await fails(c.call('insert_one', { at: new Date() }), /must be plain JSON, but holds a Date object/);
      await fails(c.call('insert_one', { n: Number.NaN }), /NaN, which JSON cannot store/);
      await fails(c.call('insert_one', { n: undefined }), /plain JSON, but holds undefined/);
      await fails(c.call('insert_one', { $set: { a: 1 } }), /names starting with \$ are operators/);
      await fails(c.call('insert_one', 'text'), /must be an object, got a string/);
      await fails(c.call('insert_one'), /must be an object, got nothing/);
      await fails(c.call('insert_many', []), /list of 1 to 10000 documents/);
      // Checked before anything is written.
      await fails(c.call('insert_many', [{ _id: 'ok' }, 7]), /document 1 must be an object/);
      expect(await c.call('find_one', { _id: 'ok' })).toBeNull();
    });

    it('matches equality the MongoDB way: dotted paths, elements of arrays, null for missing, exact JSON types', async () => {
      const { ids } = await seed();
      expect(await ids({})).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
      expect(await ids({ status: 'paid' })).toEqual(['p1', 'p3']);
      expect(await ids({ 'customer.id': 'c1', amount: 30 })).toEqual(['p3']);
      expect(await ids({ tags: 'b' })).toEqual(['p1', 'p2']);
      expect(await ids({ tags: ['b'] })).toEqual(['p2']);
      expect(await ids({ tags: [] })).toEqual(['p3']);
      expect(await ids({ note: null })).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
      expect(await ids({ name: null })).toEqual(['p1', 'p2']);
      // true is not 1, and a string is not the object its text spells (SQLite's JSON functions blur both).
      expect(await ids({ flag: true })).toEqual(['p1']);
      expect(await ids({ flag: 1 })).toEqual(['p2']);
      expect(await ids({ name: '{"a":1}' })).toEqual(['p4']);
      expect(await ids({ nested: '{"a":1}' })).toEqual([]);
      expect(await ids({ nested: { a: 1 } })).toEqual(['p5']);
      expect(await ids({ customer: { tier: 'gold', id: 'c1' } })).toEqual(['p1']);
      expect(await ids({ 'customer.tier.x': 'gold' })).toEqual([]);
      expect(await ids({ _id: 'p2' })).toEqual(['p2']);
      expect(await ids({ _id: 2 })).toEqual([]);
      expect(await ids({ amount: 5.5 })).toEqual(['p5']);
    });

    it('evaluates $eq $ne $gt $gte $lt $lte $in $nin $exists, $and $or $nor', async () => {
      const { ids } = await seed();
      expect(await ids({ amount: { $eq: 20 } })).toEqual(['p2']);
      expect(await ids({ tags: { $eq: 'a' } })).toEqual(['p1']);
      expect(await ids({ status: { $ne: 'paid' } })).toEqual(['p2', 'p4', 'p5']);
      expect(await ids({ tags: { $ne: 'b' } })).toEqual(['p3', 'p4', 'p5']);
      expect(await ids({ amount: { $gt: 10 } })).toEqual(['p2', 'p3']);
      expect(await ids({ amount: { $gte: 10, $lt: 30 } })).toEqual(['p1', 'p2']);
      expect(await ids({ amount: { $lte: 10 } })).toEqual(['p1', 'p5']);
      // Mismatched types never compare: 'n/a' is not greater than a number, nor are numbers than a string.
      expect(await ids({ amount: { $gt: 'a' } })).toEqual(['p4']);
      expect(await ids({ name: { $gte: 'b' } })).toEqual(['p3', 'p4']);
      expect(await ids({ tags: { $gt: 'a' } })).toEqual(['p1', 'p2']);
      expect(await ids({ note: { $gte: null } })).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
      expect(await ids({ status: { $in: ['void', 'open'] } })).toEqual(['p2', 'p4', 'p5']);
      expect(await ids({ tags: { $in: ['a', 'zz'] } })).toEqual(['p1']);
      expect(await ids({ name: { $in: [null] } })).toEqual(['p1', 'p2']);
      expect(await ids({ status: { $nin: ['paid', 'open'] } })).toEqual(['p4']);
      expect(await ids({ _id: { $in: ['p5', 'p1', 7] } })).toEqual(['p1', 'p5']);
      expect(await ids({ note: { $exists: true } })).toEqual(['p2']);
      expect(await ids({ name: { $exists: false } })).toEqual(['p1', 'p2']);
      expect(await ids({ 'customer.tier': { $exists: 1 } })).toEqual(['p1']);
      expect(await ids({ $or: [{ status: 'void' }, { amount: { $lt: 10 } }] })).toEqual(['p4', 'p5']);
      expect(await ids({ $and: [{ status: 'paid' }, { amount: { $gt: 10 } }] })).toEqual(['p3']);
      expect(await ids({ $and: [{ tags: 'a' }, { tags: 'b' }] })).toEqual(['p1']);
      expect(await ids({ $nor: [{ status: 'paid' }, { status: 'open' }] })).toEqual(['p4']);
      expect(await ids({ status: 'open', $or: [{ amount: 20 }, { name: 'abe' }] })).toEqual(['p2', 'p5']);
    });

    it('sorts, skips, limits, projects and counts', async () => {
      const c = await seed();
      expect(await c.ids({}, { sort: [['amount', -1]] })).toEqual(['p4', 'p3', 'p2', 'p1', 'p5']);
      expect(await c.ids({}, { sort: { status: 1, amount: -1 } })).toEqual(['p2', 'p5', 'p3', 'p1', 'p4']);
      expect(await c.ids({ amount: { $gte: 0 } }, { sort: [['amount', 1]], skip: 1, limit: 2 })).toEqual(['p1', 'p2']);
      expect(await c.ids({}, { skip: 3 })).toEqual(['p4', 'p5']);
      expect(await c.ids({ status: 'open' }, { limit: 1 })).toEqual(['p2']);
      expect(await c.ids({}, { limit: 0 })).toHaveLength(5);
      expect(await c.call('find_one', { status: 'paid' }, { sort: [['amount', -1]], projection: { amount: 1 } })).toEqual({ _id: 'p3', amount: 30 });
      expect(await c.call('find_one', { _id: 'p1' }, { projection: { 'customer.tier': 1, _id: 0 } })).toEqual({ customer: { tier: 'gold' } });
      expect(await c.call('find_one', { _id: 'p1' }, { projection: { customer: 0, tags: 0, flag: false } })).toEqual({ _id: 'p1', amount: 10, status: 'paid' });
      expect(await c.call('find_one', { _id: 'p2' }, { projection: ['status'] })).toEqual({ _id: 'p2', status: 'open' });
      expect(await c.call('find_one', { _id: 'p2' }, { projection: { _id: 1 } })).toEqual({ _id: 'p2' });
      expect(await c.call('find_one', { _id: 'p2' }, { projection: {} })).toMatchObject({ _id: 'p2', amount: 20 });
      expect(await c.call('find_one', { _id: 'p2' }, { skip: 1 })).toBeNull();
      expect(await c.call('count_documents', { status: 'paid' })).toBe(2);
      expect(await c.call('count_documents', { amount: { $gt: 5 } }, { skip: 1, limit: 5 })).toBe(3);
      expect(await c.call('count_documents')).toBe(5);
      await fails(c.call('find', {}, { projection: { a: 1, b: 0 } }), /cannot mix included and excluded/);
      await fails(c.call('find', {}, { sort: [['amount', 2]] }), /sort must be/);
      await fails(c.call('find', {}, { sort: 'amount' }), /sort must be/);
      await fails(c.call('find', {}, { limit: -1 }), /limit must be a non-negative integer/);
      await fails(c.call('find', {}, { limit: 'ten' }), /limit must be a non-negative integer/);
      await fails(c.call('find', {}, { batch_size: 10 }), /unknown option "batch_size" for find/);
      await fails(c.call('find_one', {}, { limit: 10 }), /unknown option "limit" for find_one/);
    });

    it('updates one or many with $set $unset $inc $push, reporting matched and modified counts', async () => {
      const c = await seed();
      expect(await c.call('update_one', { status: 'paid' }, { $set: { status: 'refunded', 'refund.by': 'ops' }, $inc: { amount: -1 } }))
        .toEqual({ matched_count: 1, modified_count: 1, upserted_id: null });
      expect(await c.call('find_one', { _id: 'p1' })).toMatchObject({ status: 'refunded', refund: { by: 'ops' }, amount: 9 });
      expect(await c.call('update_many', { amount: { $gt: 10 } }, { $push: { tags: 'big' }, $unset: { note: '', 'customer.id': 1 } }))
        .toEqual({ matched_count: 2, modified_count: 2, upserted_id: null });
      expect(await c.call('find_one', { _id: 'p2' })).toEqual({ _id: 'p2', amount: 20, status: 'open', customer: {}, tags: ['b', 'big'], flag: 1 });
      expect(await c.call('update_one', { _id: 'p5' }, { $push: { tags: { $each: ['x', 'y'] } }, $inc: { 'stats.views': 2 } }))
        .toEqual({ matched_count: 1, modified_count: 1, upserted_id: null });
      expect(await c.call('find_one', { _id: 'p5' }, { projection: { tags: 1, stats: 1, _id: 0 } })).toEqual({ tags: ['x', 'y'], stats: { views: 2 } });
      // Setting what is there already matches without modifying; no match is not an error.
      expect(await c.call('update_many', { status: 'open' }, { $set: { status: 'open' } })).toEqual({ matched_count: 2, modified_count: 0, upserted_id: null });
      expect(await c.call('update_one', { status: 'gone' }, { $set: { a: 1 } })).toEqual({ matched_count: 0, modified_count: 0, upserted_id: null });
      // $setOnInsert does nothing to a document that exists.
      await c.call('update_one', { _id: 'p3' }, { $setOnInsert: { created: true }, $set: { seen: true } }, { upsert: true });
      expect(await c.call('find_one', { _id: 'p3' })).not.toHaveProperty('created');
      // ctx.db sees the same data, and the Mongo layer sees ctx.db's patch.
      const viaDb = db.collection(c.name);
      expect(await viaDb.findOne({ _id: 'p2' })).toMatchObject({ tags: ['b', 'big'] });
      await viaDb.update({ _id: 'p2' }, { status: 'closed' });
      expect(await c.call('count_documents', { status: 'closed' })).toBe(1);
    });

    it('refuses updates it cannot apply, and writes nothing of them', async () => {
      const c = await seed();
      await fails(c.call('update_one', { _id: 'p4' }, { $inc: { amount: 1 } }), /cannot \$inc "amount": it holds a string/);
      await fails(c.call('update_one', { _id: 'p1' }, { $inc: { amount: '1' } }), /\$inc on "amount" needs a number/);
      await fails(c.call('update_one', { _id: 'p1' }, { $push: { status: 'x' } }), /cannot \$push to "status": it holds a string/);
      await fails(c.call('update_one', { _id: 'p1' }, { $set: { 'amount.x': 1 } }), /cannot set "amount.x": "amount" holds a number/);
      await fails(c.call('update_one', { _id: 'p1' }, { $set: { 'tags.0': 'z' } }), /"tags" holds an array/);
      await fails(c.call('update_one', { _id: 'p1' }, { status: 'replaced' }), /must use operators .* replacing a whole document is not supported/);
      await fails(c.call('update_one', { _id: 'p1' }, { $set: { a: 1 }, status: 'x' }), /mixes operators and the field "status"/);
      await fails(c.call('update_one', { _id: 'p1' }, {}), /at least one operator/);
      await fails(c.call('update_one', { _id: 'p1' }), /at least one operator/);
      await fails(c.call('update_many', {}, { $pull: { tags: 'a' } }), 'unsupported update operator $pull (supported: $set $unset $inc $push $setOnInsert)');
      await fails(c.call('update_one', { _id: 'p1' }, { $push: { tags: { $each: ['x'], $slice: 2 } } }), /unsupported \$push modifier \$slice/);
      await fails(c.call('update_one', { _id: 'p1' }, { $set: { _id: 'other' } }), /cannot change "_id"/);
      await fails(c.call('update_one', { _id: 'p1' }, { $set: { a: 1 }, $inc: { a: 1 } }), /changes "a" and "a" at once/);
      await fails(c.call('update_one', { _id: 'p1' }, { $set: { a: 1, 'a.b': 2 } }), /changes "a.b" and "a" at once/);
      await fails(c.call('update_one', { _id: 'p1' }, { $set: 'x' }), /\$set needs an object of fields/);
      await fails(c.call('update_one', { _id: 'p1' }, { $set: { a: 1 } }, { upsert: 'yes' }), /upsert must be true or false/);
      await fails(c.call('update_one', { _id: 'p1' }, { $set: { a: 1 } }, { multi: true }), /unknown option "multi" for update_one/);
      // A failing update_many leaves every document as it was, including those it could have changed.
      await fails(c.call('update_many', {}, { $inc: { amount: 1 } }), /cannot \$inc "amount"/);
      expect(await c.ids({ amount: { $in: [10, 20, 30, 5.5] } })).toEqual(['p1', 'p2', 'p3', 'p5']);
      expect(await c.call('find_one', { _id: 'p1' })).not.toHaveProperty('a');
    });

    it('upserts a document built from the filter\'s equalities and the update', async () => {
      const c = collection();
      const first = (await c.call('update_one', { _id: 'counter', kind: 'hits', 'meta.day': '2026-01-01', n: { $gt: 100 } },
        { $inc: { n: 1 }, $setOnInsert: { created: true }, $push: { log: 'a' } }, { upsert: true })) as { upserted_id: string };
      expect(first).toEqual({ matched_count: 0, modified_count: 0, upserted_id: 'counter' });
      expect(await c.call('find_one', { _id: 'counter' })).toEqual({ _id: 'counter', kind: 'hits', meta: { day: '2026-01-01' }, n: 1, created: true, log: ['a'] });
      expect(await c.call('update_one', { _id: 'counter' }, { $inc: { n: 1 } }, { upsert: true })).toEqual({ matched_count: 1, modified_count: 1, upserted_id: null });
      const generated = (await c.call('update_many', { kind: { $eq: 'other' }, $and: [{ color: 'red' }] }, { $set: { size: 2 } }, { upsert: true })) as { upserted_id: string };
      expect(generated.upserted_id).toMatch(/^doc_/);
      expect(await c.call('find_one', { _id: generated.upserted_id })).toEqual({ _id: generated.upserted_id, kind: 'other', color: 'red', size: 2 });
      // The filter's _id is taken by a document that the rest of the filter does not match.
      await expect(c.call('update_one', { _id: 'counter', kind: 'nope' }, { $set: { a: 1 } }, { upsert: true }))
        .rejects.toMatchObject({ code: 'duplicate_key', message: expect.stringMatching(/_id "counter" already exists/) });
      await fails(c.call('update_one', { _id: 7 }, { $set: { a: 1 } }, { upsert: true }), /_id must be a non-empty string/);
      expect(await c.call('count_documents', {})).toBe(2);
    });

    it('deletes one or many', async () => {
      const c = await seed();
      expect(await c.call('delete_one', { status: 'paid' })).toEqual({ deleted_count: 1 });
      expect(await c.ids({ status: 'paid' })).toEqual(['p3']);
      expect(await c.call('delete_one', { amount: { $lt: 0 } })).toEqual({ deleted_count: 0 });
      expect(await c.call('delete_many', { $or: [{ status: 'open' }, { amount: 'n/a' }] })).toEqual({ deleted_count: 3 });
      expect(await c.ids({})).toEqual(['p3']);
      expect(await db.collection(c.name).find()).toEqual([expect.objectContaining({ _id: 'p3' })]);
      expect(await c.call('delete_many', {})).toEqual({ deleted_count: 1 });
      expect(await c.call('count_documents', {})).toBe(0);
    });

    it('names the unsupported query operator, and validates filters, collections and operations', async () => {
      const c = await seed();
      await fails(c.call('find', { name: { $regex: '^a' } }), 'unsupported query operator $regex (supported: $eq $ne $gt $gte $lt $lte $in $nin $exists)');
      await fails(c.call('delete_many', { $where: 'true' }), /unsupported query operator \$where/);
      await fails(c.call('count_documents', { name: { $not: { $eq: 'a' } } }), /unsupported query operator \$not/);
      await fails(c.call('find', { name: { $eq: 'a', other: 1 } }), /mixes operators and fields/);
      await fails(c.call('find', { status: { $in: 'paid' } }), /\$in on "status" needs an array/);
      await fails(c.call('find', { amount: { $gt: [1] } }), /\$gt on "amount" needs a number, string, boolean or null/);
      await fails(c.call('find', { note: { $exists: 'yes' } }), /\$exists on "note" needs true or false/);
      await fails(c.call('find', { $or: [] }), /\$or needs a non-empty array of filters/);
      await fails(c.call('find', { 'a..b': 1 }), /invalid field path "a..b"/);
      await fails(c.call('find', 'paid'), /a filter must be an object, got a string/);
      await fails(c.call('find', [{ status: 'paid' }]), /a filter must be an object, got an array/);
      await fails(c.call('find', {}, 5), /find's options must be an object/);
      await fails(c.call('find', {}, {}, {}), /find takes at most 2 arguments, got 3/);
      await fails(c.call('aggregate', []), /unsupported operation "aggregate"/);
      await fails(mongo('bad name!', 'find', []), /invalid collection name "bad name!"/);
      await fails(mongo(7 as unknown as string, 'find', []), /invalid collection name 7/);
      await fails(mongo(c.name, 'find', 'x' as unknown as unknown[]), /arguments of find must be a list/);
      await fails(mongo(c.name, { op: 'find' } as unknown as string, []), /unsupported operation/);
      // A filter that is not plain JSON cannot widen: undefined must not turn into "match everything".
      await fails(c.call('delete_many', { _id: undefined }), /plain JSON, but holds undefined/);
      expect(await c.call('count_documents', {})).toBe(5);
    });

    it('filters in TS over at most the scan cap of candidate rows, and says to add an equality filter beyond it', async () => {
      const capped = createMongoExecutor(fixture.a, now, { scanCap: 3 });
      const c = await seed();
      const call = (op: string, ...args: unknown[]) => capped(c.name, op, args);
      await fails(call('find', { amount: { $gt: 0 } }), /find would examine more than 3 documents: add an equality filter/);
      await fails(call('count_documents', {}), /more than 3 documents/);
      await fails(call('update_many', { amount: { $gt: 0 } }, { $set: { x: 1 } }), /update_many would examine more than 3/);
      await fails(call('delete_many', { name: { $exists: true } }), /delete_many would examine more than 3/);
      await fails(call('find', {}, { sort: [['amount', 1]], limit: 1 }), /more than 3/);
      // Enough when the first matches lie within the cap, or equality narrows the candidates.
      expect(await call('find_one', { amount: { $gt: 0 } })).toMatchObject({ _id: 'p1' });
      expect(await call('find', { status: 'paid', amount: { $gt: 0 } })).toHaveLength(2);
      expect(await call('update_one', { amount: { $gte: 20 } }, { $set: { x: 1 } })).toMatchObject({ matched_count: 1 });
      expect(await call('delete_one', { name: 'abe' })).toEqual({ deleted_count: 1 });
      expect(await call('count_documents', { status: 'paid' })).toBe(2);
      // A limit on an equality-only filter goes to SQL.
      expect(await call('find', { tags: 'b' }, { limit: 1 })).toEqual([expect.objectContaining({ _id: 'p1' })]);
      await fails(call('find', { tags: { $exists: true } }, { limit: 4 }), /more than 3/);
    });

    it('loses no concurrent update: 50 $inc at once (from two nodes on PostgreSQL) count 50', async () => {
      const c = collection();
      const other = createMongoExecutor(fixture.b, now);
      await c.call('insert_one', { _id: 'hits', n: 0, who: [] });
      await Promise.all(Array.from({ length: 50 }, (_, i) =>
        (i % 2 === 0 ? mongo : other)(c.name, 'update_one', [{ _id: 'hits' }, { $inc: { n: 1 }, $push: { who: i } }])));
      const doc = (await c.call('find_one', { _id: 'hits' })) as { n: number; who: number[] };
      expect(doc.n).toBe(50);
      expect([...doc.who].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    });

    it('loses no concurrent update through TS-evaluated filters, update_many and upserts', async () => {
      const c = collection();
      const other = createMongoExecutor(fixture.b, now);
      await c.call('insert_many', [{ _id: 'a', n: 0, group: 'g' }, { _id: 'b', n: 0, group: 'g' }]);
      const run = (i: number, op: string, args: unknown[]) => (i % 2 === 0 ? mongo : other)(c.name, op, args);
      await Promise.all([
        ...Array.from({ length: 20 }, (_, i) => run(i, 'update_many', [{ group: 'g', n: { $gte: 0 } }, { $inc: { n: 1 } }])),
        ...Array.from({ length: 20 }, (_, i) => run(i, 'update_one', [{ _id: 'up', kind: 'counter' }, { $inc: { n: 1 } }, { upsert: true }])),
      ]);
      expect(await c.call('find', {}, { projection: { n: 1 }, sort: { _id: 1 } })).toEqual([
        { _id: 'a', n: 20 }, { _id: 'b', n: 20 }, { _id: 'up', n: 20 },
      ]);
      // Each document is deleted once, by one of the racing deleters.
      const deleted = await Promise.all(Array.from({ length: 10 }, (_, i) => run(i, 'delete_one', [{ n: { $gte: 20 } }])));
      expect(deleted.reduce((sum: number, result) => sum + (result as { deleted_count: number }).deleted_count, 0)).toBe(3);
    });

    it('lets ctx.db updates and Mongo $inc run at once without losing either', async () => {
      const c = collection();
      await c.call('insert_one', { _id: 'doc', n: 0 });
      const viaDb = createDocumentDb(fixture.b, now).collection(c.name);
      await Promise.all([
        ...Array.from({ length: 20 }, () => c.call('update_one', { _id: 'doc' }, { $inc: { n: 1 } })),
        ...Array.from({ length: 20 }, (_, i) => viaDb.update({ _id: 'doc' }, { [`k${i}`]: i })),
      ]);
      const doc = (await c.call('find_one', { _id: 'doc' })) as Record<string, unknown>;
      expect(doc.n).toBe(20);
      expect(Object.keys(doc)).toHaveLength(22);
    });
  });
}

// One store: two better-sqlite3 connections in one process would block each other's event loop on the file lock.
runMongoSuite('sqlite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookyard-mongo-'));
  const store = await openStore({ databaseUrl: `sqlite:${join(dir, 'hookyard.db')}`, box });
  return { a: store, b: store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
});

describePg('postgres', () => {
  runMongoSuite('postgres, two nodes on one schema', async () => {
    const schema = await createSchema();
    const a = await openStore({ databaseUrl: schema.url, box });
    const b = await openStore({ databaseUrl: schema.url, box });
    return { a, b, cleanup: async () => { await b.close(); await a.close(); await schema.drop(); } };
  });
});
