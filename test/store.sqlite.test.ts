import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretBox } from '../src/crypto/secret-box.js';
import { openStore } from '../src/store/open-store.js';
import { runStoreContract } from './store.contract.js';
import { runConfigCacheContract } from './store-config-cache.contract.js';
import { runInboundStoreContract } from './store-inbound.contract.js';

const box = SecretBox.fromKey('0'.repeat(64));

async function fileStore() {
  const dir = mkdtempSync(join(tmpdir(), 'hookyard-store-'));
  const path = join(dir, 'hookyard.db');
  const store = await openStore({ databaseUrl: `sqlite:${path}`, box });
  return { store, path, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
}

runStoreContract('sqlite', fileStore);
runInboundStoreContract('sqlite', fileStore);
runConfigCacheContract('sqlite, two processes on one file', async () => {
  const { store: a, path, cleanup } = await fileStore();
  const b = await openStore({ databaseUrl: `sqlite:${path}`, box });
  return { a, b, cleanup: async () => { await b.close(); await cleanup(); } };
});

describe('sqlite store specifics', () => {
  it('keeps endpoint secrets encrypted at rest', async () => {
    const { store, path, cleanup } = await fileStore();
    const app = await store.createApp({ id: 'app_1', uid: null, name: 'a', metadata: {}, portal: null, createdAt: 1, updatedAt: 1 });
    const secret = 'whsec_c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw==';
    await store.createEndpoint(
      { id: 'ep_1', appId: app.id, url: 'https://x.test/', description: '', eventTypes: null, headers: {}, rateLimit: null, timeoutMs: null,
        disabled: false, disabledReason: null, failingSince: null, flavor: 'standard', channels: null, payloadMode: 'full', ordering: 'parallel', metadata: {}, createdAt: 1, updatedAt: 1 },
      secret,
    );
    await store.close();
    const raw = new Database(path, { readonly: true });
    const rows = raw.prepare('SELECT secret_enc FROM endpoint_secrets').all() as Array<{ secret_enc: string }>;
    raw.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secret_enc).not.toContain('c2VjcmV0');
    expect(rows[0]!.secret_enc.startsWith('v1:')).toBe(true);
    const reopened = await openStore({ databaseUrl: `sqlite:${path}`, box });
    expect(await reopened.getActiveSecrets('ep_1', 2)).toEqual([secret]);
    await reopened.close();
    await cleanup().catch(() => undefined);
  });

  it('applies migrations once and records them', async () => {
    const { store, path, cleanup } = await fileStore();
    await store.close();
    const again = await openStore({ databaseUrl: `sqlite:${path}`, box });
    await again.close();
    const raw = new Database(path, { readonly: true });
    const versions = raw.prepare('SELECT version FROM hookyard_migrations').all();
    raw.close();
    expect(versions).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }, { version: 7 }, { version: 8 }, { version: 9 }, { version: 10 }]);
    await cleanup().catch(() => undefined);
  });
});
