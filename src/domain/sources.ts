import { HookyardError } from '../errors.js';
import { newId } from '../ids.js';
import { IpAllowlist } from '../inbound/ip-allowlist.js';
import { isJsonPath } from '../json-path.js';
import { isOrderingTimestampRef } from '../inbound/ordering.js';
import { presetFor, VERIFICATION_TYPES } from '../inbound/verify/index.js';
import type { ForwardTarget, Source, SourceOrdering, SourcePatch, SourceResponse, SourceVerification, Store } from '../store/store.js';
import { checkEndpointUrl, type EndpointService } from './endpoints.js';

export interface SourceInput {
  name?: string;
  description?: string;
  methods?: string[];
  verification?: SourceVerification | null;
  ipAllowlist?: string[] | null;
  dedup?: { header?: string; jsonPath?: string } | null;
  response?: SourceResponse | null;
  handler?: string | null;
  forward?: ForwardTarget[];
  ordering?: SourceOrdering | null;
}

/** A source's name is the last segment of its receiving URL. */
export const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const HANDLER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
export const SOURCE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const CACHE_MS = 1_000;

/** The hidden app that holds a source's forward-to-URL endpoints (so forwards are signed and retried like messages). */
export const forwardAppUid = (sourceId: string): string => `hookyard-forward-${sourceId}`;

const invalid = (path: string, message: string): HookyardError =>
  new HookyardError('validation_error', `${path.replace(/^\/body\//, '')}: ${message}`, [{ path, message }]);

/**
 * Source rules: validation of every setting at write time (so the receiving path never meets a bad config), the
 * forward endpoints' upkeep, and a short-lived cache of sources by name for the receiving path.
 */
export class SourceService {
  private readonly cache = new Map<string, { source: Source | null; at: number }>();

  constructor(
    private readonly store: Store,
    private readonly endpoints: EndpointService,
    private readonly allowPrivate: boolean,
  ) {}

  /** The source for a receiving URL; cached for a second (other nodes' changes show within that time). */
  async byName(name: string, now = Date.now()): Promise<Source | null> {
    const cached = this.cache.get(name);
    if (cached && now - cached.at < CACHE_MS) return cached.source;
    const source = SOURCE_NAME.test(name) ? await this.store.getSource(name) : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(name, { source: source?.name === name ? source : null, at: now });
    return source?.name === name ? source : null;
  }

  async create(input: SourceInput & { name: string }, now = Date.now()): Promise<Source> {
    const source: Source = {
      id: newId('src', now),
      name: input.name,
      description: input.description ?? '',
      methods: ['POST'],
      verification: null,
      ipAllowlist: null,
      dedup: null,
      response: null,
      handler: null,
      forward: [],
      ordering: null,
      createdAt: now,
      updatedAt: now,
      ...this.check(input),
    };
    const created = await this.store.createSource(source);
    await this.syncForwards(created, now);
    this.cache.delete(created.name);
    return created;
  }

  async update(id: string, input: SourceInput, now = Date.now()): Promise<Source | null> {
    const before = await this.store.getSource(id);
    if (!before) return null;
    const updated = await this.store.updateSource(before.id, this.check(keepRedactedSecrets(input, before)), now);
    if (updated) await this.syncForwards(updated, now);
    this.cache.delete(before.name);
    if (updated) this.cache.delete(updated.name);
    return updated;
  }

  async delete(id: string): Promise<boolean> {
    const source = await this.store.getSource(id);
    if (!source) return false;
    const app = await this.store.getApp(forwardAppUid(source.id));
    if (app) await this.store.deleteApp(app.id);
    this.cache.delete(source.name);
    return this.store.deleteSource(source.id);
  }

  private check(input: SourceInput): SourcePatch {
    const patch: SourcePatch = {};
    if (input.name !== undefined) {
      if (!SOURCE_NAME.test(input.name)) throw invalid('/body/name', 'use 1-64 letters, digits, _ or -, starting with a letter or digit');
      patch.name = input.name;
    }
    if (input.description !== undefined) patch.description = input.description;
    if (input.methods !== undefined) {
      const methods = [...new Set(input.methods.map((method) => method.toUpperCase()))];
      const bad = methods.find((method) => !(SOURCE_METHODS as readonly string[]).includes(method));
      if (bad !== undefined || methods.length === 0) throw invalid('/body/methods', `each method must be one of ${SOURCE_METHODS.join(', ')}`);
      patch.methods = methods;
    }
    if (input.verification !== undefined) patch.verification = checkVerification(input.verification);
    if (input.ipAllowlist !== undefined) {
      if (input.ipAllowlist !== null) {
        try {
          IpAllowlist.parse(input.ipAllowlist);
        } catch (err) {
          throw invalid('/body/ipAllowlist', (err as Error).message);
        }
      }
      patch.ipAllowlist = input.ipAllowlist;
    }
    if (input.dedup !== undefined) patch.dedup = checkDedup(input.dedup);
    if (input.response !== undefined) patch.response = input.response;
    if (input.handler !== undefined) {
      if (input.handler !== null && (!HANDLER_NAME.test(input.handler) || input.handler.includes('..'))) {
        throw invalid('/body/handler', 'a handler is a file name in the handlers directory, without extension');
      }
      patch.handler = input.handler;
    }
    if (input.forward !== undefined) patch.forward = input.forward.map((target, index) => this.checkForward(target, index));
    if (input.ordering !== undefined) patch.ordering = checkOrdering(input.ordering);
    return patch;
  }

  /** Forward URLs follow the endpoints' rules (SSRF guard included) before anything is written. */
  private checkForward(target: ForwardTarget, index: number): ForwardTarget {
    if (!('url' in target)) return { app: target.app, eventType: target.eventType };
    try {
      return { url: checkEndpointUrl(target.url, this.allowPrivate) };
    } catch (err) {
      if (err instanceof HookyardError) throw new HookyardError(err.code, `forward/${index}/url: ${err.message}`, [{ path: `/body/forward/${index}/url`, message: err.message }]);
      throw err;
    }
  }

  /** Keeps the hidden forward app's endpoints equal to the source's forward URLs. */
  private async syncForwards(source: Source, now: number): Promise<void> {
    const urls = source.forward.flatMap((target) => ('url' in target ? [target.url] : []));
    let app = await this.store.getApp(forwardAppUid(source.id));
    if (!app && urls.length === 0) return;
    app ??= await this.store.createApp({
      id: newId('app', now),
      uid: forwardAppUid(source.id),
      name: `Forwards of source ${source.name}`,
      metadata: { sourceId: source.id },
      portal: null,
      createdAt: now,
      updatedAt: now,
    });
    const existing = (await this.store.listEndpoints(app.id, { limit: 250 })).data;
    for (const endpoint of existing) if (!urls.includes(endpoint.url)) await this.store.deleteEndpoint(app.id, endpoint.id);
    for (const url of urls) if (!existing.some((endpoint) => endpoint.url === url)) await this.endpoints.create(app.id, { url }, 'standard', now);
  }
}

/** What the API shows instead of a secret (see serialize.ts). */
export const REDACTED = '********';

/**
 * A client that reads a source and sends its verification back unchanged sends REDACTED in place of the secrets: keep
 * the stored ones for those fields (same type only), instead of overwriting the secret with the mask.
 */
function keepRedactedSecrets(input: SourceInput, before: Source): SourceInput {
  const next = input.verification;
  const stored = before.verification;
  if (!next || !stored || next.type !== stored.type) return input;
  const kept: SourceVerification = { ...next };
  for (const [field, value] of Object.entries(next)) {
    if (value === REDACTED) kept[field] = stored[field];
    else if (Array.isArray(value) && value.length > 0 && value.every((item) => item === REDACTED) && Array.isArray(stored[field])) kept[field] = stored[field];
  }
  return { ...input, verification: kept };
}

function checkVerification(verification: SourceVerification | null): SourceVerification | null {
  if (verification === null || verification.type === 'none') return verification;
  const preset = presetFor(verification.type);
  if (!preset) throw invalid('/body/verification/type', `unknown type; one of ${VERIFICATION_TYPES.join(', ')}`);
  const problem = preset.validate(verification);
  if (problem !== undefined) throw invalid('/body/verification', problem);
  return verification;
}

function checkDedup(dedup: SourceInput['dedup']): Source['dedup'] {
  if (dedup === null || dedup === undefined) return null;
  if ((dedup.header === undefined) === (dedup.jsonPath === undefined)) throw invalid('/body/dedup', 'give exactly one of header or jsonPath');
  if (dedup.header !== undefined && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/.test(dedup.header)) throw invalid('/body/dedup/header', 'not a header name');
  if (dedup.jsonPath !== undefined && !isJsonPath(dedup.jsonPath)) throw invalid('/body/dedup/jsonPath', 'use a path like $.id or $.data[0].id');
  return dedup;
}

function checkOrdering(ordering: SourceInput['ordering']): SourceOrdering | null {
  if (ordering === null || ordering === undefined) return null;
  if (typeof ordering !== 'object') throw invalid('/body/ordering', 'give {entity, timestamp}');
  if (typeof ordering.entity !== 'string' || !isJsonPath(ordering.entity)) {
    throw invalid('/body/ordering/entity', 'use a JSON path like $.ticket.id or $.items[0].id');
  }
  if (typeof ordering.timestamp !== 'string' || !isOrderingTimestampRef(ordering.timestamp)) {
    throw invalid('/body/ordering/timestamp', 'use a JSON path like $.updated_at, or header:<name> for a header');
  }
  return { entity: ordering.entity, timestamp: ordering.timestamp };
}
