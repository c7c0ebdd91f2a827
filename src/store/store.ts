/**
 * The store: every operation Hookyard performs on its database, named after what it does for the domain.
 * One implementation (SqlStore) serves SQLite and PostgreSQL through a SqlExecutor; test/store.contract.ts runs
 * the same cases on both. App-scoped reads and writes always take the app id, so tenants are isolated here,
 * not only in the routes.
 */

export type Json = Record<string, unknown>;

export interface PageQuery {
  limit: number;
  /** The id of the last item of the previous page. */
  after?: string | undefined;
}

export interface Page<T> {
  data: T[];
  /** The id to continue after, or null at the end. */
  next: string | null;
}

/** How the consumer portal looks for an app's customers; null fields = Hookyard's defaults. */
export interface PortalTheme {
  color: string | null;
  logoUrl: string | null;
}

export interface App {
  id: string;
  uid: string | null;
  name: string;
  metadata: Json;
  portal: PortalTheme | null;
  createdAt: number;
  updatedAt: number;
}

/** `portal`: a consumer portal session's token (app-scoped, expiring, limited to the portal's routes). */
export type ApiKeyKind = 'api' | 'portal';

export interface ApiKey {
  id: string;
  appId: string | null;
  name: string | null;
  kind: ApiKeyKind;
  /** null = never. */
  expiresAt: number | null;
  readOnly: boolean;
  createdAt: number;
}

export interface EventType {
  name: string;
  description: string;
  schema: Json | null;
  /** Renders a thin delivery's `url` from the payload (`{{entity_id}}`, `{{data.id}}`) when a send gives none. */
  resourceUrlTemplate: string | null;
  createdAt: number;
  updatedAt: number;
}

export type EndpointFlavor = 'standard' | 'polar';
/** What a delivery's body holds: the payload, or a pointer to the resource for the receiver to fetch. */
export type PayloadMode = 'full' | 'thin';
/** `fifo`: one delivery at a time, in message order; a failing one holds the rest until it succeeds or is exhausted. */
export type EndpointOrdering = 'parallel' | 'fifo';

export interface Endpoint {
  id: string;
  appId: string;
  url: string;
  description: string;
  /** null = every event type. */
  eventTypes: string[] | null;
  /** null = no channel filter; otherwise only messages that share one of these channels. */
  channels: string[] | null;
  headers: Record<string, string>;
  rateLimit: number | null;
  timeoutMs: number | null;
  disabled: boolean;
  disabledReason: string | null;
  failingSince: number | null;
  flavor: EndpointFlavor;
  payloadMode: PayloadMode;
  ordering: EndpointOrdering;
  metadata: Json;
  createdAt: number;
  updatedAt: number;
}

export type EndpointPatch = Partial<
  Pick<
    Endpoint,
    'url' | 'description' | 'eventTypes' | 'channels' | 'headers' | 'rateLimit' | 'timeoutMs' | 'disabled' | 'disabledReason' | 'payloadMode' | 'ordering' | 'metadata'
  >
>;

export interface Message {
  id: string;
  appId: string;
  eventType: string;
  eventId: string | null;
  /** The payload as the exact JSON text that is signed and sent. */
  payload: string;
  /** null = none: reaches only endpoints without a channel filter. */
  channels: string[] | null;
  /** What a thin delivery points at; null when neither the send nor the event type's template gave one. */
  resourceUrl: string | null;
  createdAt: number;
}

export type DeliveryStatus = 'pending' | 'sending' | 'succeeded' | 'failed';
export type Trigger = 'scheduled' | 'manual';

export interface Delivery {
  messageId: string;
  endpointId: string;
  appId: string;
  status: DeliveryStatus;
  /** Attempts made so far, over the delivery's whole life (numbers the next attempt). */
  attempts: number;
  /** Attempts made in the current run of the retry schedule (reset by recover). */
  schedulePos: number;
  nextAttemptAt: number | null;
  nextTrigger: Trigger;
  /** A resend of a finished delivery: one attempt, no schedule after it. */
  singleShot: boolean;
  exhaustedAt: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A delivery claimed by a worker, with what it needs to send it. */
export interface ClaimedDelivery extends Delivery {
  eventType: string;
  payload: string;
  resourceUrl: string | null;
  messageCreatedAt: number;
}

export type AttemptStatus = 'success' | 'failed';

export interface Attempt {
  id: string;
  messageId: string;
  endpointId: string;
  appId: string;
  url: string;
  status: AttemptStatus;
  responseStatusCode: number | null;
  response: string;
  error: string | null;
  durationMs: number;
  attempt: number;
  trigger: Trigger;
  createdAt: number;
  nextAttemptAt: number | null;
}

export interface DeliveryOutcome {
  attempt: Attempt;
  /** The delivery's new state. */
  next: Pick<Delivery, 'status' | 'attempts' | 'schedulePos' | 'nextAttemptAt' | 'exhaustedAt' | 'lastError'>;
  /** success clears the endpoint's failure streak; failure starts or extends it; gone disables the endpoint. */
  endpoint: 'success' | 'failure' | 'gone';
}

export interface OutcomeEffects {
  /** Endpoints this batch disabled (410, or failing longer than the limit), each reported once. */
  disabledEndpoints: Array<{ endpointId: string; appId: string; reason: string }>;
  /** FIFO endpoints whose next delivery this batch made due. */
  fifoAdvanced: number;
}

/**
 * `stale`: the configuration changed after the fan-out was read (see configVersion); nothing was written. `leased`:
 * the deliveries written already leased (NewMessage.lease), for the worker that holds the lease to send.
 */
export type InsertMessageResult =
  | { ok: true; message: Message; leased: ClaimedDelivery[] }
  | { ok: false; existingId: string }
  | { ok: false; stale: true };

/** A lease as a claim writes it: the delivery is `sending`, held by `owner` until `until` (its next_attempt_at). */
export interface DeliveryLease {
  owner: string;
  until: number;
}

export interface NewMessage {
  message: Message;
  endpointIds: string[];
  /** Those of endpointIds that are FIFO: their deliveries queue behind the endpoint's unfinished one. */
  fifoEndpointIds?: readonly string[];
  /** The configVersion() the fan-out (and app, key, event type) was read under; the insert refuses it if that moved. */
  configVersion?: number | null;
  /**
   * Write the deliveries (all but the FIFO ones, which queue) already claimed under this lease: a worker in this
   * process sends them without claiming them from the queue. If it dies, the lease runs out as a claim's would.
   */
  lease?: DeliveryLease | null;
}

/** What a message's fan-out needs of an enabled endpoint. */
export interface FanoutEndpoint {
  id: string;
  /** null = every event type. */
  eventTypes: string[] | null;
  channels: string[] | null;
  fifo: boolean;
}

export interface MessageFilter {
  eventType?: string | undefined;
  /** Messages sent to this channel. */
  channel?: string | undefined;
  before?: number | undefined;
  after?: number | undefined;
}

export interface IdempotentResponse {
  statusCode: number;
  body: string;
}

// ---- inbound

export interface SourceVerification {
  type: string;
  secret?: string;
  secrets?: string[];
  toleranceSeconds?: number;
  [field: string]: unknown;
}

export interface SourceResponse {
  mode: 'async' | 'sync';
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export type ForwardTarget = { url: string } | { app: string; eventType: string };

/** The out-of-order guard: where a request names its entity (a JSON path) and its time (a JSON path or `header:<name>`). */
export interface SourceOrdering {
  entity: string;
  timestamp: string;
}

export interface Source {
  id: string;
  name: string;
  description: string;
  /** Upper-case HTTP methods the receiving URL answers. */
  methods: string[];
  verification: SourceVerification | null;
  ipAllowlist: string[] | null;
  dedup: { header?: string; jsonPath?: string } | null;
  response: SourceResponse | null;
  /** Handler file name (without extension); null = the file named after the source, when there is one. */
  handler: string | null;
  forward: ForwardTarget[];
  /** null or absent = no out-of-order guard. */
  ordering?: SourceOrdering | null;
  createdAt: number;
  updatedAt: number;
}

export type SourcePatch = Partial<Pick<Source, 'name' | 'description' | 'methods' | 'verification' | 'ipAllowlist' | 'dedup' | 'response' | 'handler' | 'forward' | 'ordering'>>;

export type RequestStatus = 'accepted' | 'rejected' | 'duplicate';
export type ProcessingStatus = 'none' | 'pending' | 'running' | 'succeeded' | 'failed';

export interface ProcessingResult {
  status: ProcessingStatus;
  /** What the handler returned (JSON), or null. */
  output: unknown;
  error: string | null;
  durationMs: number | null;
  finishedAt: number | null;
}

/** One request to a source, byte-exact, with what Hookyard decided and what processing made of it. */
export interface InboundRecord {
  id: string;
  sourceId: string;
  method: string;
  /** The path after the source's name ('' for the bare receiving URL). */
  path: string;
  /** The raw query string, without '?'. */
  query: string;
  headers: Record<string, string>;
  body: Buffer;
  receivedAt: number;
  status: RequestStatus;
  /** The HTTP status Hookyard answered (or will answer) with. */
  responseStatus: number;
  verified: boolean | null;
  /** Why a request was rejected; never a secret or an expected signature. */
  reason: string | null;
  dedupKey: string | null;
  duplicateOf: string | null;
  /** It arrived older than the newest request already accepted for its entity (the source's `ordering`): not processed. */
  stale: boolean;
  processing: ProcessingResult;
}

export interface NewInboundRequest {
  record: InboundRecord;
  /** Queue processing: 'pending' for the processor, or 'running' leased to `leaseOwner` (sync mode runs it inline). */
  job: null | { status: 'pending' } | { status: 'running'; leaseOwner: string; leaseUntil: number };
  /** The request's entity and time (epoch ms) under the source's `ordering`; absent = not guarded. */
  ordering?: { entity: string; at: number } | undefined;
  /** Workflow executions to start in the same commit (queued), when the request is stored as itself and not stale. */
  executions?: readonly NewExecution[];
}

/**
 * Where an inserted request ended up: itself, or the earlier request with the same dedup key. `stale`: older than the
 * newest accepted for its entity, so it was stored with stale = true, processing 'none' and no job.
 */
export interface InsertRequestResult {
  id: string;
  duplicateOf: string | null;
  stale: boolean;
}

export interface ClaimedJob {
  request: InboundRecord;
  /** Claims before this one (a job claimed again after its worker died has attempts > 0). */
  attempts: number;
  /** When this processing run was queued (a replay queues a new one): with the request id, it names the run. */
  queuedAt: number;
}

export interface RequestFilter {
  status?: RequestStatus | undefined;
}

export interface StoredDocument {
  id: string;
  data: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

/** Equality on top-level or dotted fields of a document; `_id` matches the document's id. */
export type DocumentFilter = Record<string, unknown>;

/**
 * What the handlers' Mongo layer asks SQL for: a superset of the documents its filter matches (it filters them exactly
 * in TS), oldest first, at most `limit`.
 */
export interface DocumentScan {
  /** Each (dotted) field equals its scalar value, or is an array holding it (MongoDB's equality on arrays). */
  fields: Record<string, string | number | boolean | null>;
  /** When given, the document's id is one of these. */
  ids?: readonly string[];
  limit: number;
}

/** The writes of one `modifyDocuments` step; updates replace a document's data and updated_at by id. */
export interface DocumentWrites {
  insert?: readonly StoredDocument[];
  update?: readonly StoredDocument[];
  delete?: readonly string[];
}

/** Activity per minute since a time, for the dashboard's overview. */
// ---- workflows

export type WorkflowNodeType =
  | 'condition' | 'set' | 'create' | 'update' | 'query' | 'delete' | 'http-request' | 'emit' | 'notify' | 'code'
  | 'delay' | 'respond' | 'end';

/**
 * One step of a workflow. `next` names the node that follows (absent or null: the path ends); a condition has
 * `then`/`else` instead. Any string in `config` may hold templates (`{{$context.data.id}}`).
 */
export interface WorkflowNode {
  key: string;
  type: WorkflowNodeType;
  name?: string;
  config: Record<string, unknown>;
  next?: string | null;
  then?: string | null;
  else?: string | null;
}

export interface WorkflowResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** What a version of a workflow holds: everything an execution of it needs. The first node is where a run starts. */
export interface WorkflowDefinition {
  mode: 'async' | 'sync';
  trigger: { type: 'webhook'; source: string };
  response: WorkflowResponse | null;
  nodes: WorkflowNode[];
}

export interface Workflow {
  id: string;
  key: string;
  name: string;
  enabled: boolean;
  sourceId: string;
  /** The current version; executions keep the version they ran. */
  version: number;
  definition: WorkflowDefinition;
  createdAt: number;
  updatedAt: number;
}

export type WorkflowPatch = Partial<Pick<Workflow, 'key' | 'name' | 'enabled' | 'sourceId' | 'definition'>>;

export interface WorkflowVersion {
  workflowId: string;
  version: number;
  definition: WorkflowDefinition;
  createdAt: number;
}

export type ExecutionStatus = 'running' | 'waiting' | 'succeeded' | 'failed';

export interface Execution {
  id: string;
  workflowId: string;
  version: number;
  requestId: string;
  status: ExecutionStatus;
  /** The node to run next; after a failure the node that failed (a retry starts there); null once finished. */
  currentNode: string | null;
  /** The answer a respond node (or the workflow's `response`) decided, for a sync-mode sender. */
  response: WorkflowResponse | null;
  error: string | null;
  /** While running: the lease's end; while waiting: the wake time; null when finished. */
  nextRunAt: number | null;
  /** Claims so far (an execution claimed again after its worker died has claims > 1). */
  claims: number;
  startedAt: number;
  finishedAt: number | null;
  updatedAt: number;
}

export interface NewExecution {
  execution: Execution;
  /** The request and processing run that started it: a second start with the same key returns the first execution. */
  triggerKey: string;
  /** Start it claimed by this owner (sync mode runs it inline) instead of queued. */
  leaseOwner?: string;
}

export type ExecutionJobStatus = 'running' | 'succeeded' | 'failed' | 'waiting';

/** One run of one node of an execution. */
export interface ExecutionJob {
  id: string;
  executionId: string;
  nodeKey: string;
  type: WorkflowNodeType;
  status: ExecutionJobStatus;
  input: unknown;
  output: unknown;
  error: string | null;
  startedAt: number;
  durationMs: number | null;
}

export type ExecutionWrite =
  | { kind: 'begin'; job: ExecutionJob; owner: string; leaseUntil: number }
  | { kind: 'step'; executionId: string; step: ExecutionStep; owner: string };

export interface ExecutionFilter {
  status?: ExecutionStatus | undefined;
  requestId?: string | undefined;
}

/** What the runner commits when a node has run: the job's end and where the execution goes next. */
export interface ExecutionStep {
  job: Pick<ExecutionJob, 'id' | 'status' | 'output' | 'error' | 'durationMs'>;
  /** The job was not begun (a quick node): it is written here, whole, instead of updated. */
  started?: Pick<ExecutionJob, 'nodeKey' | 'type' | 'input' | 'startedAt'>;
  execution: Pick<Execution, 'status' | 'currentNode' | 'response' | 'error' | 'nextRunAt' | 'finishedAt'>;
  now: number;
}

export interface ActivityStats {
  requests: Array<{ minute: number; count: number }>;
  attempts: Array<{ minute: number; status: AttemptStatus; count: number }>;
  /** Endpoints failing now (a failure streak) or disabled, longest failing first. */
  failingEndpoints: Endpoint[];
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  ping(): Promise<void>;
  close(): Promise<void>;

  /**
   * Apps, API keys by hash, event types and fan-out are read through a cache that drops itself when the configuration
   * counter moves (any change to those tables, by any process or node). Returns the counter the cached values stand
   * for, to hand to insertMessages; null when nothing is cached (PostgreSQL without notifications).
   */
  configVersion(): Promise<number | null>;
  /** PostgreSQL: another node changed configuration (a hookyard_config notification). */
  configChanged(): void;
  /** PostgreSQL: whether configChanged() calls arrive (the LISTEN connection is up): caching is on only while they do. */
  watchConfig(notified: boolean): void;

  createApp(app: App): Promise<App>;
  /** By id or uid; cached. */
  getApp(idOrUid: string): Promise<App | null>;
  listApps(page: PageQuery): Promise<Page<App>>;
  updateApp(id: string, patch: Partial<Pick<App, 'name' | 'uid' | 'metadata' | 'portal'>>, now: number): Promise<App | null>;
  deleteApp(id: string): Promise<boolean>;

  createApiKey(key: ApiKey, tokenHash: string): Promise<ApiKey>;
  /** Cached when found. */
  findApiKeyByHash(tokenHash: string): Promise<ApiKey | null>;
  countAdminKeys(): Promise<number>;
  deleteApiKey(appId: string, id: string): Promise<boolean>;
  listApiKeys(appId: string): Promise<ApiKey[]>;

  createEventType(eventType: EventType): Promise<EventType>;
  /** Cached. */
  getEventType(name: string): Promise<EventType | null>;
  listEventTypes(page: PageQuery): Promise<Page<EventType>>;
  updateEventType(name: string, patch: Partial<Pick<EventType, 'description' | 'schema' | 'resourceUrlTemplate'>>, now: number): Promise<EventType | null>;
  deleteEventType(name: string): Promise<boolean>;

  createEndpoint(endpoint: Endpoint, secret: string): Promise<Endpoint>;
  getEndpoint(appId: string, id: string): Promise<Endpoint | null>;
  listEndpoints(appId: string, page: PageQuery): Promise<Page<Endpoint>>;
  /** Enabled endpoints of an app, for fan-out. */
  listEnabledEndpoints(appId: string): Promise<Endpoint[]>;
  /** An app's enabled endpoints as fan-out needs them; cached (see configVersion). */
  fanoutEndpoints(appId: string): Promise<FanoutEndpoint[]>;
  /** Endpoints by id across apps (the worker's batch lookup). */
  getEndpointsByIds(ids: readonly string[]): Promise<Endpoint[]>;
  /** Disabling an endpoint fails its pending deliveries (recoverable once it is enabled again). */
  updateEndpoint(appId: string, id: string, patch: EndpointPatch, now: number): Promise<Endpoint | null>;
  deleteEndpoint(appId: string, id: string): Promise<boolean>;
  /** Active secrets, newest first, decrypted. */
  getActiveSecrets(endpointId: string, now: number): Promise<string[]>;
  /** Adds `secret` as the current one; the others stop signing at `previousExpiresAt`. */
  rotateSecret(endpointId: string, secret: string, previousExpiresAt: number, now: number): Promise<void>;

  /** Commits the messages and their deliveries; a duplicate eventId in an app yields the existing id instead. */
  insertMessages(items: readonly NewMessage[]): Promise<InsertMessageResult[]>;
  getMessage(appId: string, id: string): Promise<Message | null>;
  listMessages(appId: string, filter: MessageFilter, page: PageQuery): Promise<Page<Message>>;
  listDeliveries(appId: string, messageId: string): Promise<Delivery[]>;

  /**
   * Marks up to `limit` due deliveries as sending, leased to `owner` until `leaseUntil` (their next_attempt_at).
   * Due = pending and its time has come, or sending and its lease ran out (its worker died).
   */
  claimDueDeliveries(opts: {
    now: number;
    limit: number;
    leaseUntil: number;
    owner: string;
    excludeEndpoints: readonly string[];
  }): Promise<ClaimedDelivery[]>;
  /** When the next delivery becomes due (or a lease expires), or null when the queue is empty. */
  nextDueAt(): Promise<number | null>;
  /** Gives claimed deliveries back without an attempt (shutdown, or throttled endpoint), due at `nextAttemptAt`. */
  releaseDeliveries(keys: ReadonlyArray<{ messageId: string; endpointId: string }>, owner: string, nextAttemptAt: number): Promise<void>;
  /** Extends the lease of claimed deliveries (endpoints whose timeout is longer than the default lease covers). */
  extendLeases(keys: ReadonlyArray<{ messageId: string; endpointId: string }>, owner: string, leaseUntil: number): Promise<void>;
  /**
   * Takes up to `wanted` tokens from the endpoint's shared bucket (`ratePerSecond`, bursts of one second's worth).
   * Returns how many were granted, and when the next token arrives if fewer than wanted.
   */
  takeRateTokens(endpointId: string, wanted: number, ratePerSecond: number, now: number): Promise<{ granted: number; nextTokenInMs: number }>;
  /** `owner` guards against recording over a delivery whose lease expired and was taken by another worker. */
  recordOutcomes(outcomes: readonly DeliveryOutcome[], opts: { now: number; disableAfterMs: number; owner?: string }): Promise<OutcomeEffects>;
  /** Queues one manual attempt now; creates the delivery row when the endpoint never had one. */
  resendDelivery(appId: string, messageId: string, endpointId: string, now: number): Promise<'queued' | 'in_flight'>;
  /** Re-queues the endpoint's failed deliveries of messages created in [since, until), with a fresh schedule. */
  recoverDeliveries(appId: string, endpointId: string, since: number, until: number, now: number): Promise<number>;
  /** An endpoint's deliveries per status, of those created in [since, until) when given (the Svix endpoint stats). */
  endpointDeliveryCounts(appId: string, endpointId: string, window: { since?: number | undefined; until?: number | undefined }): Promise<Record<DeliveryStatus, number>>;
  /** Deliveries waiting (pending) and being attempted (sending): the queue depth. */
  queueDepth(): Promise<{ pending: number; sending: number }>;

  /** Requests and attempts per minute since `since` (by id order, so no time index is needed), and failing endpoints. */
  activityStats(since: number): Promise<ActivityStats>;

  listAttempts(appId: string, by: { messageId: string } | { endpointId: string }, page: PageQuery): Promise<Page<Attempt>>;

  getIdempotent(scope: string, key: string, now: number): Promise<IdempotentResponse | 'in_progress' | null>;
  /** Reserves the key; false when someone holds it already. */
  reserveIdempotent(scope: string, key: string, expiresAt: number, now: number): Promise<boolean>;
  completeIdempotent(scope: string, key: string, response: IdempotentResponse): Promise<void>;
  releaseIdempotent(scope: string, key: string): Promise<void>;
  purgeExpired(now: number): Promise<void>;

  createSource(source: Source): Promise<Source>;
  /** By id or name. */
  getSource(idOrName: string): Promise<Source | null>;
  listSources(page: PageQuery): Promise<Page<Source>>;
  updateSource(id: string, patch: SourcePatch, now: number): Promise<Source | null>;
  /** Deletes the source with its requests and jobs. */
  deleteSource(id: string): Promise<boolean>;

  /**
   * Commits a batch of requests (and their jobs) in one transaction. A request whose dedup key an earlier accepted
   * request of the source holds is stored as a duplicate of it, without a job.
   */
  insertRequests(items: readonly NewInboundRequest[]): Promise<InsertRequestResult[]>;
  getRequest(sourceId: string, id: string): Promise<InboundRecord | null>;
  /** A request by id alone, whichever source it came to (a workflow execution's trigger). */
  findRequest(id: string): Promise<InboundRecord | null>;
  listRequests(sourceId: string, filter: RequestFilter, page: PageQuery): Promise<Page<InboundRecord>>;
  /** A source's requests received after `afterId`, oldest first (the live stream's catch-up). */
  listRequestsSince(sourceId: string, afterId: string, limit: number): Promise<InboundRecord[]>;
  /** Ids of a source's requests strictly between `afterId` and `beforeId`, oldest first (the stream's late-commit sweep). */
  listRequestIdsBetween(sourceId: string, afterId: string, beforeId: string, limit: number): Promise<string[]>;
  /** Claims due processing jobs: pending ones, and running ones whose lease ran out. */
  claimJobs(opts: { now: number; limit: number; leaseUntil: number; owner: string }): Promise<ClaimedJob[]>;
  /**
   * Records the processing result on the request and removes its job (only while `owner` holds the lease, when given).
   * `responseStatus`: the status a sync-mode sender was answered with, once the handler decided it.
   */
  finishJob(requestId: string, result: ProcessingResult, owner: string | null, responseStatus?: number): Promise<boolean>;
  /** Queues processing again (replay); false when the request does not exist in that source. */
  requeueRequest(sourceId: string, requestId: string, now: number): Promise<boolean>;
  nextJobDueAt(): Promise<number | null>;
  jobDepth(): Promise<{ pending: number; running: number }>;
  /** Deletes requests received before `before`, and each source's oldest beyond `maxPerSource`. Returns the count. */
  purgeRequests(opts: { before: number; maxPerSource: number }): Promise<number>;

  insertDocument(collection: string, document: StoredDocument): Promise<void>;
  findDocuments(collection: string, filter: DocumentFilter, limit: number): Promise<StoredDocument[]>;
  /** Merges `patch` into the top level of every matching document. Returns how many changed. */
  updateDocuments(collection: string, filter: DocumentFilter, patch: Record<string, unknown>, now: number): Promise<number>;
  deleteDocuments(collection: string, filter: DocumentFilter): Promise<number>;
  scanDocuments(collection: string, scan: DocumentScan): Promise<StoredDocument[]>;
  /**
   * A read-modify-write without lost updates: hands the documents of `scan` to `change`, locked against other writers
   * until the writes it returns commit. `change` may run more than once (a transaction run again), so it must be pure.
   * An insert whose id exists fails with `conflict`.
   */
  modifyDocuments<T>(collection: string, scan: DocumentScan, change: (found: StoredDocument[]) => { writes: DocumentWrites; result: T }): Promise<T>;

  // ---- workflows

  /** Creates the workflow and its version 1; a taken key is a `conflict`. */
  createWorkflow(workflow: Workflow): Promise<Workflow>;
  /** By id, else by key. */
  getWorkflow(idOrKey: string): Promise<Workflow | null>;
  listWorkflows(filter: { sourceId?: string | undefined }, page: PageQuery): Promise<Page<Workflow>>;
  /**
   * A new definition replaces the current version in place while no execution has run it, and becomes the next
   * version once one has (so every execution's definition stays readable).
   */
  updateWorkflow(id: string, patch: WorkflowPatch, now: number): Promise<Workflow | null>;
  deleteWorkflow(id: string): Promise<boolean>;
  getWorkflowVersion(workflowId: string, version: number): Promise<WorkflowVersion | null>;
  listWorkflowVersions(workflowId: string): Promise<WorkflowVersion[]>;
  /** The enabled workflows triggered by a source's requests. */
  sourceWorkflows(sourceId: string): Promise<Workflow[]>;
  /** Starts executions; one whose (workflow, trigger key) already exists is not started again and is returned as it is. */
  startExecutions(items: readonly NewExecution[]): Promise<Execution[]>;
  /** Claims due executions: running ones whose lease ran out (or never leased) and waiting ones whose time came. */
  claimExecutions(opts: { now: number; limit: number; leaseUntil: number; owner: string }): Promise<Execution[]>;
  getExecution(id: string): Promise<Execution | null>;
  listExecutions(workflowId: string, filter: ExecutionFilter, page: PageQuery): Promise<Page<Execution>>;
  /** The executions a request started, oldest first. */
  requestExecutions(requestId: string): Promise<Execution[]>;
  listExecutionJobs(executionId: string): Promise<ExecutionJob[]>;
  /**
   * Writes node starts (the job, and the lease extended) and steps (the job's end and where the execution goes) of
   * several executions in one transaction, each only while `owner` holds its execution: false for one it no longer
   * holds (nothing of it written).
   */
  writeExecutions(writes: readonly ExecutionWrite[]): Promise<boolean[]>;
  /** A failed execution runs again from its failed node; false when it is not failed. */
  retryExecution(id: string, now: number): Promise<boolean>;
  nextExecutionDueAt(): Promise<number | null>;
}
