import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDuration } from './duration.js';

export type Role = 'all' | 'api' | 'worker';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly role: Role;
  /** `sqlite:<path>` resolved to an absolute path, or a `postgres://` URL. */
  readonly databaseUrl: string;
  readonly dataDir: string;
  readonly adminToken: string | undefined;
  readonly secretKey: string | undefined;
  readonly allowPrivateDestinations: boolean;
  /** Delays in ms after the first (immediate) attempt. */
  readonly retrySchedule: readonly number[];
  readonly deliveryTimeoutMs: number;
  readonly workerConcurrency: number;
  /** Attempts in flight to one endpoint at most, so that a slow endpoint cannot take every worker slot. */
  readonly endpointConcurrency: number;
  readonly endpointDisableAfterMs: number;
  readonly operationalWebhookUrl: string | undefined;
  readonly handlersDir: string;
  readonly maxBodyBytes: number;
  /** Believe X-Forwarded-For/-Proto/-Host (behind a reverse proxy); otherwise the socket's address is the client's. */
  readonly trustProxy: boolean;
  readonly handlerTimeoutMs: number;
  /** How long a sync-mode source waits for its handler before answering 202 and finishing in the background. */
  readonly syncResponseTimeoutMs: number;
  /** Worker threads that run JavaScript/TypeScript handlers; 0 runs them in the main thread. */
  readonly handlerThreads: number;
  /** Heap limit of each handler thread, in MB. */
  readonly handlerMemoryMb: number;
  /** Python processes that run `.py` handlers, started on first use. */
  readonly pythonWorkers: number;
  /** The Python interpreter for `.py` handlers: a name on PATH or a path. */
  readonly python: string;
  /** Inbound requests processed at once by one worker. */
  readonly inboundConcurrency: number;
  readonly requestRetentionMs: number;
  readonly maxRequestsPerSource: number;
  readonly logLevel: LogLevel;
  readonly sqliteSynchronous: 'full' | 'normal';
  /** Connections per node to PostgreSQL (ignored on SQLite). */
  readonly pgPoolSize: number;
  /** Who may embed the consumer portal in a frame: CSP frame-ancestors sources (origins, `'self'`, `'none'`). */
  readonly portalFrameAncestors: readonly string[];
  /** Workflow executions run at once by one node. */
  readonly workflowConcurrency: number;
  /** The values `{{$env.NAME}}` may read in workflows: only the names HOOKYARD_WORKFLOW_ENV lists. */
  readonly workflowEnv: Readonly<Record<string, string>>;
  /** Where a workflow's e-mail notify node sends (smtp:// or smtps://, credentials in the URL); unset = e-mail fails. */
  readonly smtpUrl: string | undefined;
  readonly smtpFrom: string;
}

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`invalid configuration ${key}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Source = Record<string, string | undefined>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Reads defaults, then `hookyard.config.json` (same keys as the environment), then `HOOKYARD_*` variables;
 * validates everything once and freezes the result. A bad value throws a ConfigError naming the key.
 */
export function loadConfig(env: Source = process.env, cwd = process.cwd(), overrides: Source = {}): Config {
  const file = readConfigFile(env.HOOKYARD_CONFIG ?? 'hookyard.config.json', cwd, env.HOOKYARD_CONFIG !== undefined);
  const merged: Source = { ...file, ...pickHookyard(env), ...pickHookyard(overrides) };
  const get = (key: string): string | undefined => {
    const value = merged[key];
    return value === undefined || value === '' ? undefined : value;
  };

  const databaseUrl = resolveDatabaseUrl(get('HOOKYARD_DATABASE_URL') ?? './data/hookyard.db', cwd);
  const dataDir = resolve(
    cwd,
    get('HOOKYARD_DATA_DIR') ?? (databaseUrl.startsWith('sqlite:') ? dirname(databaseUrl.slice(7)) : './data'),
  );

  const config: Config = {
    port: integer(get, 'HOOKYARD_PORT', 8080, 0, 65535),
    host: get('HOOKYARD_HOST') ?? '0.0.0.0',
    role: oneOf(get, 'HOOKYARD_ROLE', ['all', 'api', 'worker'] as const, 'all'),
    databaseUrl,
    dataDir,
    adminToken: tokenValue(get, 'HOOKYARD_ADMIN_TOKEN'),
    secretKey: get('HOOKYARD_SECRET_KEY'),
    allowPrivateDestinations: boolean(get, 'HOOKYARD_ALLOW_PRIVATE_DESTINATIONS', false),
    retrySchedule: schedule(get, 'HOOKYARD_RETRY_SCHEDULE', '5s,5m,30m,2h,5h,10h,10h'),
    deliveryTimeoutMs: integer(get, 'HOOKYARD_DELIVERY_TIMEOUT_MS', 15_000, 100, 300_000),
    workerConcurrency: integer(get, 'HOOKYARD_WORKER_CONCURRENCY', 128, 1, 10_000),
    endpointConcurrency: integer(get, 'HOOKYARD_ENDPOINT_CONCURRENCY', 32, 1, 10_000),
    endpointDisableAfterMs: duration(get, 'HOOKYARD_ENDPOINT_DISABLE_AFTER', '5d'),
    operationalWebhookUrl: url(get, 'HOOKYARD_OPERATIONAL_WEBHOOK_URL'),
    handlersDir: resolve(cwd, get('HOOKYARD_HANDLERS_DIR') ?? './handlers'),
    maxBodyBytes: integer(get, 'HOOKYARD_MAX_BODY_BYTES', 1_048_576, 1, 256 * 1_048_576),
    logLevel: oneOf(get, 'HOOKYARD_LOG_LEVEL', LOG_LEVELS, 'info'),
    sqliteSynchronous: oneOf(get, 'HOOKYARD_SQLITE_SYNCHRONOUS', ['full', 'normal'] as const, 'full'),
    pgPoolSize: integer(get, 'HOOKYARD_PG_POOL_SIZE', 10, 2, 1_000),
    trustProxy: boolean(get, 'HOOKYARD_TRUST_PROXY', false),
    handlerTimeoutMs: integer(get, 'HOOKYARD_HANDLER_TIMEOUT_MS', 30_000, 10, 600_000),
    syncResponseTimeoutMs: integer(get, 'HOOKYARD_SYNC_RESPONSE_TIMEOUT_MS', 10_000, 10, 600_000),
    handlerThreads: integer(get, 'HOOKYARD_HANDLER_THREADS', 2, 0, 256),
    handlerMemoryMb: integer(get, 'HOOKYARD_HANDLER_MEMORY_MB', 128, 16, 65_536),
    pythonWorkers: integer(get, 'HOOKYARD_PYTHON_WORKERS', 2, 1, 64),
    python: get('HOOKYARD_PYTHON') ?? 'python3',
    inboundConcurrency: integer(get, 'HOOKYARD_INBOUND_CONCURRENCY', 16, 1, 1_000),
    requestRetentionMs: duration(get, 'HOOKYARD_REQUEST_RETENTION', '30d'),
    maxRequestsPerSource: integer(get, 'HOOKYARD_MAX_REQUESTS_PER_SOURCE', 1_000_000, 1, 1_000_000_000),
    portalFrameAncestors: frameAncestors(get('HOOKYARD_PORTAL_FRAME_ANCESTORS') ?? "'self'"),
    workflowConcurrency: integer(get, 'HOOKYARD_WORKFLOW_CONCURRENCY', 16, 1, 1_000),
    workflowEnv: workflowEnv(get('HOOKYARD_WORKFLOW_ENV'), { ...env, ...overrides }),
    smtpUrl: smtpUrl(get('HOOKYARD_SMTP_URL')),
    smtpFrom: get('HOOKYARD_SMTP_FROM') ?? 'hookyard@localhost',
  };
  // Every node must decrypt what another encrypted; a key generated per node's data dir would not be shared.
  if (!config.databaseUrl.startsWith('sqlite:') && config.secretKey === undefined) {
    throw new ConfigError('HOOKYARD_SECRET_KEY', 'is required with PostgreSQL: set the same key on every node (32 bytes, hex or base64)');
  }
  return Object.freeze(config);
}

// An origin (scheme://host[:port], the host may start with `*.`), or one of CSP's two keywords. Anything else, a `;`
// above all, could rewrite the portal's Content-Security-Policy.
const FRAME_ANCESTOR = /^(?:'self'|'none'|https?:\/\/(?:\*\.)?[A-Za-z0-9.-]+(?::\d{1,5})?)$/;

function frameAncestors(value: string): string[] {
  const sources = value.split(/[\s,]+/).filter((source) => source !== '');
  const bad = sources.find((source) => !FRAME_ANCESTOR.test(source));
  if (bad !== undefined || sources.length === 0) {
    throw new ConfigError('HOOKYARD_PORTAL_FRAME_ANCESTORS', `"${bad ?? value}" is not an origin (https://app.example.com), 'self' or 'none'`);
  }
  if (sources.includes("'none'") && sources.length > 1) throw new ConfigError('HOOKYARD_PORTAL_FRAME_ANCESTORS', "'none' cannot be combined with other sources");
  return sources;
}

function pickHookyard(source: Source): Source {
  const out: Source = {};
  for (const [key, value] of Object.entries(source)) if (key.startsWith('HOOKYARD_') && value !== undefined) out[key] = value;
  return out;
}

function readConfigFile(path: string, cwd: string, required: boolean): Source {
  const full = resolve(cwd, path);
  if (!existsSync(full)) {
    if (required) throw new ConfigError('HOOKYARD_CONFIG', `file ${full} does not exist`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(full, 'utf8'));
  } catch (err) {
    throw new ConfigError('HOOKYARD_CONFIG', `${full} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('HOOKYARD_CONFIG', `${full} must hold a JSON object`);
  }
  const out: Source = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!key.startsWith('HOOKYARD_')) throw new ConfigError(key, `unknown key in ${full} (keys are HOOKYARD_* names)`);
    if (Array.isArray(value)) out[key] = value.join(',');
    else if (value !== null && typeof value === 'object') throw new ConfigError(key, 'must be a string, number or boolean');
    else out[key] = value === null ? undefined : String(value);
  }
  return out;
}

function resolveDatabaseUrl(value: string, cwd: string): string {
  if (/^postgres(ql)?:\/\//.test(value)) return value;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new ConfigError('HOOKYARD_DATABASE_URL', 'must be a SQLite file path, sqlite:<path>, or postgres://…');
  }
  const path = value.startsWith('sqlite:') ? value.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') : value;
  if (path === ':memory:') return 'sqlite::memory:';
  return `sqlite:${resolve(cwd, path)}`;
}

type Getter = (key: string) => string | undefined;

function integer(get: Getter, key: string, fallback: number, min: number, max: number): number {
  const raw = get(key);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new ConfigError(key, `must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

function boolean(get: Getter, key: string, fallback: boolean): boolean {
  const raw = get(key)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(key, `must be true or false (got "${raw}")`);
}

function oneOf<T extends string>(get: Getter, key: string, allowed: readonly T[], fallback: T): T {
  const raw = get(key);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(key, `must be one of ${allowed.join(', ')} (got "${raw}")`);
  }
  return raw as T;
}

function duration(get: Getter, key: string, fallback: string): number {
  const raw = get(key) ?? fallback;
  const value = parseDuration(raw);
  if (value === null) throw new ConfigError(key, `must be a duration like 500ms, 5s, 5m, 2h or 5d (got "${raw}")`);
  return value;
}

function schedule(get: Getter, key: string, fallback: string): number[] {
  const raw = get(key) ?? fallback;
  const parts = raw.split(',').map((part) => part.trim()).filter((part) => part !== '');
  const delays = parts.map(parseDuration);
  if (delays.some((delay) => delay === null) || delays.length > 50) {
    throw new ConfigError(key, `must be a comma-separated list of up to 50 durations like 5s,5m,2h (got "${raw}")`);
  }
  return delays as number[];
}

function url(get: Getter, key: string): string | undefined {
  const raw = get(key);
  if (raw === undefined) return undefined;
  try {
    const parsed = new URL(raw);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
    return parsed.toString();
  } catch {
    throw new ConfigError(key, `must be an http(s) URL (got "${raw}")`);
  }
}

/** The allowed variables' values, read once; a listed name that is unset is left out (its templates give null). */
function workflowEnv(list: string | undefined, env: Source): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of (list ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '')) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError('HOOKYARD_WORKFLOW_ENV', `"${name}" is not a variable name`);
    const value = env[name];
    if (value !== undefined) values[name] = value;
  }
  return values;
}

function smtpUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    if (!/^smtps?:$/.test(new URL(raw).protocol)) throw new Error('scheme');
    return raw;
  } catch {
    throw new ConfigError('HOOKYARD_SMTP_URL', 'must be an smtp:// or smtps:// URL');
  }
}

function tokenValue(get: Getter, key: string): string | undefined {
  const raw = get(key);
  if (raw !== undefined && raw.length < 16) throw new ConfigError(key, 'must be at least 16 characters');
  return raw;
}
