/**
 * Tells the workers in this process that new work was committed, so that an idle worker starts at once instead of
 * waiting for its next poll. (A multi-node backend bridges its own notifications into the same signal.)
 */
export class WorkSignal {
  private readonly listeners = new Set<() => void>();
  private relay: (() => void) | undefined;

  /** Work committed in this process: wakes local workers and, when bridged, the other nodes'. */
  notify(): void {
    this.relay?.();
    this.wake();
  }

  /** Work committed elsewhere (a notification from another node): wakes local workers only. */
  wake(): void {
    for (const listener of this.listeners) listener();
  }

  /** Sends every local notify() on to other nodes as well. */
  bridge(relay: () => void): void {
    this.relay = relay;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
