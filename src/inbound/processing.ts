import type { Logger } from 'pino';
import { forwardAppUid } from '../domain/sources.js';
import type { MessageService } from '../domain/messages.js';
import type { StartedExecutions, WorkflowService } from '../domain/workflows.js';
import { HookyardError } from '../errors.js';
import type { InboundRecord, NewExecution, ProcessingResult, Source, Store } from '../store/store.js';
import type { WorkSignal } from '../work-signal.js';
import { isUtf8Text } from './body.js';
import { buildContext } from './handlers/context.js';
import { createDocumentDb, type DocumentDb } from './handlers/documents.js';
import { portableRequest, type HandlerHost, type HandlerRunner, type RunOptions } from './handlers/host.js';
import type { HandlerLoader, ResolvedHandler } from './handlers/loader.js';
import { createMongoExecutor, type MongoExecutor } from './handlers/mongo.js';
import { runHandler, type HandlerRun } from './handlers/run.js';

const HANDLER_CHECK_MS = 1_000;
const DB_METHODS = new Set(['insert', 'find', 'findOne', 'update', 'delete']);

/** The handler file a source runs: its `handler` setting, else the file named after the source. */
export const handlerNameOf = (source: Source): string => source.handler ?? source.name;

/**
 * What happens to a request after it is committed: its handler runs (with `db`, `emit`, `fetch`), then its forwards
 * become outbound messages (forwards to URLs go to the source's hidden forward app, so they are signed and retried
 * like any message). Used by the processing worker and, in sync mode, inline by the receiver.
 */
export class RequestProcessor {
  private readonly db: DocumentDb;
  private readonly mongo: MongoExecutor;
  private readonly handlerSeen = new Map<string, { exists: boolean; at: number }>();

  constructor(
    private readonly store: Store,
    private readonly messages: MessageService,
    private readonly loader: HandlerLoader,
    private readonly logger: Logger,
    private readonly handlerTimeoutMs: number,
    /** Runs JavaScript/TypeScript handlers off the main thread; null runs them here (HOOKYARD_HANDLER_THREADS=0). */
    private readonly threads: HandlerRunner | null = null,
    private readonly python: HandlerRunner | null = null,
    /** The source's workflows, and the signal that wakes the execution worker. */
    private readonly workflows: { service: WorkflowService; signal: WorkSignal; leaseMs: number } | null = null,
  ) {
    this.db = createDocumentDb(store, Date.now);
    this.mongo = createMongoExecutor(store, Date.now);
  }

  /** Whether a request to this source has anything to run. The handler check is cached for a second per name. */
  async needsProcessing(source: Source, now = Date.now()): Promise<boolean> {
    if (source.forward.length > 0) return true;
    const name = handlerNameOf(source);
    const seen = this.handlerSeen.get(name);
    if (seen && now - seen.at < HANDLER_CHECK_MS) return seen.exists;
    // A file that exists but fails to load still counts: the failure is then recorded on the request.
    const exists = await this.loader.resolve(name).then((file) => file !== null, () => true);
    this.handlerSeen.set(name, { exists, at: now });
    return exists;
  }

  async process(record: InboundRecord, source: Source): Promise<ProcessingResult> {
    const started = Date.now();
    let output: unknown = null;
    const errors: string[] = [];

    const name = handlerNameOf(source);
    let file: ResolvedHandler | null = null;
    try {
      file = await this.loader.resolve(name);
    } catch (err) {
      errors.push((err as Error).message);
    }
    if (file) {
      const event = source.verification?.type === 'github' ? record.headers['x-github-event'] : undefined;
      const run = await this.runHandlerFile(name, file, record, { event, timeoutMs: this.handlerTimeoutMs });
      output = run.output;
      if (run.error !== null) errors.push(run.error);
    }

    const forwarded: string[] = [];
    for (const target of source.forward) {
      try {
        const message = 'url' in target
          ? await this.emit(forwardAppUid(source.id), `source.${source.name}`, forwardPayload(record))
          : await this.emit(target.app, target.eventType, forwardPayload(record));
        forwarded.push(message.id);
      } catch (err) {
        errors.push(`forward ${'url' in target ? target.url : `${target.app}/${target.eventType}`}: ${(err as Error).message}`);
      }
    }
    if (!file && forwarded.length > 0) output = { messages: forwarded };

    return {
      status: errors.length > 0 ? 'failed' : 'succeeded',
      output,
      error: errors.length > 0 ? errors.join('; ') : null,
      durationMs: Date.now() - started,
      finishedAt: Date.now(),
    };
  }

  /**
   * Starts the request's workflow executions for this processing run (`runKey`: the request id and when the run was
   * queued, so a run repeated after a crash does not start them twice). Called before the run is recorded as done.
   */
  async startWorkflows(record: InboundRecord, runKey: string, syncOwner?: string): Promise<StartedExecutions> {
    if (!this.workflows) return { executions: [], sync: null };
    const started = await this.workflows.service.start(record, runKey, { leaseMs: this.workflows.leaseMs, ...(syncOwner === undefined ? {} : { syncOwner }) });
    if (started.executions.some((execution) => execution !== started.sync)) this.workflows.signal.notify();
    return started;
  }

  /**
   * The queued executions an async request to this source starts, committed with the request by the receiver (no
   * processing job needed for them). `workflowsStarted()` wakes the workers once they are committed.
   */
  async planWorkflows(record: InboundRecord): Promise<NewExecution[]> {
    return this.workflows ? this.workflows.service.planFor(record) : [];
  }

  workflowsStarted(): void {
    this.workflows?.signal.notify();
  }

  /** Whether a sync-mode workflow answers this source's requests. */
  async answersByWorkflow(source: Source, now = Date.now()): Promise<boolean> {
    return this.workflows !== null && (await this.workflows.service.hasSync(source.id, now));
  }

  private async runHandlerFile(name: string, file: ResolvedHandler, record: InboundRecord, opts: RunOptions): Promise<HandlerRun> {
    const failed = (error: string): HandlerRun => ({ status: 'failed', output: null, error, durationMs: 0 });
    try {
      if (file.kind === 'python') {
        return this.python
          ? await this.python.run(file, portableRequest(record), this.hostFor(record), opts)
          : failed('Python handlers are not available: no Python runner configured');
      }
      if (this.threads) return await this.threads.run(file, portableRequest(record), this.hostFor(record), opts);
      // In this thread, as before threads: the module is imported here.
      const module = await this.loader.moduleOf(name, file);
      const ctx = buildContext({ record, db: this.db, emit: (app, eventType, payload) => this.emit(app, eventType, payload), log: this.logger });
      return await runHandler(module, ctx, opts);
    } catch (err) {
      return failed((err as Error).message);
    }
  }

  /** What a handler running elsewhere (a thread, a Python process) may ask of this server, as JSON calls. */
  private hostFor(record: InboundRecord): HandlerHost {
    const log = this.logger.child({ requestId: record.id });
    return {
      db: async (collection, method, args) => {
        if (!DB_METHODS.has(method)) throw new Error(`unknown collection method "${String(method).slice(0, 100)}"`);
        const target = this.db.collection(collection) as unknown as Record<string, (...values: unknown[]) => Promise<unknown>>;
        return target[method]!(...(Array.isArray(args) ? args : []));
      },
      mongo: (collection, op, args) => this.mongo(collection, op, args),
      emit: (app, eventType, payload) => this.emit(app, eventType, payload),
      log: (level, message, fields) => log[level](fields ?? {}, message),
    };
  }

  private async emit(appIdOrUid: string, eventType: string, payload: unknown): Promise<{ id: string }> {
    const app = await this.store.getApp(appIdOrUid);
    if (!app) throw new HookyardError('not_found', `app "${appIdOrUid}" not found`);
    if (typeof eventType !== 'string' || eventType === '') throw new HookyardError('validation_error', 'eventType must be a non-empty string');
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      throw new HookyardError('validation_error', 'payload must be a JSON object');
    }
    const message = await this.messages.send(app, { eventType, payload: payload as Record<string, unknown> });
    return { id: message.id };
  }
}

/** A JSON object body is forwarded as it is; anything else travels in an envelope that keeps its bytes. */
function forwardPayload(record: InboundRecord): Record<string, unknown> {
  const text = isUtf8Text(record.body) ? record.body.toString('utf8') : null;
  if (text !== null && /json/i.test(record.headers['content-type'] ?? '')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // not JSON after all: the envelope below keeps it
    }
  }
  return {
    requestId: record.id,
    method: record.method,
    contentType: record.headers['content-type'] ?? null,
    body: text ?? record.body.toString('base64'),
    bodyEncoding: text === null ? 'base64' : 'utf8',
  };
}
