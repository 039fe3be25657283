/** What a cache must drop: a key's secrets, or an organization. */
export type Invalidation =
  | { type: "key"; hashes: string[] }
  | { type: "organization"; id: string };

/**
 * Carries invalidations to every replica's cache (including the sender's).
 * Delivery is best effort: cache TTLs are the safety net.
 */
export interface CacheBus {
  publish(invalidation: Invalidation): Promise<void>;
  /** `onReconnect`: messages may have been missed; the listener should drop everything. */
  subscribe(listener: (invalidation: Invalidation) => void, onReconnect: () => void): Promise<void>;
  close(): Promise<void>;
}
