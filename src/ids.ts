import { monotonicFactory } from 'ulid';

export type IdPrefix = 'app' | 'ep' | 'msg' | 'atmpt' | 'src' | 'req' | 'key' | 'evt' | 'job';

// Monotonic so that ids minted in the same millisecond still sort in creation order (cursors rely on it).
const ulid = monotonicFactory();

export function newId(prefix: IdPrefix, now = Date.now()): string {
  return `${prefix}_${ulid(now)}`;
}

export function hasPrefix(id: string, prefix: IdPrefix): boolean {
  return id.startsWith(`${prefix}_`);
}
