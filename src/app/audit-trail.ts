/**
 * The audit trail: every management action is decided, recorded, then
 * carried out — in that order. The event is written before the change, so
 * no change happens without its event: when the event cannot be written,
 * the action fails UNAVAILABLE and nothing has changed. Reading the trail
 * pages an organization's events newest first.
 */
import { v7 as uuidv7 } from "uuid";
import type { AuditAction, AuditEvent, Changes, TargetType } from "../domain/audit-event.js";
import { isAuditAction } from "../domain/audit-event.js";
import { insufficientPrivilege, invalidArgument, unavailable } from "../domain/errors.js";
import type { Decision } from "../domain/privilege.js";
import type { RequestContext } from "../domain/request-context.js";
import { checkId, UUID_PATTERN } from "../domain/validation.js";
import type { AuditLog } from "../ports/audit-log.js";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./paging.js";

export interface AuditTrailDeps {
  log: AuditLog;
  now: () => Date;
}

/** One management action about to happen (or refused). */
export interface Attempt {
  organizationId: string;
  action: AuditAction;
  target: { type: TargetType; id: string };
  changes: Changes;
  decision: Decision;
}

export interface AuditFilters {
  action?: string;
  actorId?: string;
  targetId?: string;
  start?: Date;
  end?: Date;
  pageSize?: number;
  pageToken?: string;
}

export interface AuditPage {
  events: AuditEvent[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/** Actor and target ids in filters: user ids are free strings, so only bounded. */
const MAX_FILTER_ID_LENGTH = 256;

export class AuditTrail {
  constructor(private readonly deps: AuditTrailDeps) {}

  /**
   * Records the attempt, then lets it proceed only when allowed. Throws
   * `unavailable` when the event cannot be written (the caller has changed
   * nothing yet), `insufficient_privilege` when the decision was a refusal.
   */
  async authorize(context: RequestContext, attempt: Attempt): Promise<void> {
    const { decision } = attempt;
    const event: AuditEvent = {
      id: uuidv7(),
      organizationId: attempt.organizationId,
      time: this.deps.now(),
      action: attempt.action,
      outcome: decision.allowed ? "allowed" : "denied",
      actor: { type: context.actor.type, id: context.actor.id },
      target: attempt.target,
      changes: attempt.changes,
      requestId: context.requestId,
      clientIp: context.clientIp,
      reason: decision.allowed ? "" : decision.reason,
    };
    try {
      await this.deps.log.append(event);
    } catch (error) {
      throw unavailable("the audit trail is unavailable; nothing was changed", error);
    }
    if (!decision.allowed) throw insufficientPrivilege(decision.reason);
  }

  /** One page of the organization's events, newest first. */
  async list(organizationId: string, filters: AuditFilters = {}): Promise<AuditPage> {
    const pageSize = Math.min(filters.pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    if (filters.action !== undefined && !isAuditAction(filters.action)) {
      throw invalidArgument("action", "is not an audit action (api_key.create, api_key.update, ...)");
    }
    if (filters.start && filters.end && filters.start >= filters.end) {
      throw invalidArgument("start_time", "must be before end_time");
    }
    // One extra event tells whether another page follows.
    const events = await this.deps.log.list({
      organizationId: checkId("organization_id", organizationId),
      action: filters.action,
      actorId: filterId("actor_id", filters.actorId),
      targetId: filterId("target_id", filters.targetId),
      start: filters.start,
      end: filters.end,
      after: filters.pageToken ? decodePageToken(filters.pageToken) : undefined,
      limit: pageSize + 1,
    });
    const page = events.slice(0, pageSize);
    const last = page.at(-1);
    return { events: page, nextPageToken: events.length > pageSize && last ? encodePageToken(last) : "" };
  }
}

function filterId(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length === 0 || value.length > MAX_FILTER_ID_LENGTH) {
    throw invalidArgument(field, `must be 1-${MAX_FILTER_ID_LENGTH} characters`);
  }
  return value;
}

function encodePageToken(last: Pick<AuditEvent, "time" | "id">): string {
  return Buffer.from(`${last.time.getTime()}/${last.id}`, "utf8").toString("base64url");
}

function decodePageToken(token: string): { time: Date; id: string } {
  const [time = "", id = ""] = (token.length <= 96 ? Buffer.from(token, "base64url").toString("utf8") : "").split("/");
  if (!/^\d{1,15}$/.test(time) || !UUID_PATTERN.test(id)) {
    throw invalidArgument("page_token", "is not a token this service issued");
  }
  return { time: new Date(Number(time)), id };
}
