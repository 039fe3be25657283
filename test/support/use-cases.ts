/** The use cases over given stores, called as an internal service calls them: for tests below the transports. */
import { MemoryAuditLog } from "../../src/adapters/memory/memory-audit-log.js";
import { ApiKeys } from "../../src/app/api-keys.js";
import { AuditTrail } from "../../src/app/audit-trail.js";
import type { RequestContext } from "../../src/domain/request-context.js";
import type { AuditLog } from "../../src/ports/audit-log.js";
import { NO_CHANGE_NOTIFIER } from "../../src/ports/change-notifier.js";
import type { ChangeNotifier } from "../../src/ports/change-notifier.js";
import type { KeyStore } from "../../src/ports/key-store.js";

/** An internal service's call (service tokens act for any organization). */
export const SERVICE_CONTEXT: RequestContext = {
  actor: { type: "service", id: "token-1" },
  requestId: "test-request",
  clientIp: "127.0.0.1",
};

export function keyLifecycle(
  keys: KeyStore,
  options: { audit?: AuditLog; changes?: ChangeNotifier; now?: () => Date } = {},
): ApiKeys {
  const now = options.now ?? (() => new Date());
  return new ApiKeys({
    keys,
    changes: options.changes ?? NO_CHANGE_NOTIFIER,
    audit: new AuditTrail({ log: options.audit ?? new MemoryAuditLog(), now }),
    now,
  });
}
