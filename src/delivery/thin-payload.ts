import type { ClaimedDelivery } from '../store/store.js';

/**
 * A thin delivery (endpoint `payloadMode: "thin"`, as Polar AccessLink sends): the envelope without the data, and a
 * URL where the receiver fetches the resource, so that large or sensitive objects never travel in a webhook and a
 * late retry never carries an old copy. Signed like any delivery.
 *
 *   {"type": "exercise.created", "id": "msg_…", "timestamp": "…", "data": {"id": "aQlC83", "url": "https://…/aQlC83"}}
 */
export function thinBody(delivery: Pick<ClaimedDelivery, 'eventType' | 'messageId' | 'messageCreatedAt' | 'payload' | 'resourceUrl'>): string {
  return JSON.stringify({
    type: delivery.eventType,
    id: delivery.messageId,
    timestamp: new Date(delivery.messageCreatedAt).toISOString(),
    data: { id: entityId(delivery.payload), url: delivery.resourceUrl },
  });
}

/** The resource's id: `data.id` of a Standard Webhooks envelope, else the payload's `id` or `entity_id` (Polar's name). */
function entityId(payload: string): string | number | null {
  const parsed = JSON.parse(payload) as Record<string, unknown>;
  const data = parsed.data;
  const candidates = [data !== null && typeof data === 'object' ? (data as Record<string, unknown>).id : undefined, parsed.id, parsed.entity_id];
  for (const value of candidates) if (typeof value === 'string' || typeof value === 'number') return value;
  return null;
}
