import type { CacheBus, Invalidation } from "../../ports/cache-bus.js";

/** One process, no replicas: invalidations reach this process's listeners only. */
export class MemoryCacheBus implements CacheBus {
  private readonly listeners = new Set<(invalidation: Invalidation) => void>();

  async publish(invalidation: Invalidation): Promise<void> {
    for (const listener of this.listeners) listener(structuredClone(invalidation));
  }

  async subscribe(listener: (invalidation: Invalidation) => void): Promise<void> {
    this.listeners.add(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
