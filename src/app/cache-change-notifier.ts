import type { ApiKeyRecord } from "../domain/api-key.js";
import type { CacheBus } from "../ports/cache-bus.js";
import type { ChangeNotifier } from "../ports/change-notifier.js";
import type { VerificationCache } from "./verification-cache.js";

/**
 * Turns changes into invalidations: this process's cache at once, every
 * other replica's through the bus.
 */
export class CacheChangeNotifier implements ChangeNotifier {
  constructor(
    private readonly cache: VerificationCache,
    private readonly bus: CacheBus,
  ) {}

  async keyChanged(record: ApiKeyRecord, ...staleHashes: string[]): Promise<void> {
    const hashes = [record.hash, ...(record.previous ? [record.previous.hash] : []), ...staleHashes];
    this.cache.invalidate({ type: "key", hashes });
    await this.bus.publish({ type: "key", hashes });
  }

  async organizationChanged(organizationId: string): Promise<void> {
    this.cache.invalidate({ type: "organization", id: organizationId });
    await this.bus.publish({ type: "organization", id: organizationId });
  }
}
