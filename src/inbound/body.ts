import { isUtf8 } from 'node:buffer';

/** True when the bytes are valid UTF-8 (an empty body counts). */
export function isUtf8Text(raw: Buffer): boolean {
  return isUtf8(raw);
}

/** A query string (with or without its '?') as an object; a repeated key becomes an array of its values. */
export function parseQuery(query: string): Record<string, string | string[]> {
  const values = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(query)) {
    const list = values.get(key);
    if (list === undefined) values.set(key, [value]);
    else list.push(value);
  }
  // fromEntries defines own properties, so a key named `__proto__` stays data instead of replacing the prototype.
  return Object.fromEntries([...values].map(([key, list]) => [key, list.length === 1 ? list[0]! : list]));
}

type BodyKind = 'json' | 'form' | 'text' | 'binary';

function kindOf(contentType: string | undefined): BodyKind {
  const mediaType = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType === '') return 'text';
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) return 'json';
  if (mediaType === 'application/x-www-form-urlencoded') return 'form';
  if (mediaType.startsWith('text/') || mediaType === 'application/xml' || mediaType.endsWith('+xml')) return 'text';
  return 'binary';
}

/**
 * The body as a handler sees it: JSON parsed, forms as objects, text as a string. Binary and non-UTF-8 bodies (and
 * empty ones) are undefined: the handler has rawBody for those. Never throws, as the request is already stored.
 */
export function parseBody(contentType: string | undefined, raw: Buffer): unknown {
  const kind = kindOf(contentType);
  if (kind === 'binary' || raw.length === 0 || !isUtf8(raw)) return undefined;
  // A BOM would make JSON.parse fail and is never part of the text a sender meant.
  const text = raw.toString('utf8').replace(/^\uFEFF/, '');
  if (kind === 'form') return parseQuery(text);
  if (kind === 'json') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}
