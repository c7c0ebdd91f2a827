import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startHookyard, type Hookyard } from '../../src/hookyard.js';
import type { Logger } from 'pino';
import { createLogger } from '../../src/logger.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestHookyard {
  hookyard: Hookyard;
  url: string;
  dir: string;
  api<T = any>(method: string, path: string, body?: unknown, options?: { token?: string | null; headers?: Record<string, string>; raw?: string }): Promise<ApiResponse<T>>;
  stop(): Promise<void>;
}

/** A real Hookyard (HTTP server, worker, SQLite file) in this process, on a free port of 127.0.0.1. */
export async function startTestHookyard(env: Record<string, string> = {}, options: { logger?: Logger } = {}): Promise<TestHookyard> {
  const dir = mkdtempSync(join(tmpdir(), 'hookyard-test-'));
  const config = loadConfig(
    {
      HOOKYARD_PORT: '0',
      HOOKYARD_HOST: '127.0.0.1',
      HOOKYARD_DATABASE_URL: join(dir, 'hookyard.db'),
      HOOKYARD_ADMIN_TOKEN: ADMIN_TOKEN,
      HOOKYARD_ALLOW_PRIVATE_DESTINATIONS: 'true',
      HOOKYARD_LOG_LEVEL: 'silent',
      HOOKYARD_SQLITE_SYNCHRONOUS: 'normal',
      ...env,
    },
    dir,
  );
  const hookyard = await startHookyard(config, { logger: options.logger ?? createLogger(config.logLevel) });
  const url = hookyard.url;
  return {
    hookyard,
    url,
    dir,
    async api(method, path, body, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      const token = options.token === undefined ? ADMIN_TOKEN : options.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      let payload: string | undefined = options.raw;
      if (body !== undefined) {
        payload = JSON.stringify(body);
      }
      if (payload !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${url}${path}`, { method, headers, body: payload });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body: parsed as any, headers: response.headers };
    },
    async stop() {
      await hookyard.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
