import type { SqlExecutor } from './sql.js';
import type { Page, PageQuery } from './store.js';

/**
 * One page of a keyset-paginated list. `sql` takes $1 = the bound (the last id seen, or the open end) and $2 = limit
 * + 1, then `params` from $3; the extra row tells whether there is a next page without a COUNT.
 */
export async function keysetPage<T>(
  exec: SqlExecutor,
  sql: string,
  params: unknown[],
  page: PageQuery,
  map: (row: Record<string, unknown>) => T,
  order: 'asc' | 'desc',
  keyOf: (item: T) => string = (item) => (item as { id: string }).id,
): Promise<Page<T>> {
  // Ids are ASCII, so '' sorts before every id and U+FFFF after every id.
  const bound = page.after ?? (order === 'asc' ? '' : '\uffff');
  const rows = await exec.all<Record<string, unknown>>(sql, [bound, page.limit + 1, ...params]);
  const data = rows.slice(0, page.limit).map(map);
  const last = data[data.length - 1];
  return { data, next: rows.length > page.limit && last !== undefined ? keyOf(last) : null };
}
