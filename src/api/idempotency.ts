import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HookyardError } from '../errors.js';
import type { Store } from '../store/store.js';
import { principalOf } from './auth.js';

const TTL_MS = 24 * 3_600_000;

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: { scope: string; key: string };
  }
}

/**
 * `Idempotency-Key` on create calls: the first request reserves the key; a repeat within 24 h gets the first
 * (successful) response replayed and creates nothing. A failed first request frees the key for a retry.
 */
export function registerIdempotency(app: FastifyInstance, store: Store): void {
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || typeof key !== 'string' || !request.url.startsWith('/api/')) return;
    if (key.length === 0 || key.length > 256) throw new HookyardError('validation_error', 'Idempotency-Key must be 1 to 256 characters');
    const scope = `${principalOf(request).keyId} POST ${request.url.split('?')[0]}`;
    const now = Date.now();
    const previous = await store.getIdempotent(scope, key, now);
    if (previous === 'in_progress') throw new HookyardError('idempotency_in_progress', 'a request with this Idempotency-Key is still in progress');
    if (previous !== null) {
      reply.code(previous.statusCode).header('content-type', 'application/json; charset=utf-8').header('idempotent-replayed', 'true');
      return reply.send(previous.body);
    }
    if (!(await store.reserveIdempotent(scope, key, now + TTL_MS, now))) {
      throw new HookyardError('idempotency_in_progress', 'a request with this Idempotency-Key is still in progress');
    }
    request.idempotency = { scope, key };
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const slot = request.idempotency;
    if (!slot) return payload;
    request.idempotency = undefined;
    if (reply.statusCode >= 200 && reply.statusCode < 300 && typeof payload === 'string') {
      await store.completeIdempotent(slot.scope, slot.key, { statusCode: reply.statusCode, body: payload });
    } else {
      await store.releaseIdempotent(slot.scope, slot.key);
    }
    return payload;
  });
}
