import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WorkflowInput } from '../domain/workflows.js';
import { HookyardError, notFound } from '../errors.js';
import type { Services } from '../services.js';
import type { Execution, ExecutionJob, ExecutionStatus, Workflow, WorkflowVersion } from '../store/store.js';
import { requireAdmin } from './auth.js';
import { listResponse, pageQuery, type ListQuery } from './pagination.js';
import { errorResponses, listOf, listQuery, ref } from './schemas.js';
import { workflowBody } from './workflow-schemas.js';

const id = { type: 'string', maxLength: 256 } as const;
const wfParams = { type: 'object', required: ['wf'], properties: { wf: id } } as const;
const exParams = { type: 'object', required: ['wf', 'ex'], properties: { wf: id, ex: { type: 'string', maxLength: 64 } } } as const;
const versionParams = { type: 'object', required: ['wf', 'version'], properties: { wf: id, version: { type: 'integer', minimum: 1 } } } as const;
const reqParams = { type: 'object', required: ['src', 'req'], properties: { src: id, req: { type: 'string', maxLength: 64 } } } as const;
const workflowListQuery = { ...listQuery, properties: { ...listQuery.properties, source: id } } as const;
const executionListQuery = {
  ...listQuery,
  properties: { ...listQuery.properties, status: { enum: ['running', 'waiting', 'succeeded', 'failed'] }, requestId: { type: 'string', maxLength: 64 } },
} as const;

function workflowJson(workflow: Workflow, sourceName: string | null): Record<string, unknown> {
  const { definition } = workflow;
  return {
    id: workflow.id,
    key: workflow.key,
    name: workflow.name,
    enabled: workflow.enabled,
    trigger: { type: definition.trigger.type, source: sourceName, sourceId: workflow.sourceId },
    mode: definition.mode,
    response: definition.response,
    nodes: definition.nodes,
    version: workflow.version,
    createdAt: workflow.createdAt,
    updatedAt: workflow.updatedAt,
  };
}

const versionJson = (version: WorkflowVersion): Record<string, unknown> => ({
  workflowId: version.workflowId,
  version: version.version,
  ...version.definition,
  createdAt: version.createdAt,
});

const jobJson = (job: ExecutionJob): Record<string, unknown> => ({
  id: job.id, nodeKey: job.nodeKey, type: job.type, status: job.status, input: job.input, output: job.output, error: job.error,
  startedAt: job.startedAt, durationMs: job.durationMs,
});

export const executionJson = (execution: Execution, jobs?: ExecutionJob[]): Record<string, unknown> => ({
  id: execution.id,
  workflowId: execution.workflowId,
  version: execution.version,
  requestId: execution.requestId,
  status: execution.status,
  currentNode: execution.currentNode,
  response: execution.response,
  error: execution.error,
  wakeAt: execution.status === 'waiting' ? execution.nextRunAt : null,
  startedAt: execution.startedAt,
  finishedAt: execution.finishedAt,
  ...(jobs === undefined ? {} : { jobs: jobs.map(jobJson) }),
});

/** Workflows, their versions and executions; admin only (they hang on sources, which belong to the installation). */
export function workflowRoutes(api: FastifyInstance, { store, workflows, workflowSignal }: Services): void {
  async function load(request: FastifyRequest<{ Params: { wf: string } }>): Promise<Workflow> {
    requireAdmin(request);
    const workflow = await store.getWorkflow(request.params.wf);
    if (!workflow) throw notFound('workflow');
    return workflow;
  }
  async function loadExecution(request: FastifyRequest<{ Params: { wf: string; ex: string } }>): Promise<Execution> {
    const workflow = await load(request);
    const execution = await store.getExecution(request.params.ex);
    if (!execution || execution.workflowId !== workflow.id) throw notFound('execution');
    return execution;
  }
  // The trigger shows the source's current name (a rename does not break the workflow: it holds the source's id).
  const withSource = async (workflow: Workflow): Promise<Record<string, unknown>> =>
    workflowJson(workflow, (await store.getSource(workflow.sourceId))?.name ?? null);

  api.post<{ Body: WorkflowInput }>(
    '/api/v1/workflows',
    {
      schema: {
        tags: ['workflows'],
        summary: "Create a workflow: nodes that run on each request a source receives",
        body: { ...workflowBody, required: ['key', 'trigger', 'nodes'] },
        response: { 201: ref('Workflow'), ...errorResponses },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const workflow = await workflows.create(request.body);
      return reply.code(201).send(await withSource(workflow));
    },
  );

  api.get<{ Querystring: ListQuery & { source?: string } }>(
    '/api/v1/workflows',
    { schema: { tags: ['workflows'], summary: 'List workflows (of one source with ?source=)', querystring: workflowListQuery, response: { 200: listOf('Workflow'), ...errorResponses } } },
    async (request) => {
      requireAdmin(request);
      let sourceId: string | undefined;
      if (request.query.source !== undefined) {
        const source = await store.getSource(request.query.source);
        if (!source) return { data: [], nextCursor: null };
        sourceId = source.id;
      }
      const page = await store.listWorkflows({ sourceId }, pageQuery(request.query));
      const data = await Promise.all(page.data.map(withSource));
      return { ...listResponse(page, (item) => item), data };
    },
  );

  api.get<{ Params: { wf: string } }>(
    '/api/v1/workflows/:wf',
    { schema: { tags: ['workflows'], summary: 'Get a workflow by id or key', params: wfParams, response: { 200: ref('Workflow'), ...errorResponses } } },
    async (request) => withSource(await load(request)),
  );

  api.patch<{ Params: { wf: string }; Body: WorkflowInput }>(
    '/api/v1/workflows/:wf',
    {
      schema: {
        tags: ['workflows'],
        summary: 'Update a workflow; a changed definition becomes a new version once an execution ran the current one',
        params: wfParams,
        body: workflowBody,
        response: { 200: ref('Workflow'), ...errorResponses },
      },
    },
    async (request) => {
      const updated = await workflows.update(await load(request), request.body);
      if (!updated) throw notFound('workflow');
      return withSource(updated);
    },
  );

  api.delete<{ Params: { wf: string } }>(
    '/api/v1/workflows/:wf',
    { schema: { tags: ['workflows'], summary: 'Delete a workflow with its versions and executions', params: wfParams, response: errorResponses } },
    async (request, reply) => {
      await workflows.delete(await load(request));
      return reply.code(204).send();
    },
  );

  api.get<{ Params: { wf: string } }>(
    '/api/v1/workflows/:wf/versions',
    { schema: { tags: ['workflows'], summary: "A workflow's versions, oldest first", params: wfParams, response: { 200: { type: 'object', properties: { data: { type: 'array', items: ref('WorkflowVersion') } } }, ...errorResponses } } },
    async (request) => ({ data: (await store.listWorkflowVersions((await load(request)).id)).map(versionJson) }),
  );

  api.get<{ Params: { wf: string; version: number } }>(
    '/api/v1/workflows/:wf/versions/:version',
    { schema: { tags: ['workflows'], summary: 'One version of a workflow: the definition its executions ran', params: versionParams, response: { 200: ref('WorkflowVersion'), ...errorResponses } } },
    async (request) => {
      const version = await store.getWorkflowVersion((await load(request)).id, request.params.version);
      if (!version) throw notFound('version');
      return versionJson(version);
    },
  );

  api.get<{ Params: { wf: string }; Querystring: ListQuery & { status?: ExecutionStatus; requestId?: string } }>(
    '/api/v1/workflows/:wf/executions',
    { schema: { tags: ['workflows'], summary: "A workflow's executions, newest first", params: wfParams, querystring: executionListQuery, response: { 200: listOf('Execution'), ...errorResponses } } },
    async (request) => {
      const workflow = await load(request);
      const filter = { status: request.query.status, requestId: request.query.requestId };
      return listResponse(await store.listExecutions(workflow.id, filter, pageQuery(request.query)), (execution) => executionJson(execution));
    },
  );

  api.get<{ Params: { wf: string; ex: string } }>(
    '/api/v1/workflows/:wf/executions/:ex',
    { schema: { tags: ['workflows'], summary: 'An execution with its jobs (one per node run), in order', params: exParams, response: { 200: ref('Execution'), ...errorResponses } } },
    async (request) => {
      const execution = await loadExecution(request);
      return executionJson(execution, await store.listExecutionJobs(execution.id));
    },
  );

  api.post<{ Params: { wf: string; ex: string } }>(
    '/api/v1/workflows/:wf/executions/:ex/retry',
    { schema: { tags: ['workflows'], summary: 'Run a failed execution again from the node that failed', params: exParams, response: { 202: ref('Execution'), ...errorResponses } } },
    async (request, reply) => {
      const execution = await loadExecution(request);
      if (!(await store.retryExecution(execution.id, Date.now()))) {
        throw new HookyardError('conflict', execution.status === 'failed'
          ? 'this execution was ended by an end node: there is no failed node to retry'
          : `only a failed execution can be retried; this one is ${execution.status}`);
      }
      workflowSignal.notify();
      const retried = await store.getExecution(execution.id);
      return reply.code(202).send(executionJson(retried ?? execution));
    },
  );

  api.get<{ Params: { src: string; req: string } }>(
    '/api/v1/sources/:src/requests/:req/executions',
    { schema: { tags: ['workflows'], summary: 'The workflow executions a request started', params: reqParams, response: { 200: { type: 'object', properties: { data: { type: 'array', items: ref('Execution') } } }, ...errorResponses } } },
    async (request) => {
      requireAdmin(request);
      const source = await store.getSource(request.params.src);
      const record = source ? await store.getRequest(source.id, request.params.req) : null;
      if (!record) throw notFound('request');
      return { data: (await store.requestExecutions(record.id)).map((execution) => executionJson(execution)) };
    },
  );
}
