import type { Source } from '../store/store.js';
import { valueAtJsonPath } from '../json-path.js';
import type { InboundRequest, VerificationPreset } from './verify/preset.js';

const MAX_KEY_LENGTH = 255;

/**
 * The key that identifies one delivery from the sender: a configured header or JSON path, else the provider's own
 * delivery id. null = no dedup for this request.
 */
export function dedupKeyOf(source: Source, request: InboundRequest, preset: VerificationPreset | undefined): string | null {
  let key: string | undefined;
  if (source.dedup?.header !== undefined) key = request.headers[source.dedup.header.toLowerCase()];
  else if (source.dedup?.jsonPath !== undefined) key = jsonPathValue(request.rawBody, source.dedup.jsonPath);
  else key = preset?.deliveryId?.(request);
  return key !== undefined && key !== '' && key.length <= MAX_KEY_LENGTH ? key : null;
}

function jsonPathValue(raw: Buffer, path: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  value = valueAtJsonPath(value, path);
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}
