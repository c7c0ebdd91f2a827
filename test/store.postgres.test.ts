import pg from 'pg';
import { expect, it } from 'vitest';
import { SecretBox } from '../src/crypto/secret-box.js';
import { openStore } from '../src/store/open-store.js';
import { decideOutcome } from '../src/delivery/outcome.js';
import { recordOutcomes } from '../src/store/outcomes.js';
import { pgDialect } from '../src/store/postgres/pg-dialect.js';
import { PgExecutor } from '../src/store/postgres/pg-executor.js';
import { createSchema, describePg } from './helpers/postgres.js';
import { runConfigCacheContract } from './store-config-cache.contract.js';
import { runInboundStoreContract } from './store-inbound.contract.js';
import { runStoreContract } from './store.contract.js';

const box = SecretBox.fromKey('0'.repeat(64));

async function schemaStore() {
  const schema = await createSchema();
  const store = await openStore({ databaseUrl: schema.url, box });
  return { store, schema, cleanup: async () => { await store.close(); await schema.drop(); } };
}

describePg('postgres store', () => {
  runStoreContract('postgres', schemaStore);
  runInboundStoreContract('postgres', schemaStore);
  runConfigCacheContract('postgres, two nodes on one schema', async () => {
    const { store: a, schema, cleanup } = await schemaStore();
    const b = await openStore({ databaseUrl: schema.url, box });
    return { a, b, cleanup: async () => { await b.close(); await cleanup(); } };
  });

  it('applies migrations once when several nodes start at the same moment', async () => {
    const schema = await createSchema();
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => openStore({ databaseUrl: schema.url, box })));
      await Promise.all(stores.map((store) => store.close()));
      const client = new pg.Client({ connectionString: schema.url });
      await client.connect();
      const { rows } = await client.query('SELECT version FROM hookyard_migrations ORDER BY version');
      await client.end();
      expect(rows.map((row) => Number(row.version))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    } finally {
      await schema.drop();
    }
  });

  it('runs a transaction again when PostgreSQL aborts it as a deadlock (batches meeting on keys in opposite orders)', async () => {
    const schema = await createSchema();
    const exec = new PgExecutor({ connectionString: schema.url });
    try {
      await exec.run('CREATE TABLE keys (k TEXT PRIMARY KEY)');
      let runs = 0;
      let bothHoldOne!: () => void;
      const barrier = new Promise<void>((resolve) => (bothHoldOne = resolve));
      let holding = 0;
      const insertBoth = (first: string, second: string) =>
        exec.transaction(async (tx) => {
          runs++;
          await tx.run('INSERT INTO keys (k) VALUES ($1) ON CONFLICT DO NOTHING', [first]);
          if (++holding === 2) bothHoldOne();
          await barrier;
          await tx.run('INSERT INTO keys (k) VALUES ($1) ON CONFLICT DO NOTHING', [second]);
        });
      await Promise.all([insertBoth('k1', 'k2'), insertBoth('k2', 'k1')]);
      // Each held one key and waited for the other's: PostgreSQL aborted one, which ran again (a rerun can meet the
      // other once more, so at least one rerun, not exactly one).
      expect(runs).toBeGreaterThanOrEqual(3);
      expect((await exec.all<{ k: string }>('SELECT k FROM keys ORDER BY k')).map((row) => row.k)).toEqual(['k1', 'k2']);
    } finally {
      await exec.close();
      await schema.drop();
    }
  });

  it('lets two workers claim at once without taking the same delivery (SKIP LOCKED)', async () => {
    const { store, schema, cleanup } = await schemaStore();
    const other = await openStore({ databaseUrl: schema.url, box });
    try {
      const now = Date.UTC(2026, 0, 1);
      const app = await store.createApp({ id: 'app_pg1', uid: null, name: 'a', metadata: {}, portal: null, createdAt: now, updatedAt: now });
      await store.createEndpoint(
        { id: 'ep_pg1', appId: app.id, url: 'https://x.test/', description: '', eventTypes: null, headers: {}, rateLimit: null, timeoutMs: null,
          disabled: false, disabledReason: null, failingSince: null, flavor: 'standard', channels: null, payloadMode: 'full', ordering: 'parallel', metadata: {}, createdAt: now, updatedAt: now },
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      );
      await store.insertMessages(Array.from({ length: 200 }, (_, i) => ({
        message: { id: `msg_${String(i).padStart(4, '0')}`, appId: app.id, eventType: 'e', eventId: null, payload: '{}', channels: null, resourceUrl: null, createdAt: now },
        endpointIds: ['ep_pg1'],
      })));
      const claims = await Promise.all([store, other, store, other].map((s, i) =>
        s.claimDueDeliveries({ now, limit: 80, leaseUntil: now + 30_000, owner: `w${i}`, excludeEndpoints: [] })));
      const ids = claims.flat().map((d) => d.messageId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(200);
    } finally {
      await other.close();
      await cleanup();
    }
  });

  // The batch's own UPDATE holds a delivery whose lease it has; one whose lease ran out is held by the attempt INSERT alone.
  it.each(['w1', 'w-late'])('leaves no attempt behind when an endpoint is deleted while an outcome batch of %s is being committed (no foreign keys)', async (owner) => {
    const { store, schema, cleanup } = await schemaStore();
    const exec = new PgExecutor({ connectionString: schema.url });
    try {
      const now = Date.UTC(2026, 0, 1);
      const app = await store.createApp({ id: 'app_pg2', uid: null, name: 'a', metadata: {}, portal: null, createdAt: now, updatedAt: now });
      const endpoint = await store.createEndpoint(
        { id: 'ep_pg2', appId: app.id, url: 'https://x.test/', description: '', eventTypes: null, headers: {}, rateLimit: null, timeoutMs: null,
          disabled: false, disabledReason: null, failingSince: null, flavor: 'standard', channels: null, payloadMode: 'full', ordering: 'parallel', metadata: {}, createdAt: now, updatedAt: now },
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      );
      await store.insertMessages([{ message: { id: 'msg_pg2', appId: app.id, eventType: 'e', eventId: null, payload: '{}', channels: null, resourceUrl: null, createdAt: now }, endpointIds: [endpoint.id] }]);
      const [claimed] = await store.claimDueDeliveries({ now, limit: 1, leaseUntil: now + 30_000, owner: 'w1', excludeEndpoints: [] });
      const outcome = decideOutcome(claimed!, endpoint.url, { kind: 'response', statusCode: 200, headers: {}, body: '', durationMs: 1 }, now, { retrySchedule: [] });
      // The batch has written its attempt and holds the transaction open while the endpoint is deleted beside it.
      let commit!: () => void;
      const held = new Promise<void>((resolve) => (commit = resolve));
      let written!: () => void;
      const attemptWritten = new Promise<void>((resolve) => (written = resolve));
      const batch = exec.transaction(async (tx) => {
        await recordOutcomes(tx, pgDialect(), [outcome], { now, disableAfterMs: 1e9, owner });
        written();
        await held;
      }, { durable: false });
      await attemptWritten;
      let deleted = false;
      const deletion = store.deleteEndpoint(app.id, endpoint.id).then((result) => (deleted = result));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(deleted).toBe(false); // waiting for the batch's hold on the delivery
      commit();
      await batch;
      expect(await deletion).toBe(true);
      expect(await exec.all('SELECT id FROM attempts')).toEqual([]);
      expect(await exec.all('SELECT message_id FROM deliveries')).toEqual([]);
    } finally {
      await exec.close();
      await cleanup();
    }
  });
});
