import type { AuditEvent } from "../domain/audit-event.js";

export interface AuditQuery {
  organizationId: string;
  /** Only events of this action. */
  action?: string;
  /** Only events by this actor id. */
  actorId?: string;
  /** Only events about this target id. */
  targetId?: string;
  /** Only events at or after this time. */
  start?: Date;
  /** Only events before this time. */
  end?: Date;
  /** Only events after this one in newest-first order (paging). */
  after?: { time: Date; id: string };
  /** Maximum number of events answered. */
  limit: number;
}

/**
 * The append-only audit trail. There is no way to change or delete an event:
 * adapters only insert and read.
 */
export interface AuditLog {
  /** Stores a new event. An id already stored fails: events are never replaced. */
  append(event: AuditEvent): Promise<void>;
  /** The organization's events, newest first (by time, then id). */
  list(query: AuditQuery): Promise<AuditEvent[]>;
}
