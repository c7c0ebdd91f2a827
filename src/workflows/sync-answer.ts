import type { Logger } from 'pino';
import { ERROR_CODES } from '../errors.js';
import { toHttpResponse } from '../inbound/handlers/run.js';
import type { Execution, InboundRecord, WorkflowResponse } from '../store/store.js';
import type { ExecutionRunner, RunOutcome } from './runner.js';

export interface WorkflowReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Runs a sync-mode execution inline and resolves with its answer as soon as it is known: when a respond node decides
 * it (the rest of the run goes on), or when the run stops. A run that throws (the database went away) resolves as lost:
 * its lease runs out and a worker resumes it.
 */
export function answerOf(runner: ExecutionRunner, execution: Execution, record: InboundRecord, logger: Logger): Promise<RunOutcome> {
  return new Promise((resolve) => {
    runner
      .run(execution, { onResponse: (response) => resolve({ status: 'running', response, error: null }) }, record)
      .then(resolve, (err: unknown) => {
        logger.error({ err, executionId: execution.id }, 'sync workflow run failed unexpectedly; resumed when its lease ends');
        resolve({ status: 'lost', response: null, error: null });
      });
  });
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** The HTTP answer: the decided response; else the run's state (200 finished, 202 still going, 502 failed). */
export function workflowReply(outcome: RunOutcome, requestId: string, executionId: string): WorkflowReply {
  if (outcome.response) return responseReply(outcome.response);
  if (outcome.status === 'failed') {
    const body = { code: 'workflow_failed', message: outcome.error ?? 'the workflow failed', details: { requestId, executionId } };
    return { status: ERROR_CODES.workflow_failed.status, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify(body) };
  }
  const finished = outcome.status === 'succeeded';
  return {
    status: finished ? 200 : 202,
    headers: { 'content-type': JSON_TYPE },
    body: JSON.stringify({ id: requestId, executionId, status: finished ? 'succeeded' : outcome.status === 'lost' ? 'running' : outcome.status }),
  };
}

/**
 * A decided response, through the same conversion as a sync handler's result: header names and values Node could not
 * write (a template rendered a newline into one) are refused, as a 502 that says so, never a failed write.
 */
function responseReply(response: WorkflowResponse): WorkflowReply {
  try {
    return toHttpResponse(response);
  } catch (err) {
    const message = (err as Error).message.replace('the handler returned', 'the workflow answered with');
    return { status: ERROR_CODES.workflow_failed.status, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify({ code: 'workflow_failed', message }) };
  }
}
