import { open, type FileHandle } from 'node:fs/promises';

/**
 * Makes committed WAL frames durable off the event loop (group commit for SQLite).
 *
 * With `synchronous=FULL` every durable COMMIT fsyncs the WAL inside better-sqlite3's synchronous call, so the event
 * loop stood still for the whole flush (17% of the API process's samples end to end). Instead the connection runs
 * with `synchronous=NORMAL`, where a COMMIT only write()s its frames to the WAL, and a durable transaction then waits
 * here for an `fdatasync` of the WAL file on libuv's thread pool before it resolves. The guarantee is FULL's: the WAL
 * is appended in order and fsync covers the whole file (on Linux, every write to its inode, from any descriptor), so
 * once the sync that began after a commit's frames were written completes, that commit survives a power cut.
 * Commits that arrive while a sync is in flight share the next one. Checkpoints are unchanged (in NORMAL mode SQLite
 * still syncs the WAL before and the database file after each).
 *
 * One thing differs from FULL: the rows are visible to readers (this worker's claims among them) between the write and
 * the sync. A power cut in that window can lose a message that was already delivered but whose 2xx never went out;
 * its producer, not having that 2xx, sends it again: at-least-once, as a retry after a timeout would be anyway.
 */
export class WalSync {
  /** Durable commits so far; `synced` is how many of them a completed sync covers. */
  private written = 0;
  private synced = 0;
  private inFlight: Promise<void> | null = null;
  private file: Promise<FileHandle> | undefined;

  /** `sync` flushes the WAL (tests replace it to see when the executor waits for it). */
  constructor(
    private readonly walPath: string,
    private readonly sync: (file: FileHandle) => Promise<void> = (file) => file.datasync(),
  ) {}

  /** Resolves once every frame written before this call is on stable storage; rejects if that flush failed. */
  async durable(): Promise<void> {
    const ticket = ++this.written;
    while (this.synced < ticket) {
      // A sync already in flight may have begun before this commit's frames were written: wait for it, then start
      // (or join) the next one.
      this.inFlight ??= this.flush();
      await this.inFlight;
    }
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await this.inFlight?.catch(() => undefined);
    await (await file?.catch(() => undefined))?.close();
  }

  private async flush(): Promise<void> {
    const covers = this.written;
    try {
      // Opened on first use: SQLite creates the WAL on the first write, and keeps the same file (truncated, never
      // replaced) while this connection has the database open.
      let file: FileHandle;
      try {
        file = await (this.file ??= open(this.walPath, 'r+'));
      } catch (err) {
        this.file = undefined; // try to open it again next time
        throw err;
      }
      await this.sync(file);
      this.synced = covers;
    } finally {
      this.inFlight = null;
    }
  }
}
