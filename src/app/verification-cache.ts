/**
 * The verification cache: key lookups by hash and organization lookups by id,
 * in process, in front of storage. Bounded in size; an entry is fresh for its
 * TTL; past it, a lookup refreshes it from storage, waiting at most a short
 * moment before answering from the old entry, which is dropped for good once
 * older than the maximum staleness. Concurrent misses for one key
 * share one storage lookup. With storage down, cached entries keep answering
 * up to the maximum staleness; a miss is UNAVAILABLE, never a guess.
 */
import { LRUCache } from "lru-cache";
import type { ApiKeyRecord, SecretMatch } from "../domain/api-key.js";
import { AppError } from "../domain/errors.js";
import type { OrganizationRecord } from "../domain/organization.js";
import type { Invalidation } from "../ports/cache-bus.js";
import type { KeyStore } from "../ports/key-store.js";
import type { OrganizationStore } from "../ports/organization-store.js";

export interface VerificationCacheOptions {
  /** Most entries of each kind (keys, organizations). */
  maxEntries: number;
  /** How long a found entry is fresh. */
  ttlMs: number;
  /** How long a "not found" is fresh. */
  negativeTtlMs: number;
  /** Oldest an entry may be and still answer while storage is unreachable. */
  maxStaleMs: number;
  /** How long a lookup of an entry past its TTL waits for the refresh before using the entry. */
  refreshWaitMs?: number;
  now?: () => number;
  /** Counts answers served from an entry past its TTL because storage failed. */
  onStaleServed?: () => void;
  /** Told of every lookup: a fresh entry (hit), one past its TTL (stale), or none (miss). */
  onLookup?: (cache: CacheName, result: "hit" | "stale" | "miss") => void;
}

export type CacheName = "key" | "organization";

interface Entry<T> {
  value: T;
  freshUntil: number;
}

type KeyMatch = { record: ApiKeyRecord; matched: SecretMatch } | null;

/**
 * A store's lookup method `M` as a cache answers it: the value itself when
 * it is at hand, else a promise. A store itself (always a promise) fits too.
 */
export type Lookup<S, M extends keyof S> = {
  [K in M]: S[K] extends (arg: infer A) => Promise<infer R> ? (arg: A) => R | Promise<R> : never;
};

/** One cache of lookups by string, with the rules above. */
class LookupCache<T> {
  private readonly entries: LRUCache<string, Entry<T>>;
  private readonly pending = new Map<string, Promise<T>>();

  constructor(
    private readonly name: CacheName,
    private readonly load: (id: string) => Promise<T>,
    private readonly options: VerificationCacheOptions,
    private readonly isNegative: (value: T) => boolean,
  ) {
    this.entries = new LRUCache({
      max: options.maxEntries,
      // The hard bound: past it an entry is gone, whatever storage says.
      ttl: options.maxStaleMs,
      ...(options.now ? { perf: { now: options.now } } : {}),
    });
  }

  /** A fresh entry's value at once (no promise: the hot path); else the lookup's promise. */
  get(id: string): T | Promise<T> {
    const entry = this.entries.get(id);
    if (entry) {
      const fresh = entry.freshUntil > this.now();
      this.options.onLookup?.(this.name, fresh ? "hit" : "stale");
      return fresh ? entry.value : this.refresh(id, entry.value);
    }
    this.options.onLookup?.(this.name, "miss");
    return this.fetch(id).catch((error: unknown) => {
      if (error instanceof AppError) throw error;
      throw new AppError("unavailable", "storage is unreachable and the answer is not cached");
    });
  }

  /**
   * Past its TTL: the refreshed answer when storage gives it promptly, else
   * the old one (storage slow or down), so the hot path never waits long.
   */
  private refresh(id: string, old: T): Promise<T> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.options.onStaleServed?.();
        resolve(old);
      }, this.options.refreshWaitMs ?? 50);
      timer.unref();
      this.fetch(id).then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        () => {
          clearTimeout(timer);
          this.options.onStaleServed?.();
          resolve(old);
        },
      );
    });
  }

  delete(id: string): void {
    this.entries.delete(id);
    this.pending.delete(id);
  }

  clear(): void {
    this.entries.clear();
    this.pending.clear();
  }

  private fetch(id: string): Promise<T> {
    let pending = this.pending.get(id);
    if (!pending) {
      pending = this.load(id).then(
        (value) => {
          // An invalidation while loading made this answer suspect: don't keep it.
          if (this.pending.get(id) === pending) {
            const ttl = this.isNegative(value) ? this.options.negativeTtlMs : this.options.ttlMs;
            this.entries.set(id, { value, freshUntil: this.now() + ttl });
            this.pending.delete(id);
          }
          return value;
        },
        (error: unknown) => {
          if (this.pending.get(id) === pending) this.pending.delete(id);
          throw error;
        },
      );
      this.pending.set(id, pending);
    }
    return pending;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

export class VerificationCache {
  private readonly keys: LookupCache<KeyMatch>;
  private readonly organizations: LookupCache<OrganizationRecord | null>;

  constructor(
    stores: { keys: Pick<KeyStore, "findByHash">; organizations: Pick<OrganizationStore, "get"> },
    options: VerificationCacheOptions,
  ) {
    this.keys = new LookupCache("key", (hash) => stores.keys.findByHash(hash), options, (v) => v === null);
    this.organizations = new LookupCache("organization", (id) => stores.organizations.get(id), options, (v) => v === null);
  }

  /** The KeyStore lookup Verify uses, cached: a fresh entry is answered without a promise. */
  readonly keyStore: Lookup<KeyStore, "findByHash"> = { findByHash: (hash) => this.keys.get(hash) };
  /** The OrganizationStore lookup Verify uses, cached, likewise. */
  readonly organizationStore: Lookup<OrganizationStore, "get"> = { get: (id) => this.organizations.get(id) };

  invalidate(invalidation: Invalidation): void {
    if (invalidation.type === "key") for (const hash of invalidation.hashes) this.keys.delete(hash);
    else this.organizations.delete(invalidation.id);
  }

  clear(): void {
    this.keys.clear();
    this.organizations.clear();
  }
}
