import { NODE_TYPES } from '../workflows/definition.js';

/**
 * JSON Schemas of the workflows API. The shape is checked here; the graph and each node's config are checked by
 * validateDefinition, whose errors name the node.
 */

const timestamp = { type: 'integer', description: 'Unix time in milliseconds' } as const;
const nullableTimestamp = { type: ['integer', 'null'], description: 'Unix time in milliseconds' } as const;
const anyValue = {} as const;

const nodeSchema = {
  type: 'object',
  required: ['key', 'type'],
  additionalProperties: false,
  properties: {
    key: { type: 'string', maxLength: 64 },
    // Any string: an unknown type is a 422 naming the node, from the definition check.
    type: { type: 'string', maxLength: 64, description: `One of ${NODE_TYPES.join(', ')}` },
    name: { type: 'string', maxLength: 200 },
    config: { type: 'object', additionalProperties: true },
    next: { type: ['string', 'null'], maxLength: 64 },
    then: { type: ['string', 'null'], maxLength: 64 },
    else: { type: ['string', 'null'], maxLength: 64 },
  },
} as const;

const responseSchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['status'],
  properties: {
    status: { type: ['integer', 'string'] },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    body: anyValue,
  },
} as const;

const triggerSchema = {
  type: 'object',
  required: ['type', 'source'],
  additionalProperties: false,
  properties: { type: { type: 'string', enum: ['webhook'] }, source: { type: 'string', maxLength: 256 } },
} as const;

export const workflowBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    key: { type: 'string', maxLength: 100 },
    name: { type: 'string', maxLength: 200 },
    enabled: { type: 'boolean' },
    trigger: triggerSchema,
    mode: { type: 'string', enum: ['async', 'sync'] },
    response: responseSchema,
    nodes: { type: 'array', maxItems: 200, items: nodeSchema },
  },
} as const;

export const workflowSchema = {
  $id: 'Workflow',
  type: 'object',
  properties: {
    id: { type: 'string' },
    key: { type: 'string' },
    name: { type: 'string' },
    enabled: { type: 'boolean' },
    trigger: { type: 'object', properties: { type: { type: 'string' }, source: { type: ['string', 'null'] }, sourceId: { type: 'string' } } },
    mode: { type: 'string', enum: ['async', 'sync'] },
    response: { type: ['object', 'null'], additionalProperties: true },
    nodes: { type: 'array', items: { type: 'object', additionalProperties: true } },
    version: { type: 'integer' },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

export const workflowVersionSchema = {
  $id: 'WorkflowVersion',
  type: 'object',
  properties: {
    workflowId: { type: 'string' },
    version: { type: 'integer' },
    mode: { type: 'string' },
    trigger: { type: 'object', additionalProperties: true },
    response: { type: ['object', 'null'], additionalProperties: true },
    nodes: { type: 'array', items: { type: 'object', additionalProperties: true } },
    createdAt: timestamp,
  },
} as const;

export const executionJobSchema = {
  $id: 'ExecutionJob',
  type: 'object',
  properties: {
    id: { type: 'string' },
    nodeKey: { type: 'string' },
    type: { type: 'string' },
    status: { type: 'string', enum: ['running', 'succeeded', 'failed', 'waiting'] },
    input: anyValue,
    output: anyValue,
    error: { type: ['string', 'null'] },
    startedAt: timestamp,
    durationMs: { type: ['integer', 'null'] },
  },
} as const;

export const executionSchema = {
  $id: 'Execution',
  type: 'object',
  properties: {
    id: { type: 'string' },
    workflowId: { type: 'string' },
    version: { type: 'integer' },
    requestId: { type: 'string' },
    status: { type: 'string', enum: ['running', 'waiting', 'succeeded', 'failed'] },
    currentNode: { type: ['string', 'null'] },
    response: { type: ['object', 'null'], additionalProperties: true },
    error: { type: ['string', 'null'] },
    wakeAt: nullableTimestamp,
    startedAt: timestamp,
    finishedAt: nullableTimestamp,
    jobs: { type: 'array', items: { $ref: 'ExecutionJob#' } },
  },
} as const;

export const workflowSchemas = [workflowSchema, workflowVersionSchema, executionJobSchema, executionSchema];
