// The management API client: every call sends `Authorization: Bearer <token>` from the session.

const KEY = 'hookyard.session';

/** {token, app: string|null, role: 'admin'|'app'} or null. Kept in sessionStorage: gone when the tab closes. */
export function getSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    return session && typeof session.token === 'string' ? session : null;
  } catch {
    return null;
  }
}

export function setSession(session) {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Relative to the page, so the dashboard also works behind a proxy that mounts Hookyard under a path. */
const url = (path) => (path.startsWith('/') ? path.slice(1) : path);

/** Builds `path?query` from an object, skipping empty values. */
export function withQuery(path, query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Percent-encodes one path segment (ids and names are safe already; this is belt and braces). */
export const seg = (value) => encodeURIComponent(value);

/**
 * Calls the API. Resolves with the parsed JSON (or undefined for 204); rejects with an ApiError carrying the
 * `{code, message, details}` of the answer. A 401 ends the session (the `hookyard:unauthorized` event).
 */
export async function api(method, path, body, { signal, token } = {}) {
  const session = getSession();
  const headers = { accept: 'application/json' };
  const bearer = token ?? session?.token;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(url(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', `The server did not answer (${err?.message ?? err}).`);
  }
  const text = await response.text();
  let data;
  try {
    data = text === '' ? undefined : JSON.parse(text);
  } catch {
    data = text;
  }
  if (!response.ok) {
    const message = typeof data === 'object' && data?.message ? data.message : `${response.status} ${response.statusText}`;
    const error = new ApiError(response.status, data?.code ?? 'http_error', message, data?.details);
    if (response.status === 401 && !token) window.dispatchEvent(new CustomEvent('hookyard:unauthorized', { detail: error }));
    throw error;
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body, opts);
export const patch = (path, body, opts) => api('PATCH', path, body, opts);
export const del = (path, opts) => api('DELETE', path, undefined, opts);

/**
 * Reads a Server-Sent Events stream with fetch (EventSource cannot send an Authorization header). Calls
 * `onEvent({id, event, data})` per event, reconnects with `Last-Event-ID` after a drop (1 s, doubling to 15 s), and
 * stops when `signal` aborts. `onState('open'|'reconnecting'|'closed', error?)` reports the connection.
 */
export async function stream(path, { signal, onEvent, onState = () => {}, lastEventId }) {
  let lastId = lastEventId ?? '';
  let delay = 1000;
  while (!signal.aborted) {
    try {
      const headers = { accept: 'text/event-stream', authorization: `Bearer ${getSession()?.token ?? ''}` };
      if (lastId) headers['last-event-id'] = lastId;
      const response = await fetch(url(path), { headers, signal, cache: 'no-store' });
      if (!response.ok || !response.body) {
        const body = await response.json().catch(() => ({}));
        const error = new ApiError(response.status, body.code ?? 'http_error', body.message ?? `${response.status}`);
        if (response.status === 401) window.dispatchEvent(new CustomEvent('hookyard:unauthorized', { detail: error }));
        // Errors that retrying cannot fix end the stream.
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          onState('closed', error);
          return;
        }
        throw error;
      }
      onState('open');
      delay = 1000;
      await readEvents(response.body, (event) => {
        if (event.id) lastId = event.id;
        onEvent(event);
      });
      if (signal.aborted) break;
      onState('reconnecting');
    } catch (err) {
      if (signal.aborted || err?.name === 'AbortError') break;
      onState('reconnecting', err);
    }
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, delay);
      signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
    delay = Math.min(delay * 2, 15_000);
  }
  onState('closed');
}

/** Parses the text/event-stream format (WHATWG HTML §9.2.6) from a byte stream. */
export async function readEvents(body, dispatch) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let data = [];
  let event = '';
  let id = '';
  const line = (text) => {
    if (text === '') {
      if (data.length > 0) dispatch({ id, event: event || 'message', data: data.join('\n') });
      data = [];
      event = '';
      return;
    }
    if (text.startsWith(':')) return; // a comment (keep-alive)
    const colon = text.indexOf(':');
    const name = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'data') data.push(value);
    else if (name === 'event') event = value;
    else if (name === 'id' && !value.includes('\0')) id = value;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let match;
      while ((match = /\r\n|\n|\r/.exec(buffer)) !== null) {
        // A lone \r at the end of a chunk may be the first half of \r\n: wait for the next chunk.
        if (match[0] === '\r' && match.index === buffer.length - 1) break;
        line(buffer.slice(0, match.index));
        buffer = buffer.slice(match.index + match[0].length);
      }
    }
  } finally {
    reader.releaseLock();
  }
}
