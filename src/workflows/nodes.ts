import { randomUUID } from 'node:crypto';
import type { HttpClient } from '../delivery/http-client.js';
import { standardWebhookHeaders } from '../delivery/sign.js';
import type { MongoExecutor } from '../inbound/handlers/mongo.js';
import type { WorkflowNode, WorkflowNodeType, WorkflowResponse } from '../store/store.js';
import { runCode } from './code-node.js';
import { CODE_MEMORY_MB, MAX_DELAY_MS } from './definition.js';
import type { Mailer } from './mailer.js';
import { compile, render, type Scope } from './template.js';

/** What nodes reach outside the workflow: the document db, HTTP (SSRF-guarded), messages, e-mail. */
export interface NodeDeps {
  mongo: MongoExecutor;
  http: HttpClient;
  emit(app: string, eventType: string, payload: Record<string, unknown>): Promise<{ id: string }>;
  mailer: Mailer | null;
  now(): number;
  /** Waits between an http-request node's attempts (tests shorten it). */
  sleep(ms: number): Promise<void>;
}

/** How a node run ended: its output, and what it decides about the run. */
export interface NodeResult {
  output: unknown;
  /** The node chose what follows (a condition); otherwise its `next`. */
  next?: string | null;
  /** The run ends here with this status (an end node). */
  end?: { status: 'succeeded' | 'failed'; error: string | null };
  /** The run sleeps until then (a delay node). */
  waitUntil?: number;
  /** The answer for a sync-mode sender (a respond node). */
  response?: WorkflowResponse;
}

interface NodeKind {
  /** What the job records as the node's input: its config rendered over the scope (before any effect). */
  input(config: Record<string, unknown>, scope: Scope): unknown;
  run(input: Record<string, unknown>, scope: Scope, deps: NodeDeps, node: WorkflowNode): Promise<NodeResult>;
  /** Whether running it twice has effects twice (after a crash mid-node it runs again): docs/workflows.md lists these. */
  repeatable: boolean;
}

/** A node that fails: its error is the job's, and the run stops at it (a retry starts there). */
export class NodeError extends Error {
  constructor(message: string, readonly output: unknown = null) {
    super(message);
    this.name = 'NodeError';
  }
}

const rendered = (config: Record<string, unknown>, scope: Scope): unknown => render(config, scope);
const asObject = (value: unknown, what: string): Record<string, unknown> => {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new NodeError(`${what} must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
};
const asNumber = (value: unknown, what: string, fallback: number): number => {
  if (value === undefined || value === null) return fallback;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) throw new NodeError(`${what} must be a number, got ${JSON.stringify(value)}`);
  return number;
};

/** Sensitive request headers are kept out of the job's recorded input (it is shown in the dashboard and the API). */
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token)$/i;
const redactHeaders = (headers: unknown): unknown =>
  headers !== null && typeof headers === 'object'
    ? Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, SECRET_HEADER.test(name) ? '[redacted]' : value]))
    : headers;

const HTTP_DEFAULT_TIMEOUT_MS = 10_000;

async function httpCall(input: Record<string, unknown>, headersIn: unknown, deps: NodeDeps): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
  const method = String(input.method ?? 'POST').toUpperCase();
  const url = String(input.url);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(asObject(headersIn ?? {}, 'headers'))) headers[name.toLowerCase()] = typeof value === 'string' ? value : JSON.stringify(value);
  let body: string | undefined;
  if (input.body !== undefined && method !== 'GET') {
    body = typeof input.body === 'string' ? input.body : JSON.stringify(input.body);
    headers['content-type'] ??= typeof input.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
  }
  if (typeof input.signingSecret === 'string') {
    // Standard Webhooks, as outbound deliveries sign: the receiver verifies it with the same libraries.
    const id = `wfreq_${randomUUID()}`;
    Object.assign(headers, standardWebhookHeaders([input.signingSecret], id, Math.floor(deps.now() / 1000), body ?? ''));
  }
  const timeoutMs = asNumber(input.timeoutMs, 'timeoutMs', HTTP_DEFAULT_TIMEOUT_MS);
  const result = await deps.http.send(method, url, { headers, body, timeoutMs });
  const type = result.headers['content-type'] ?? '';
  let parsed: unknown = result.body;
  if (/json/i.test(type)) {
    try {
      parsed = JSON.parse(result.body);
    } catch {
      // kept as text
    }
  }
  return { status: result.statusCode, headers: result.headers, body: parsed };
}

const KINDS: Record<WorkflowNodeType, NodeKind> = {
  condition: {
    repeatable: false,
    input: (config) => ({ expression: config.expression }),
    async run(input, scope, _deps, node) {
      const result = Boolean(compile(String(input.expression))(scope));
      return { output: { result }, next: (result ? node.then : node.else) ?? null };
    },
  },
  set: {
    repeatable: false,
    input: (config) => config,
    async run(input, scope) {
      const values: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(asObject(input.values, 'values'))) {
        const isExpression = value !== null && typeof value === 'object' && !Array.isArray(value) && 'expression' in value;
        values[name] = isExpression ? compile(String((value as { expression: unknown }).expression))(scope) : render(value, scope);
      }
      return { output: values };
    },
  },
  create: {
    repeatable: true,
    input: rendered,
    async run(input, _scope, deps) {
      const values = asObject(input.values, 'values');
      const { inserted_id } = (await deps.mongo(String(input.collection), 'insert_one', [values])) as { inserted_id: string };
      return { output: { ...values, _id: inserted_id } };
    },
  },
  update: {
    repeatable: false,
    input: rendered,
    async run(input, _scope, deps) {
      const op = input.multi === false ? 'update_one' : 'update_many';
      const result = await deps.mongo(String(input.collection), op, [asObject(input.filter, 'filter'), { $set: asObject(input.values, 'values') }, { upsert: input.upsert === true }]);
      return { output: result };
    },
  },
  query: {
    repeatable: false,
    input: rendered,
    async run(input, _scope, deps) {
      const filter = asObject(input.filter ?? {}, 'filter');
      if (input.single === true) return { output: await deps.mongo(String(input.collection), 'find_one', [filter, {}]) };
      const options: Record<string, unknown> = { limit: asNumber(input.limit, 'limit', 100) };
      if (input.sort !== undefined) options.sort = input.sort;
      return { output: await deps.mongo(String(input.collection), 'find', [filter, options]) };
    },
  },
  delete: {
    repeatable: false,
    input: rendered,
    async run(input, _scope, deps) {
      return { output: await deps.mongo(String(input.collection), 'delete_many', [asObject(input.filter, 'filter')]) };
    },
  },
  'http-request': {
    repeatable: true,
    input: (config, scope) => {
      const input = rendered(config, scope) as Record<string, unknown>;
      return { ...input, headers: redactHeaders(input.headers), ...(input.signingSecret === undefined ? {} : { signingSecret: '[redacted]' }) };
    },
    async run(recorded, scope, deps, node) {
      // The recorded input has its secrets redacted: the request is built from the config again.
      const input = render(node.config, scope) as Record<string, unknown>;
      const retry = (input.retry ?? {}) as { attempts?: unknown; delayMs?: unknown };
      const attempts = 1 + asNumber(retry.attempts, 'retry.attempts', 0);
      const delayMs = asNumber(retry.delayMs, 'retry.delayMs', 1_000);
      let last: NodeError | null = null;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (attempt > 1) await deps.sleep(delayMs);
        try {
          const response = await httpCall({ ...recorded, ...input }, input.headers, deps);
          const output = { ...response, attempts: attempt };
          if (response.status < 400 || input.failOnHttpError === false) return { output };
          last = new NodeError(`${String(input.method ?? 'POST').toUpperCase()} ${String(input.url)} answered ${response.status}`, output);
          // A client error other than 408/429 will not change on a retry.
          if (response.status < 500 && response.status !== 408 && response.status !== 429) break;
        } catch (err) {
          last = new NodeError((err as Error).message, { attempts: attempt });
        }
      }
      throw last!;
    },
  },
  emit: {
    repeatable: true,
    input: rendered,
    async run(input, _scope, deps) {
      return { output: await deps.emit(String(input.app), String(input.eventType), asObject(input.payload, 'payload')) };
    },
  },
  notify: {
    repeatable: true,
    input: (config, scope) => {
      const input = rendered(config, scope) as Record<string, unknown>;
      return { ...input, ...(input.headers === undefined ? {} : { headers: redactHeaders(input.headers) }) };
    },
    async run(input, scope, deps, node) {
      if (input.channel === 'email') {
        if (!deps.mailer) throw new NodeError('e-mail is not configured: set HOOKYARD_SMTP_URL');
        const to = Array.isArray(input.to) ? input.to.map(String) : String(input.to);
        return {
          output: await deps.mailer.send({
            to, subject: String(input.subject), text: input.text === undefined ? undefined : String(input.text),
            html: input.html === undefined ? undefined : String(input.html), from: input.from === undefined ? undefined : String(input.from),
          }),
        };
      }
      // Slack and Teams incoming webhooks both take {text}; `payload` sends a body of your own (blocks, cards).
      const body = input.payload ?? { text: input.text };
      const config = render(node.config, scope) as Record<string, unknown>;
      const response = await httpCall({ method: 'POST', url: input.url, body }, config.headers, deps);
      if (response.status >= 400) throw new NodeError(`the ${String(input.channel)} webhook answered ${response.status}`, response);
      return { output: response };
    },
  },
  code: {
    repeatable: false,
    input: (config) => ({ timeoutMs: config.timeoutMs ?? 1_000, memoryMb: config.memoryMb ?? CODE_MEMORY_MB.default }),
    async run(input, scope, _deps, node) {
      const result = await runCode({
        source: String(node.config.source),
        scope,
        timeoutMs: asNumber(input.timeoutMs, 'timeoutMs', 1_000),
        memoryMb: asNumber(input.memoryMb, 'memoryMb', CODE_MEMORY_MB.default),
      });
      if (!result.ok) throw new NodeError(result.error ?? 'the code failed', { logs: result.logs });
      return { output: result.output };
    },
  },
  delay: {
    repeatable: false,
    input: rendered,
    async run(input, _scope, deps) {
      const ms = Math.min(Math.max(0, asNumber(input.ms, 'ms', 0)), MAX_DELAY_MS);
      return { output: { ms }, waitUntil: deps.now() + ms };
    },
  },
  respond: {
    repeatable: false,
    input: rendered,
    async run(input) {
      const status = asNumber(input.status, 'status', 200);
      if (!Number.isInteger(status) || status < 200 || status > 599) throw new NodeError(`status must be an HTTP status from 200 to 599, got ${status}`);
      const headers = input.headers === undefined ? undefined : Object.fromEntries(Object.entries(asObject(input.headers, 'headers')).map(([k, v]) => [k, String(v)]));
      const response: WorkflowResponse = { status, ...(headers ? { headers } : {}), ...(input.body === undefined ? {} : { body: input.body }) };
      return { output: response, response };
    },
  },
  end: {
    repeatable: false,
    input: rendered,
    async run(input) {
      const status = input.status === 'failed' ? 'failed' : 'succeeded';
      const error = status === 'failed' ? String(input.error ?? 'ended as failed by an end node') : null;
      return { output: { status }, end: { status, error } };
    },
  },
};

export const nodeKind = (type: WorkflowNodeType): NodeKind => KINDS[type];

/** The node types whose effects may happen twice when a run resumes after a crash in the middle of them. */
export const REPEATABLE_NODE_TYPES = (Object.keys(KINDS) as WorkflowNodeType[]).filter((type) => KINDS[type].repeatable);
