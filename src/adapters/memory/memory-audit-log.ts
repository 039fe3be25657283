import type { AuditEvent } from "../../domain/audit-event.js";
import { AppError } from "../../domain/errors.js";
import type { AuditLog, AuditQuery } from "../../ports/audit-log.js";

/** The embedded, non-durable audit trail: events live in this process only. */
export class MemoryAuditLog implements AuditLog {
  private readonly events: AuditEvent[] = [];
  private readonly ids = new Set<string>();

  async append(event: AuditEvent): Promise<void> {
    if (this.ids.has(event.id)) throw new AppError("failed_precondition", "duplicate audit event");
    this.ids.add(event.id);
    this.events.push(structuredClone(event));
  }

  async list(query: AuditQuery): Promise<AuditEvent[]> {
    return this.events
      .filter((e) => e.organizationId === query.organizationId && matches(e, query))
      .sort(newestFirst)
      .slice(0, query.limit)
      .map((e) => structuredClone(e));
  }
}

function matches(event: AuditEvent, query: AuditQuery): boolean {
  const time = event.time.getTime();
  const after = query.after;
  return (
    (query.action === undefined || event.action === query.action) &&
    (query.actorId === undefined || event.actor.id === query.actorId) &&
    (query.targetId === undefined || event.target.id === query.targetId) &&
    (query.start === undefined || time >= query.start.getTime()) &&
    (query.end === undefined || time < query.end.getTime()) &&
    (after === undefined || newestFirst(event, after) > 0)
  );
}

/** Sort order: later time first, then the larger id. */
function newestFirst(a: Pick<AuditEvent, "time" | "id">, b: Pick<AuditEvent, "time" | "id">): number {
  const byTime = b.time.getTime() - a.time.getTime();
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
