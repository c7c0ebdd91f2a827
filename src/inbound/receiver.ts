import type { Logger } from 'pino';
import type { SourceService } from '../domain/sources.js';
import { runKeyOf } from '../domain/workflows.js';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { newId } from '../ids.js';
import type { Metrics } from '../metrics.js';
import { GroupCommit, writeConcurrency } from '../store/group-commit.js';
import type { InboundRecord, InsertRequestResult, NewInboundRequest, ProcessingResult, Source, Store } from '../store/store.js';
import type { WorkSignal } from '../work-signal.js';
import type { ExecutionRunner } from '../workflows/runner.js';
import { answerOf, workflowReply } from '../workflows/sync-answer.js';
import { dedupKeyOf } from './dedup.js';
import type { InboundFeed } from './feed.js';
import { toHttpResponse } from './handlers/run.js';
import { IpAllowlist } from './ip-allowlist.js';
import { orderingOf } from './ordering.js';
import type { RequestProcessor } from './processing.js';
import { presetFor } from './verify/index.js';
import type { InboundRequest } from './verify/preset.js';

/** One HTTP request to a receiving URL, as the transport saw it. */
export interface ReceivedRequest {
  sourceName: string;
  /** The path after the source's name, without a leading slash. */
  path: string;
  method: string;
  /** The raw query string without '?'. */
  query: string;
  /** The full URL as the sender addressed it (Twilio and Square sign it). */
  url: string;
  ip: string;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
  /** The body could not be taken (over the size limit, or a Content-Type that is not a media type); it is not kept. */
  bodyProblem: null | 'too_large' | 'invalid_media_type';
}

export interface InboundReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ReceiverOptions {
  /** Names this process in the lease of a sync-mode request it processes inline. */
  owner: string;
  handlerTimeoutMs: number;
  syncResponseTimeoutMs: number;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const NOT_PROCESSED: ProcessingResult = { status: 'none', output: null, error: null, durationMs: null, finishedAt: null };

const json = (status: number, body: unknown, headers: Record<string, string> = {}): InboundReply => ({
  status,
  headers: { ...JSON_HEADERS, ...headers },
  body: JSON.stringify(body),
});

const refusal = (code: ErrorCode, message: string, headers?: Record<string, string>): InboundReply =>
  json(ERROR_CODES[code].status, { code, message }, headers);

/**
 * The receiving path: method → IP allowlist → size → verification → dedup key → commit (batched with concurrent
 * requests into one transaction) → answer. Every request that reaches a source is stored, refused ones too, and the
 * 2xx is sent only once the request (and its processing job) is committed.
 */
export class InboundReceiver {
  private readonly batcher: GroupCommit<NewInboundRequest, InsertRequestResult>;
  private readonly allowlists = new Map<string, { key: string; list: IpAllowlist }>();

  constructor(
    private readonly store: Store,
    private readonly sources: SourceService,
    private readonly processor: RequestProcessor,
    private readonly signal: WorkSignal,
    private readonly feed: InboundFeed,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: ReceiverOptions,
    /** Runs a sync-mode workflow inline; null when workflows are off. */
    private readonly runner: ExecutionRunner | null = null,
  ) {
    this.batcher = new GroupCommit((items) => store.insertRequests(items), 256, 0, writeConcurrency(store.dialect));
  }

  async receive(request: ReceivedRequest): Promise<InboundReply> {
    const now = Date.now();
    const source = await this.sources.byName(request.sourceName, now);
    if (!source) return refusal('not_found', `no source named "${request.sourceName}"`);

    const record: InboundRecord = {
      id: newId('req', now),
      sourceId: source.id,
      method: request.method,
      path: request.path,
      query: request.query,
      headers: request.headers,
      body: request.bodyProblem === null ? request.body : Buffer.alloc(0),
      receivedAt: now,
      status: 'accepted',
      responseStatus: 202,
      verified: null,
      reason: null,
      dedupKey: null,
      duplicateOf: null,
      stale: false,
      processing: NOT_PROCESSED,
    };

    if (!source.methods.includes(request.method)) {
      return this.refuse(record, refusal('method_not_allowed', `this source accepts ${source.methods.join(', ')}`, { allow: source.methods.join(', ') }));
    }
    if (source.ipAllowlist !== null && !this.allowlist(source).allows(request.ip)) {
      return this.refuse(record, refusal('ip_not_allowed', `requests from ${request.ip} are not allowed for this source`));
    }
    if (request.bodyProblem === 'too_large') return this.refuse(record, refusal('payload_too_large', 'the body exceeds the size limit'));
    if (request.bodyProblem === 'invalid_media_type') {
      return this.refuse(record, refusal('unsupported_media_type', 'the Content-Type header is not a valid media type'));
    }

    const signed: InboundRequest = { method: request.method, url: request.url, headers: request.headers, rawBody: request.body, nowMs: now };
    const preset = source.verification && source.verification.type !== 'none' ? presetFor(source.verification.type) : undefined;
    if (source.verification && preset) {
      const outcome = preset.verify(signed, source.verification);
      if (!outcome.ok) {
        record.verified = false;
        return this.refuse(record, refusal('invalid_signature', `verification failed: ${outcome.reason}`), outcome.reason);
      }
      record.verified = true;
      if (outcome.handshake) {
        // A provider's handshake (Zoom URL validation, Polar PING) is kept, answered as the provider expects, not processed.
        const reply = json(outcome.handshake.status, outcome.handshake.body, outcome.handshake.headers);
        record.responseStatus = reply.status;
        await this.batcher.submit({ record, job: null });
        this.feed.publish(source.id);
        this.metrics.inboundRequests.inc({ status: 'accepted' });
        return reply;
      }
    }

    record.dedupKey = dedupKeyOf(source, signed, preset);
    const sync = source.response?.mode === 'sync';
    const processing = await this.processor.needsProcessing(source, now);
    // A sync-mode workflow answers the sender itself, whatever the source's own response mode (it runs inline, under a
    // job, so that the answer is recorded); async workflows' executions are committed with the request.
    const byWorkflow = this.runner !== null && (await this.processor.answersByWorkflow(source, now));
    const inline = (sync && processing) || byWorkflow;
    const executions = inline ? [] : await this.processor.planWorkflows(record);
    const fixed = source.response && !inline && (sync || source.response.status !== undefined || source.response.body !== undefined)
      ? fixedReply(source)
      : null;
    record.responseStatus = fixed?.status ?? 202;
    let job: NewInboundRequest['job'] = null;
    if (inline) {
      const answerWait = byWorkflow ? this.options.syncResponseTimeoutMs : 0;
      job = { status: 'running', leaseOwner: this.options.owner, leaseUntil: now + 2 * this.options.handlerTimeoutMs + answerWait };
      record.processing = { ...NOT_PROCESSED, status: 'running' };
    } else if (processing) {
      job = { status: 'pending' };
      record.processing = { ...NOT_PROCESSED, status: 'pending' };
    }

    const ordering = source.ordering ? orderingOf(source.ordering, request.headers, request.body) : undefined;
    if (source.ordering && ordering === undefined) {
      this.logger.debug({ sourceId: source.id, requestId: record.id }, 'no entity or timestamp for the ordering guard; processed as usual');
    }

    const stored = await this.batcher.submit({ record, job, ordering, ...(executions.length > 0 ? { executions } : {}) });
    this.feed.publish(source.id);
    if (stored.duplicateOf !== null) {
      this.metrics.inboundRequests.inc({ status: 'duplicate' });
      return json(200, { id: stored.duplicateOf, duplicate: true });
    }
    this.metrics.inboundRequests.inc({ status: 'accepted' });
    // Older than the newest accepted for its entity: stored without a job. A sync-mode source answers as when its
    // handler runs late (202 and the id), as there is no handler result to send.
    if (stored.stale) return fixed ?? json(202, { id: record.id });
    if (job?.status === 'pending') this.signal.notify();
    if (executions.length > 0) this.processor.workflowsStarted();
    if (inline) return this.processInline(record, source, byWorkflow);
    return fixed ?? json(202, { id: record.id });
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }

  /** Stores a refused request, then answers it. A failed store is logged, not turned into a different answer. */
  private async refuse(record: InboundRecord, reply: InboundReply, reason?: string): Promise<InboundReply> {
    record.status = 'rejected';
    record.responseStatus = reply.status;
    record.reason = reason ?? (JSON.parse(reply.body) as { message: string }).message;
    this.metrics.inboundRequests.inc({ status: 'rejected' });
    try {
      await this.batcher.submit({ record, job: null });
      this.feed.publish(record.sourceId);
    } catch (err) {
      this.logger.error({ err, sourceId: record.sourceId }, 'could not store a refused request');
    }
    return reply;
  }

  /**
   * Sync mode: the handler's result (or, with a sync-mode workflow, the workflow's answer) is the answer, unless it
   * takes too long; then 202 and it finishes in the background.
   */
  private async processInline(record: InboundRecord, source: Source, byWorkflow: boolean): Promise<InboundReply> {
    const work = (async () => {
      const result = await this.processor.process(record, source);
      const runKey = runKeyOf(record.id, record.receivedAt);
      const { sync } = await this.processor.startWorkflows(record, runKey, byWorkflow ? this.options.owner : undefined);
      if (!byWorkflow) return { result, reply: syncReply(result) };
      if (sync === null || this.runner === null) return { result, reply: json(202, { id: record.id }) };
      return { result, reply: workflowReply(await answerOf(this.runner, sync, record, this.logger), record.id, sync.id) };
    })().catch((err: unknown) => {
      // The request is committed: its job is left to run again when the lease ends, and the sender is told it is accepted.
      this.logger.error({ err, requestId: record.id }, 'sync processing failed; the job runs again when its lease ends');
      return { result: null, reply: json(202, { id: record.id }) };
    });
    const processed = work.then(({ result }) => result);
    const finish = (result: ProcessingResult, responseStatus?: number) =>
      this.store.finishJob(record.id, result, this.options.owner, responseStatus).catch((err: unknown) =>
        this.logger.error({ err, requestId: record.id }, 'could not record sync processing; the job runs again when its lease ends'));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(resolve, this.options.syncResponseTimeoutMs, 'late');
    });
    const done = await Promise.race([work, late]);
    clearTimeout(timer);
    if (done === 'late') {
      void processed.then((result) => result && finish(result));
      return json(202, { id: record.id });
    }
    // The request log shows the answer the sender actually got.
    if (done.result) await finish(done.result, done.reply.status);
    return done.reply;
  }

  private allowlist(source: Source): IpAllowlist {
    const key = JSON.stringify(source.ipAllowlist);
    const cached = this.allowlists.get(source.id);
    if (cached?.key === key) return cached.list;
    const list = IpAllowlist.parse(source.ipAllowlist ?? []);
    this.allowlists.set(source.id, { key, list });
    return list;
  }
}

/** The answer to a sync-mode request: the handler's result as a response, or 502 when it failed. */
function syncReply(result: ProcessingResult): InboundReply {
  if (result.status === 'failed') return refusal('handler_failed', result.error ?? 'the handler failed');
  try {
    return toHttpResponse(result.output);
  } catch (err) {
    return refusal('handler_failed', (err as Error).message);
  }
}

/** A source's configured answer: status (default 200), headers, and a body sent as text or JSON. */
function fixedReply(source: Source): InboundReply {
  const response = source.response!;
  const body = response.body;
  const headers = { ...(typeof body === 'string' ? { 'content-type': 'text/plain; charset=utf-8' } : JSON_HEADERS), ...response.headers };
  return {
    // A source stored before 1xx statuses were refused still answers with a final status.
    status: response.status !== undefined && response.status >= 200 ? response.status : 200,
    headers,
    body: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body),
  };
}
