import type { SecretBox } from '../crypto/secret-box.js';
import { HookyardError } from '../errors.js';
import { ConfigCache } from './config-cache.js';
import type { SqlDialect } from './dialect.js';
import { queueBehindHeads, reorderEndpoint } from './fifo.js';
import { failPendingDeliveries, recordOutcomes } from './outcomes.js';
import { leasedDelivery, toApiKey, toApp, toAttempt, toClaimed, toDelivery, toEndpoint, toEventType, toFanoutEndpoint, toMessage } from './rows.js';
import { keysetPage } from './keyset.js';
import { SqlInboundStore } from './sql-inbound-store.js';
import { SqlWorkflowStore } from './sql-workflow-store.js';
import { one, type SqlExecutor } from './sql.js';
import { idFloor } from '../ids.js';
import type {
  ActivityStats, ApiKey, App, Attempt, AttemptStatus, ClaimedDelivery, Delivery, DeliveryOutcome, DeliveryStatus, Endpoint, EndpointPatch, EventType,
  FanoutEndpoint, IdempotentResponse, InsertMessageResult, Message, MessageFilter, NewMessage, OutcomeEffects, Page, PageQuery, Store,
} from './store.js';

type Row = Record<string, unknown>;

const MESSAGE_COLUMNS = [
  ['id', 'text'], ['app_id', 'text'], ['event_type', 'text'], ['event_id', 'text'], ['payload', 'text'], ['channels', 'text'],
  ['resource_url', 'text'], ['created_at', 'bigint'],
] as const;
/** The column list of MESSAGE_COLUMNS, for INSERT … SELECT. */
const MESSAGE_COLUMN_NAMES = MESSAGE_COLUMNS.map(([name]) => name).join(', ');
const messageValues = (m: Message): unknown[] => [m.id, m.appId, m.eventType, m.eventId, m.payload, jsonOrNull(m.channels), m.resourceUrl, m.createdAt];
/** With the configuration counter each message's fan-out was read under (see insertMessagesAtOnce). */
const MESSAGE_BATCH_COLUMNS = [...MESSAGE_COLUMNS, ['config_version', 'bigint']] as const;
// A delivery is written pending and due at once, or (NewMessage.lease) sending, leased until next_attempt_at.
const DELIVERY_COLUMNS = [
  ['message_id', 'text'], ['endpoint_id', 'text'], ['app_id', 'text'], ['status', 'text'], ['next_attempt_at', 'bigint'], ['lease_owner', 'text'],
  ['created_at', 'bigint'],
] as const;
const RELEASE_COLUMNS = [['message_id', 'text'], ['endpoint_id', 'text']] as const;
/** Deliveries per bulk insert: 4,096 values even padded (see SqlDialect.rows), far below SQLite's 32,766. */
const DELIVERY_SLICE = 1_024;

const ENDPOINT_COLUMNS: Record<keyof EndpointPatch, string> = {
  url: 'url',
  description: 'description',
  eventTypes: 'event_types',
  channels: 'channels',
  headers: 'headers',
  rateLimit: 'rate_limit',
  timeoutMs: 'timeout_ms',
  disabled: 'disabled',
  disabledReason: 'disabled_reason',
  payloadMode: 'payload_mode',
  ordering: 'ordering',
  metadata: 'metadata',
};
const JSON_ENDPOINT_FIELDS: ReadonlySet<keyof EndpointPatch> = new Set(['eventTypes', 'channels', 'headers', 'metadata']);

/** The Store over any SqlExecutor; dialect differences live in SqlDialect. */
export class SqlStore implements Store {
  readonly dialect: 'sqlite' | 'postgres';

  constructor(
    private readonly exec: SqlExecutor,
    private readonly sql: SqlDialect,
    private readonly box: SecretBox,
  ) {
    this.dialect = exec.dialect;
    this.inbound = new SqlInboundStore(exec, sql, box);
    this.workflows = new SqlWorkflowStore(exec, box);
    // PostgreSQL caches only once the node forwards notifications (watchConfig): another node's change must reach it.
    this.config = new ConfigCache(() => this.readConfigVersion(), exec.dialect === 'sqlite' ? 'poll' : 'off');
  }

  // ---- the configuration cache (see ConfigCache)

  private readonly config: ConfigCache;

  configVersion(): Promise<number | null> {
    return this.config.current();
  }

  configChanged(): void {
    this.config.flush();
  }

  watchConfig(notified: boolean): void {
    if (this.dialect === 'postgres') this.config.setWatch(notified ? 'notified' : 'off');
  }

  private async readConfigVersion(): Promise<number> {
    const row = await one<Row>(this.exec, 'SELECT version FROM config_version WHERE id = 1');
    return Number(row?.version ?? 0);
  }

  /** Runs a write to apps, keys, event types or endpoints, then drops the cache (the counter moved with it). */
  private async changingConfig<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.config.flush();
    }
  }

  async activityStats(since: number): Promise<ActivityStats> {
    const requests = await this.exec.all<Row>(
      'SELECT (received_at / 60000) * 60000 AS minute, COUNT(*) AS n FROM requests WHERE id >= $1 GROUP BY 1 ORDER BY 1',
      [idFloor('req', since)],
    );
    const attempts = await this.exec.all<Row>(
      'SELECT (created_at / 60000) * 60000 AS minute, status, COUNT(*) AS n FROM attempts WHERE id >= $1 GROUP BY 1, 2 ORDER BY 1',
      [idFloor('atmpt', since)],
    );
    const failing = await this.exec.all<Row>(
      'SELECT * FROM endpoints WHERE failing_since IS NOT NULL OR disabled = 1 ORDER BY failing_since, id LIMIT 100',
    );
    return {
      requests: requests.map((row) => ({ minute: Number(row.minute), count: Number(row.n) })),
      attempts: attempts.map((row) => ({ minute: Number(row.minute), status: String(row.status) as AttemptStatus, count: Number(row.n) })),
      failingEndpoints: failing.map(toEndpoint),
    };
  }

  // ---- inbound (sources, requests, jobs, documents): see SqlInboundStore

  private readonly inbound: SqlInboundStore;
  readonly createSource: Store['createSource'] = (source) => this.inbound.createSource(source);
  readonly getSource: Store['getSource'] = (idOrName) => this.inbound.getSource(idOrName);
  readonly listSources: Store['listSources'] = (page) => this.inbound.listSources(page);
  readonly updateSource: Store['updateSource'] = (id, patch, now) => this.inbound.updateSource(id, patch, now);
  readonly deleteSource: Store['deleteSource'] = (id) => this.inbound.deleteSource(id);
  readonly insertRequests: Store['insertRequests'] = (items) => this.inbound.insertRequests(items);
  readonly getRequest: Store['getRequest'] = (sourceId, id) => this.inbound.getRequest(sourceId, id);
  readonly findRequest: Store['findRequest'] = (id) => this.inbound.findRequest(id);
  readonly listRequests: Store['listRequests'] = (sourceId, filter, page) => this.inbound.listRequests(sourceId, filter, page);
  readonly listRequestsSince: Store['listRequestsSince'] = (sourceId, afterId, limit) => this.inbound.listRequestsSince(sourceId, afterId, limit);
  readonly listRequestIdsBetween: Store['listRequestIdsBetween'] = (sourceId, afterId, beforeId, limit) =>
    this.inbound.listRequestIdsBetween(sourceId, afterId, beforeId, limit);
  readonly claimJobs: Store['claimJobs'] = (opts) => this.inbound.claimJobs(opts);
  readonly finishJob: Store['finishJob'] = (requestId, result, owner, responseStatus) => this.inbound.finishJob(requestId, result, owner, responseStatus);
  readonly requeueRequest: Store['requeueRequest'] = (sourceId, requestId, now) => this.inbound.requeueRequest(sourceId, requestId, now);
  readonly nextJobDueAt: Store['nextJobDueAt'] = () => this.inbound.nextJobDueAt();
  readonly jobDepth: Store['jobDepth'] = () => this.inbound.jobDepth();
  readonly purgeRequests: Store['purgeRequests'] = (opts) => this.inbound.purgeRequests(opts);
  readonly insertDocument: Store['insertDocument'] = (collection, document) => this.inbound.insertDocument(collection, document);
  readonly findDocuments: Store['findDocuments'] = (collection, filter, limit) => this.inbound.findDocuments(collection, filter, limit);
  readonly updateDocuments: Store['updateDocuments'] = (collection, filter, patch, now) => this.inbound.updateDocuments(collection, filter, patch, now);
  readonly deleteDocuments: Store['deleteDocuments'] = (collection, filter) => this.inbound.deleteDocuments(collection, filter);
  readonly scanDocuments: Store['scanDocuments'] = (collection, scan) => this.inbound.scanDocuments(collection, scan);
  readonly modifyDocuments: Store['modifyDocuments'] = (collection, scan, change) => this.inbound.modifyDocuments(collection, scan, change);

  // ---- workflows (definitions, versions, executions, jobs): see SqlWorkflowStore

  private readonly workflows: SqlWorkflowStore;
  readonly createWorkflow: Store['createWorkflow'] = (...args) => this.workflows.createWorkflow(...args);
  readonly getWorkflow: Store['getWorkflow'] = (...args) => this.workflows.getWorkflow(...args);
  readonly listWorkflows: Store['listWorkflows'] = (...args) => this.workflows.listWorkflows(...args);
  readonly updateWorkflow: Store['updateWorkflow'] = (...args) => this.workflows.updateWorkflow(...args);
  readonly deleteWorkflow: Store['deleteWorkflow'] = (...args) => this.workflows.deleteWorkflow(...args);
  readonly getWorkflowVersion: Store['getWorkflowVersion'] = (...args) => this.workflows.getWorkflowVersion(...args);
  readonly listWorkflowVersions: Store['listWorkflowVersions'] = (...args) => this.workflows.listWorkflowVersions(...args);
  readonly sourceWorkflows: Store['sourceWorkflows'] = (...args) => this.workflows.sourceWorkflows(...args);
  readonly startExecutions: Store['startExecutions'] = (...args) => this.workflows.startExecutions(...args);
  readonly claimExecutions: Store['claimExecutions'] = (...args) => this.workflows.claimExecutions(...args);
  readonly getExecution: Store['getExecution'] = (...args) => this.workflows.getExecution(...args);
  readonly listExecutions: Store['listExecutions'] = (...args) => this.workflows.listExecutions(...args);
  readonly requestExecutions: Store['requestExecutions'] = (...args) => this.workflows.requestExecutions(...args);
  readonly listExecutionJobs: Store['listExecutionJobs'] = (...args) => this.workflows.listExecutionJobs(...args);
  readonly writeExecutions: Store['writeExecutions'] = (...args) => this.workflows.writeExecutions(...args);
  readonly retryExecution: Store['retryExecution'] = (...args) => this.workflows.retryExecution(...args);
  readonly nextExecutionDueAt: Store['nextExecutionDueAt'] = (...args) => this.workflows.nextExecutionDueAt(...args);

  async ping(): Promise<void> {
    await this.exec.all('SELECT 1 AS ok');
  }

  close(): Promise<void> {
    return this.exec.close();
  }

  // ---- apps

  createApp(app: App): Promise<App> {
    return this.changingConfig(() => this.insertApp(app));
  }

  private async insertApp(app: App): Promise<App> {
    const rows = await this.exec.all(
      `INSERT INTO apps (id, uid, name, metadata, portal, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT DO NOTHING RETURNING id`,
      [app.id, app.uid, app.name, JSON.stringify(app.metadata), jsonOrNull(app.portal), app.createdAt, app.updatedAt],
    );
    if (rows.length === 0) throw await this.uidConflict(app.uid);
    return app;
  }

  getApp(idOrUid: string): Promise<App | null> {
    return this.config.get(`app ${idOrUid}`, () => this.readApp(idOrUid));
  }

  private async readApp(idOrUid: string): Promise<App | null> {
    // Two key lookups rather than one `id = $1 OR uid = $1`, which took a multi-index OR and a sort: this runs on every
    // request to an app's routes, and most name the app by id.
    const row =
      (await one<Row>(this.exec, 'SELECT * FROM apps WHERE id = $1', [idOrUid])) ??
      (await one<Row>(this.exec, 'SELECT * FROM apps WHERE uid = $1', [idOrUid]));
    return row ? toApp(row) : null;
  }

  listApps(page: PageQuery): Promise<Page<App>> {
    return this.page('SELECT * FROM apps WHERE id > $1 ORDER BY id LIMIT $2', [], page, toApp, 'asc');
  }

  updateApp(id: string, patch: Partial<Pick<App, 'name' | 'uid' | 'metadata' | 'portal'>>, now: number): Promise<App | null> {
    return this.changingConfig(() => this.writeApp(id, patch, now));
  }

  private async writeApp(id: string, patch: Partial<Pick<App, 'name' | 'uid' | 'metadata' | 'portal'>>, now: number): Promise<App | null> {
    const current = await this.readApp(id);
    if (!current) return null;
    const next: App = { ...current, ...patch, updatedAt: now };
    if (next.uid !== null && next.uid !== current.uid) {
      const clash = await one<Row>(this.exec, 'SELECT id FROM apps WHERE (uid = $1 OR id = $1) AND id <> $2', [next.uid, id]);
      if (clash) throw await this.uidConflict(next.uid);
    }
    await this.exec.run('UPDATE apps SET name = $2, uid = $3, metadata = $4, portal = $5, updated_at = $6 WHERE id = $1', [
      id, next.name, next.uid, JSON.stringify(next.metadata), jsonOrNull(next.portal), now,
    ]);
    return next;
  }

  deleteApp(id: string): Promise<boolean> {
    // Messages and endpoints cascade from the app, deliveries from them; attempts have no keys on PostgreSQL (0010).
    // Deliveries go first: an outcome batch holding one commits before that DELETE goes on, and its attempts are seen
    // by the next (see recordOutcomes).
    return this.changingConfig(() => this.exec.transaction(async (tx) => {
      await tx.run('DELETE FROM deliveries WHERE app_id = $1', [id]);
      await tx.run('DELETE FROM attempts WHERE app_id = $1', [id]);
      return (await tx.run('DELETE FROM apps WHERE id = $1', [id])) > 0;
    }));
  }

  private async uidConflict(uid: string | null): Promise<HookyardError> {
    const existing = uid === null ? undefined : await one<Row>(this.exec, 'SELECT id FROM apps WHERE uid = $1', [uid]);
    return new HookyardError('conflict', `an app with uid "${uid}" already exists`, existing ? { id: existing.id } : undefined);
  }

  // ---- API keys

  async createApiKey(key: ApiKey, tokenHash: string): Promise<ApiKey> {
    await this.changingConfig(() => this.exec.run(
      'INSERT INTO api_keys (id, app_id, name, token_hash, kind, expires_at, read_only, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [key.id, key.appId, key.name, tokenHash, key.kind, key.expiresAt, key.readOnly ? 1 : 0, key.createdAt],
    ));
    return key;
  }

  findApiKeyByHash(tokenHash: string): Promise<ApiKey | null> {
    // Unknown tokens are not kept: whoever sends many of them must not push the real ones out.
    return this.config.get(`key ${tokenHash}`, async () => {
      const row = await one<Row>(this.exec, 'SELECT * FROM api_keys WHERE token_hash = $1', [tokenHash]);
      return row ? toApiKey(row) : null;
    }, (key) => key !== null);
  }

  async countAdminKeys(): Promise<number> {
    const row = await one<Row>(this.exec, 'SELECT COUNT(*) AS n FROM api_keys WHERE app_id IS NULL');
    return Number(row?.n ?? 0);
  }

  async deleteApiKey(appId: string, id: string): Promise<boolean> {
    return (await this.changingConfig(() => this.exec.run('DELETE FROM api_keys WHERE app_id = $1 AND id = $2', [appId, id]))) > 0;
  }

  async listApiKeys(appId: string): Promise<ApiKey[]> {
    return (await this.exec.all<Row>('SELECT * FROM api_keys WHERE app_id = $1 ORDER BY id', [appId])).map(toApiKey);
  }

  // ---- event types

  async createEventType(eventType: EventType): Promise<EventType> {
    const rows = await this.changingConfig(() => this.exec.all(
      `INSERT INTO event_types (name, description, schema, resource_url_template, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT DO NOTHING RETURNING name`,
      [eventType.name, eventType.description, jsonOrNull(eventType.schema), eventType.resourceUrlTemplate, eventType.createdAt, eventType.updatedAt],
    ));
    if (rows.length === 0) throw new HookyardError('conflict', `event type "${eventType.name}" already exists`, { name: eventType.name });
    return eventType;
  }

  getEventType(name: string): Promise<EventType | null> {
    return this.config.get(`event type ${name}`, () => this.readEventType(name));
  }

  private async readEventType(name: string): Promise<EventType | null> {
    const row = await one<Row>(this.exec, 'SELECT * FROM event_types WHERE name = $1', [name]);
    return row ? toEventType(row) : null;
  }

  listEventTypes(page: PageQuery): Promise<Page<EventType>> {
    return this.page('SELECT * FROM event_types WHERE name > $1 ORDER BY name LIMIT $2', [], page, toEventType, 'asc', (e) => e.name);
  }

  async updateEventType(
    name: string,
    patch: Partial<Pick<EventType, 'description' | 'schema' | 'resourceUrlTemplate'>>,
    now: number,
  ): Promise<EventType | null> {
    const current = await this.readEventType(name);
    if (!current) return null;
    const next: EventType = { ...current, ...patch, updatedAt: now };
    await this.changingConfig(() => this.exec.run(
      'UPDATE event_types SET description = $2, schema = $3, resource_url_template = $4, updated_at = $5 WHERE name = $1',
      [name, next.description, jsonOrNull(next.schema), next.resourceUrlTemplate, now],
    ));
    return next;
  }

  async deleteEventType(name: string): Promise<boolean> {
    return (await this.changingConfig(() => this.exec.run('DELETE FROM event_types WHERE name = $1', [name]))) > 0;
  }

  // ---- endpoints

  async createEndpoint(endpoint: Endpoint, secret: string): Promise<Endpoint> {
    await this.changingConfig(() => this.exec.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO endpoints (id, app_id, url, description, event_types, channels, headers, rate_limit, timeout_ms, disabled,
           disabled_reason, failing_since, flavor, payload_mode, ordering, metadata, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
        [
          endpoint.id, endpoint.appId, endpoint.url, endpoint.description, jsonOrNull(endpoint.eventTypes), jsonOrNull(endpoint.channels),
          JSON.stringify(endpoint.headers), endpoint.rateLimit, endpoint.timeoutMs, endpoint.disabled ? 1 : 0,
          endpoint.disabledReason, endpoint.failingSince, endpoint.flavor, endpoint.payloadMode, endpoint.ordering,
          JSON.stringify(endpoint.metadata), endpoint.createdAt, endpoint.updatedAt,
        ],
      );
      await tx.run('INSERT INTO endpoint_secrets (endpoint_id, secret_enc, created_at, expires_at) VALUES ($1, $2, $3, NULL)', [
        endpoint.id, this.box.encrypt(secret), endpoint.createdAt,
      ]);
    }));
    return endpoint;
  }

  async getEndpoint(appId: string, id: string): Promise<Endpoint | null> {
    const row = await one<Row>(this.exec, 'SELECT * FROM endpoints WHERE app_id = $1 AND id = $2', [appId, id]);
    return row ? toEndpoint(row) : null;
  }

  listEndpoints(appId: string, page: PageQuery): Promise<Page<Endpoint>> {
    return this.page('SELECT * FROM endpoints WHERE app_id = $3 AND id > $1 ORDER BY id LIMIT $2', [appId], page, toEndpoint, 'asc');
  }

  async listEnabledEndpoints(appId: string): Promise<Endpoint[]> {
    return (await this.exec.all<Row>('SELECT * FROM endpoints WHERE app_id = $1 AND disabled = 0 ORDER BY id', [appId])).map(toEndpoint);
  }

  fanoutEndpoints(appId: string): Promise<FanoutEndpoint[]> {
    return this.config.get(`fanout ${appId}`, async () => {
      const rows = await this.exec.all<Row>('SELECT id, event_types, channels, ordering FROM endpoints WHERE app_id = $1 AND disabled = 0 ORDER BY id', [appId]);
      return rows.map(toFanoutEndpoint);
    });
  }

  async getEndpointsByIds(ids: readonly string[]): Promise<Endpoint[]> {
    if (ids.length === 0) return [];
    const rows = await this.exec.all<Row>(`SELECT * FROM endpoints WHERE ${this.sql.inList('id', 1)}`, [this.sql.listParam(ids)]);
    return rows.map(toEndpoint);
  }

  updateEndpoint(appId: string, id: string, patch: EndpointPatch, now: number): Promise<Endpoint | null> {
    return this.changingConfig(() => this.exec.transaction(async (tx) => {
      const row = await one<Row>(tx, 'SELECT * FROM endpoints WHERE app_id = $1 AND id = $2', [appId, id]);
      if (!row) return null;
      const current = toEndpoint(row);
      const sets: string[] = [];
      const values: unknown[] = [appId, id, now];
      for (const [field, column] of Object.entries(ENDPOINT_COLUMNS) as Array<[keyof EndpointPatch, string]>) {
        if (!(field in patch)) continue;
        const value = patch[field];
        values.push(JSON_ENDPOINT_FIELDS.has(field) ? jsonOrNull(value) : value);
        sets.push(`${column} = $${values.length}`);
      }
      if (patch.disabled === false) sets.push('disabled_reason = NULL', 'failing_since = NULL');
      await tx.run(`UPDATE endpoints SET ${[...sets, 'updated_at = $3'].join(', ')} WHERE app_id = $1 AND id = $2`, values);
      if (patch.disabled === true && !current.disabled) await failPendingDeliveries(tx, id, now);
      if (patch.ordering !== undefined && patch.ordering !== current.ordering) await reorderEndpoint(tx, this.sql, id, patch.ordering, now);
      return toEndpoint((await one<Row>(tx, 'SELECT * FROM endpoints WHERE id = $1', [id]))!);
    }));
  }

  deleteEndpoint(appId: string, id: string): Promise<boolean> {
    return this.changingConfig(() => this.exec.transaction(async (tx) => {
      // Deliveries before attempts, as in deleteApp.
      await tx.run('DELETE FROM deliveries WHERE app_id = $1 AND endpoint_id = $2', [appId, id]);
      await tx.run('DELETE FROM attempts WHERE app_id = $1 AND endpoint_id = $2', [appId, id]);
      return (await tx.run('DELETE FROM endpoints WHERE app_id = $1 AND id = $2', [appId, id])) > 0;
    }));
  }

  async getActiveSecrets(endpointId: string, now: number): Promise<string[]> {
    const rows = await this.exec.all<Row>(
      `SELECT secret_enc FROM endpoint_secrets WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > $2)
       ORDER BY id DESC`,
      [endpointId, now],
    );
    return rows.map((row) => this.box.decrypt(String(row.secret_enc)));
  }

  async rotateSecret(endpointId: string, secret: string, previousExpiresAt: number, now: number): Promise<void> {
    await this.exec.transaction(async (tx) => {
      // A secret that already expires sooner keeps its earlier expiry; expired ones are dropped.
      await tx.run('DELETE FROM endpoint_secrets WHERE endpoint_id = $1 AND expires_at IS NOT NULL AND expires_at <= $2', [endpointId, now]);
      await tx.run('UPDATE endpoint_secrets SET expires_at = $2 WHERE endpoint_id = $1 AND (expires_at IS NULL OR expires_at > $2)', [
        endpointId, previousExpiresAt,
      ]);
      await tx.run('INSERT INTO endpoint_secrets (endpoint_id, secret_enc, created_at, expires_at) VALUES ($1, $2, $3, NULL)', [
        endpointId, this.box.encrypt(secret), now,
      ]);
    });
  }

  // ---- messages

  async insertMessages(items: readonly NewMessage[]): Promise<InsertMessageResult[]> {
    if (items.length === 0) return [];
    // FIFO deliveries are queued in the same transaction (store/fifo.ts), which the one-statement path cannot do.
    const fifo = items.some((item) => (item.fifoEndpointIds?.length ?? 0) > 0);
    const results = this.sql.insertMessagesAtOnce && !fifo && fanoutSize(items) <= DELIVERY_SLICE
      ? await this.insertMessagesAtOnce(items)
      : await this.exec.transaction(async (tx) => {
        // Fan-out read from the cache under an older counter than the one committed now: the configuration changed
        // since (on another node, say, before its notification arrived). Those messages are refused whole, to be read
        // again.
        const checked = items.some((item) => item.configVersion != null);
        const version = checked ? Number((await one<Row>(tx, 'SELECT version FROM config_version WHERE id = 1'))?.version ?? 0) : null;
        const current = items.filter((item) => item.configVersion == null || item.configVersion === version);
        const written = await this.writeMessages(tx, current);
        if (fifo) {
          const queued = current.filter((item) => written.get(item)?.ok === true).flatMap(({ message, fifoEndpointIds }) =>
            (fifoEndpointIds ?? []).map((endpointId) => ({ endpointId, messageId: message.id })));
          // Due from when the messages were accepted, as every delivery is.
          await queueBehindHeads(tx, this.sql, queued, Math.max(...current.map(({ message }) => message.createdAt)));
        }
        return items.map((item): InsertMessageResult => written.get(item) ?? { ok: false, stale: true });
      });
    if (results.some((result) => 'stale' in result)) this.config.flush();
    return results;
  }

  /** The same as one statement (PostgreSQL), its own transaction: one round trip per batch. */
  private async insertMessagesAtOnce(items: readonly NewMessage[]): Promise<InsertMessageResult[]> {
    const messageRows = this.sql.rows('m', MESSAGE_BATCH_COLUMNS, 1, items.map(({ message, configVersion }) => [...messageValues(message), configVersion ?? null]));
    const deliveryRows = this.sql.rows('d', DELIVERY_COLUMNS, MESSAGE_BATCH_COLUMNS.length + 1, deliveryValues(items));
    const { version, inserted } = await this.sql.insertMessagesAtOnce!(this.exec, messageRows, deliveryRows);
    return Promise.all(items.map(async (item): Promise<InsertMessageResult> => {
      const { message, configVersion } = item;
      if (inserted.has(message.id)) return { ok: true, message, leased: leasedDeliveries(item) };
      if (configVersion != null && configVersion !== version) return { ok: false, stale: true };
      return { ok: false, existingId: await this.existingMessageId(this.exec, message) };
    }));
  }

  private async existingMessageId(exec: SqlExecutor, message: Message): Promise<string> {
    const row = await one<Row>(exec, 'SELECT id FROM messages WHERE app_id = $1 AND event_id = $2', [message.appId, message.eventId]);
    return row ? String(row.id) : 'unknown';
  }

  /** A batch is three statements whatever its size: the messages, the existing ids of eventId duplicates, the deliveries. */
  private async writeMessages(tx: SqlExecutor, items: readonly NewMessage[]): Promise<Map<NewMessage, InsertMessageResult>> {
    const results = new Map<NewMessage, InsertMessageResult>();
    if (items.length === 0) return results;
    const messageRows = this.sql.rows('m', MESSAGE_COLUMNS, 1, items.map(({ message }) => messageValues(message)));
    const inserted = await tx.all<Row>(
      `INSERT INTO messages (${MESSAGE_COLUMN_NAMES})
       SELECT ${MESSAGE_COLUMN_NAMES} FROM ${messageRows.sql} WHERE true
       ON CONFLICT DO NOTHING RETURNING id`,
      messageRows.params,
    );
    const fresh = new Set(inserted.map((row) => String(row.id)));
    for (const item of items) {
      const { message } = item;
      results.set(item, fresh.has(message.id)
        ? { ok: true, message, leased: leasedDeliveries(item) }
        : { ok: false, existingId: await this.existingMessageId(tx, message) });
    }
    const deliveries = deliveryValues(items.filter(({ message }) => fresh.has(message.id)));
    // A batch's fan-out has no bound of its own (messages × endpoints): it is written in slices a statement can bind.
    for (let from = 0; from < deliveries.length; from += DELIVERY_SLICE) {
      const deliveryRows = this.sql.rows('d', DELIVERY_COLUMNS, 1, deliveries.slice(from, from + DELIVERY_SLICE));
      await tx.run(
        `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, next_attempt_at, lease_owner, created_at, updated_at)
         SELECT message_id, endpoint_id, app_id, status, next_attempt_at, lease_owner, created_at, created_at FROM ${deliveryRows.sql}`,
        deliveryRows.params,
      );
    }
    return results;
  }

  async getMessage(appId: string, id: string): Promise<Message | null> {
    const row = await one<Row>(this.exec, 'SELECT * FROM messages WHERE app_id = $1 AND id = $2', [appId, id]);
    return row ? toMessage(row) : null;
  }

  listMessages(appId: string, filter: MessageFilter, page: PageQuery): Promise<Page<Message>> {
    const where = ['app_id = $3', 'id < $1'];
    const params: unknown[] = [appId];
    if (filter.eventType !== undefined) where.push(`event_type = $${params.push(filter.eventType) + 2}`);
    if (filter.channel !== undefined) where.push(this.sql.jsonArrayHas('channels', params.push(filter.channel) + 2));
    if (filter.before !== undefined) where.push(`created_at < $${params.push(filter.before) + 2}`);
    if (filter.after !== undefined) where.push(`created_at > $${params.push(filter.after) + 2}`);
    return this.page(`SELECT * FROM messages WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $2`, params, page, toMessage, 'desc');
  }

  async listDeliveries(appId: string, messageId: string): Promise<Delivery[]> {
    const rows = await this.exec.all<Row>('SELECT * FROM deliveries WHERE app_id = $1 AND message_id = $2 ORDER BY endpoint_id', [
      appId, messageId,
    ]);
    return rows.map(toDelivery);
  }

  // ---- the delivery queue

  async claimDueDeliveries(opts: {
    now: number;
    limit: number;
    leaseUntil: number;
    owner: string;
    excludeEndpoints: readonly string[];
  }): Promise<ClaimedDelivery[]> {
    // Claims need no fsync: a claim lost in a power cut leaves the delivery pending, to be claimed again.
    return this.exec.transaction(async (tx) => {
      const claimed = await this.sql.claimDeliveries(tx, opts);
      // A delivery's message is deleted only with its app, which deletes the delivery too: the join loses nothing.
      return claimed.map((row) => toClaimed(row, opts));
    }, { durable: false });
  }

  async takeRateTokens(endpointId: string, wanted: number, ratePerSecond: number, now: number): Promise<{ granted: number; nextTokenInMs: number }> {
    return this.exec.transaction(async (tx) => {
      await tx.run('INSERT INTO endpoint_rate (endpoint_id, tokens, refilled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [endpointId, ratePerSecond, now]);
      // Refill for the time passed, capped at one second's worth; the UPDATE also locks the row (PostgreSQL) until commit.
      const [row] = await tx.all<Row>(
        `UPDATE endpoint_rate SET
           tokens = CASE WHEN tokens + ($2 - refilled_at) * $3 / 1000.0 > $3 THEN $3 ELSE tokens + ($2 - refilled_at) * $3 / 1000.0 END,
           refilled_at = $2
         WHERE endpoint_id = $1 RETURNING tokens`,
        [endpointId, now, ratePerSecond],
      );
      const tokens = Number(row?.tokens ?? 0);
      const granted = Math.max(0, Math.min(wanted, Math.floor(tokens)));
      if (granted > 0) await tx.run('UPDATE endpoint_rate SET tokens = tokens - $2 WHERE endpoint_id = $1', [endpointId, granted]);
      const left = tokens - granted;
      return { granted, nextTokenInMs: granted === wanted ? 0 : Math.ceil(((1 - (left % 1)) * 1000) / ratePerSecond) };
    });
  }

  async nextDueAt(): Promise<number | null> {
    const row = await one<Row>(this.exec, "SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE status IN ('pending', 'sending')");
    return row?.due === null || row?.due === undefined ? null : Number(row.due);
  }

  async releaseDeliveries(keys: ReadonlyArray<{ messageId: string; endpointId: string }>, owner: string, nextAttemptAt: number): Promise<void> {
    if (keys.length === 0) return;
    const rows = this.sql.rows('r', RELEASE_COLUMNS, 3, keys.map((key) => [key.messageId, key.endpointId]));
    await this.exec.transaction(
      (tx) => tx.run(
        `UPDATE deliveries AS d SET status = 'pending', lease_owner = NULL, next_attempt_at = $2
         FROM ${rows.sql}
         WHERE d.message_id = r.message_id AND d.endpoint_id = r.endpoint_id AND d.status = 'sending' AND d.lease_owner = $1`,
        [owner, nextAttemptAt, ...rows.params],
      ),
      { durable: false },
    );
  }

  async extendLeases(keys: ReadonlyArray<{ messageId: string; endpointId: string }>, owner: string, leaseUntil: number): Promise<void> {
    for (const key of keys) {
      await this.exec.run(
        "UPDATE deliveries SET next_attempt_at = $4 WHERE message_id = $1 AND endpoint_id = $2 AND status = 'sending' AND lease_owner = $3",
        [key.messageId, key.endpointId, owner, leaseUntil],
      );
    }
  }

  async recordOutcomes(outcomes: readonly DeliveryOutcome[], opts: { now: number; disableAfterMs: number; owner?: string }): Promise<OutcomeEffects> {
    // At-least-once makes a lost outcome harmless (the delivery is attempted again), so skip the fsync.
    const effects = await this.exec.transaction((tx) => recordOutcomes(tx, this.sql, outcomes, opts), { durable: false });
    if (effects.disabledEndpoints.length > 0) this.config.flush();
    return effects;
  }

  async resendDelivery(appId: string, messageId: string, endpointId: string, now: number): Promise<'queued' | 'in_flight'> {
    return this.exec.transaction(async (tx) => {
      const row = await one<Row>(tx, 'SELECT status FROM deliveries WHERE message_id = $1 AND endpoint_id = $2 AND app_id = $3', [
        messageId, endpointId, appId,
      ]);
      if (!row) {
        await tx.run(
          `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, next_attempt_at, next_trigger, single_shot, created_at, updated_at)
           VALUES ($1, $2, $3, 'pending', $4, 'manual', 1, $4, $4)`,
          [messageId, endpointId, appId, now],
        );
        await queueBehindHeads(tx, this.sql, [{ endpointId, messageId }], now);
        return 'queued';
      }
      if (row.status === 'sending') return 'in_flight';
      // A pending delivery keeps its schedule after the manual attempt; a finished one gets exactly one more attempt.
      // One parked behind a FIFO head stays parked: it goes in its turn.
      await tx.run(
        `UPDATE deliveries SET status = 'pending', next_attempt_at = CASE WHEN status = 'pending' AND next_attempt_at IS NULL THEN NULL ELSE CAST($4 AS BIGINT) END,
           next_trigger = 'manual', single_shot = CASE WHEN status = 'pending' THEN single_shot ELSE 1 END, updated_at = $4
         WHERE message_id = $1 AND endpoint_id = $2 AND app_id = $3`,
        [messageId, endpointId, appId, now],
      );
      if (row.status !== 'pending') await queueBehindHeads(tx, this.sql, [{ endpointId, messageId }], now);
      return 'queued';
    });
  }

  recoverDeliveries(appId: string, endpointId: string, since: number, until: number, now: number): Promise<number> {
    return this.exec.transaction(async (tx) => {
      const recovered = await tx.all<Row>(
        `UPDATE deliveries SET status = 'pending', schedule_pos = 0, next_attempt_at = $5, next_trigger = 'manual',
           single_shot = 0, last_error = NULL, updated_at = $5
         WHERE app_id = $1 AND endpoint_id = $2 AND status = 'failed'
           AND message_id IN (SELECT id FROM messages WHERE app_id = $1 AND created_at >= $3 AND created_at < $4)
         RETURNING message_id`,
        [appId, endpointId, since, until, now],
      );
      // On a FIFO endpoint the recovered deliveries join the end of its queue, in message order.
      const ids = recovered.map((row) => String(row.message_id)).sort();
      await queueBehindHeads(tx, this.sql, ids.map((messageId) => ({ endpointId, messageId })), now);
      return ids.length;
    });
  }

  async endpointDeliveryCounts(
    appId: string,
    endpointId: string,
    window: { since?: number | undefined; until?: number | undefined },
  ): Promise<Record<DeliveryStatus, number>> {
    const where = ['app_id = $1', 'endpoint_id = $2'];
    const params: unknown[] = [appId, endpointId];
    if (window.since !== undefined) where.push(`created_at >= $${params.push(window.since)}`);
    if (window.until !== undefined) where.push(`created_at < $${params.push(window.until)}`);
    const rows = await this.exec.all<Row>(`SELECT status, COUNT(*) AS n FROM deliveries WHERE ${where.join(' AND ')} GROUP BY status`, params);
    const counts: Record<DeliveryStatus, number> = { pending: 0, sending: 0, succeeded: 0, failed: 0 };
    for (const row of rows) counts[String(row.status) as DeliveryStatus] = Number(row.n);
    return counts;
  }

  async queueDepth(): Promise<{ pending: number; sending: number }> {
    // Over the queue's partial index, never over every delivery ever made.
    const rows = await this.exec.all<Row>(
      "SELECT status, COUNT(*) AS n FROM deliveries WHERE status IN ('pending', 'sending') GROUP BY status",
    );
    const depth = { pending: 0, sending: 0 };
    for (const row of rows) depth[String(row.status) as 'pending' | 'sending'] = Number(row.n);
    return depth;
  }

  listAttempts(appId: string, by: { messageId: string } | { endpointId: string }, page: PageQuery): Promise<Page<Attempt>> {
    const column = 'messageId' in by ? 'message_id' : 'endpoint_id';
    const value = 'messageId' in by ? by.messageId : by.endpointId;
    return this.page(
      `SELECT * FROM attempts WHERE app_id = $3 AND ${column} = $4 AND id < $1 ORDER BY id DESC LIMIT $2`,
      [appId, value], page, toAttempt, 'desc',
    );
  }

  // ---- idempotency

  async getIdempotent(scope: string, key: string, now: number): Promise<IdempotentResponse | 'in_progress' | null> {
    const row = await one<Row>(this.exec, 'SELECT status_code, body FROM idempotency_keys WHERE scope = $1 AND key = $2 AND expires_at > $3', [
      scope, key, now,
    ]);
    if (!row) return null;
    if (Number(row.status_code) === 0) return 'in_progress';
    return { statusCode: Number(row.status_code), body: String(row.body) };
  }

  async reserveIdempotent(scope: string, key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.exec.transaction(async (tx) => {
      await tx.run('DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND expires_at <= $3', [scope, key, now]);
      const rows = await tx.all(
        `INSERT INTO idempotency_keys (scope, key, status_code, body, expires_at) VALUES ($1, $2, 0, NULL, $3)
         ON CONFLICT DO NOTHING RETURNING key`,
        [scope, key, expiresAt],
      );
      return rows.length > 0;
    });
  }

  async completeIdempotent(scope: string, key: string, response: IdempotentResponse): Promise<void> {
    await this.exec.run('UPDATE idempotency_keys SET status_code = $3, body = $4 WHERE scope = $1 AND key = $2', [
      scope, key, response.statusCode, response.body,
    ]);
  }

  async releaseIdempotent(scope: string, key: string): Promise<void> {
    await this.exec.run('DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status_code = 0', [scope, key]);
  }

  async purgeExpired(now: number): Promise<void> {
    await this.exec.run('DELETE FROM idempotency_keys WHERE expires_at <= $1', [now]);
    // Expired portal tokens are refused already (api/auth.ts); this only keeps the table small.
    const gone = await this.exec.run('DELETE FROM api_keys WHERE expires_at IS NOT NULL AND expires_at <= $1', [now]);
    if (gone > 0) this.config.flush();
  }

  /** Keyset pagination: `$1` is the cursor bound, `$2` the limit (+1 to learn whether more follow), extra params from `$3`. */
  private page<T>(
    sql: string,
    params: unknown[],
    page: PageQuery,
    map: (row: Row) => T,
    order: 'asc' | 'desc',
    keyOf?: (item: T) => string,
  ): Promise<Page<T>> {
    return keysetPage(this.exec, sql, params, page, map, order, keyOf);
  }
}

const fanoutSize = (items: readonly NewMessage[]): number => items.reduce((sum, item) => sum + item.endpointIds.length, 0);

/** Whether the delivery to `endpointId` is written leased (NewMessage.lease): all but the FIFO ones, which queue. */
const writtenLeased = (item: NewMessage, endpointId: string): boolean => item.lease != null && !item.fifoEndpointIds?.includes(endpointId);

/** The deliveries of the messages as rows of DELIVERY_COLUMNS. */
const deliveryValues = (items: readonly NewMessage[]): unknown[][] =>
  items.flatMap((item) => item.endpointIds.map((endpointId) => {
    const { message, lease } = item;
    return writtenLeased(item, endpointId)
      ? [message.id, endpointId, message.appId, 'sending', lease!.until, lease!.owner, message.createdAt]
      : [message.id, endpointId, message.appId, 'pending', message.createdAt, null, message.createdAt];
  }));

/** What deliveryValues wrote leased, as the worker holding the lease sends them. */
const leasedDeliveries = (item: NewMessage): ClaimedDelivery[] =>
  item.endpointIds.filter((id) => writtenLeased(item, id)).map((id) => leasedDelivery(item.message, id, item.lease!));

function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
