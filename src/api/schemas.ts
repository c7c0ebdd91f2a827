/** JSON Schemas of the API's bodies and objects: they validate requests and generate /openapi.json. */

import { workflowSchemas } from './workflow-schemas.js';

export const NAME_PATTERN = '^[a-zA-Z0-9\\-_.:]+$';

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
} as const;

const timestamp = { type: 'string', format: 'date-time' } as const;
const nullableTimestamp = { type: ['string', 'null'], format: 'date-time' } as const;
const metadata = { type: 'object', additionalProperties: true } as const;
const eventTypeName = { type: 'string', minLength: 1, maxLength: 256, pattern: NAME_PATTERN } as const;
/** Channel names as Svix allows them; at most 10 per endpoint or message. */
export const channelName = { type: 'string', minLength: 1, maxLength: 128, pattern: NAME_PATTERN } as const;
const channelList = { type: ['array', 'null'], items: channelName, uniqueItems: true, maxItems: 10 } as const;

export const appSchema = {
  $id: 'App',
  type: 'object',
  properties: {
    id: { type: 'string' },
    uid: { type: ['string', 'null'] },
    name: { type: 'string' },
    metadata,
    portal: {
      type: ['object', 'null'],
      properties: { color: { type: ['string', 'null'] }, logoUrl: { type: ['string', 'null'] } },
    },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const apiKeySchema = {
  $id: 'ApiKey',
  type: 'object',
  properties: {
    id: { type: 'string' },
    appId: { type: ['string', 'null'] },
    name: { type: ['string', 'null'] },
    token: { type: 'string', description: 'Only in the response that creates the key.' },
    kind: { type: 'string', enum: ['api', 'portal'] },
    expiresAt: nullableTimestamp,
    readOnly: { type: 'boolean' },
    createdAt: timestamp,
  },
} as const;

export const eventTypeSchema = {
  $id: 'EventType',
  type: 'object',
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    schema: { type: ['object', 'null'], additionalProperties: true },
    resourceUrlTemplate: { type: ['string', 'null'] },
    example: { type: ['object', 'null'], additionalProperties: true, description: "An example payload: the schema's examples[0], or one built from the schema" },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const endpointSchema = {
  $id: 'Endpoint',
  type: 'object',
  properties: {
    id: { type: 'string' },
    appId: { type: 'string' },
    url: { type: 'string' },
    description: { type: 'string' },
    eventTypes: { type: ['array', 'null'], items: { type: 'string' } },
    channels: { type: ['array', 'null'], items: { type: 'string' } },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    rateLimit: { type: ['integer', 'null'] },
    timeoutMs: { type: ['integer', 'null'] },
    disabled: { type: 'boolean' },
    disabledReason: { type: ['string', 'null'] },
    failingSince: nullableTimestamp,
    payloadMode: { type: 'string', enum: ['full', 'thin'] },
    ordering: { type: 'string', enum: ['parallel', 'fifo'] },
    metadata,
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const messageSchema = {
  $id: 'Message',
  type: 'object',
  properties: {
    id: { type: 'string' },
    eventType: { type: 'string' },
    eventId: { type: ['string', 'null'] },
    payload: { type: 'object', additionalProperties: true },
    channels: { type: ['array', 'null'], items: { type: 'string' } },
    resourceUrl: { type: ['string', 'null'] },
    timestamp,
  },
} as const;

export const messageBatchResultSchema = {
  $id: 'MessageBatchResult',
  type: 'object',
  properties: {
    data: {
      type: 'array',
      items: {
        type: 'object',
        description: 'status 202 with the accepted message, or the status and error this message alone would have had',
        properties: { status: { type: 'integer' }, message: { $ref: 'Message#' }, error: { $ref: 'Error#' } },
      },
    },
  },
} as const;

export const attemptSchema = {
  $id: 'Attempt',
  type: 'object',
  properties: {
    id: { type: 'string' },
    messageId: { type: 'string' },
    endpointId: { type: 'string' },
    url: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'success', 'failed'] },
    responseStatusCode: { type: ['integer', 'null'] },
    response: { type: 'string' },
    error: { type: ['string', 'null'] },
    durationMs: { type: 'integer' },
    attempt: { type: 'integer' },
    trigger: { type: 'string', enum: ['scheduled', 'manual'] },
    timestamp,
    nextAttemptAt: nullableTimestamp,
  },
} as const;

export const deliverySchema = {
  $id: 'Delivery',
  type: 'object',
  properties: {
    endpointId: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'sending', 'succeeded', 'failed'] },
    attempts: { type: 'integer' },
    nextAttemptAt: nullableTimestamp,
    lastError: { type: ['string', 'null'] },
    updatedAt: timestamp,
  },
} as const;

const verificationSchema = {
  type: ['object', 'null'],
  required: ['type'],
  properties: {
    type: { type: 'string', maxLength: 64 },
    secret: { type: 'string', minLength: 1, maxLength: 1024 },
    secrets: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 1024 }, maxItems: 16 },
    toleranceSeconds: { type: 'integer' },
  },
  // Each type has its own fields (hmac: header, algorithm…; basic: username, password); its preset checks them.
  additionalProperties: true,
} as const;

const sourceFields = {
  name: { type: 'string', minLength: 1, maxLength: 64 },
  description: { type: 'string', maxLength: 4096 },
  methods: { type: 'array', items: { type: 'string', maxLength: 16 }, minItems: 1, maxItems: 5 },
  verification: verificationSchema,
  ipAllowlist: { type: ['array', 'null'], items: { type: 'string', maxLength: 64 }, maxItems: 1000 },
  dedup: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: { header: { type: 'string', maxLength: 100 }, jsonPath: { type: 'string', maxLength: 256 } },
  },
  response: {
    type: ['object', 'null'],
    additionalProperties: false,
    required: ['mode'],
    properties: {
      mode: { enum: ['async', 'sync'] },
      status: { type: 'integer', minimum: 200, maximum: 599 },
      headers: {
        type: 'object',
        maxProperties: 50,
        propertyNames: { pattern: "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]{1,128}$" },
        additionalProperties: { type: 'string', maxLength: 4096, pattern: '^[^\\r\\n\\u0000]*$' },
      },
      body: {},
    },
  },
  handler: { type: ['string', 'null'], maxLength: 100 },
  forward: {
    type: 'array',
    maxItems: 20,
    items: {
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['url'], properties: { url: { type: 'string', minLength: 1, maxLength: 2048 } } },
        {
          type: 'object',
          additionalProperties: false,
          required: ['app', 'eventType'],
          properties: { app: { type: 'string', minLength: 1, maxLength: 256 }, eventType: eventTypeName },
        },
      ],
    },
  },
  ordering: {
    type: ['object', 'null'],
    additionalProperties: false,
    required: ['entity', 'timestamp'],
    properties: { entity: { type: 'string', maxLength: 256 }, timestamp: { type: 'string', maxLength: 256 } },
  },
} as const;

export const sourceBody = { type: 'object', additionalProperties: false, properties: sourceFields } as const;

export const sourceSchema = {
  $id: 'Source',
  type: 'object',
  properties: {
    id: { type: 'string' },
    ...sourceFields,
    url: { type: 'string', description: 'The receiving URL (also served under /webhooks/<name>)' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const inboundRequestSchema = {
  $id: 'InboundRequest',
  type: 'object',
  properties: {
    id: { type: 'string' },
    sourceId: { type: 'string' },
    method: { type: 'string' },
    path: { type: 'string' },
    query: { type: 'object', additionalProperties: true },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    body: { type: 'string' },
    bodyEncoding: { enum: ['utf8', 'base64'] },
    receivedAt: { type: 'string', format: 'date-time' },
    status: { enum: ['accepted', 'rejected', 'duplicate'] },
    responseStatus: { type: 'integer' },
    verified: { type: ['boolean', 'null'] },
    reason: { type: ['string', 'null'] },
    duplicateOf: { type: ['string', 'null'] },
    stale: { type: 'boolean' },
    processing: {
      type: 'object',
      properties: {
        status: { enum: ['none', 'pending', 'running', 'succeeded', 'failed'] },
        output: {},
        error: { type: ['string', 'null'] },
        durationMs: { type: ['integer', 'null'] },
        finishedAt: { type: ['string', 'null'], format: 'date-time' },
      },
    },
  },
} as const;

export const sharedSchemas = [
  errorSchema, appSchema, apiKeySchema, eventTypeSchema, endpointSchema, messageSchema, messageBatchResultSchema, attemptSchema, deliverySchema, sourceSchema,
  inboundRequestSchema, ...workflowSchemas,
];

export const ref = (id: string): { $ref: string } => ({ $ref: `${id}#` });

export function listOf(id: string): object {
  return {
    type: 'object',
    properties: { data: { type: 'array', items: ref(id) }, nextCursor: { type: ['string', 'null'] } },
  };
}

export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 250, default: 50 },
    cursor: { type: 'string', maxLength: 512 },
  },
} as const;

export const errorResponses = {
  400: ref('Error'),
  401: ref('Error'),
  403: ref('Error'),
  404: ref('Error'),
  409: ref('Error'),
  422: ref('Error'),
} as const;

export const appBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 256 },
    uid: { type: ['string', 'null'], minLength: 1, maxLength: 256, pattern: NAME_PATTERN },
    metadata,
    portal: {
      type: ['object', 'null'],
      additionalProperties: false,
      description: "The consumer portal's theme for this app's customers",
      properties: {
        color: { type: ['string', 'null'], pattern: '^#[0-9a-fA-F]{6}$' },
        logoUrl: { type: ['string', 'null'], maxLength: 2048, pattern: '^https://' },
      },
    },
  },
} as const;

export const eventTypeBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: eventTypeName,
    description: { type: 'string', maxLength: 4096 },
    schema: { type: ['object', 'null'] },
    resourceUrlTemplate: { type: ['string', 'null'], minLength: 1, maxLength: 2048 },
  },
} as const;

export const endpointBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 2048 },
    description: { type: 'string', maxLength: 4096 },
    eventTypes: { type: ['array', 'null'], items: eventTypeName, uniqueItems: true, maxItems: 1000 },
    channels: channelList,
    secret: { type: 'string', maxLength: 256 },
    headers: {
      type: 'object',
      maxProperties: 50,
      propertyNames: { pattern: "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]{1,128}$" },
      additionalProperties: { type: 'string', maxLength: 4096, pattern: '^[^\\r\\n\\u0000]*$' },
    },
    rateLimit: { type: ['integer', 'null'], minimum: 1, maximum: 100_000 },
    timeoutMs: { type: ['integer', 'null'], minimum: 100, maximum: 300_000 },
    disabled: { type: 'boolean' },
    payloadMode: { type: 'string', enum: ['full', 'thin'] },
    ordering: { type: 'string', enum: ['parallel', 'fifo'] },
    metadata,
  },
} as const;

export const messageBody = {
  type: 'object',
  additionalProperties: false,
  required: ['eventType', 'payload'],
  properties: {
    eventType: eventTypeName,
    payload: { type: 'object' },
    eventId: { type: 'string', minLength: 1, maxLength: 256 },
    channels: { ...channelList, type: 'array' },
    resourceUrl: { type: 'string', minLength: 1, maxLength: 2048, pattern: '^https?://' },
  },
} as const;

export const messageBatchBody = (max: number) => ({
  type: 'object',
  additionalProperties: false,
  required: ['messages'],
  properties: { messages: { type: 'array', minItems: 1, maxItems: max, items: messageBody } },
}) as const;
