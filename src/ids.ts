import { randomFillSync } from 'node:crypto';

export type IdPrefix = 'app' | 'ep' | 'msg' | 'atmpt' | 'src' | 'req' | 'key' | 'evt' | 'job' | 'doc' | 'qtask' | 'wf' | 'wfex';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32, as ULID
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
let lastTime = -1;
let lastRandom: Uint8Array = new Uint8Array(10);

function randomTail(): Uint8Array {
  // Random bytes come from a pooled buffer: one syscall per ~400 ids instead of one per id.
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = new Uint8Array(pool.subarray(poolOffset, poolOffset + 10));
  poolOffset += 10;
  return bytes;
}

function increment(bytes: Uint8Array): Uint8Array {
  const next = new Uint8Array(bytes);
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i] !== 0xff) {
      next[i]! += 1;
      return next;
    }
    next[i] = 0;
  }
  return next;
}

function encode(time: number, random: Uint8Array): string {
  let out = '';
  for (let i = 9, t = time; i >= 0; i--, t = Math.floor(t / 32)) out = ALPHABET[t % 32]! + out;
  // 80 random bits → 16 base32 characters, 5 bits at a time.
  let bits = 0;
  let value = 0;
  for (const byte of random) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]!;
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/**
 * Prefixed ULIDs (`msg_01J…`): 48-bit millisecond time then 80 random bits. Monotonic within a process: ids minted in
 * the same (or an earlier) millisecond increment the last one, so they still sort in creation order (cursors rely on it).
 */
export function newId(prefix: IdPrefix, now = Date.now()): string {
  if (now <= lastTime) {
    lastRandom = increment(lastRandom);
  } else {
    lastTime = now;
    lastRandom = randomTail();
  }
  return `${prefix}_${encode(lastTime, lastRandom)}`;
}

export function hasPrefix(id: string, prefix: IdPrefix): boolean {
  return id.startsWith(`${prefix}_`);
}

/** The smallest id of `prefix` minted at `time`: a key bound for "created since" over an id index. */
export function idFloor(prefix: IdPrefix, time: number): string {
  return `${prefix}_${encode(time, new Uint8Array(10))}`;
}

/** The millisecond time `id` was minted at; null when it is no id of `prefix` (a client's Last-Event-ID can be anything). */
export function idTime(prefix: IdPrefix, id: string): number | null {
  if (!hasPrefix(id, prefix) || id.length < prefix.length + 11) return null;
  let time = 0;
  for (const char of id.slice(prefix.length + 1, prefix.length + 11)) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) return null;
    time = time * 32 + digit;
  }
  return time;
}
