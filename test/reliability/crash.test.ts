import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnServer, type ChildServer } from '../helpers/child.js';
import { Rng } from '../helpers/fuzz-wire.js';
import { createSchema, describePg } from '../helpers/postgres.js';
import { Receiver } from '../helpers/receiver.js';
import { call, describeReliability, listAll, report, scale, SEED, sleep, tally, waitUntil } from './support.js';

/*
 * kill -9 of `hookyard serve` under mixed load: senders post outbound messages (each with an eventId, so a send the
 * kill cut off can be retried safely) and inbound webhooks (each with a delivery id) without pause, the process is
 * killed at a random moment, restarted on the same database, and killed again, KILLS times. The senders behave like
 * real ones: whatever got no answer is retried until it is acknowledged.
 *
 * Then: every acknowledged message reached every endpoint, every acknowledged webhook is stored once and processed,
 * nothing is left pending or leased, and the database holds exactly what was acknowledged (nothing lost, nothing
 * phantom). Duplicate deliveries are allowed (at least once) and counted per kill.
 */

const TOKEN = 'reliability-crash-admin-token';
const KILLS = scale(5, 5);
/** Acknowledgements each life of the process must reach before the kill may land (so it lands under load). */
const ACKS_PER_LIFE = scale(400, 150);
/** Then the kill lands within this many more ms. */
const KILL_JITTER_MS = scale(1_500, 400);
const SENDERS = 6;
const ENDPOINTS = ['/a', '/b'];
const DRAIN_TIMEOUT_MS = 90_000;

interface Database {
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** One life of the process, from its start to its kill. */
interface Life {
  kill: number;
  uptimeMs: number;
  outboundAcked: number;
  inboundAcked: number;
  killedAt: number;
}

class MixedLoad {
  /** Where requests go; null while the process is down. */
  target: string | null = null;
  /** Which life of the process requests are now sent to (0-based). */
  life = 0;
  stopping = false;
  /** eventId number → the message id Hookyard acknowledged (202, or the 409 naming the copy the kill cut off). */
  readonly outbound = new Map<number, string>();
  /** delivery number → the request id acknowledged (202, or 200 naming the first copy). */
  readonly inbound = new Map<number, string>();
  /** Per life: requests sent to it that got no answer (in flight when it died). */
  readonly cutOff: number[] = [0];
  /** Requests refused because the process was already dead (not yet re-routed). */
  refused = 0;
  /** A send the kill cut off had been committed: the retry got 409 (outbound) or was answered as a duplicate (inbound). */
  committedButUnanswered = { outbound: 0, inbound: 0 };
  readonly unexpected: string[] = [];
  private nextOutbound = 0;
  private nextInbound = 0;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly app: string) {}

  start(): void {
    const senders = [
      ...Array.from({ length: SENDERS }, () => this.sender(() => this.nextOutbound++, (i, base) => this.sendMessage(i, base))),
      ...Array.from({ length: SENDERS }, () => this.sender(() => this.nextInbound++, (i, base) => this.sendWebhook(i, base))),
    ];
    this.running = Promise.all(senders).then(() => undefined);
  }

  /** Lets every sender finish (and get acknowledged) the item it holds, then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  get acked(): number {
    return this.outbound.size + this.inbound.size;
  }

  private async sender(next: () => number, send: (i: number, base: string) => Promise<boolean>): Promise<void> {
    while (!this.stopping) {
      const i = next();
      for (;;) {
        const base = this.target;
        const life = this.life;
        if (base === null) {
          await sleep(20);
          continue;
        }
        try {
          if (await send(i, base)) break;
        } catch (err) {
          // No answer: the process died before or under this request. Retry it, as a real sender would.
          if ((err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') this.refused++;
          else this.cutOff[life] = (this.cutOff[life] ?? 0) + 1;
          if (this.target === base) this.unexpected.push(`no answer while the process was up: ${(err as Error).message}`);
        }
        await sleep(20);
      }
    }
  }

  private async sendMessage(i: number, base: string): Promise<boolean> {
    const res = await call(base, TOKEN, 'POST', `/api/v1/apps/${this.app}/messages`, { eventType: 'crash.mixed', eventId: `evt-${i}`, payload: { i, pad: 'm'.repeat(200) } });
    if (res.status === 202) this.outbound.set(i, res.body.id);
    else if (res.status === 409 && res.body?.code === 'conflict') {
      this.outbound.set(i, res.body.details.id);
      this.committedButUnanswered.outbound++;
    } else {
      this.unexpected.push(`message ${i}: ${res.status} ${JSON.stringify(res.body)}`);
      return false;
    }
    return true;
  }

  private async sendWebhook(i: number, base: string): Promise<boolean> {
    const res = await fetch(`${base}/in/crash`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-delivery-id': `delivery-${i}` },
      body: JSON.stringify({ i, pad: 'w'.repeat(400) }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json()) as { id: string; duplicate?: boolean };
    if (res.status === 202) this.inbound.set(i, body.id);
    else if (res.status === 200 && body.duplicate === true) {
      this.inbound.set(i, body.id);
      this.committedButUnanswered.inbound++;
    } else {
      this.unexpected.push(`webhook ${i}: ${res.status} ${JSON.stringify(body)}`);
      return false;
    }
    return true;
  }
}

async function queueDepth(base: string): Promise<{ pending: number; sending: number; jobsPending: number; jobsRunning: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const gauge = (name: string, status: string) => Number(new RegExp(`^${name}\\{status="${status}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    pending: gauge('hookyard_queue_depth', 'pending'),
    sending: gauge('hookyard_queue_depth', 'sending'),
    jobsPending: gauge('hookyard_inbound_jobs', 'pending'),
    jobsRunning: gauge('hookyard_inbound_jobs', 'running'),
  };
}

function crashSuite(name: string, openDatabase: () => Promise<Database>): void {
  let dir: string;
  let database: Database;
  let receiver: Receiver;
  let server: ChildServer | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookyard-reliability-crash-'));
    mkdirSync(join(dir, 'handlers'));
    // Processing that writes to Hookyard's own database, so that kills also land in the middle of handlers.
    writeFileSync(join(dir, 'handlers', 'crash.mjs'), "export default (ctx) => ctx.db.collection('mixed').insert({ delivery: ctx.request.headers['x-delivery-id'] });");
    database = await openDatabase();
    receiver = await Receiver.start();
    // A little slower than acceptance, so that each kill lands while deliveries are under way.
    const rng = new Rng(SEED);
    for (const path of ENDPOINTS) receiver.on(path, (_req, res) => setTimeout(() => res.writeHead(200).end(), rng.int(0, 15)));
  });
  afterAll(async () => {
    server?.process.kill('SIGKILL');
    await receiver?.close();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({
    ...database.env,
    HOOKYARD_ADMIN_TOKEN: TOKEN,
    HOOKYARD_ALLOW_PRIVATE_DESTINATIONS: 'true',
    // The lease of a delivery the dead process held ends 10 s after this timeout; keep it short.
    HOOKYARD_DELIVERY_TIMEOUT_MS: '1000',
    HOOKYARD_RETRY_SCHEDULE: '100ms,200ms,500ms,1s,2s',
    HOOKYARD_HANDLER_TIMEOUT_MS: '1000',
  });

  it(`loses nothing acknowledged across ${KILLS} kill -9 under mixed inbound and outbound load (${name})`, async () => {
    const started = Date.now();
    const rng = new Rng(SEED ^ 0x5eed);
    server = await spawnServer(env(), dir);
    const app = (await call(server.url, TOKEN, 'POST', '/api/v1/apps', { name: 'crash', uid: 'crash' })).body.id as string;
    for (const path of ENDPOINTS) expect((await call(server.url, TOKEN, 'POST', `/api/v1/apps/${app}/endpoints`, { url: `${receiver.url}${path}` })).status).toBe(201);
    expect((await call(server.url, TOKEN, 'POST', '/api/v1/sources', { name: 'crash', dedup: { header: 'x-delivery-id' } })).status).toBe(201);

    const load = new MixedLoad(app);
    const lives: Life[] = [];
    load.target = server.url;
    load.start();
    for (let kill = 1; kill <= KILLS; kill++) {
      const bornAt = Date.now();
      const ackedAtStart = { outbound: load.outbound.size, inbound: load.inbound.size };
      const receivedAtStart = receiver.received.length;
      await waitUntil(`${ACKS_PER_LIFE} acknowledgements and deliveries in life ${kill}`,
        () => load.acked - ackedAtStart.outbound - ackedAtStart.inbound >= ACKS_PER_LIFE && receiver.received.length > receivedAtStart,
        60_000, () => ({ acked: load.acked, unexpected: load.unexpected.slice(0, 3), output: server?.output().slice(-2000) }), 5);
      await sleep(rng.int(0, KILL_JITTER_MS));
      // The senders are not warned: they keep sending until the process is gone.
      server.process.kill('SIGKILL');
      load.target = null;
      expect(await server.exited).toBe('SIGKILL');
      const killedAt = Date.now();
      lives.push({
        kill,
        uptimeMs: killedAt - bornAt,
        outboundAcked: load.outbound.size - ackedAtStart.outbound,
        inboundAcked: load.inbound.size - ackedAtStart.inbound,
        killedAt,
      });
      server = await spawnServer(env(), dir);
      load.life = kill;
      load.target = server.url;
    }
    // One more life without a kill: the senders finish what they hold, then everything must drain.
    await sleep(500);
    await load.stop();
    const base = server.url;
    expect(load.unexpected.slice(0, 10)).toEqual([]);

    // Every acknowledged message reached every endpoint.
    const receivedIds = (path: string) => new Set(receiver.at(path).map((r) => String(r.headers['webhook-id'])));
    const undelivered = () => ENDPOINTS.flatMap((path) => {
      const seen = receivedIds(path);
      return [...load.outbound.values()].filter((id) => !seen.has(id)).map((id) => `${path} ${id}`);
    });
    await waitUntil('every acknowledged message at every endpoint', () => undelivered().length === 0, DRAIN_TIMEOUT_MS, () => undelivered().slice(0, 5), 250);
    // Nothing pending or leased: the dead processes' leases ran out and their deliveries and jobs were finished.
    await waitUntil('empty queues', async () => {
      const depth = await queueDepth(base);
      return depth.pending === 0 && depth.sending === 0 && depth.jobsPending === 0 && depth.jobsRunning === 0;
    }, DRAIN_TIMEOUT_MS, () => 'see /metrics', 250);

    // The database holds exactly the acknowledged messages: none lost, none created twice by a retried send.
    const messages = await listAll<{ id: string }>(base, TOKEN, `/api/v1/apps/${app}/messages`);
    expect(messages.length).toBe(load.outbound.size);
    expect(new Set(messages.map((m) => m.id))).toEqual(new Set(load.outbound.values()));

    // Every acknowledged webhook is stored once as accepted, and its processing finished.
    const stored = await listAll<{ id: string; status: string; headers: Record<string, string>; processing: { status: string } }>(base, TOKEN, '/api/v1/sources/crash/requests');
    const accepted = stored.filter((r) => r.status === 'accepted');
    const acceptedIds = new Set(accepted.map((r) => r.id));
    const lostWebhooks = [...load.inbound.values()].filter((id) => !acceptedIds.has(id));
    expect(lostWebhooks).toEqual([]);
    expect(accepted.length).toBe(load.inbound.size);
    expect(new Set(accepted.map((r) => r.headers['x-delivery-id'])).size).toBe(accepted.length);
    const unprocessed = accepted.filter((r) => r.processing.status !== 'succeeded').map((r) => r.processing).slice(0, 3);
    expect(tally(accepted.map((r) => r.processing.status)), `not processed: ${JSON.stringify(unprocessed)}`).toEqual({ succeeded: accepted.length });

    // Duplicates: a delivery received more than once was sent, then the kill struck before its outcome was recorded;
    // it is charged to the first kill after its first receipt.
    const duplicatesPerKill = new Array<number>(KILLS + 1).fill(0);
    let deliveries = 0;
    for (const path of ENDPOINTS) {
      const firstSeen = new Map<string, number>();
      for (const r of receiver.at(path)) {
        deliveries++;
        const id = String(r.headers['webhook-id']);
        const first = firstSeen.get(id);
        if (first === undefined) firstSeen.set(id, r.at);
        else {
          const life = lives.findIndex((l) => l.killedAt >= first);
          duplicatesPerKill[life === -1 ? KILLS : life]!++;
        }
      }
    }
    const duplicates = duplicatesPerKill.reduce((sum, n) => sum + n, 0);
    const inboundDuplicatesStored = stored.filter((r) => r.status === 'duplicate').length;
    report(`crash-${name.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '')}`, {
      kills: KILLS,
      messagesAcknowledged: load.outbound.size,
      webhooksAcknowledged: load.inbound.size,
      deliveriesExpected: load.outbound.size * ENDPOINTS.length,
      deliveriesReceived: deliveries,
      lostMessages: undelivered().length,
      lostWebhooks: lostWebhooks.length,
      duplicateDeliveries: duplicates,
      duplicateDeliveriesPerKill: duplicatesPerKill.slice(0, KILLS),
      duplicatesAfterTheLastKill: duplicatesPerKill[KILLS],
      requestsCutOffPerKill: lives.map((l) => load.cutOff[l.kill - 1] ?? 0),
      requestsRefusedWhileDown: load.refused,
      cutOffButCommitted: load.committedButUnanswered,
      inboundCopiesAnsweredAsDuplicates: inboundDuplicatesStored,
      uptimeBeforeKillMs: lives.map((l) => l.uptimeMs),
      durationMs: Date.now() - started,
    });
    // Each duplicate belongs to a kill: without a crash there is none.
    expect(duplicatesPerKill[KILLS]).toBe(0);

    server.process.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    server = undefined;
  }, 600_000);
}

describeReliability('kill -9 under mixed load: SQLite, synchronous=FULL (the default)', () => {
  crashSuite('sqlite-full', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookyard-reliability-db-'));
    return { env: { HOOKYARD_DATABASE_URL: join(dir, 'hookyard.db') }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  });
});

// NORMAL loses nothing on a process crash either (the WAL is in the OS page cache); only power loss or an OS crash
// can cost the last transactions, which this test cannot produce. It runs in the full profile only.
(scale(true, false) ? describeReliability : describeReliability.skip)('kill -9 under mixed load: SQLite, synchronous=NORMAL', () => {
  crashSuite('sqlite-normal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookyard-reliability-db-'));
    return {
      env: { HOOKYARD_DATABASE_URL: join(dir, 'hookyard.db'), HOOKYARD_SQLITE_SYNCHRONOUS: 'normal' },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  });
});

(process.env.HOOKYARD_RELIABILITY_SUITE === 'true' ? describePg : describePg.skip)('kill -9 under mixed load: PostgreSQL', () => {
  crashSuite('postgres', async () => {
    const schema = await createSchema('hy_rel_crash');
    return { env: { HOOKYARD_DATABASE_URL: schema.url, HOOKYARD_SECRET_KEY: 'cd'.repeat(32) }, drop: () => schema.drop() };
  });
});
