/** In-process notice of newly stored requests per source, so that live streams wake at once instead of polling. */
export class InboundFeed {
  private readonly listeners = new Map<string, Set<() => void>>();

  subscribe(sourceId: string, listener: () => void): () => void {
    let set = this.listeners.get(sourceId);
    if (!set) this.listeners.set(sourceId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(sourceId);
    };
  }

  publish(sourceId: string): void {
    for (const listener of this.listeners.get(sourceId) ?? []) listener();
  }
}
