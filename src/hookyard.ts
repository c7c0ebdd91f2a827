import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { SecretBox } from './crypto/secret-box.js';
import { hashToken, newApiToken } from './crypto/tokens.js';
import { HttpClient } from './delivery/http-client.js';
import { DeliveryWorker } from './delivery/worker.js';
import { EndpointService } from './domain/endpoints.js';
import { EventSchemas } from './domain/event-schemas.js';
import { MessageService } from './domain/messages.js';
import { PortalService } from './domain/portal.js';
import { OperationalEvents } from './domain/operational.js';
import { SourceService } from './domain/sources.js';
import { WorkflowService } from './domain/workflows.js';
import { InboundFeed } from './inbound/feed.js';
import { HandlerLoader } from './inbound/handlers/loader.js';
import { PythonPool, warnIfPythonUnavailable } from './inbound/handlers/python-pool.js';
import { HandlerThreadPool } from './inbound/handlers/thread-pool.js';
import { RequestProcessor } from './inbound/processing.js';
import { ProcessingWorker } from './inbound/processing-worker.js';
import { InboundReceiver } from './inbound/receiver.js';
import { newId } from './ids.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { buildServer } from './server.js';
import type { Services } from './services.js';
import { openStore } from './store/open-store.js';
import { PgNotifier } from './store/postgres/pg-notifier.js';
import type { Store } from './store/store.js';
import { USER_AGENT } from './version.js';
import { WorkSignal } from './work-signal.js';
import { ExecutionWorker } from './workflows/execution-worker.js';
import { Mailer } from './workflows/mailer.js';
import { ExecutionRunner } from './workflows/runner.js';
import { createMongoExecutor } from './inbound/handlers/mongo.js';

export interface Hookyard {
  services: Services;
  server: FastifyInstance;
  worker: DeliveryWorker | null;
  processing: ProcessingWorker | null;
  /** The URL the server listens on. */
  url: string;
  /** Set only on the first start of a fresh database when no HOOKYARD_ADMIN_TOKEN was given: print it once. */
  generatedAdminToken: string | null;
  stop(): Promise<void>;
}

/** Opens the database, wires the services, starts the HTTP server and (role all|worker) the delivery worker. */
export async function startHookyard(config: Config, options: { logger?: Logger } = {}): Promise<Hookyard> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const box = SecretBox.load(config.secretKey, config.dataDir);
  const store = await openStore({ databaseUrl: config.databaseUrl, box, sqliteSynchronous: config.sqliteSynchronous, pgPoolSize: config.pgPoolSize });
  const generatedAdminToken = await bootstrapAdmin(store, config);

  const metrics = new Metrics(store);
  const signal = new WorkSignal();
  const schemas = new EventSchemas();
  const messages = new MessageService(store, schemas, signal, metrics);
  const operational = new OperationalEvents(store, messages, logger);
  const endpoints = new EndpointService(store, config.allowPrivateDestinations);
  const sources = new SourceService(store, endpoints, config.allowPrivateDestinations);
  const inboundFeed = new InboundFeed();
  const jobSignal = new WorkSignal();
  const workflowSignal = new WorkSignal();
  const workflows = new WorkflowService(store);
  const services: Services = { config, logger, store, box, metrics, signal, jobSignal, schemas, messages, endpoints, operational, sources, inboundFeed,
    portal: new PortalService(store), workflows, workflowSignal };
  await operational.configure(config.operationalWebhookUrl);

  // Inbound: the receiver (role all|api) commits requests; the processing worker (role all|worker) runs them.
  const owner = `${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const threads = config.handlerThreads === 0
    ? null
    : new HandlerThreadPool({ size: config.handlerThreads, memoryMb: config.handlerMemoryMb, logger });
  // Python processes start on first use; a missing interpreter is one warning now and an error on each .py request.
  const python = new PythonPool({ python: config.python, workers: config.pythonWorkers, logger });
  await warnIfPythonUnavailable(config.handlersDir, config.python, logger);
  // Workflows: a lease twice the handler timeout past each node's own limit, as for processing jobs.
  const workflowLeaseMs = 2 * config.handlerTimeoutMs;
  const processor = new RequestProcessor(store, messages, new HandlerLoader(config.handlersDir), logger, config.handlerTimeoutMs, threads, python,
    { service: workflows, signal: workflowSignal, leaseMs: workflowLeaseMs });
  // Responses of http-request nodes are kept whole up to 1 MiB: later nodes read their JSON.
  const workflowHttp = new HttpClient({ allowPrivate: config.allowPrivateDestinations, userAgent: USER_AGENT, maxResponseBytes: 1024 * 1024 });
  const mailer = config.smtpUrl === undefined ? null : new Mailer(config.smtpUrl, config.smtpFrom);
  const runner = new ExecutionRunner(store, {
    mongo: createMongoExecutor(store, Date.now),
    http: workflowHttp,
    mailer,
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    emit: async (appIdOrUid, eventType, payload) => {
      const app = await store.getApp(appIdOrUid);
      if (!app) throw new Error(`app "${appIdOrUid}" not found`);
      const message = await messages.send(app, { eventType, payload });
      return { id: message.id };
    },
  }, logger, { owner, leaseMs: workflowLeaseMs, env: config.workflowEnv });
  const receiver = new InboundReceiver(store, sources, processor, jobSignal, inboundFeed, metrics, logger, {
    owner,
    handlerTimeoutMs: config.handlerTimeoutMs,
    syncResponseTimeoutMs: config.syncResponseTimeoutMs,
  }, runner);
  const executions = config.role === 'api' ? null : new ExecutionWorker(store, runner, workflowSignal, logger, {
    owner,
    concurrency: config.workflowConcurrency,
    leaseMs: workflowLeaseMs,
  });
  const processing = config.role === 'api' ? null : new ProcessingWorker(store, processor, jobSignal, metrics, logger, {
    owner,
    concurrency: config.inboundConcurrency,
    handlerTimeoutMs: config.handlerTimeoutMs,
    requestRetentionMs: config.requestRetentionMs,
    maxRequestsPerSource: config.maxRequestsPerSource,
  });

  let worker: DeliveryWorker | null = null;
  let http: HttpClient | null = null;
  if (config.role !== 'api') {
    http = new HttpClient({ allowPrivate: config.allowPrivateDestinations, userAgent: USER_AGENT });
    worker = new DeliveryWorker(store, http, signal, operational, metrics, logger, {
      retrySchedule: config.retrySchedule,
      deliveryTimeoutMs: config.deliveryTimeoutMs,
      concurrency: config.workerConcurrency,
      endpointConcurrency: config.endpointConcurrency,
      endpointDisableAfterMs: config.endpointDisableAfterMs,
    });
    messages.handOffTo(worker);
  }

  // Several nodes on PostgreSQL: new work committed on one node wakes idle workers on all of them.
  let notifier: PgNotifier | null = null;
  if (store.dialect === 'postgres') {
    notifier = new PgNotifier(config.databaseUrl, logger);
    const n = notifier;
    signal.bridge(() => n.notify('hookyard_deliveries'));
    jobSignal.bridge(() => n.notify('hookyard_jobs'));
    workflowSignal.bridge(() => n.notify('hookyard_workflows'));
    if (config.role !== 'api') {
      await n.listen('hookyard_deliveries', () => signal.wake());
      await n.listen('hookyard_jobs', () => jobSignal.wake());
      await n.listen('hookyard_workflows', () => workflowSignal.wake());
    }
    // Configuration changes (triggers of migration 0006) drop this node's cache; it caches only while it hears them.
    await n.listen('hookyard_config', () => store.configChanged());
    n.watch((listening) => store.watchConfig(listening));
  }

  const server = await buildServer(services, { api: config.role !== 'worker', receiver });
  const url = await server.listen({ port: config.port, host: config.host });
  worker?.start();
  processing?.start();
  executions?.start();
  logger.info({ url, role: config.role, database: config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@') }, 'hookyard listening');

  let stopped = false;
  return {
    services,
    server,
    worker,
    processing,
    url,
    generatedAdminToken,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Stop taking requests first, then let deliveries in flight finish, then close the database.
      await server.close();
      await receiver.drain();
      await processing?.stop();
      await executions?.stop();
      await threads?.close();
      await python.close();
      await worker?.stop();
      // The last outcomes may have emitted operational events, and processing may have sent messages: commit them.
      await operational.drain();
      await messages.drain();
      await http?.close();
      await workflowHttp.close();
      mailer?.close();
      await notifier?.close();
      await store.close();
    },
  };
}

async function bootstrapAdmin(store: Store, config: Config): Promise<string | null> {
  if (config.adminToken !== undefined || (await store.countAdminKeys()) > 0) return null;
  const token = newApiToken('admin');
  await store.createApiKey({ id: newId('key'), appId: null, name: 'admin (generated on first start)', kind: 'api', expiresAt: null, readOnly: false, createdAt: Date.now() }, hashToken(token));
  return token;
}
