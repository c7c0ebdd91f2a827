import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/store/group-commit.js';

/** A flush that records its batches and how many ran at once, and finishes when told to. */
function recordingFlush(options: { failOn?: number } = {}) {
  const batches: number[][] = [];
  const waiting: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const flush = async (items: number[]): Promise<string[]> => {
    batches.push(items);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise<void>((resolve) => waiting.push(resolve));
    inFlight--;
    if (options.failOn !== undefined && items.includes(options.failOn)) throw new Error(`batch with ${options.failOn} failed`);
    return items.map((item) => `done ${item}`);
  };
  const releaseAll = async () => {
    // Let every started flush finish, including the ones started by those finishing, until none is left.
    for (let rounds = 0; rounds < 50; rounds++) {
      await new Promise((resolve) => setImmediate(resolve));
      for (const resolve of waiting.splice(0)) resolve();
    }
  };
  return { flush, batches, releaseAll, maxInFlight: () => maxInFlight };
}

describe('GroupCommit', () => {
  it('runs one batch at a time by default, gathering what arrives meanwhile into the next', async () => {
    const probe = recordingFlush();
    const commit = new GroupCommit(probe.flush, 100);
    const first = [1, 2, 3].map((n) => commit.submit(n));
    await new Promise((resolve) => setImmediate(resolve));
    const second = [4, 5].map((n) => commit.submit(n));
    await new Promise((resolve) => setImmediate(resolve));
    const third = [6].map((n) => commit.submit(n));
    await probe.releaseAll();
    expect(await Promise.all([...first, ...second, ...third])).toEqual([1, 2, 3, 4, 5, 6].map((n) => `done ${n}`));
    expect(probe.batches).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(probe.maxInFlight()).toBe(1);
  });

  it('keeps up to `concurrency` batches in flight and no more', async () => {
    const probe = recordingFlush();
    const commit = new GroupCommit(probe.flush, 2, 0, 3);
    const results = Array.from({ length: 11 }, (_, n) => commit.submit(n));
    await probe.releaseAll();
    expect(await Promise.all(results)).toEqual(Array.from({ length: 11 }, (_, n) => `done ${n}`));
    expect(probe.maxInFlight()).toBe(3);
    expect(probe.batches.every((batch) => batch.length <= 2)).toBe(true);
    expect(probe.batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 11 }, (_, n) => n));
  });

  it('fails only the items of the batch that failed', async () => {
    const probe = recordingFlush({ failOn: 2 });
    const commit = new GroupCommit(probe.flush, 2, 0, 2);
    const results = [0, 1, 2, 3, 4].map((n) => commit.submit(n).then((value) => value, (err: Error) => err.message));
    await probe.releaseAll();
    expect(await Promise.all(results)).toEqual(['done 0', 'done 1', 'batch with 2 failed', 'batch with 2 failed', 'done 4']);
  });

  it('drains: resolves only once every submitted item is flushed', async () => {
    const probe = recordingFlush();
    const commit = new GroupCommit(probe.flush, 1, 0, 2);
    const results = [0, 1, 2, 3].map((n) => commit.submit(n));
    let drained = false;
    const drain = commit.drain().then(() => (drained = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    await probe.releaseAll();
    await drain;
    expect(drained).toBe(true);
    expect(await Promise.all(results)).toHaveLength(4);
    expect(probe.batches).toEqual([[0], [1], [2], [3]]);
  });
});
