/** The benchmark side of bench/lib/receiver.mjs: starts it, resets it and reads its counts and latencies. */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, startProcess } from './util.js';

const PAYLOAD_FILL = 'x'.repeat(600); // ~1 KB bodies, a typical event

/** The JSON payload of outbound message `i`: `t0` (now) is what the receiver measures its latency from. */
export function benchPayload(i: number): { i: number; t0: number; fill: string } {
  return { i, t0: Date.now(), fill: PAYLOAD_FILL };
}

export interface ReceiverStats {
  count: number;
  firstAt: number;
  lastAt: number;
  /** now − t0 of each received body, ms. */
  latencies: number[];
}

export interface Receiver {
  url: string;
  child: ChildProcess;
}

export async function startReceiver(): Promise<Receiver> {
  const { child, match } = await startProcess(process.execPath, [join(ROOT, 'bench/lib/receiver.mjs')], { PATH: process.env.PATH }, /listening (\d+)/);
  return { url: `http://127.0.0.1:${match[1]}`, child };
}

export async function resetReceiver(url: string): Promise<void> {
  await (await fetch(`${url}/reset`, { method: 'POST' })).arrayBuffer();
}

export async function receiverStats(url: string): Promise<ReceiverStats> {
  return (await (await fetch(`${url}/stats`)).json()) as ReceiverStats;
}

/** Polls the receiver until it has seen `count` requests since its last reset. */
export async function waitForCount(url: string, count: number, timeoutMs: number, pollMs = 50): Promise<{ count: number; lastAt: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = (await (await fetch(`${url}/count`)).json()) as { count: number; lastAt: number };
    if (stats.count >= count) return stats;
    if (Date.now() > deadline) throw new Error(`receiver saw ${stats.count} of ${count} in time`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
