import type { SourceOrdering } from '../store/store.js';
import { parseBody } from './body.js';
import { isJsonPath, valueAtJsonPath } from '../json-path.js';

const HEADER_REF = /^header:([A-Za-z0-9!#$%&'*+.^_`|~-]{1,100})$/;
const MAX_ENTITY_LENGTH = 512;
/** Epoch numbers below this are seconds (1e11 s is the year 5138; 1e11 ms is March 1973). */
const SECONDS_BELOW = 1e11;
/** The range a Date can hold, so that every accepted time fits a BIGINT and means a real instant. */
const MAX_EPOCH_MS = 8.64e15;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
const NUMERIC = /^-?\d+(?:\.\d+)?$/;

export const isOrderingTimestampRef = (ref: string): boolean => isJsonPath(ref) || HEADER_REF.test(ref);

/**
 * A request's entity and time (epoch ms) under a source's `ordering`, or undefined when either is missing or does not
 * parse: such a request is not guarded (processed as usual), never stale.
 */
export function orderingOf(
  ordering: SourceOrdering,
  headers: Record<string, string>,
  rawBody: Buffer,
): { entity: string; at: number } | undefined {
  let body: unknown;
  const value = (path: string): unknown => {
    body ??= jsonBody(headers['content-type'], rawBody);
    return valueAtJsonPath(body, path);
  };
  const entity = value(ordering.entity);
  const entityKey = typeof entity === 'string' ? entity : typeof entity === 'number' && Number.isFinite(entity) ? String(entity) : undefined;
  if (entityKey === undefined || entityKey === '' || entityKey.length > MAX_ENTITY_LENGTH) return undefined;
  const header = HEADER_REF.exec(ordering.timestamp)?.[1];
  const at = epochMs(header !== undefined ? headers[header.toLowerCase()] : value(ordering.timestamp));
  return at === undefined ? undefined : { entity: entityKey, at };
}

/** ISO-8601 text, or epoch seconds / milliseconds as a number or numeric text (below 1e11 = seconds), as epoch ms. */
export function epochMs(value: unknown): number | undefined {
  let ms: number;
  if (typeof value === 'number') ms = Math.abs(value) < SECONDS_BELOW ? value * 1000 : value;
  else if (typeof value !== 'string') return undefined;
  else if (NUMERIC.test(value.trim())) return epochMs(Number(value.trim()));
  else {
    const text = value.trim();
    const match = ISO_8601.exec(text);
    if (!match) return undefined;
    // A date-time without an offset is read as UTC, not as this server's local time.
    ms = Date.parse(text.length > 10 && match[1] === undefined ? `${text}Z` : text);
  }
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_EPOCH_MS ? Math.floor(ms) : undefined;
}

/** JSON and form bodies as parsed for handlers; a body without a JSON Content-Type that is JSON all the same counts too. */
function jsonBody(contentType: string | undefined, raw: Buffer): unknown {
  const parsed = parseBody(contentType, raw);
  if (typeof parsed !== 'string') return parsed;
  try {
    return JSON.parse(parsed) as unknown;
  } catch {
    return undefined;
  }
}
