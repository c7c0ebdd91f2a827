/** Starting `hookyard serve` (the built CLI, bin/hookyard.js) for a benchmark, and calling its API. */
import type { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { request, type Dispatcher } from 'undici';
import { ROOT, startProcess } from './util.js';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789';

export interface HookyardProcess {
  child: ChildProcess;
  /** http://127.0.0.1:<port> */
  url: string;
}

/**
 * One `hookyard serve` process on a free port of 127.0.0.1, with the admin token above and warn-level logs; `env` adds
 * to (or overrides) that, e.g. the database of `benchDatabase()`. `cpuProf`: a directory for a V8 CPU profile.
 */
export async function startHookyard(options: { dir: string; env: Record<string, string | undefined>; role?: 'all' | 'api' | 'worker'; cpuProf?: string }): Promise<HookyardProcess> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOOKYARD_PORT: '0',
    HOOKYARD_HOST: '127.0.0.1',
    HOOKYARD_ADMIN_TOKEN: ADMIN_TOKEN,
    HOOKYARD_LOG_LEVEL: 'warn',
    ...options.env,
  };
  const profile = options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.cpuProf)}`] : [];
  const args = [...profile, join(ROOT, 'bin/hookyard.js'), 'serve', ...(options.role ? ['--role', options.role] : [])];
  const { child, match } = await startProcess(process.execPath, args, env, /listening on (http:\/\/[\d.:]+)/, options.dir);
  return { child, url: match[1]! };
}

/** Calls Hookyard's API as the admin; answers JSON (parsed) or text. `dispatcher`: an undici Agent to reuse. */
export async function hookyardApi(base: string, method: 'GET' | 'POST', path: string, body?: unknown, dispatcher?: Dispatcher): Promise<any> {
  const res = await request(`${base}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    dispatcher,
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
  return String(res.headers['content-type'] ?? '').includes('json') ? JSON.parse(text) : text;
}
