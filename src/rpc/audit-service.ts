import type { ServiceImpl } from "@connectrpc/connect";
import { AuditService } from "../../gen/authn/v1/audit_pb.js";
import type { AuditTrail } from "../app/audit-trail.js";
import { auditEventToProto, dateFromProto } from "./proto-mapping.js";

/** authn.v1.AuditService: an organization's audit trail, newest first. */
export function auditService(audit: AuditTrail): ServiceImpl<typeof AuditService> {
  return {
    async listAuditEvents(req) {
      const page = await audit.list(req.organizationId, {
        action: req.action || undefined,
        actorId: req.actorId || undefined,
        targetId: req.targetId || undefined,
        start: dateFromProto(req.startTime, "start_time") ?? undefined,
        end: dateFromProto(req.endTime, "end_time") ?? undefined,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
      return { events: page.events.map(auditEventToProto), nextPageToken: page.nextPageToken };
    },
  };
}
