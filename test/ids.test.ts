import { describe, expect, it } from 'vitest';
import { decodeTime, encodeTime } from 'ulid';
import { newId } from '../src/ids.js';

describe('ids', () => {
  it('are prefixed ULIDs that decode to their creation time', () => {
    const id = newId('msg', Date.UTC(2026, 10, 22, 12));
    expect(id).toMatch(/^msg_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(decodeTime(id.slice(4))).toBe(Date.UTC(2026, 10, 22, 12));
  });

  it('sort in creation order, within one millisecond and when the clock steps back', () => {
    const now = Date.now() + 10_000;
    const ids = [newId('evt', now), newId('evt', now), newId('evt', now - 5), newId('evt', now + 1), newId('evt', now + 1)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('encode time exactly as the ulid package does', () => {
    const time = Date.now() + 60_000;
    expect(newId('app', time).slice(4, 14)).toBe(encodeTime(time, 10));
  });
});
