import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { appRoutes } from './api/apps.js';
import { Authenticator } from './api/auth.js';
import { endpointRoutes } from './api/endpoints.js';
import { clientErrorHandler, frameworkErrors, registerErrorHandler } from './api/error-handler.js';
import { eventTypeRoutes } from './api/event-types.js';
import { registerIdempotency } from './api/idempotency.js';
import { messageRoutes } from './api/messages.js';
import { polarRoutes } from './api/polar.js';
import { portalRoutes } from './api/portal.js';
import { checkPortalScope } from './api/portal-scope.js';
import { sourceRoutes } from './api/sources.js';
import { workflowRoutes } from './api/workflows.js';
import { statsRoutes } from './api/stats.js';
import { svixRoutes } from './api/svix/index.js';
import { sharedSchemas } from './api/schemas.js';
import { systemRoutes } from './api/system.js';
import { schemaCompiler } from './api/validation.js';
import { dashboardRoutes } from './dashboard/routes.js';
import { portalPageRoutes } from './portal/routes.js';
import { HookyardError } from './errors.js';
import { inboundRoutes } from './inbound/routes.js';
import type { InboundReceiver } from './inbound/receiver.js';
import type { Services } from './services.js';
import { VERSION } from './version.js';

/** Builds the HTTP server: the management API, Polar-style registration, health, metrics and the API reference. */
export async function buildServer(services: Services, options: { api?: boolean; receiver?: InboundReceiver } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    bodyLimit: services.config.maxBodyBytes,
    // Answered below with `{code, message}` instead of Fastify's own body.
    return503OnClosing: false,
    // Per-request "incoming/completed" lines would flood the log at webhook rates (and a scan of unknown paths would
    // too): failures are logged where they are handled.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: services.config.trustProxy,
    ajv: { customOptions: { removeAdditional: false } },
    // Identifiers in paths (event type names, app uids) may be 256 characters, percent-encoded up to three times that.
    routerOptions: { maxParamLength: 1024 },
    frameworkErrors,
    clientErrorHandler,
  });
  // Routes log warnings and errors only.
  app.addHook('onRoute', (route) => {
    if (!route.logLevel) route.logLevel = 'warn';
  });
  // Node keeps only the first 2,000 headers by default: a sender with more would lose Content-Length and with it the
  // body. The 16 KiB header size limit still bounds them.
  app.server.maxHeadersCount = 0;
  app.setValidatorCompiler(schemaCompiler());
  registerErrorHandler(app);
  // Requests still arriving on kept-alive connections while the server shuts down.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw new HookyardError('unavailable', 'the server is shutting down');
  });
  for (const schema of sharedSchemas) app.addSchema(schema);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Hookyard API', version: VERSION, description: 'Send signed webhooks and receive, verify and process inbound ones.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'The admin token or an app key' },
          basic: { type: 'http', scheme: 'basic', description: 'App key id and token (Polar-style registration)' },
        },
      },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });

  const auth = new Authenticator(services.store, services.config.adminToken);
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/api/')) return;
    request.principal = await auth.authenticate(request);
    checkPortalScope(request);
  });
  registerIdempotency(app, services.store);

  systemRoutes(app, services);
  // A worker-only node serves health and metrics for its probes, nothing else.
  if (options.api === false) return app;
  appRoutes(app, services);
  eventTypeRoutes(app, services);
  endpointRoutes(app, services);
  messageRoutes(app, services, auth);
  polarRoutes(app, services, auth);
  portalRoutes(app, services);
  sourceRoutes(app, services);
  workflowRoutes(app, services);
  statsRoutes(app, services);
  await svixRoutes(app, services, auth);
  if (options.receiver) await inboundRoutes(app, options.receiver, services.config.maxBodyBytes);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(dashboardRoutes);
  await app.register(portalPageRoutes, { frameAncestors: services.config.portalFrameAncestors });
  return app;
}
