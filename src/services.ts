import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { SecretBox } from './crypto/secret-box.js';
import type { EndpointService } from './domain/endpoints.js';
import type { EventSchemas } from './domain/event-schemas.js';
import type { MessageService } from './domain/messages.js';
import type { OperationalEvents } from './domain/operational.js';
import type { PortalService } from './domain/portal.js';
import type { SourceService } from './domain/sources.js';
import type { WorkflowService } from './domain/workflows.js';
import type { InboundFeed } from './inbound/feed.js';
import type { Metrics } from './metrics.js';
import type { Store } from './store/store.js';
import type { WorkSignal } from './work-signal.js';

/** What the API routes and the worker share within one process. */
export interface Services {
  config: Config;
  logger: Logger;
  store: Store;
  box: SecretBox;
  metrics: Metrics;
  /** Wakes the delivery worker. */
  signal: WorkSignal;
  /** Wakes the inbound processing worker. */
  jobSignal: WorkSignal;
  schemas: EventSchemas;
  messages: MessageService;
  endpoints: EndpointService;
  operational: OperationalEvents;
  portal: PortalService;
  sources: SourceService;
  inboundFeed: InboundFeed;
  workflows: WorkflowService;
  /** Wakes the workflow execution worker. */
  workflowSignal: WorkSignal;
}
