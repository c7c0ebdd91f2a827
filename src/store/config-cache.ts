/**
 * How the cache learns that configuration changed elsewhere:
 * - `poll` (SQLite): it reads the change counter once per turn of the event loop; other processes on the same file
 *   move it too, and reading one row of an open file costs microseconds.
 * - `notified` (PostgreSQL): the caller forwards LISTEN notifications (`flush`); the counter is read once after each.
 * - `off`: no caching (PostgreSQL while nothing delivers notifications, e.g. its connection is down).
 */
export type ConfigWatch = 'poll' | 'notified' | 'off';

/** Entries per cache; past it the cache starts again empty (a scan of many apps must not hold memory forever). */
const MAX_ENTRIES = 10_000;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * Reads the API repeats on every message (token → key, app, event type, an app's fan-out), kept between requests and
 * dropped whenever the configuration counter (migration 0006, moved by triggers in the changing transaction) moves.
 * Entries stand for the counter value read before them, so a change that lands between the two only makes them look
 * older than they are: the message insert, which compares that value with the counter inside its transaction, then
 * refuses them and the sender reads again. Cached values are frozen: callers share them.
 */
export class ConfigCache {
  private readonly entries = new Map<string, unknown>();
  /** Moves whenever entries are dropped, so that a read begun before does not store what it read. */
  private generation = 0;
  /** The counter value the entries stand for (null: none read since the last flush). */
  private known: number | null = null;
  /** The counter being read: once per turn of the event loop when polling, once per flush when notified. */
  private reading: Promise<number> | null = null;

  constructor(
    private readonly readVersion: () => Promise<number>,
    private watch: ConfigWatch,
  ) {}

  /** The counter the entries stand for, after making sure they are current; null when nothing is cached. */
  async current(): Promise<number | null> {
    if (this.watch === 'off') return null;
    if (this.reading === null) {
      const reading = this.readVersion();
      this.reading = reading;
      const forget = () => {
        if (this.reading === reading) this.reading = null;
      };
      if (this.watch === 'poll') setImmediate(forget);
      reading.catch(forget);
    }
    const version = await this.reading;
    // A different value: something changed since the entries were read (polled: another process did).
    if (version !== this.known) {
      this.drop();
      this.known = version;
    }
    return version;
  }

  /** `load` through the cache, under the current counter; `keep` says which results to cache. */
  async get<T>(key: string, load: () => Promise<T>, keep: (value: T) => boolean = () => true): Promise<T> {
    if ((await this.current()) === null) return load();
    if (this.entries.has(key)) return this.entries.get(key) as T;
    const generation = this.generation;
    const value = await load();
    if (generation === this.generation && keep(value)) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      this.entries.set(key, deepFreeze(value));
    }
    return value;
  }

  /** Configuration changed: this process wrote it, another node said so, or an insert found the counter moved. */
  flush(): void {
    this.drop();
    this.known = null;
    this.reading = null;
  }

  /** PostgreSQL: whether notifications are being received (the LISTEN connection is up), and so whether to cache. */
  setWatch(watch: ConfigWatch): void {
    this.watch = watch;
    this.flush();
  }

  private drop(): void {
    this.generation++;
    this.entries.clear();
  }
}
