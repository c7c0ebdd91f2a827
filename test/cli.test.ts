import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnServer } from './helpers/child.js';

const BIN = fileURLToPath(new URL('../bin/hookyard.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hookyard-cli-'));

/** What a newcomer sees: `hookyard serve` with no configuration at all. */
describe('hookyard serve', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts with no configuration, prints where it listens and the admin token once', async () => {
    const first = await spawnServer({ HOOKYARD_LOG_LEVEL: 'warn' }, dir);
    try {
      const token = /Admin token \(shown once, store it now\):\s+(hy_admin_\S+)/.exec(first.output())?.[1];
      expect(token).toBeDefined();
      const res = await fetch(`${first.url}/api/v1/apps`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect((await fetch(`${first.url}/api/v1/apps`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    } finally {
      first.process.kill('SIGTERM');
      expect(await first.exited).toBe(0);
    }
    // The database sits in ./data and the token is not printed again.
    const second = await spawnServer({ HOOKYARD_LOG_LEVEL: 'warn' }, dir);
    try {
      expect(second.output()).not.toContain('Admin token');
      expect(second.output()).not.toContain('hy_admin_');
    } finally {
      second.process.kill('SIGTERM');
      await second.exited;
    }
  });

  it('refuses a bad configuration value with one line naming the key', () => {
    const result = spawnSync(process.execPath, [BIN, 'serve'], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOOKYARD_PORT: 'eighty' }, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('hookyard: invalid configuration HOOKYARD_PORT: must be an integer from 0 to 65535 (got "eighty")');
  });
});
