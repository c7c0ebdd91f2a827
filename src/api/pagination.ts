import { HookyardError } from '../errors.js';
import type { Page, PageQuery } from '../store/store.js';

export interface ListQuery {
  limit?: number;
  cursor?: string;
}

/** Cursors are opaque to clients: base64url of the last key of the previous page. */
export function pageQuery(query: ListQuery): PageQuery {
  const limit = query.limit ?? 50;
  if (query.cursor === undefined || query.cursor === '') return { limit };
  const after = Buffer.from(query.cursor, 'base64url').toString('utf8');
  if (after === '' || !/^[\w\-.:]+$/.test(after)) throw new HookyardError('validation_error', 'cursor is invalid', [{ path: '/cursor', message: 'invalid cursor' }]);
  return { limit, after };
}

export function listResponse<T, J>(page: Page<T>, toJson: (item: T) => J): { data: J[]; nextCursor: string | null } {
  return { data: page.data.map(toJson), nextCursor: page.next === null ? null : Buffer.from(page.next, 'utf8').toString('base64url') };
}
