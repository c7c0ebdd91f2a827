import { HookyardError } from '../errors.js';
import type { WorkflowDefinition, WorkflowNode, WorkflowNodeType, WorkflowResponse } from '../store/store.js';
import { compile, templateProblems } from './template.js';

/**
 * A workflow's graph and every node's config, checked when it is saved so that a run never meets a malformed node:
 * unknown types, keys that point nowhere, cycles, unreachable nodes, bad templates and bad expressions are a 422
 * that names the node.
 */

export const NODE_TYPES: readonly WorkflowNodeType[] = [
  'condition', 'set', 'create', 'update', 'query', 'delete', 'http-request', 'emit', 'notify', 'code', 'delay', 'respond', 'end',
];
export const MAX_NODES = 200;
const NODE_KEY = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const COLLECTION_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const NOTIFY_CHANNELS = ['slack', 'teams', 'webhook', 'email'];
export const MAX_DELAY_MS = 30 * 24 * 3_600_000;
export const MAX_HTTP_TIMEOUT_MS = 60_000;
export const MAX_CODE_TIMEOUT_MS = 30_000;
export const CODE_MEMORY_MB = { min: 8, max: 512, default: 64 } as const;
const MAX_RETRIES = 10;
const MAX_RETRY_DELAY_MS = 60_000;
const MAX_CODE_LENGTH = 64 * 1024;

type Config = Record<string, unknown>;
const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as FunctionConstructor;

interface Problem {
  path: string;
  node?: string;
  message: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const isTemplate = (value: unknown): boolean => typeof value === 'string' && value.includes('{{');

/** Checks a whole definition; throws one 422 listing every problem found (the first names its node in the message). */
export function validateDefinition(input: WorkflowDefinition): WorkflowDefinition {
  const problems: Problem[] = [];
  const nodes: WorkflowNode[] = Array.isArray(input.nodes) ? input.nodes : [];
  if (nodes.length === 0) problems.push({ path: '/body/nodes', message: 'a workflow needs at least one node' });
  if (nodes.length > MAX_NODES) problems.push({ path: '/body/nodes', message: `a workflow has at most ${MAX_NODES} nodes` });

  const keys = new Map<string, number>();
  nodes.forEach((node, index) => {
    const at = `/body/nodes/${index}`;
    if (!isObject(node)) {
      problems.push({ path: at, message: 'a node is an object {key, type, config}' });
      return;
    }
    const label = typeof node.key === 'string' ? node.key : undefined;
    const add = (path: string, message: string) => problems.push({ path: `${at}${path}`, ...(label === undefined ? {} : { node: label }), message });
    if (typeof node.key !== 'string' || !NODE_KEY.test(node.key)) add('/key', 'a node key is 1-64 letters, digits, _ or -, starting with a letter');
    else if (keys.has(node.key)) add('/key', `the key "${node.key}" is used by node ${keys.get(node.key)} too`);
    else keys.set(node.key, index);
    if (!NODE_TYPES.includes(node.type)) {
      add('/type', `unknown node type ${JSON.stringify(node.type)} (one of ${NODE_TYPES.join(', ')})`);
      return;
    }
    if (node.config !== undefined && !isObject(node.config)) {
      add('/config', 'config is an object');
      return;
    }
    const config = node.config ?? {};
    for (const problem of templateProblems(config, 'config')) add(`/${problem.slice(0, problem.indexOf(':')).replace(/\./g, '/')}`, problem);
    for (const [field, message] of configProblems(node.type, config)) add(`/config/${field}`, message);
    if (node.type === 'condition' && node.next !== undefined && node.next !== null) add('/next', 'a condition continues with then/else, not next');
    if (node.type !== 'condition' && ((node.then ?? null) !== null || (node.else ?? null) !== null)) add('/then', 'only a condition has then/else');
    if (node.type === 'end' && (node.next ?? null) !== null) add('/next', 'nothing runs after an end node');
  });

  if (problems.length === 0) problems.push(...graphProblems(nodes));
  if (input.mode !== 'async' && input.mode !== 'sync') problems.push({ path: '/body/mode', message: 'mode is "async" or "sync"' });
  if (input.response !== null && input.response !== undefined) {
    for (const [field, message] of responseProblems(input.response)) problems.push({ path: `/body/response/${field}`, message });
    for (const problem of templateProblems(input.response, 'response')) problems.push({ path: '/body/response', message: problem });
  }
  if (problems.length > 0) {
    const first = problems[0]!;
    const where = first.node !== undefined ? `node "${first.node}"` : first.path.replace(/^\/body\//, '');
    throw new HookyardError('validation_error', `${where}: ${first.message}`, problems);
  }
  return input;
}

/** Dangling keys, cycles and nodes the first node never reaches. */
function graphProblems(nodes: WorkflowNode[]): Problem[] {
  const problems: Problem[] = [];
  const byKey = new Map(nodes.map((node) => [node.key, node]));
  const successors = (node: WorkflowNode): Array<[field: 'next' | 'then' | 'else', key: string]> =>
    (['next', 'then', 'else'] as const).flatMap((field) => (typeof node[field] === 'string' ? [[field, node[field] as string] as [typeof field, string]] : []));
  nodes.forEach((node, index) => {
    for (const [field, key] of successors(node)) {
      if (!byKey.has(key)) problems.push({ path: `/body/nodes/${index}/${field}`, node: node.key, message: `${field} names "${key}", which is no node of this workflow` });
    }
    for (const field of ['next', 'then', 'else'] as const) {
      const value = node[field];
      if (value !== undefined && value !== null && typeof value !== 'string') {
        problems.push({ path: `/body/nodes/${index}/${field}`, node: node.key, message: `${field} is a node key or null` });
      }
    }
  });
  if (problems.length > 0) return problems;

  // Depth-first from the first node: a node met again while still on the path closes a cycle.
  const state = new Map<string, 'open' | 'done'>();
  const visit = (node: WorkflowNode): void => {
    state.set(node.key, 'open');
    for (const [, key] of successors(node)) {
      const seen = state.get(key);
      if (seen === 'open') {
        problems.push({ path: `/body/nodes/${nodes.indexOf(node)}`, node: node.key, message: `leads back to "${key}": a workflow may not loop` });
      } else if (seen === undefined) {
        visit(byKey.get(key)!);
      }
    }
    state.set(node.key, 'done');
  };
  visit(nodes[0]!);
  nodes.forEach((node, index) => {
    if (!state.has(node.key)) problems.push({ path: `/body/nodes/${index}`, node: node.key, message: 'no path from the first node reaches this node' });
  });
  return problems;
}

function responseProblems(response: WorkflowResponse): Array<[string, string]> {
  if (!isObject(response)) return [['', 'response is an object {status, headers?, body?}']];
  const problems: Array<[string, string]> = [];
  if (!isTemplate(response.status) && !(Number.isInteger(response.status) && response.status >= 200 && response.status <= 599)) {
    problems.push(['status', 'status is an HTTP status from 200 to 599']);
  }
  if (response.headers !== undefined && !stringMap(response.headers)) problems.push(['headers', 'headers map names to strings']);
  return problems;
}

const stringMap = (value: unknown): boolean => isObject(value) && Object.values(value).every((item) => typeof item === 'string');
const text = (value: unknown): boolean => typeof value === 'string' && value !== '';
/** A number in range, or a template that gives one at run time. */
const count = (value: unknown, min: number, max: number): boolean =>
  isTemplate(value) || (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max);

/** Each node type's config, field by field. */
function configProblems(type: WorkflowNodeType, config: Config): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  const need = (field: string, ok: boolean, message: string) => {
    if (!ok) problems.push([field, message]);
  };
  const optional = (field: string, check: (value: unknown) => boolean, message: string) => {
    if (config[field] !== undefined) need(field, check(config[field]), message);
  };
  const collection = () =>
    need('collection', typeof config.collection === 'string' && COLLECTION_NAME.test(config.collection), "collection is 1-100 letters, digits, '_', '.' or '-'");
  switch (type) {
    case 'condition':
      if (typeof config.expression !== 'string' || config.expression.trim() === '') {
        need('expression', false, 'a condition needs an expression, such as $context.data.amount > 100');
      } else {
        try {
          compile(config.expression);
        } catch (err) {
          need('expression', false, (err as Error).message.split('\n').join(' '));
        }
      }
      break;
    case 'set':
      need('values', isObject(config.values) && Object.keys(config.values).length > 0, 'values maps names to templates or {expression}');
      if (isObject(config.values)) {
        for (const [name, value] of Object.entries(config.values)) {
          if (!isObject(value) || !('expression' in value)) continue;
          try {
            if (typeof value.expression !== 'string') throw new Error('expression is a string');
            compile(value.expression);
          } catch (err) {
            problems.push([`values/${name}`, (err as Error).message.split('\n').join(' ')]);
          }
        }
      }
      break;
    case 'create':
      collection();
      need('values', isObject(config.values) || isTemplate(config.values), 'values is the document to create (an object)');
      break;
    case 'update':
      collection();
      need('filter', isObject(config.filter), 'filter selects the documents to update (an object, {} for all)');
      need('values', isObject(config.values), 'values holds the fields to set (an object)');
      optional('upsert', (value) => typeof value === 'boolean', 'upsert is true or false');
      optional('multi', (value) => typeof value === 'boolean', 'multi is true or false');
      break;
    case 'query':
      collection();
      optional('filter', isObject, 'filter is an object');
      optional('sort', isObject, 'sort maps fields to 1 or -1');
      optional('limit', (value) => count(value, 1, 1000), 'limit is 1 to 1000');
      optional('single', (value) => typeof value === 'boolean', 'single is true or false');
      break;
    case 'delete':
      collection();
      need('filter', isObject(config.filter), 'filter selects the documents to delete (an object, {} for all)');
      break;
    case 'http-request':
      need('url', text(config.url), 'url is required');
      if (typeof config.url === 'string' && !isTemplate(config.url) && !/^https?:\/\//i.test(config.url)) need('url', false, 'url is an http(s) URL');
      optional('method', (value) => typeof value === 'string' && HTTP_METHODS.includes(value.toUpperCase()), `method is one of ${HTTP_METHODS.join(', ')}`);
      optional('headers', stringMap, 'headers map names to strings');
      optional('timeoutMs', (value) => count(value, 1, MAX_HTTP_TIMEOUT_MS), `timeoutMs is 1 to ${MAX_HTTP_TIMEOUT_MS}`);
      optional('retry', (value) => isObject(value) && count(value.attempts ?? 0, 0, MAX_RETRIES) && count(value.delayMs ?? 0, 0, MAX_RETRY_DELAY_MS),
        `retry is {attempts: 0-${MAX_RETRIES}, delayMs: 0-${MAX_RETRY_DELAY_MS}}`);
      optional('signingSecret', text, 'signingSecret is a whsec_… secret');
      optional('failOnHttpError', (value) => typeof value === 'boolean', 'failOnHttpError is true or false');
      break;
    case 'emit':
      need('app', text(config.app), 'app is the app id or uid to send to');
      need('eventType', text(config.eventType), 'eventType is required');
      need('payload', isObject(config.payload) || isTemplate(config.payload), 'payload is a JSON object (or a template giving one)');
      break;
    case 'notify':
      need('channel', NOTIFY_CHANNELS.includes(String(config.channel)), `channel is one of ${NOTIFY_CHANNELS.join(', ')}`);
      if (config.channel === 'email') {
        need('to', text(config.to) || (Array.isArray(config.to) && config.to.every(text)), 'to is an address or a list of them');
        need('subject', typeof config.subject === 'string', 'subject is required');
        need('text', typeof config.text === 'string' || typeof config.html === 'string', 'text or html is required');
        optional('from', text, 'from is an address');
      } else if (config.channel !== undefined) {
        need('url', text(config.url), 'url is the incoming-webhook URL');
        need('text', typeof config.text === 'string' || config.payload !== undefined, 'text (or payload) is required');
      }
      break;
    case 'code':
      need('source', typeof config.source === 'string' && config.source.length > 0 && config.source.length <= MAX_CODE_LENGTH,
        `source is the JavaScript to run (at most ${MAX_CODE_LENGTH} characters)`);
      if (typeof config.source === 'string') {
        try {
          // Compiled only, never called here: a syntax error is a save-time 422. Async, as the code may await.
          new AsyncFunction('$context', '$jobsMapByNodeKey', '$env', config.source);
        } catch (err) {
          need('source', false, `does not parse: ${(err as Error).message}`);
        }
      }
      optional('timeoutMs', (value) => count(value, 1, MAX_CODE_TIMEOUT_MS), `timeoutMs is 1 to ${MAX_CODE_TIMEOUT_MS}`);
      optional('memoryMb', (value) => count(value, CODE_MEMORY_MB.min, CODE_MEMORY_MB.max), `memoryMb is ${CODE_MEMORY_MB.min} to ${CODE_MEMORY_MB.max}`);
      break;
    case 'delay':
      need('ms', count(config.ms, 0, MAX_DELAY_MS), `ms is 0 to ${MAX_DELAY_MS} (30 days)`);
      break;
    case 'respond':
      need('status', config.status === undefined || count(config.status, 200, 599), 'status is an HTTP status from 200 to 599');
      optional('headers', stringMap, 'headers map names to strings');
      break;
    case 'end':
      optional('status', (value) => value === 'succeeded' || value === 'failed', 'status is "succeeded" or "failed"');
      optional('error', (value) => typeof value === 'string', 'error is a message');
      break;
  }
  return problems;
}
