import { HookyardError } from '../errors.js';
import { valueAtJsonPath } from '../json-path.js';

/**
 * An event type's `resourceUrlTemplate`, e.g. `https://api.example.com/v3/exercises/{{entity_id}}`: where a thin
 * delivery's receiver fetches the resource. Placeholders name payload fields (`{{data.id}}` for nested ones); values
 * are percent-encoded into the URL. Own properties only (see json-path.ts).
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*)\s*\}\}/g;

/** Refuses a template that is not an http(s) URL once its placeholders are filled, or whose braces are not placeholders. */
export function checkResourceUrlTemplate(template: string, path = '/body/resourceUrlTemplate'): void {
  const filled = template.replace(PLACEHOLDER, 'x');
  const fail = (why: string): never => {
    throw new HookyardError('validation_error', `resourceUrlTemplate ${why}`, [{ path, message: why }]);
  };
  if (/[{}]/.test(filled)) fail('has braces that are not {{field}} placeholders');
  let url: URL;
  try {
    url = new URL(filled);
  } catch {
    return fail('is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('must be an http or https URL');
}

/** The URL for this payload, or null when a placeholder's field is missing or not a string or number. */
export function renderResourceUrl(template: string, payload: unknown): string | null {
  let missing = false;
  const url = template.replace(PLACEHOLDER, (_all, path: string) => {
    const value = valueAtJsonPath(payload, `$.${path}`);
    if (typeof value !== 'string' && typeof value !== 'number') {
      missing = true;
      return '';
    }
    return encodeURIComponent(String(value));
  });
  return missing ? null : url;
}
