/**
 * A minimal Redis client (RESP2 over one TCP connection, commands pipelined, replies matched in order) shaped like
 * Bun's `RedisClient` (`send`, `connected`, `connect`, `close`, `duplicate`, `onconnect`/`onclose`/`onerror`), so that
 * BullMQ's own Bun adapter can drive it. It exists only because BullMQ 6 no longer brings ioredis along and the project
 * does not depend on it: `bench/lib/bullmq-sender.ts` uses ioredis, as a typical application would, whenever it can
 * be loaded, and this client otherwise. Like ioredis (without auto-pipelining) it writes each command as soon as it is
 * issued and does no batching of its own.
 */
import { connect as netConnect, type Socket } from 'node:net';

type Reply = string | number | null | Error | Reply[];

interface Pending {
  resolve(value: Reply): void;
  reject(error: Error): void;
}

const CRLF = 0x0d;

class Incomplete extends Error {}
const INCOMPLETE = new Incomplete();

export class RespClient {
  connected = false;
  onconnect?: () => void;
  onclose?: (error?: Error) => void;
  onerror?: (error: Error) => void;
  readonly url: string;
  private socket: Socket | undefined;
  private connecting: Promise<void> | undefined;
  private readonly pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private offset = 0;

  constructor(readonly host = '127.0.0.1', readonly port = 6379) {
    this.url = `redis://${host}:${port}`;
  }

  connect(): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.connecting) return this.connecting;
    const socket = netConnect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    this.connecting = new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        this.connected = true;
        this.connecting = undefined;
        resolve();
        this.onconnect?.();
      });
      socket.once('error', reject);
    });
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.onerror?.(error));
    socket.on('close', () => {
      const wasConnected = this.connected;
      this.connected = false;
      this.connecting = undefined;
      this.socket = undefined;
      const error = new Error('Connection closed');
      for (const waiter of this.pending.splice(0)) waiter.reject(error);
      if (wasConnected) this.onclose?.();
    });
    return this.connecting;
  }

  /** Resolves with the reply (bulk strings decoded as UTF-8), rejects with a Redis error reply. */
  send<T = Reply>(command: string, args: Array<string | Buffer | number>): Promise<T> {
    if (!this.socket) void this.connect().catch(() => undefined);
    const socket = this.socket!;
    if (socket.destroyed) return Promise.reject(new Error('Connection closed'));
    let text = `*${args.length + 1}\r\n$${Buffer.byteLength(command)}\r\n${command}\r\n`;
    const parts: Buffer[] = [];
    for (const arg of args) {
      if (Buffer.isBuffer(arg)) {
        parts.push(Buffer.from(`${text}$${arg.length}\r\n`), arg);
        text = '\r\n';
      } else {
        const value = String(arg);
        text += `$${Buffer.byteLength(value)}\r\n${value}\r\n`;
      }
    }
    socket.write(parts.length === 0 ? text : Buffer.concat([...parts, Buffer.from(text)]));
    return new Promise<T>((resolve, reject) => this.pending.push({ resolve: resolve as (value: Reply) => void, reject }));
  }

  close(): void {
    this.socket?.destroy();
  }

  // The three commands that BullMQ's Bun adapter expects as methods.
  get(key: string): Promise<string | null> {
    return this.send('GET', [key]);
  }

  smembers(key: string): Promise<unknown[]> {
    return this.send('SMEMBERS', [key]);
  }

  incr(key: string): Promise<number> {
    return this.send('INCR', [key]);
  }

  async duplicate(): Promise<RespClient> {
    return new RespClient(this.host, this.port);
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.offset < this.buffer.length ? Buffer.concat([this.buffer.subarray(this.offset), chunk]) : chunk;
    this.offset = 0;
    while (this.offset < this.buffer.length) {
      const start = this.offset;
      let reply: Reply;
      try {
        reply = this.parse();
      } catch (error) {
        if (error !== INCOMPLETE) throw error;
        this.offset = start;
        return;
      }
      const waiter = this.pending.shift();
      if (!waiter) continue;
      if (reply instanceof Error) waiter.reject(reply);
      else waiter.resolve(reply);
    }
  }

  private line(): string {
    const end = this.buffer.indexOf(CRLF, this.offset);
    if (end === -1 || end + 1 >= this.buffer.length) throw INCOMPLETE;
    const text = this.buffer.toString('utf8', this.offset, end);
    this.offset = end + 2;
    return text;
  }

  private parse(): Reply {
    if (this.offset >= this.buffer.length) throw INCOMPLETE;
    const type = this.buffer[this.offset++]!;
    const text = this.line();
    switch (type) {
      case 0x2b: // + simple string
        return text;
      case 0x2d: // - error
        return new Error(text);
      case 0x3a: // : integer
        return Number(text);
      case 0x24: { // $ bulk string
        const length = Number(text);
        if (length < 0) return null;
        if (this.offset + length + 2 > this.buffer.length) throw INCOMPLETE;
        const value = this.buffer.toString('utf8', this.offset, this.offset + length);
        this.offset += length + 2;
        return value;
      }
      case 0x2a: { // * array
        const length = Number(text);
        if (length < 0) return null;
        const items: Reply[] = [];
        for (let i = 0; i < length; i++) items.push(this.parse());
        return items;
      }
      default:
        throw new Error(`unexpected RESP type ${String.fromCharCode(type)}`);
    }
  }
}
