import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

/*
 * What the reliability suite shares: its profile (full or fast), its seed, a JSON client for servers running as child
 * processes, polling, and the figures each test reports.
 */

/** `HOOKYARD_RELIABILITY=fast` is the CI subset: fewer repetitions and smaller counts, the same assertions. */
export const FAST = process.env.HOOKYARD_RELIABILITY === 'fast';
export const PROFILE = FAST ? 'fast' : 'full';
export const scale = <T>(full: T, fast: T): T => (FAST ? fast : full);

/**
 * The suite's files match the main config's `test/**\/*.test.ts` too; they run only under
 * vitest.reliability.config.ts (which sets HOOKYARD_RELIABILITY_SUITE), so `npm test` stays as fast as it was.
 */
export const describeReliability = process.env.HOOKYARD_RELIABILITY_SUITE === 'true' ? describe : describe.skip;

/** CI runs a fixed seed; local runs explore a new one each time. Reproduce with HOOKYARD_RELIABILITY_SEED=<seed>. */
export const SEED = process.env.HOOKYARD_RELIABILITY_SEED !== undefined
  ? Number(process.env.HOOKYARD_RELIABILITY_SEED) >>> 0
  : process.env.CI === 'true' ? 20_261_124 : (Math.random() * 2 ** 32) >>> 0;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds; throws naming `what` (and the last `detail`) when it does not within `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  detail: () => unknown = () => '',
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${JSON.stringify(detail())}`);
    await sleep(everyMs);
  }
}

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** One JSON call to a Hookyard at `base` (child processes move from port to port across restarts). */
export async function call<T = any>(
  base: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  // A stream never ends by itself: its headers are the answer.
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    await response.body?.cancel();
    return { status: response.status, body: undefined as T, headers: response.headers };
  }
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : jsonOr(text, text)) as T, headers: response.headers };
}

/** The JSON value `text` holds, or `fallback` when it holds none. */
export function jsonOr<F>(text: string, fallback: F): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fallback;
  }
}

/** Every item of a paginated list (`{data, nextCursor}`). */
export async function listAll<T = any>(base: string, token: string, path: string): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const page: Answer<{ data: T[]; nextCursor: string | null }> = await call(base, token, 'GET', `${path}${path.includes('?') ? '&' : '?'}limit=250${cursor === '' ? '' : `&cursor=${cursor}`}`);
    if (page.status !== 200) throw new Error(`GET ${path}: ${page.status} ${JSON.stringify(page.body)}`);
    all.push(...page.body.data);
    cursor = page.body.nextCursor;
  }
  return all;
}

const RESULTS_DIR = fileURLToPath(new URL('../../test-results/reliability/', import.meta.url));

/**
 * Prints a test's figures on one line and keeps them in test-results/reliability/<name>.json (git-ignored), where
 * docs/reliability.md takes its "latest figures" from.
 */
export function report(name: string, figures: Record<string, unknown>): void {
  const entry = { name, profile: PROFILE, seed: SEED, at: new Date().toISOString(), node: process.version, ...figures };
  console.log(`reliability ${name}: ${JSON.stringify(figures)}`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(entry, null, 2)}\n`);
}

/** Counts of each key, sorted by key: `{ "200": 12, "404": 3 }`. */
export function tally(keys: Iterable<string>): Record<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
