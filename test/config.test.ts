import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'hookyard-config-'));

describe('config', () => {
  it('has working defaults', () => {
    const config = loadConfig({}, dir);
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      role: 'all',
      databaseUrl: `sqlite:${join(dir, 'data/hookyard.db')}`,
      dataDir: join(dir, 'data'),
      allowPrivateDestinations: false,
      retrySchedule: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
      deliveryTimeoutMs: 15_000,
      maxBodyBytes: 1_048_576,
      logLevel: 'info',
      endpointDisableAfterMs: 5 * 86_400_000,
      pgPoolSize: 10,
      handlerThreads: 2,
      handlerMemoryMb: 128,
      pythonWorkers: 2,
      python: 'python3',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(loadConfig({ HOOKYARD_HANDLER_THREADS: '0', HOOKYARD_HANDLER_MEMORY_MB: '16', HOOKYARD_PYTHON_WORKERS: '64', HOOKYARD_PYTHON: '/usr/bin/python3.12' }, dir))
      .toMatchObject({ handlerThreads: 0, handlerMemoryMb: 16, pythonWorkers: 64, python: '/usr/bin/python3.12' });
  });

  it('layers file < environment < overrides, and ignores unset overrides', () => {
    const here = mkdtempSync(join(tmpdir(), 'hookyard-config-'));
    writeFileSync(join(here, 'hookyard.config.json'), JSON.stringify({ HOOKYARD_PORT: 9000, HOOKYARD_LOG_LEVEL: 'debug', HOOKYARD_RETRY_SCHEDULE: ['1s', '2m'] }));
    expect(loadConfig({}, here)).toMatchObject({ port: 9000, logLevel: 'debug', retrySchedule: [1000, 120_000] });
    expect(loadConfig({ HOOKYARD_PORT: '9001' }, here).port).toBe(9001);
    expect(loadConfig({ HOOKYARD_PORT: '9001' }, here, { HOOKYARD_PORT: '9002' }).port).toBe(9002);
    expect(loadConfig({ HOOKYARD_PORT: '9001' }, here, { HOOKYARD_PORT: undefined, HOOKYARD_ROLE: undefined })).toMatchObject({ port: 9001, role: 'all' });
  });

  it.each([
    ['HOOKYARD_PORT', 'abc'],
    ['HOOKYARD_PORT', '70000'],
    ['HOOKYARD_ALLOW_PRIVATE_DESTINATIONS', 'maybe'],
    ['HOOKYARD_RETRY_SCHEDULE', '5s,soon'],
    ['HOOKYARD_DELIVERY_TIMEOUT_MS', '-1'],
    ['HOOKYARD_LOG_LEVEL', 'loud'],
    ['HOOKYARD_ROLE', 'boss'],
    ['HOOKYARD_DATABASE_URL', 'mysql://x'],
    ['HOOKYARD_ADMIN_TOKEN', 'short'],
    ['HOOKYARD_OPERATIONAL_WEBHOOK_URL', 'not a url'],
    ['HOOKYARD_PG_POOL_SIZE', '1'],
    ['HOOKYARD_HANDLER_THREADS', '-1'],
    ['HOOKYARD_HANDLER_MEMORY_MB', '8'],
    ['HOOKYARD_PYTHON_WORKERS', '0'],
    ['HOOKYARD_PYTHON_WORKERS', '65'],
    ['HOOKYARD_PORTAL_FRAME_ANCESTORS', "https://a.example.com; script-src *"],
    ['HOOKYARD_PORTAL_FRAME_ANCESTORS', "'unsafe-inline'"],
    ['HOOKYARD_PORTAL_FRAME_ANCESTORS', "'none' https://a.example.com"],
  ])('rejects %s=%s with an error naming the key', (key, value) => {
    expect(() => loadConfig({ [key]: value }, dir)).toThrow(ConfigError);
    expect(() => loadConfig({ [key]: value }, dir)).toThrow(new RegExp(`^invalid configuration ${key}: `));
  });

  it('reads the portal frame ancestors as a list of origins', () => {
    expect(loadConfig({}, dir).portalFrameAncestors).toEqual(["'self'"]);
    expect(loadConfig({ HOOKYARD_PORTAL_FRAME_ANCESTORS: "'self', https://app.example.com https://*.example.org:8443" }, dir).portalFrameAncestors)
      .toEqual(["'self'", 'https://app.example.com', 'https://*.example.org:8443']);
  });

  it('rejects an unknown key or bad JSON in the config file', () => {
    const here = mkdtempSync(join(tmpdir(), 'hookyard-config-'));
    writeFileSync(join(here, 'hookyard.config.json'), JSON.stringify({ PORT: 1 }));
    expect(() => loadConfig({}, here)).toThrow(/invalid configuration PORT/);
    writeFileSync(join(here, 'hookyard.config.json'), '{nope');
    expect(() => loadConfig({}, here)).toThrow(/invalid configuration HOOKYARD_CONFIG/);
  });
});
