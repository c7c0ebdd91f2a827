import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { DeliveryHandoff } from '../domain/messages.js';
import type { OperationalEvents } from '../domain/operational.js';
import type { Metrics } from '../metrics.js';
import { ClaimLoop, type FillResult } from '../claim-loop.js';
import { GroupCommit } from '../store/group-commit.js';
import type { ClaimedDelivery, DeliveryLease, DeliveryOutcome, Endpoint, Store } from '../store/store.js';
import { USER_AGENT } from '../version.js';
import type { WorkSignal } from '../work-signal.js';
import type { HttpClient } from './http-client.js';
import { decideOutcome, type SendResult } from './outcome.js';
import { signPolar, standardWebhookHeaders } from './sign.js';
import { thinBody } from './thin-payload.js';
import { EndpointThrottle } from './throttle.js';

export interface WorkerOptions {
  retrySchedule: readonly number[];
  deliveryTimeoutMs: number;
  concurrency: number;
  endpointConcurrency: number;
  endpointDisableAfterMs: number;
  /** Longest wait between two looks at the queue when nothing signalled new work. */
  idlePollMs?: number;
}

interface EndpointInfo {
  endpoint: Endpoint;
  secrets: string[];
  fetchedAt: number;
}

const ENDPOINT_CACHE_MS = 1_000;
// A claim's cost is mostly its commit, so claims are large (measured on SQLite: 40 µs per delivery in batches of 25,
// 27 µs in batches of 100). Deliveries claimed beyond the free slots wait in `ready` for one.
const CLAIM_BATCH = 100;
const LEASE_MARGIN_MS = 10_000;
// A claimed delivery that waited this long for a slot is given back rather than started late: its attempt could
// otherwise outlive the lease and race another worker.
const READY_MAX_WAIT_MS = LEASE_MARGIN_MS / 2;
const HOUSEKEEPING_EVERY_MS = 10 * 60_000;
// Outcomes wait up to this long to share a transaction with others (same reason as CLAIM_BATCH).
const RECORD_WINDOW_MS = 10;

/**
 * Claims due deliveries from the store (the queue), sends them with bounded concurrency, and records each outcome.
 * A claim is a lease: if this process dies, the lease runs out and the delivery is due again for any worker.
 */
export class DeliveryWorker implements DeliveryHandoff {
  readonly owner = `wrk_${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
  /** The deliveries being attempted (each claimed object once: a key string per attempt was garbage to collect). */
  private readonly inFlight = new Set<ClaimedDelivery>();
  /** Claimed deliveries waiting for a free slot, oldest first, with the time they were claimed. */
  private ready: Array<{ delivery: ClaimedDelivery; claimedAt: number }> = [];
  /** Aborts every attempt still in flight when a graceful stop runs out of time. */
  private readonly abortAll = new AbortController();
  private readonly throttle: EndpointThrottle;
  private readonly endpoints = new Map<string, EndpointInfo>();
  private readonly recorder: GroupCommit<DeliveryOutcome, boolean>;
  private stopping = false;
  private readonly loop: ClaimLoop;
  private housekeeper: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private idleResolvers: Array<() => void> = [];
  /** Free slots that make a claim worth its query. */
  private readonly refillAt: number;
  /**
   * Whether the queue may hold due deliveries this worker has not claimed. Cleared by a claim that came back short;
   * set again by whatever can make some due: a signal, a poll, a delivery given back. While it is clear, the attempts
   * that end do not each cost a claim that finds nothing (the deliveries handed over by adopt() need none).
   */
  private queueMayHaveDue = true;
  /** Slots promised by reserve() to deliveries still being committed. */
  private reserved = 0;
  private reservedResolvers: Array<() => void> = [];
  private started = false;
  /** stop() has given back what was in `ready`: deliveries adopted after that go back at once. */
  private readyReleased = false;

  constructor(
    private readonly store: Store,
    private readonly http: HttpClient,
    private readonly signal: WorkSignal,
    private readonly operational: OperationalEvents,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: WorkerOptions,
  ) {
    // Every attempt in flight listens on this one signal.
    setMaxListeners(0, this.abortAll.signal);
    this.throttle = new EndpointThrottle(options.endpointConcurrency);
    this.refillAt = Math.max(1, Math.min(CLAIM_BATCH, Math.floor(options.concurrency / 2)));
    this.loop = new ClaimLoop({
      fill: () => this.fill(),
      nextDueAt: () => store.nextDueAt(),
      idlePollMs: options.idlePollMs ?? 500,
      onPoll: () => (this.queueMayHaveDue = true),
      logger,
      name: 'delivery worker',
    });
    this.recorder = new GroupCommit(async (outcomes) => {
      try {
        await this.record(outcomes);
        return outcomes.map(() => true);
      } catch (err) {
        if (outcomes.length === 1) throw err;
        // One outcome the database refuses must not take the rest of the batch, other tenants' included, down with it.
        this.logger.warn({ err, outcomes: outcomes.length }, 'could not record a batch of attempts; recording them one by one');
        const recorded: boolean[] = [];
        for (const outcome of outcomes) {
          recorded.push(
            await this.record([outcome]).then(
              () => true,
              (one: unknown) => (this.logger.error({ err: one, messageId: outcome.attempt.messageId }, 'could not record attempt'), false),
            ),
          );
        }
        return recorded;
      }
    }, 256, RECORD_WINDOW_MS);
  }

  start(): void {
    this.started = true;
    this.unsubscribe = this.signal.subscribe(() => {
      this.queueMayHaveDue = true;
      this.loop.kick();
    });
    this.housekeeper = setInterval(() => void this.housekeeping(), HOUSEKEEPING_EVERY_MS);
    this.housekeeper.unref();
    this.loop.kick();
  }

  /** Stops claiming; lets attempts in flight finish for up to `graceMs`, then aborts and releases the rest. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.loop.stop();
    clearInterval(this.housekeeper);
    const drained = this.whenIdle();
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, graceMs, 'timeout').unref());
    if ((await Promise.race([drained, timeout])) === 'timeout') {
      this.abortAll.abort();
      await drained;
    }
    // Deliveries reserved before the stop are being committed: they join `ready` to be given back with it.
    await Promise.race([this.whenUnreserved(), timeout]);
    this.readyReleased = true;
    await this.releaseReady(this.ready.splice(0).map((entry) => entry.delivery));
    await this.recorder.drain();
  }

  get activeCount(): number {
    return this.inFlight.size;
  }

  reserve(count: number): DeliveryLease | null {
    // As many waiting as a claim may take (a round of the slots): beyond that a delivery would wait here, leased,
    // while the queue could give it to another node; it is queued instead.
    const held = this.inFlight.size + this.ready.length + this.reserved + count;
    if (!this.started || this.stopping || held > 2 * this.options.concurrency) return null;
    this.reserved += count;
    return { owner: this.owner, until: Date.now() + this.options.deliveryTimeoutMs + LEASE_MARGIN_MS };
  }

  adopt(deliveries: ClaimedDelivery[], count: number): void {
    this.reserved -= count;
    if (this.readyReleased) {
      // Committed after stop() stopped waiting for it: given back from here, or else its lease runs out.
      void this.releaseReady(deliveries).catch((err: unknown) => this.logger.warn({ err }, 'could not give back deliveries handed over during shutdown'));
    } else {
      const now = Date.now();
      for (const delivery of deliveries) this.ready.push({ delivery, claimedAt: now });
      this.loop.kick();
    }
    if (this.reserved === 0) for (const resolve of this.reservedResolvers.splice(0)) resolve();
  }

  private async fill(): Promise<FillResult> {
    let drained = false;
    let looked = true;
    // Deliveries parked for an endpoint at its cap stay in `ready`: after one pass over them that started nothing,
    // claim (skipping saturated endpoints) instead of looking at them again.
    let readyLooked = false;
    while (!this.stopping && this.freeSlots() > 0) {
      if (this.ready.length > 0 && !readyLooked) {
        if ((await this.startReady(Date.now())) === 0) readyLooked = true;
        continue;
      }
      // Claim in batches: refilling one freed slot at a time would cost a claim (and a commit) per attempt.
      if (this.freeSlots() < this.refillAt && this.inFlight.size > 0) break;
      if (!this.queueMayHaveDue) {
        // What becomes due later (retries, leases running out) is for the loop's poll timer to find.
        looked = false;
        break;
      }
      this.queueMayHaveDue = false;
      const now = Date.now();
      // At most about one batch waits for slots (plus what is parked for endpoints at their cap, at most a cap's worth
      // each), so that a slow endpoint holding every slot strands few claims.
      const limit = Math.min(CLAIM_BATCH, this.freeSlots() + this.options.concurrency);
      const claimed = await this.store.claimDueDeliveries({
        now,
        limit,
        leaseUntil: now + this.options.deliveryTimeoutMs + LEASE_MARGIN_MS,
        owner: this.owner,
        excludeEndpoints: this.throttle.saturated(now),
      });
      for (const delivery of claimed) this.ready.push({ delivery, claimedAt: now });
      readyLooked = false;
      if (claimed.length < limit) drained = true;
      else this.queueMayHaveDue = true;
      if (claimed.length === 0) break;
    }
    if (drained) return 'drained';
    if (!looked) return 'idle';
    return this.inFlight.size === 0 ? 'stalled' : 'full';
  }

  private freeSlots(): number {
    return this.options.concurrency - this.inFlight.size;
  }

  /**
   * Starts waiting deliveries, oldest first, while slots are free. A delivery whose endpoint is at its in-flight cap
   * stays parked until one of that endpoint's attempts ends (giving it back would cost a write now and a claim later);
   * stale ones and those held back by the endpoint's rate limit (which may take long) are given back. Returns how
   * many started.
   */
  private async startReady(now: number): Promise<number> {
    const waiting = this.ready;
    this.ready = [];
    const batch: typeof waiting = [];
    const giveBack: ClaimedDelivery[] = [];
    const planned = new Map<string, number>();
    const parked = new Map<string, number>();
    let free = this.freeSlots();
    for (let i = 0; i < waiting.length; i++) {
      const entry = waiting[i]!;
      if (free === 0 && now - entry.claimedAt <= READY_MAX_WAIT_MS) {
        // No slot left and none of the rest is stale (oldest first): they wait as they are. Sorting them all out on
        // every freed slot cost a pass over the whole list per attempt; they are sorted out when slots are free.
        for (let j = i; j < waiting.length; j++) this.ready.push(waiting[j]!);
        break;
      }
      const endpointId = entry.delivery.endpointId;
      if (now - entry.claimedAt > READY_MAX_WAIT_MS || this.throttle.blocked(endpointId, now)) giveBack.push(entry.delivery);
      else if (free > 0 && this.throttle.room(endpointId) > (planned.get(endpointId) ?? 0)) {
        batch.push(entry);
        planned.set(endpointId, (planned.get(endpointId) ?? 0) + 1);
        free--;
      } else if ((parked.get(endpointId) ?? 0) < this.throttle.cap) {
        // At most one more round of the endpoint's cap waits here: more would only hold leases other nodes could use.
        this.ready.push(entry);
        parked.set(endpointId, (parked.get(endpointId) ?? 0) + 1);
      } else giveBack.push(entry.delivery);
    }
    // Both usually have nothing to do (endpoints cached, no rate limits): then no promise is made for them.
    const missing = this.uncachedEndpoints(batch, now);
    if (missing.length > 0) await this.loadEndpoints(missing, now);
    const tokens = batch.some(({ delivery }) => this.endpoints.get(delivery.endpointId)?.endpoint.rateLimit != null)
      ? await this.rateTokens(batch, now)
      : null;
    if (this.stopping) {
      // stop() gives back what is in `ready`; this batch left it, so it goes back from here.
      await this.releaseReady([...giveBack, ...batch.map((entry) => entry.delivery)]);
      return 0;
    }
    const longer: ClaimedDelivery[] = [];
    let started = 0;
    for (const { delivery } of batch) {
      const info = this.endpoints.get(delivery.endpointId);
      if (!info) continue; // deleted with its deliveries
      const limited = info.endpoint.rateLimit != null;
      if ((limited && !(tokens!.get(delivery.endpointId)! > 0)) || !this.throttle.tryStart(delivery.endpointId)) {
        giveBack.push(delivery);
        continue;
      }
      if (limited) tokens!.set(delivery.endpointId, tokens!.get(delivery.endpointId)! - 1);
      if ((info.endpoint.timeoutMs ?? 0) > this.options.deliveryTimeoutMs) longer.push(delivery);
      this.send(delivery, info);
      started++;
    }
    // Rate-limited endpoints are skipped by the next claims until their bucket has a token again.
    if (giveBack.length > 0) await this.releaseReady(giveBack);
    if (longer.length > 0) {
      const maxTimeout = Math.max(...longer.map((d) => this.endpoints.get(d.endpointId)?.endpoint.timeoutMs ?? 0));
      await this.store.extendLeases(longer, this.owner, now + maxTimeout + LEASE_MARGIN_MS);
    }
    return started;
  }

  /** Tokens of the shared rate-limit buckets for this batch's rate-limited endpoints (one transaction per endpoint). */
  private async rateTokens(batch: ReadonlyArray<{ delivery: ClaimedDelivery }>, now: number): Promise<Map<string, number>> {
    const wanted = new Map<string, number>();
    for (const { delivery } of batch) {
      if (this.endpoints.get(delivery.endpointId)?.endpoint.rateLimit == null) continue;
      wanted.set(delivery.endpointId, (wanted.get(delivery.endpointId) ?? 0) + 1);
    }
    const granted = new Map<string, number>();
    for (const [endpointId, count] of wanted) {
      const rate = this.endpoints.get(endpointId)!.endpoint.rateLimit!;
      const taken = await this.store.takeRateTokens(endpointId, count, rate, now);
      granted.set(endpointId, taken.granted);
      if (taken.granted < count) this.throttle.block(endpointId, now + taken.nextTokenInMs);
    }
    return granted;
  }

  private async releaseReady(deliveries: ClaimedDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.store.releaseDeliveries(deliveries, this.owner, Date.now());
    this.queueMayHaveDue = true;
  }

  private send(delivery: ClaimedDelivery, info: EndpointInfo): void {
    this.inFlight.add(delivery);
    // The slot is freed once the HTTP exchange is over; the outcome is written with the next batch. Until then the
    // delivery stays `sending`, so nobody claims it twice.
    void this.attempt(delivery, info)
      .catch((err) => this.logger.error({ err, messageId: delivery.messageId, endpointId: delivery.endpointId }, 'attempt failed unexpectedly'))
      .finally(() => this.settled(delivery));
  }

  private settled(delivery: ClaimedDelivery): void {
    this.inFlight.delete(delivery);
    this.throttle.finish(delivery.endpointId);
    if (this.inFlight.size === 0) for (const resolve of this.idleResolvers.splice(0)) resolve();
    this.loop.kick();
  }

  private async attempt(delivery: ClaimedDelivery, info: EndpointInfo): Promise<void> {
    const { endpoint, secrets } = info;
    const started = Date.now();
    const body = endpoint.payloadMode === 'thin' ? thinBody(delivery) : delivery.payload;
    const headers: Record<string, string> = {
      ...endpoint.headers,
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      ...standardWebhookHeaders(secrets, delivery.messageId, Math.floor(started / 1000), body),
    };
    if (endpoint.flavor === 'polar' && secrets[0] !== undefined) {
      headers['polar-webhook-signature'] = signPolar(secrets[0], body);
      headers['polar-webhook-event'] = delivery.eventType;
    }

    let result: SendResult;
    try {
      const response = await this.http.post(endpoint.url, {
        headers,
        body,
        timeoutMs: endpoint.timeoutMs ?? this.options.deliveryTimeoutMs,
        signal: this.abortAll.signal,
      });
      // Not a spread: that would read `headers`, which the client parses only when asked (for a 429 or 503).
      result = {
        kind: 'response',
        statusCode: response.statusCode,
        body: response.body,
        durationMs: response.durationMs,
        get headers() {
          return response.headers;
        },
      };
    } catch (err) {
      if (this.abortAll.signal.aborted) {
        // Shutting down: give the delivery back untouched rather than count an attempt we cut short.
        await this.store.releaseDeliveries([delivery], this.owner, Date.now());
        return;
      }
      result = { kind: 'error', error: describeError(err), durationMs: Date.now() - started };
    }

    const outcome = decideOutcome(delivery, endpoint.url, result, Date.now(), { retrySchedule: this.options.retrySchedule });
    this.metrics.attempts.inc({ outcome: outcome.attempt.status });
    this.metrics.attemptDuration.observe(result.durationMs / 1000);
    void this.recorder.submit(outcome).then(
      (recorded) => {
        if (!recorded) return;
        if (outcome.next.status === 'succeeded') {
          this.metrics.deliveryLatency.observe((Date.now() - delivery.messageCreatedAt) / 1000);
          if (delivery.exhaustedAt !== null) void this.operational.emit('message.attempt.recovered', attemptEvent(delivery, outcome));
        } else if (outcome.next.exhaustedAt !== null && delivery.exhaustedAt === null) {
          void this.operational.emit('message.attempt.exhausted', attemptEvent(delivery, outcome));
        }
      },
      // The delivery stays leased; when the lease runs out it is attempted again.
      (err: unknown) => this.logger.error({ err, messageId: delivery.messageId }, 'could not record attempt'),
    );
  }

  private async record(outcomes: DeliveryOutcome[]): Promise<void> {
    const effects = await this.store.recordOutcomes(outcomes, { now: Date.now(), disableAfterMs: this.options.endpointDisableAfterMs, owner: this.owner });
    // The next delivery of a FIFO endpoint became due with this commit: claim it now rather than at the next poll.
    if (effects.fifoAdvanced > 0) {
      this.queueMayHaveDue = true;
      this.loop.kick();
    }
    for (const disabled of effects.disabledEndpoints) {
      this.endpoints.delete(disabled.endpointId);
      void this.operational.emit('endpoint.disabled', { appId: disabled.appId, endpointId: disabled.endpointId, reason: disabled.reason });
    }
  }

  /** The batch's endpoints not cached, or cached too long ago, each once. */
  private uncachedEndpoints(batch: ReadonlyArray<{ delivery: ClaimedDelivery }>, now: number): string[] {
    let missing: Set<string> | undefined;
    for (const { delivery } of batch) {
      const cached = this.endpoints.get(delivery.endpointId);
      if (!cached || now - cached.fetchedAt > ENDPOINT_CACHE_MS) (missing ??= new Set()).add(delivery.endpointId);
    }
    return missing ? [...missing] : [];
  }

  private async loadEndpoints(missing: string[], now: number): Promise<void> {
    for (const id of missing) this.endpoints.delete(id);
    for (const endpoint of await this.store.getEndpointsByIds(missing)) {
      this.endpoints.set(endpoint.id, { endpoint, secrets: await this.store.getActiveSecrets(endpoint.id, now), fetchedAt: now });
    }
  }

  private async housekeeping(): Promise<void> {
    try {
      await this.store.purgeExpired(Date.now());
    } catch (err) {
      this.logger.error({ err }, 'housekeeping failed');
    }
  }

  private whenUnreserved(): Promise<void> {
    if (this.reserved === 0) return Promise.resolve();
    return new Promise((resolve) => this.reservedResolvers.push(resolve));
  }

  private whenIdle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleResolvers.push(resolve));
  }
}

function attemptEvent(delivery: ClaimedDelivery, outcome: DeliveryOutcome): Record<string, unknown> {
  return {
    appId: delivery.appId,
    endpointId: delivery.endpointId,
    msgId: delivery.messageId,
    eventType: delivery.eventType,
    lastAttempt: {
      id: outcome.attempt.id,
      responseStatusCode: outcome.attempt.responseStatusCode,
      timestamp: new Date(outcome.attempt.createdAt).toISOString(),
    },
  };
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
