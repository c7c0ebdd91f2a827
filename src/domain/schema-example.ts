import type { Json } from '../store/store.js';

/**
 * An example payload for an event type, for the consumer portal's catalog and its test events: the schema's own
 * `examples[0]` (or `example`) when it gives one, else a value built from the schema (defaults, enums, formats),
 * so that every documented type has something to show and to send.
 */
export function exampleFor(schema: Json | null): Json | null {
  if (schema === null) return null;
  const value = exampleOf(schema, 0);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

const MAX_DEPTH = 6;

function exampleOf(schema: unknown, depth: number): unknown {
  if (schema === null || typeof schema !== 'object' || depth > MAX_DEPTH) return null;
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  for (const key of ['example', 'const', 'default'] as const) if (Object.hasOwn(s, key)) return s[key];
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
    if (Array.isArray(s[key]) && s[key].length > 0) return exampleOf(s[key][0], depth + 1);
  }
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type ?? (s.properties ? 'object' : undefined)) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      for (const name of Object.keys(properties)) out[name] = exampleOf(properties[name], depth + 1);
      return out;
    }
    case 'array':
      return s.items === undefined ? [] : [exampleOf(s.items, depth + 1)];
    case 'string':
      return stringExample(s.format);
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'boolean':
      return true;
    default:
      return null;
  }
}

function stringExample(format: unknown): string {
  switch (format) {
    case 'date-time':
      return '2026-01-01T00:00:00Z';
    case 'date':
      return '2026-01-01';
    case 'email':
      return 'user@example.com';
    case 'uri':
    case 'url':
      return 'https://example.com/';
    case 'uuid':
      return '00000000-0000-4000-8000-000000000000';
    default:
      return 'string';
  }
}
