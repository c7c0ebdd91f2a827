import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type ChildServer } from './helpers/child.js';
import { Receiver } from './helpers/receiver.js';
import { waitFor } from './helpers/wait.js';

const TOKEN = 'workflow-crash-admin-token-0';
const REQUESTS = 60;

/**
 * kill -9 of a server in the middle of workflow runs (some asleep in a delay, some inside a slow http-request node,
 * some not started): after a restart on the same SQLite file, every acknowledged request's execution finishes, each at
 * the node that had not finished, and every request reaches the receiver.
 */
describe('workflow crash recovery (kill -9)', () => {
  let dir: string;
  let server: ChildServer | undefined;
  let receiver: Receiver;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookyard-workflow-crash-'));
    receiver = await Receiver.start();
    receiver.on('/done', (_req, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 300));
  });
  afterAll(async () => {
    server?.process.kill('SIGKILL');
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({
    HOOKYARD_DATABASE_URL: join(dir, 'hookyard.db'),
    HOOKYARD_ADMIN_TOKEN: TOKEN,
    HOOKYARD_ALLOW_PRIVATE_DESTINATIONS: 'true',
    // Leases are twice this: the runs the killed process held are taken over within the test.
    HOOKYARD_HANDLER_TIMEOUT_MS: '1000',
    HOOKYARD_WORKFLOW_CONCURRENCY: '8',
  });
  const api = async (url: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json().catch(() => undefined)) as any };
  };

  it('resumes every acknowledged run after a kill -9 and restart', async () => {
    server = await spawnServer(env(), dir);
    expect((await api(server.url, 'POST', '/api/v1/sources', { name: 'wfcrash' })).status).toBe(201);
    const created = await api(server.url, 'POST', '/api/v1/workflows', {
      key: 'crash',
      trigger: { type: 'webhook', source: 'wfcrash' },
      nodes: [
        { key: 'save', type: 'create', config: { collection: 'crash-runs', values: { i: '{{$context.data.i}}' } }, next: 'nap' },
        { key: 'nap', type: 'delay', config: { ms: 400 }, next: 'call' },
        { key: 'call', type: 'http-request', config: { url: `${receiver.url}/done`, body: { i: '{{$context.data.i}}' }, timeoutMs: 5000 } },
      ],
    });
    expect(created.status).toBe(201);

    const acked = new Map<number, string>();
    for (let i = 0; i < REQUESTS; i++) {
      const response = await fetch(`${server.url}/in/wfcrash`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ i }) });
      expect(response.status).toBe(202);
      acked.set(i, ((await response.json()) as { id: string }).id);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Kill once some runs have reached the receiver and others are asleep or mid-request.
    await waitFor(async () => receiver.at('/done').length, (n) => n >= 5, 20_000);
    server.process.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');
    const reachedBeforeKill = new Set(receiver.at('/done').map((r) => (JSON.parse(r.body) as { i: number }).i)).size;
    expect(reachedBeforeKill).toBeLessThan(REQUESTS);

    server = await spawnServer(env(), dir);
    const url = server.url;
    const all = async () => {
      const executions: Array<{ id: string; requestId: string; status: string }> = [];
      let cursor: string | null = null;
      do {
        const page = await api(url, 'GET', `/api/v1/workflows/crash/executions?limit=250${cursor ? `&cursor=${cursor}` : ''}`);
        executions.push(...page.body.data);
        cursor = page.body.nextCursor;
      } while (cursor);
      return executions;
    };
    const executions = await waitFor(all, (list) => list.length === REQUESTS && list.every((e) => e.status === 'succeeded'), 60_000);
    // One execution per acknowledged request, each finished.
    expect(new Set(executions.map((e) => e.requestId))).toEqual(new Set(acked.values()));
    const reached = new Set(receiver.at('/done').map((r) => (JSON.parse(r.body) as { i: number }).i));
    expect(reached.size).toBe(REQUESTS);

    // A run the kill interrupted inside a node shows it: that job is recorded as interrupted and the node ran again.
    let interrupted = 0;
    for (const execution of executions) {
      const detail = await api(url, 'GET', `/api/v1/workflows/crash/executions/${execution.id}`);
      const jobs = detail.body.jobs as Array<{ nodeKey: string; status: string; error: string | null }>;
      expect(jobs.filter((job) => job.status === 'succeeded').map((job) => job.nodeKey)).toEqual(['save', 'nap', 'call']);
      interrupted += jobs.filter((job) => job.error?.startsWith('interrupted')).length;
    }
    console.log(`workflow crash test: ${reachedBeforeKill} of ${REQUESTS} runs finished before kill -9, ${interrupted} node runs interrupted and run again, all ${REQUESTS} finished after the restart`);
    server.process.kill('SIGTERM');
    await server.exited;
    server = undefined;
  }, 120_000);
});
