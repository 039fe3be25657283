/** The use cases over given stores, called as an internal service calls them: for tests below the transports. */
import { MemoryAuditLog } from "../../src/adapters/memory/memory-audit-log.js";
import { MemoryUsageCounter } from "../../src/adapters/memory/memory-usage-counter.js";
import { ApiKeys } from "../../src/app/api-keys.js";
import { AuditTrail } from "../../src/app/audit-trail.js";
import type { RequestContext } from "../../src/domain/request-context.js";
import type { AuditLog } from "../../src/ports/audit-log.js";
import { NO_CHANGE_NOTIFIER } from "../../src/ports/change-notifier.js";
import type { ChangeNotifier } from "../../src/ports/change-notifier.js";
import type { CreditStore } from "../../src/ports/credit-store.js";
import type { KeyStore } from "../../src/ports/key-store.js";
import type { UsageCounter } from "../../src/ports/usage-counter.js";

/** An internal service's call (service tokens act for any organization). */
export const SERVICE_CONTEXT: RequestContext = {
  actor: { type: "service", id: "token-1" },
  requestId: "test-request",
  clientIp: "127.0.0.1",
};

export function keyLifecycle(
  keys: KeyStore & Partial<CreditStore>,
  options: { audit?: AuditLog; changes?: ChangeNotifier; credits?: CreditStore; usage?: UsageCounter; now?: () => Date } = {},
): ApiKeys {
  const now = options.now ?? (() => new Date());
  return new ApiKeys({
    keys,
    changes: options.changes ?? NO_CHANGE_NOTIFIER,
    audit: new AuditTrail({ log: options.audit ?? new MemoryAuditLog(), now }),
    credits: options.credits ?? creditStoreOf(keys),
    usage: options.usage ?? new MemoryUsageCounter(),
    now,
  });
}

/** The store's own credits when it keeps them (the embedded store); else a test with credits must pass a credit store. */
function creditStoreOf(keys: KeyStore & Partial<CreditStore>): CreditStore {
  if (keys.current && keys.commit) return keys as CreditStore;
  const missing = async (): Promise<never> => {
    throw new Error("keyLifecycle: this key store keeps no credits; pass options.credits");
  };
  return { current: missing, commit: missing };
}
