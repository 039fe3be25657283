/** The one translation between audit events and the REST JSON of /v1/audit-events. */
import type { AuditEvent } from "../domain/audit-event.js";

export type AuditEventJson = Omit<AuditEvent, "time"> & { time: string };

export function auditEventToJson(event: AuditEvent): AuditEventJson {
  return {
    id: event.id,
    organizationId: event.organizationId,
    time: event.time.toISOString(),
    action: event.action,
    outcome: event.outcome,
    actor: { ...event.actor },
    target: { ...event.target },
    changes: event.changes,
    requestId: event.requestId,
    clientIp: event.clientIp,
    reason: event.reason,
  };
}
