import type { Collection, Db, Filter } from "mongodb";
import type { AuditAction, AuditEvent, AuditOutcome, Changes, TargetType } from "../../domain/audit-event.js";
import { AppError } from "../../domain/errors.js";
import type { ActorType } from "../../domain/privilege.js";
import type { AuditLog, AuditQuery } from "../../ports/audit-log.js";
import { isDuplicateKey } from "./mongo-errors.js";
import { DEFAULT_STORAGE_DEADLINE_MS, StorageDeadline } from "./deadline.js";

interface AuditDocument {
  _id: string;
  organization_id: string;
  time: Date;
  action: AuditAction;
  outcome: AuditOutcome;
  actor: { type: ActorType; id: string };
  target: { type: TargetType; id: string };
  changes: Changes;
  request_id: string;
  client_ip: string;
  reason: string;
}

/**
 * The audit trail in MongoDB (`audit_events`). Append-only: this adapter
 * only ever inserts and reads, so the service can run with a database user
 * that may do nothing else on the collection.
 */
export class MongoAuditLog implements AuditLog {
  private readonly events: Collection<AuditDocument>;

  constructor(
    db: Db,
    private readonly deadline = new StorageDeadline(DEFAULT_STORAGE_DEADLINE_MS),
  ) {
    this.events = db.collection<AuditDocument>("audit_events");
  }

  /** Newest-first pages of one organization are one index scan. Safe to call on every start. */
  async ensureIndexes(): Promise<void> {
    await this.deadline.run("create audit indexes", () =>
      this.events.createIndex({ organization_id: 1, time: -1, _id: -1 }, { name: "organization_time" }),
    );
  }

  async append(event: AuditEvent): Promise<void> {
    await this.deadline.run("append audit event", async () => {
      try {
        await this.events.insertOne(toDocument(event));
      } catch (error) {
        if (isDuplicateKey(error)) throw new AppError("failed_precondition", "duplicate audit event");
        throw error;
      }
    });
  }

  async list(query: AuditQuery): Promise<AuditEvent[]> {
    const filter: Filter<AuditDocument> = { organization_id: query.organizationId };
    if (query.action !== undefined) filter.action = query.action as AuditAction;
    if (query.actorId !== undefined) filter["actor.id"] = query.actorId;
    if (query.targetId !== undefined) filter["target.id"] = query.targetId;
    if (query.start !== undefined || query.end !== undefined) {
      filter.time = {
        ...(query.start !== undefined ? { $gte: query.start } : {}),
        ...(query.end !== undefined ? { $lt: query.end } : {}),
      };
    }
    if (query.after !== undefined) {
      const { time, id } = query.after;
      filter.$or = [{ time: { $lt: time } }, { time, _id: { $lt: id } }];
    }
    const docs = await this.deadline.run("list audit events", (signal) =>
      this.events.find(filter, { signal }).sort({ time: -1, _id: -1 }).limit(query.limit).toArray(),
    );
    return docs.map(fromDocument);
  }
}

function toDocument(event: AuditEvent): AuditDocument {
  return {
    _id: event.id,
    organization_id: event.organizationId,
    time: event.time,
    action: event.action,
    outcome: event.outcome,
    actor: { type: event.actor.type, id: event.actor.id },
    target: { type: event.target.type, id: event.target.id },
    changes: event.changes,
    request_id: event.requestId,
    client_ip: event.clientIp,
    reason: event.reason,
  };
}

function fromDocument(doc: AuditDocument): AuditEvent {
  return {
    id: doc._id,
    organizationId: doc.organization_id,
    time: doc.time,
    action: doc.action,
    outcome: doc.outcome,
    actor: { type: doc.actor.type, id: doc.actor.id },
    target: { type: doc.target.type, id: doc.target.id },
    changes: doc.changes ?? {},
    requestId: doc.request_id,
    clientIp: doc.client_ip,
    reason: doc.reason ?? "",
  };
}
