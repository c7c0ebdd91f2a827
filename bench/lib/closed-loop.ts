import { Pool } from 'undici';

export interface Measured {
  requests: number;
  errors: number;
  seconds: number;
  latencies: number[];
}

/**
 * Closed-loop load: `connections` POSTs in flight to `url` + `path` for `ms`, each body from `body(n)` (n unique per
 * request) and each answer judged by `ok(status, text, n)`.
 */
export async function closedLoop(
  url: string,
  path: string,
  connections: number,
  ms: number,
  body: (n: number) => string,
  ok: (status: number, text: string, n: number) => boolean,
): Promise<Measured> {
  const pool = new Pool(url, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let requests = 0;
  let errors = 0;
  const started = performance.now();
  const until = started + ms;
  await Promise.all(Array.from({ length: connections }, async (_, worker) => {
    for (let i = 0; performance.now() < until; i++) {
      const n = worker * 1e6 + i;
      const t = performance.now();
      const res = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body: body(n) });
      const text = await res.body.text();
      latencies.push(performance.now() - t);
      requests++;
      if (!ok(res.statusCode, text, n)) errors++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { requests, errors, seconds, latencies };
}
