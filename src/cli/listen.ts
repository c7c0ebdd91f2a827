import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { request } from 'undici';
import { callApi, followStream, remoteOf, type Remote } from './remote.js';

interface StreamedRequest {
  id: string;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  status: 'accepted' | 'rejected' | 'duplicate';
}

export interface ListenOptions {
  forward?: string;
  server?: string;
  token?: string;
  /** File that remembers the last request handled, so a restarted listen resumes there; null = remember nothing. */
  state?: string | null;
  json?: boolean;
}

// Connection-level headers belong to each hop; the rest (content type, signatures, delivery ids) travel as received.
const HOP_HEADERS = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'proxy-connection']);

/**
 * `hookyard listen <source> --forward URL`: replays each accepted request of a source to a local server, in order,
 * resuming after the last one it handled, also across restarts of listen itself.
 * Without --forward it only prints (`hookyard tail`).
 */
export async function listenCommand(source: string, options: ListenOptions, signal: AbortSignal): Promise<void> {
  const remote = remoteOf(options);
  // Fails fast on a wrong token or source name.
  await callApi(remote, 'GET', `/api/v1/sources/${encodeURIComponent(source)}`);
  const stateFile = options.state === null ? null : options.state ?? defaultStateFile(remote, source);
  const resumeFrom = stateFile === null ? null : readState(stateFile);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(options.forward
    ? `forwarding ${source} to ${options.forward}${resumeFrom ? ` (resuming after ${resumeFrom})` : ''}`
    : `tailing ${source}${resumeFrom ? ` (resuming after ${resumeFrom})` : ''}`);

  await followStream(remote, `/api/v1/sources/${encodeURIComponent(source)}/stream`, {
    lastEventId: resumeFrom,
    signal,
    onStatus: (line) => process.stderr.write(`${line}\n`),
    onEvent: async (event) => {
      if (event.event !== 'request') return;
      const record = JSON.parse(event.data) as StreamedRequest;
      if (options.json) say(event.data);
      else if (!options.forward || record.status !== 'accepted') say(`${time()} ${record.method} /${record.path} ${record.status} ${record.id}`);
      if (options.forward && record.status === 'accepted') say(await forward(record, options.forward));
      // The event id, not the request's: it is the stream's cursor (a request another node committed late comes after
      // later ids), so resuming from it never replays those later requests.
      if (stateFile !== null && event.id) writeState(stateFile, event.id);
    },
  });
}

async function forward(record: StreamedRequest, target: string): Promise<string> {
  const url = new URL(target);
  if (record.path !== '') url.pathname = `${url.pathname.replace(/\/+$/, '')}/${record.path}`;
  for (const [name, value] of Object.entries(record.query)) for (const item of [value].flat()) url.searchParams.append(name, item);
  const headers: Record<string, string> = { 'x-hookyard-request-id': record.id };
  for (const [name, value] of Object.entries(record.headers)) if (!HOP_HEADERS.has(name)) headers[name] = value;
  const body = Buffer.from(record.body, record.bodyEncoding);
  const started = performance.now();
  const prefix = `${time()} ${record.method} /${record.path}`;
  try {
    const response = await request(url, {
      method: record.method as 'POST',
      headers,
      body: record.method === 'GET' || record.method === 'HEAD' ? undefined : body,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    await response.body.dump();
    return `${prefix} → ${response.statusCode} (${Math.round(performance.now() - started)} ms) ${record.id}`;
  } catch (err) {
    return `${prefix} → failed: ${(err as Error).message} ${record.id}`;
  }
}

const time = (): string => new Date().toISOString().slice(11, 19);

function defaultStateFile(remote: Remote, source: string): string {
  const key = createHash('sha256').update(`${remote.server} ${source}`).digest('hex').slice(0, 16);
  return join(homedir(), '.hookyard', 'listen', `${source.replace(/[^\w-]/g, '_')}-${key}.json`);
}

function readState(file: string): string | null {
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as { lastRequestId?: unknown };
    return typeof state.lastRequestId === 'string' ? state.lastRequestId : null;
  } catch {
    return null;
  }
}

function writeState(file: string, lastRequestId: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ lastRequestId }));
}
