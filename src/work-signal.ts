/**
 * Tells the workers in this process that new work was committed, so that an idle worker starts at once instead of
 * waiting for its next poll. (A multi-node backend bridges its own notifications into the same signal.)
 */
export class WorkSignal {
  private readonly listeners = new Set<() => void>();

  notify(): void {
    for (const listener of this.listeners) listener();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
