import { request } from 'undici';

/** Where the CLI talks to: --server/--token, else HOOKYARD_SERVER / HOOKYARD_TOKEN (or HOOKYARD_ADMIN_TOKEN). */
export interface Remote {
  server: string;
  token: string;
}

export function remoteOf(opts: { server?: string; token?: string }): Remote {
  const server = (opts.server ?? process.env.HOOKYARD_SERVER ?? 'http://localhost:8080').replace(/\/+$/, '');
  const token = opts.token ?? process.env.HOOKYARD_TOKEN ?? process.env.HOOKYARD_ADMIN_TOKEN;
  if (token === undefined || token === '') throw new CliError('no token: pass --token or set HOOKYARD_TOKEN');
  return { server, token };
}

/** A failure the CLI reports as one line and exit code 1. */
export class CliError extends Error {}

/** Calls the API; a non-2xx answer becomes a CliError carrying the API's `{code, message}`. */
export async function callApi<T>(remote: Remote, method: string, path: string, body?: unknown): Promise<T> {
  const response = await request(`${remote.server}${path}`, {
    method: method as 'GET',
    headers: { authorization: `Bearer ${remote.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((err: Error) => {
    throw new CliError(`cannot reach ${remote.server}: ${err.message}`);
  });
  const text = await response.body.text();
  const parsed = text === '' ? undefined : (JSON.parse(text) as T & { code?: string; message?: string });
  if (response.statusCode >= 300) throw new CliError(`${response.statusCode} ${parsed?.code ?? ''}: ${parsed?.message ?? text}`);
  return parsed as T;
}

export interface StreamEvent {
  id: string;
  event: string;
  data: string;
}

/**
 * Follows a Server-Sent Events stream for good: on a drop it reconnects (1 s, then up to 10 s apart) and resumes after
 * the last event it handed out, so no event is missed while the connection was down (within the server's retention).
 */
export async function followStream(
  remote: Remote,
  path: string,
  options: { lastEventId: string | null; onEvent: (event: StreamEvent) => Promise<void>; onStatus: (line: string) => void; signal: AbortSignal },
): Promise<void> {
  let lastEventId = options.lastEventId;
  let delay = 1_000;
  while (!options.signal.aborted) {
    try {
      const response = await request(`${remote.server}${path}`, {
        headers: { authorization: `Bearer ${remote.token}`, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
        signal: options.signal,
        bodyTimeout: 0,
      });
      if (response.statusCode !== 200) {
        const text = await response.body.text();
        // Bad token or unknown source: retrying cannot help.
        if (response.statusCode >= 400 && response.statusCode < 500) throw new CliError(`${response.statusCode}: ${text}`);
        throw new Error(`stream answered ${response.statusCode}`);
      }
      options.onStatus(`connected to ${remote.server}${path}`);
      delay = 1_000;
      let buffer = '';
      for await (const chunk of response.body) {
        buffer += (chunk as Buffer).toString('utf8');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = parseEvent(block);
          if (!event) continue;
          await options.onEvent(event);
          lastEventId = event.id;
        }
      }
      options.onStatus('stream ended; reconnecting');
    } catch (err) {
      if (err instanceof CliError || options.signal.aborted) throw err;
      options.onStatus(`connection lost (${(err as Error).message}); retrying in ${delay / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 10_000);
  }
}

function parseEvent(block: string): StreamEvent | null {
  let id = '';
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 ? null : { id, event, data: data.join('\n') };
}
