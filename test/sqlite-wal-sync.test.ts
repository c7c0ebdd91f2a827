import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteExecutor } from '../src/store/sqlite/sqlite-executor.js';
import { WalSync } from '../src/store/sqlite/wal-sync.js';

/** A sync the test releases by hand: each call waits until `release()` lets the oldest pending one through. */
class HeldSync {
  calls = 0;
  private pending: Array<{ resolve: () => void; reject: (err: Error) => void; file: FileHandle }> = [];
  readonly fn = (file: FileHandle): Promise<void> => {
    this.calls++;
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject, file }));
  };
  get waiting(): number {
    return this.pending.length;
  }
  /** Lets the oldest pending sync finish with a real fdatasync of the file it was given. */
  async release(): Promise<void> {
    await this.called();
    const next = this.pending.shift();
    if (!next) throw new Error('no sync is pending');
    await next.file.datasync();
    next.resolve();
  }
  async fail(): Promise<void> {
    await this.called();
    this.pending.shift()!.reject(new Error('EIO: i/o error, fdatasync'));
  }
  /** Waits (up to 2 s) for a sync to be pending: the WAL file is opened on the thread pool first. */
  async called(): Promise<void> {
    for (let i = 0; i < 200 && this.pending.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const settled = async (promise: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void promise.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return done;
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hookyard-walsync-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('WalSync', () => {
  it('answers a durable commit only after a sync that began after it, and shares syncs between waiting commits', async () => {
    const path = join(dir, 'x-wal');
    const exec = new SqliteExecutor({ path: join(dir, 'x') }); // creates the WAL file the sync opens
    await exec.run('CREATE TABLE t (v INTEGER)');
    const held = new HeldSync();
    const sync = new WalSync(path, held.fn);

    const first = sync.durable();
    await held.called();
    expect(held.calls).toBe(1);
    // Two commits while the first sync is in flight: it may have started before their frames, so they wait for the next.
    const second = sync.durable();
    const third = sync.durable();
    await held.release();
    expect(await settled(first)).toBe(true);
    expect(await settled(second)).toBe(false);
    expect(await settled(third)).toBe(false);
    expect(held.calls).toBe(2); // one more sync, for both of them
    await held.release();
    expect(await settled(second)).toBe(true);
    expect(await settled(third)).toBe(true);
    expect(held.calls).toBe(2);
    await sync.close();
    await exec.close();
  });

  it('rejects the commits a failed sync covered, and syncs again for the next one', async () => {
    const exec = new SqliteExecutor({ path: join(dir, 'x') });
    await exec.run('CREATE TABLE t (v INTEGER)');
    const held = new HeldSync();
    const sync = new WalSync(join(dir, 'x-wal'), held.fn);
    const failed = sync.durable();
    await settled(failed);
    await held.fail();
    await expect(failed).rejects.toThrow(/EIO/);
    const next = sync.durable();
    await held.called();
    expect(held.waiting).toBe(1);
    await held.release();
    await expect(next).resolves.toBeUndefined();
    await sync.close();
    await exec.close();
  });

  it('fails clearly when the WAL file is missing, and recovers once it exists', async () => {
    const sync = new WalSync(join(dir, 'nothing-wal'));
    await expect(sync.durable()).rejects.toThrow(/ENOENT/);
    const exec = new SqliteExecutor({ path: join(dir, 'nothing') });
    await exec.run('CREATE TABLE t (v INTEGER)');
    await expect(sync.durable()).resolves.toBeUndefined();
    await sync.close();
    await exec.close();
  });
});

describe('SqliteExecutor with WalSync (synchronous=full)', () => {
  let held: HeldSync;
  let exec: SqliteExecutor;
  beforeEach(async () => {
    held = new HeldSync();
    exec = new SqliteExecutor({ path: join(dir, 'db.sqlite') }, (walPath) => new WalSync(walPath, held.fn));
    // The schema itself is a durable write outside a transaction.
    const created = exec.run('CREATE TABLE t (v INTEGER)');
    await settled(created);
    await held.release();
    await created;
  });
  afterEach(async () => {
    while (held.waiting > 0) await held.release();
    await exec.close();
  });

  it('runs the connection with synchronous=NORMAL and a WAL file to flush', async () => {
    const rows = await exec.all<{ synchronous: number }>('PRAGMA synchronous');
    expect(rows[0]!.synchronous).toBe(1); // NORMAL: COMMIT writes, WalSync flushes
    expect(statSync(join(dir, 'db.sqlite-wal')).size).toBeGreaterThan(0);
  });

  it('resolves a durable transaction only once its WAL frames are flushed, without holding the lock meanwhile', async () => {
    const durable = exec.transaction((tx) => tx.run('INSERT INTO t (v) VALUES (1)'));
    await held.called();
    expect(await settled(durable)).toBe(false);
    expect(held.waiting).toBe(1);
    // Committed already (visible, and the lock is free): another transaction runs while the flush is pending.
    expect(await exec.transaction((tx) => tx.all<{ n: number }>('SELECT COUNT(*) AS n FROM t'), { durable: false })).toEqual([{ n: 1 }]);
    await held.release();
    await expect(durable).resolves.toBe(1);
  });

  it('does not wait for a flush for relaxed transactions or reads, and does for writes outside a transaction', async () => {
    await expect(exec.transaction((tx) => tx.run('INSERT INTO t (v) VALUES (2)'), { durable: false })).resolves.toBe(1);
    await expect(exec.all('SELECT v FROM t')).resolves.toEqual([{ v: 2 }]);
    await expect(exec.allRaw('SELECT v FROM t')).resolves.toEqual([[2]]);
    expect(held.calls).toBe(1); // the CREATE TABLE of beforeEach only

    const write = exec.run('UPDATE t SET v = 3');
    const returning = exec.all('INSERT INTO t (v) VALUES (4) RETURNING v');
    expect(await settled(write)).toBe(false);
    expect(await settled(returning)).toBe(false);
    await held.release();
    await expect(write).resolves.toBe(1);
    // The INSERT committed after the UPDATE's flush had begun: it needs one of its own.
    expect(await settled(returning)).toBe(false);
    await held.release();
    await expect(returning).resolves.toEqual([{ v: 4 }]);
  });

  it('rejects a durable transaction whose flush failed, though its rows are committed', async () => {
    const durable = exec.transaction((tx) => tx.run('INSERT INTO t (v) VALUES (5)'));
    await settled(durable);
    await held.fail();
    await expect(durable).rejects.toThrow(/EIO/);
    await expect(exec.all('SELECT v FROM t')).resolves.toEqual([{ v: 5 }]);
  });

  it('still rejects bad SQL as the statement error', async () => {
    await expect(exec.run('INSERT INTO nope (v) VALUES (1)')).rejects.toThrow(/no such table/);
  });
});

describe('SqliteExecutor without WalSync', () => {
  it('keeps synchronous=FULL in memory and NORMAL when configured so', async () => {
    const memory = new SqliteExecutor({ path: ':memory:' });
    expect((await memory.all<{ synchronous: number }>('PRAGMA synchronous'))[0]!.synchronous).toBe(2);
    await memory.close();
    const normal = new SqliteExecutor({ path: join(dir, 'n.sqlite'), synchronous: 'normal' });
    expect((await normal.all<{ synchronous: number }>('PRAGMA synchronous'))[0]!.synchronous).toBe(1);
    await normal.close();
  });
});
