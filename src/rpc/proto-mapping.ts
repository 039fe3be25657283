/** The one translation between domain records and the authn.v1 messages. */
import { create } from "@bufbuild/protobuf";
import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";
import { durationFromMs, durationMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ApiKeySchema,
  CreditsSchema,
  RefillInterval as ProtoRefillInterval,
  UsageBucketSchema,
  UsageGranularity as ProtoUsageGranularity,
} from "../../gen/authn/v1/api_key_pb.js";
import type { Credits as ProtoCredits, UsageBucket as ProtoUsageBucket } from "../../gen/authn/v1/api_key_pb.js";
import {
  ActorType as ProtoActorType,
  AuditEventSchema,
  AuditOutcome as ProtoAuditOutcome,
  TargetType as ProtoTargetType,
} from "../../gen/authn/v1/audit_pb.js";
import type { AuditEvent as ProtoAuditEvent } from "../../gen/authn/v1/audit_pb.js";
import type { ApiKey } from "../../gen/authn/v1/api_key_pb.js";
import { KeyKind as ProtoKeyKind, Mode as ProtoMode } from "../../gen/authn/v1/common_pb.js";
import {
  OrganizationSchema,
  OrganizationStatus as ProtoOrganizationStatus,
  RateLimitPlanSchema,
} from "../../gen/authn/v1/organization_pb.js";
import type { Organization, RateLimitPlan as ProtoPlan } from "../../gen/authn/v1/organization_pb.js";
import type { ApiKeyRecord, KeyKind, Mode, RateLimitPlan } from "../domain/api-key.js";
import type { AuditEvent, TargetType } from "../domain/audit-event.js";
import type { CreditTerms, RefillInterval } from "../domain/credits.js";
import type { UsageBucket, UsageGranularity } from "../domain/usage.js";
import { invalidArgument } from "../domain/errors.js";
import type { OrganizationRecord, OrganizationStatus } from "../domain/organization.js";
import type { ActorType } from "../domain/privilege.js";

export function modeToProto(mode: Mode): ProtoMode {
  return mode === "live" ? ProtoMode.LIVE : ProtoMode.TEST;
}

/** Unspecified answers undefined: the caller picks the default. */
export function modeFromProto(mode: ProtoMode, field: string): Mode | undefined {
  switch (mode) {
    case ProtoMode.UNSPECIFIED:
      return undefined;
    case ProtoMode.LIVE:
      return "live";
    case ProtoMode.TEST:
      return "test";
    default:
      throw invalidArgument(field, "unknown mode");
  }
}

export function kindToProto(kind: KeyKind): ProtoKeyKind {
  return kind === "master" ? ProtoKeyKind.MASTER : ProtoKeyKind.STANDARD;
}

export function kindFromProto(kind: ProtoKeyKind): KeyKind | undefined {
  switch (kind) {
    case ProtoKeyKind.UNSPECIFIED:
      return undefined;
    case ProtoKeyKind.STANDARD:
      return "standard";
    case ProtoKeyKind.MASTER:
      return "master";
    default:
      throw invalidArgument("kind", "unknown key kind");
  }
}

function timestamp(date: Date | null): Timestamp | undefined {
  return date ? timestampFromDate(date) : undefined;
}

/** A Timestamp field as a Date, rejecting values a Date cannot hold. */
export function dateFromProto(value: Timestamp | undefined, field: string): Date | null {
  if (!value) return null;
  const date = timestampDate(value);
  if (Number.isNaN(date.getTime())) throw invalidArgument(field, "is not a valid timestamp");
  return date;
}

/** A Duration field in whole milliseconds (unset: 0). */
export function msFromProto(value: Duration | undefined, field: string): number {
  if (!value) return 0;
  const ms = durationMs(value);
  if (!Number.isSafeInteger(Math.round(ms)) || ms < 0) {
    throw invalidArgument(field, "must be a non-negative duration");
  }
  return Math.round(ms);
}

export function planToProto(plan: RateLimitPlan | null): ProtoPlan | undefined {
  return plan
    ? create(RateLimitPlanSchema, { limit: plan.limit, window: durationFromMs(plan.windowMs) })
    : undefined;
}

export function planFromProto(plan: ProtoPlan | undefined, field: string): RateLimitPlan | null {
  return plan ? { limit: plan.limit, windowMs: msFromProto(plan.window, `${field}.window`) } : null;
}

const REFILL_INTERVALS: Readonly<Record<RefillInterval, ProtoRefillInterval>> = {
  daily: ProtoRefillInterval.DAILY,
  monthly: ProtoRefillInterval.MONTHLY,
};

export function creditsToProto(credits: CreditTerms | null): ProtoCredits | undefined {
  return credits
    ? create(CreditsSchema, {
        remaining: BigInt(credits.remaining),
        refill: credits.refill
          ? { interval: REFILL_INTERVALS[credits.refill.interval], amount: BigInt(credits.refill.amount) }
          : undefined,
      })
    : undefined;
}

/** Credits as asked for (unset: unlimited). Bounds are the use case's; only what a number cannot hold is refused here. */
export function creditsFromProto(credits: ProtoCredits | undefined, field: string): CreditTerms | null {
  if (!credits) return null;
  const count = (value: bigint, name: string) => {
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidArgument(`${field}.${name}`, "is too large");
    return Number(value);
  };
  const remaining = count(credits.remaining, "remaining");
  if (!credits.refill) return { remaining, refill: null };
  let interval: RefillInterval;
  switch (credits.refill.interval) {
    case ProtoRefillInterval.DAILY:
      interval = "daily";
      break;
    case ProtoRefillInterval.MONTHLY:
      interval = "monthly";
      break;
    default:
      throw invalidArgument(`${field}.refill.interval`, "must be REFILL_INTERVAL_DAILY or REFILL_INTERVAL_MONTHLY");
  }
  return { remaining, refill: { interval, amount: count(credits.refill.amount, "refill.amount") } };
}

/** Unspecified: hour. */
export function granularityFromProto(granularity: ProtoUsageGranularity): UsageGranularity {
  switch (granularity) {
    case ProtoUsageGranularity.UNSPECIFIED:
    case ProtoUsageGranularity.HOUR:
      return "hour";
    case ProtoUsageGranularity.DAY:
      return "day";
    default:
      throw invalidArgument("granularity", "unknown granularity");
  }
}

export function usageBucketToProto(bucket: UsageBucket): ProtoUsageBucket {
  return create(UsageBucketSchema, {
    start: timestampFromDate(bucket.start),
    allowed: BigInt(bucket.allowed),
    denied: BigInt(bucket.denied),
    deniedByCode: Object.fromEntries(Object.entries(bucket.deniedByCode).map(([code, n]) => [code, BigInt(n)])),
  });
}

export function apiKeyToProto(record: ApiKeyRecord): ApiKey {
  return create(ApiKeySchema, {
    id: record.id,
    organizationId: record.organizationId,
    name: record.name,
    mode: modeToProto(record.mode),
    kind: kindToProto(record.kind),
    scopes: record.scopes,
    workspaceId: record.workspaceId ?? "",
    hint: record.hint,
    active: record.active,
    enabled: record.enabled,
    metadata: record.metadata,
    expiresAt: timestamp(record.expiresAt),
    lastUsedAt: timestamp(record.lastUsedAt),
    createdAt: timestamp(record.createdAt),
    updatedAt: timestamp(record.updatedAt),
    revokedAt: timestamp(record.revokedAt),
    rateLimit: planToProto(record.rateLimit),
    ipAllowlist: record.ipAllowlist,
    credits: creditsToProto(record.credits),
  });
}

function statusToProto(status: OrganizationStatus): ProtoOrganizationStatus {
  return status === "suspended" ? ProtoOrganizationStatus.SUSPENDED : ProtoOrganizationStatus.ACTIVE;
}

export function organizationToProto(record: OrganizationRecord): Organization {
  return create(OrganizationSchema, {
    id: record.id,
    status: statusToProto(record.status),
    workspaces: record.workspaces,
    rateLimit: planToProto(record.rateLimit),
  });
}

export function organizationFromProto(message: Organization | undefined): OrganizationRecord {
  if (!message) throw invalidArgument("organization", "is required");
  let status: OrganizationStatus;
  switch (message.status) {
    case ProtoOrganizationStatus.UNSPECIFIED:
    case ProtoOrganizationStatus.ACTIVE:
      status = "active";
      break;
    case ProtoOrganizationStatus.SUSPENDED:
      status = "suspended";
      break;
    default:
      throw invalidArgument("organization.status", "unknown status");
  }
  return {
    id: message.id,
    status,
    workspaces: message.workspaces,
    rateLimit: planFromProto(message.rateLimit, "organization.rate_limit"),
  };
}

const ACTOR_TYPES: Readonly<Record<ActorType, ProtoActorType>> = {
  api_key: ProtoActorType.API_KEY,
  user: ProtoActorType.USER,
  service: ProtoActorType.SERVICE,
};

const TARGET_TYPES: Readonly<Record<TargetType, ProtoTargetType>> = {
  api_key: ProtoTargetType.API_KEY,
  organization: ProtoTargetType.ORGANIZATION,
};

export function auditEventToProto(event: AuditEvent): ProtoAuditEvent {
  return create(AuditEventSchema, {
    id: event.id,
    organizationId: event.organizationId,
    time: timestampFromDate(event.time),
    action: event.action,
    outcome: event.outcome === "allowed" ? ProtoAuditOutcome.ALLOWED : ProtoAuditOutcome.DENIED,
    actor: { type: ACTOR_TYPES[event.actor.type], id: event.actor.id },
    target: { type: TARGET_TYPES[event.target.type], id: event.target.id },
    changes: { ...event.changes },
    requestId: event.requestId,
    clientIp: event.clientIp,
    reason: event.reason,
  });
}
