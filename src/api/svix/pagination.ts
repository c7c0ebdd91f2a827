import { HookyardError } from '../../errors.js';
import type { Page, PageQuery } from '../../store/store.js';
import { notSupported } from './errors.js';

/** Svix's list query: `limit` (1–250, default 50) and `iterator`. */
export interface SvixListQuery {
  limit?: number;
  iterator?: string;
  order?: 'ascending' | 'descending';
}

export const svixListQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 250, default: 50 },
  iterator: { type: 'string', maxLength: 512 },
} as const;

export const orderQuery = { type: 'string', enum: ['ascending', 'descending'] } as const;

export interface SvixList<J> {
  data: J[];
  iterator: string | null;
  prevIterator: string | null;
  done: boolean;
}

/**
 * An iterator is the last id (or event type name) of the previous page, in clear as Svix's are. Only forward pages
 * exist: Hookyard's keyset lists have no way back, so `prevIterator` is always null and a "-…" iterator is refused.
 */
export function svixPageQuery(query: SvixListQuery, nativeOrder?: 'ascending' | 'descending'): PageQuery {
  if (query.order !== undefined && nativeOrder !== undefined && query.order !== nativeOrder) {
    throw notSupported(`order=${query.order} (this list is only in ${nativeOrder} order)`);
  }
  const limit = query.limit ?? 50;
  const iterator = query.iterator;
  if (iterator === undefined || iterator === '') return { limit };
  if (iterator.startsWith('-')) throw notSupported('a previous-page iterator');
  if (!/^[\w\-.:]+$/.test(iterator)) {
    throw new HookyardError('validation_error', 'iterator is invalid', [{ path: '/query/iterator', message: 'invalid iterator' }]);
  }
  return { limit, after: iterator };
}

export function svixList<T, J>(page: Page<T>, toJson: (item: T) => J): SvixList<J> {
  return { data: page.data.map(toJson), iterator: page.next, prevIterator: null, done: page.next === null };
}

// A filter Hookyard's store cannot apply scans at most this many store pages for one response; the iterator then
// continues where the scan stopped (a short or empty page with done: false, as Svix's own filtered lists may give).
const MAX_SCANS = 20;

/** A page of the items `keep` accepts, read through the store's unfiltered pages. */
export async function filteredPage<T>(
  fetch: (page: PageQuery) => Promise<Page<T>>,
  page: PageQuery,
  keep: (item: T) => boolean | Promise<boolean>,
  keyOf: (item: T) => string = (item) => (item as { id: string }).id,
): Promise<Page<T>> {
  const data: T[] = [];
  let after = page.after;
  for (let scan = 0; scan < MAX_SCANS; scan++) {
    const batch = await fetch({ limit: page.limit, after });
    for (const [i, item] of batch.data.entries()) {
      if (!(await keep(item))) continue;
      data.push(item);
      if (data.length === page.limit) {
        const atEnd = i === batch.data.length - 1 && batch.next === null;
        return { data, next: atEnd ? null : keyOf(item) };
      }
    }
    if (batch.next === null) return { data, next: null };
    after = batch.next;
  }
  return { data, next: after ?? null };
}

/**
 * One page over several keyset lists of the same order (messages of several event types, newest first): the top
 * `limit` of their pages merged. Whatever was not taken sorts after the last item taken, so it continues from there.
 */
export async function mergedPage<T extends { id: string }>(fetches: Array<(page: PageQuery) => Promise<Page<T>>>, page: PageQuery): Promise<Page<T>> {
  const pages = await Promise.all(fetches.map((fetch) => fetch(page)));
  const seen = new Set<string>();
  const all = pages.flatMap((p) => p.data).filter((item) => !seen.has(item.id) && seen.add(item.id));
  all.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const data = all.slice(0, page.limit);
  const more = all.length > page.limit || pages.some((p) => p.next !== null);
  return { data, next: more && data.length > 0 ? data[data.length - 1]!.id : null };
}
