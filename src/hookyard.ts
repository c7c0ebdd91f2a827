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
import { OperationalEvents } from './domain/operational.js';
import { newId } from './ids.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { buildServer } from './server.js';
import type { Services } from './services.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import { USER_AGENT } from './version.js';
import { WorkSignal } from './work-signal.js';

export interface Hookyard {
  services: Services;
  server: FastifyInstance;
  worker: DeliveryWorker | null;
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
  const store = await openStore({ databaseUrl: config.databaseUrl, box, sqliteSynchronous: config.sqliteSynchronous });
  const generatedAdminToken = await bootstrapAdmin(store, config);

  const metrics = new Metrics(store);
  const signal = new WorkSignal();
  const schemas = new EventSchemas();
  const messages = new MessageService(store, schemas, signal, metrics);
  const operational = new OperationalEvents(store, messages, logger);
  const endpoints = new EndpointService(store, config.allowPrivateDestinations);
  const services: Services = { config, logger, store, box, metrics, signal, schemas, messages, endpoints, operational };
  await operational.configure(config.operationalWebhookUrl);

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
  }

  const server = await buildServer(services, { api: config.role !== 'worker' });
  const url = await server.listen({ port: config.port, host: config.host });
  worker?.start();
  logger.info({ url, role: config.role, database: config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@') }, 'hookyard listening');

  let stopped = false;
  return {
    services,
    server,
    worker,
    url,
    generatedAdminToken,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Stop taking requests first, then let deliveries in flight finish, then close the database.
      await server.close();
      await messages.drain();
      await worker?.stop();
      await http?.close();
      await store.close();
    },
  };
}

async function bootstrapAdmin(store: Store, config: Config): Promise<string | null> {
  if (config.adminToken !== undefined || (await store.countAdminKeys()) > 0) return null;
  const token = newApiToken('admin');
  await store.createApiKey({ id: newId('key'), appId: null, name: 'admin (generated on first start)', createdAt: Date.now() }, hashToken(token));
  return token;
}
