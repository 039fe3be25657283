/**
 * The key lifecycle: create, read, list, update, revoke and roll. Every
 * transport (ConnectRPC, REST) calls these; none has key logic of its own.
 * Each change is judged by the privilege rules and recorded in the audit
 * trail before it is made. A key's usage analytics are read here too.
 */
import { v7 as uuidv7 } from "uuid";
import type { ApiKeyRecord, KeyKind, Mode, RateLimitPlan } from "../domain/api-key.js";
import type { AuditAction, Changes } from "../domain/audit-event.js";
import { auditedKeyFields, fieldChanges, keyChanges } from "../domain/audit-event.js";
import type { CreditTerms, KeyCredits } from "../domain/credits.js";
import { creditsFrom } from "../domain/credits.js";
import { AppError, invalidArgument, notFound } from "../domain/errors.js";
import { generateKey } from "../domain/key-format.js";
import { canManage, canUpdate } from "../domain/privilege.js";
import type { KeyAction } from "../domain/privilege.js";
import type { RequestContext } from "../domain/request-context.js";
import { usageBuckets, usageRange } from "../domain/usage.js";
import type { UsageBucket, UsageQuery } from "../domain/usage.js";
import {
  checkCredits,
  checkId,
  checkIpAllowlist,
  checkMetadata,
  checkName,
  checkPlan,
  checkScopes,
  UUID_PATTERN,
} from "../domain/validation.js";
import type { KeyChanges, KeyStore, UpdateConditions } from "../ports/key-store.js";
import type { ChangeNotifier } from "../ports/change-notifier.js";
import type { CreditStore } from "../ports/credit-store.js";
import type { UsageCounter } from "../ports/usage-counter.js";
import type { AuditTrail } from "./audit-trail.js";
import { setCredits } from "./credits.js";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./paging.js";

/** The longest a rolled key's old secret may keep working. */
export const MAX_GRACE_PERIOD_MS = 30 * 24 * 3600_000;

export interface ApiKeysDeps {
  keys: KeyStore;
  /** Told of every change that affects verification (cache invalidation). */
  changes: ChangeNotifier;
  /** Records every management action, before it is carried out. */
  audit: AuditTrail;
  /** The keys' credits as they stand, and where an update records new ones. */
  credits: CreditStore;
  /** Where Verify's counts per key and hour are read from. */
  usage: Pick<UsageCounter, "hourly">;
  now: () => Date;
}

export interface CreateKeyInput {
  organizationId: string;
  name: string;
  mode?: Mode;
  kind?: KeyKind;
  scopes?: readonly string[];
  workspaceId?: string | null;
  metadata?: Readonly<Record<string, string>>;
  expiresAt?: Date | null;
  rateLimit?: RateLimitPlan | null;
  /** Addresses and CIDRs; empty or absent: any address. */
  ipAllowlist?: readonly string[];
  /** Absent or null: unlimited. */
  credits?: CreditTerms | null;
}

export interface UpdateKeyInput {
  name?: string;
  scopes?: readonly string[];
  metadata?: Readonly<Record<string, string>>;
  enabled?: boolean;
  /** Replaces the allowlist; empty: any address. */
  ipAllowlist?: readonly string[];
  /** Replaces the credits (remaining and refill); null: unlimited. */
  credits?: CreditTerms | null;
}

export interface ListKeysInput {
  mode?: Mode;
  active?: boolean;
  pageSize?: number;
  pageToken?: string;
}

/** A key record with its plaintext secret: only create and roll answer this. */
export interface IssuedKey {
  record: ApiKeyRecord;
  plaintext: string;
}

export interface KeyPage {
  records: ApiKeyRecord[];
  /** Empty on the last page. */
  nextPageToken: string;
}

export class ApiKeys {
  constructor(private readonly deps: ApiKeysDeps) {}

  async create(context: RequestContext, input: CreateKeyInput): Promise<IssuedKey> {
    const organizationId = checkId("organization_id", input.organizationId);
    const kind = input.kind ?? "standard";
    const workspaceId = input.workspaceId ? checkId("workspace_id", input.workspaceId) : null;
    if (kind === "master" && workspaceId !== null) {
      throw invalidArgument("workspace_id", "a master key is valid for every workspace and names none");
    }
    const now = this.deps.now();
    if (input.expiresAt && input.expiresAt <= now) {
      throw invalidArgument("expires_at", "must be in the future");
    }
    const mode = input.mode ?? "live";
    const secret = generateKey(mode);
    const record: ApiKeyRecord = {
      id: uuidv7(),
      organizationId,
      name: checkName(input.name),
      mode,
      kind,
      scopes: checkScopes(input.scopes ?? []),
      workspaceId,
      hash: secret.hash,
      hint: secret.hint,
      previous: null,
      active: true,
      enabled: true,
      metadata: checkMetadata(input.metadata ?? {}),
      expiresAt: input.expiresAt ?? null,
      lastUsedAt: null,
      createdAt: now,
      updatedAt: now,
      revokedAt: null,
      rateLimit: input.rateLimit ? checkPlan("rate_limit", input.rateLimit) : null,
      ipAllowlist: checkIpAllowlist(input.ipAllowlist ?? []),
      credits: creditsAt(input.credits ?? null, now),
    };
    await this.authorize(context, "create", record, fieldChanges(null, auditedKeyFields(record)));
    await this.deps.keys.insert(record);
    return { record, plaintext: secret.plaintext };
  }

  async get(organizationId: string, id: string): Promise<ApiKeyRecord> {
    const record = await this.deps.keys.get(
      checkId("organization_id", organizationId),
      checkId("id", id),
    );
    if (!record) throw notFound("api key");
    return this.live(record);
  }

  async list(organizationId: string, input: ListKeysInput = {}): Promise<KeyPage> {
    const pageSize = Math.min(input.pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const beforeId = input.pageToken ? decodePageToken(input.pageToken) : undefined;
    // One extra record tells whether another page follows.
    const records = await this.deps.keys.list(checkId("organization_id", organizationId), {
      mode: input.mode,
      active: input.active,
      limit: pageSize + 1,
      beforeId,
    });
    const page = records.slice(0, pageSize);
    const last = page.at(-1);
    return {
      records: await Promise.all(page.map((record) => this.live(record))),
      nextPageToken: records.length > pageSize && last ? encodePageToken(last.id) : "",
    };
  }

  /**
   * A key's verdicts per hour or UTC day over a range of at most 90 days:
   * every bucket, empty ones included. Counts reach storage in batches, a
   * few seconds late.
   */
  async usage(organizationId: string, id: string, query: UsageQuery = {}): Promise<UsageBucket[]> {
    const range = usageRange(query, this.deps.now());
    const key = await this.get(organizationId, id);
    return usageBuckets(range, await this.deps.usage.hourly(key.id, range.start, range.end));
  }

  /**
   * Changes name, scopes, metadata, enabled, the IP allowlist or the
   * credits. Changing `enabled` alone is recorded as enable / disable,
   * anything else as update.
   */
  async update(context: RequestContext, organizationId: string, id: string, input: UpdateKeyInput): Promise<ApiKeyRecord> {
    const changes: KeyChanges = {};
    if (input.name !== undefined) changes.name = checkName(input.name);
    if (input.scopes !== undefined) changes.scopes = checkScopes(input.scopes);
    if (input.metadata !== undefined) changes.metadata = checkMetadata(input.metadata);
    if (input.enabled !== undefined) changes.enabled = input.enabled;
    if (input.ipAllowlist !== undefined) changes.ipAllowlist = checkIpAllowlist(input.ipAllowlist);
    if (input.credits !== undefined) changes.credits = creditsAt(input.credits, this.deps.now());
    if (Object.keys(changes).length === 0) {
      throw invalidArgument("update_mask", "names no field to change (name, scopes, metadata, enabled, ip_allowlist, credits)");
    }
    const current = await this.getActive(organizationId, id);
    const action: KeyAction =
      Object.keys(changes).length === 1 && changes.enabled !== undefined ? (changes.enabled ? "enable" : "disable") : "update";
    const after = { ...current, ...changes };
    await this.authorize(context, action, current, keyChanges(current, after), after);
    changes.updatedAt = this.deps.now();
    const record = await this.conditionalUpdate(current, changes, unchangedSince(current));
    if (!record) throw await this.conflict(current);
    // Recorded as a change of the credits' history, so a spend racing with it cannot undo it.
    if (changes.credits !== undefined) await setCredits(this.deps.credits, record.id, changes.credits);
    // Verify reads every field but the name (metadata is in its verdict): every replica's cache drops the key.
    if (Object.keys(changes).some((field) => field !== "name" && field !== "updatedAt")) {
      await this.deps.changes.keyChanged(record);
    }
    return this.live(record);
  }

  /** Revokes for good. Revoking a revoked key answers it unchanged. */
  async revoke(context: RequestContext, organizationId: string, id: string): Promise<ApiKeyRecord> {
    const current = await this.get(organizationId, id);
    await this.authorize(context, "revoke", current, keyChanges(current, { ...current, active: false }));
    if (!current.active) return current;
    const now = this.deps.now();
    const revoked = await this.conditionalUpdate(current, { active: false, revokedAt: now, updatedAt: now }, unchangedSince(current));
    if (!revoked) {
      const latest = await this.get(organizationId, id);
      if (!latest.active) return latest; // revoked meanwhile
      throw await this.conflict(current);
    }
    await this.deps.changes.keyChanged(revoked);
    return this.live(revoked);
  }

  /**
   * Replaces the secret. The old one keeps working for `gracePeriodMs` (0: it
   * stops at once); everything else carries over, expiry included. Rolling
   * again during a grace period ends the earlier one: a key has at most two
   * working secrets.
   */
  async roll(context: RequestContext, organizationId: string, id: string, gracePeriodMs: number): Promise<IssuedKey> {
    if (!Number.isFinite(gracePeriodMs) || gracePeriodMs < 0 || gracePeriodMs > MAX_GRACE_PERIOD_MS) {
      throw invalidArgument("grace_period", "must be between 0 and 30 days");
    }
    const current = await this.getActive(organizationId, id);
    const now = this.deps.now();
    const graceEnd = new Date(now.getTime() + gracePeriodMs);
    // The audit trail shows when the replaced secret stops working, never a secret or its hint.
    await this.authorize(context, "roll", current, {
      previousSecretExpiresAt: { old: iso(current.previous?.expiresAt ?? null), new: iso(graceEnd) },
    });
    const secret = generateKey(current.mode);
    const rolled = await this.conditionalUpdate(
      current,
      {
        hash: secret.hash,
        hint: secret.hint,
        previous: gracePeriodMs > 0 ? { hash: current.hash, hint: current.hint, expiresAt: graceEnd } : null,
        updatedAt: now,
      },
      // Compare-and-set: two concurrent rolls must not both hand out a secret.
      { ...unchangedSince(current), ifHash: current.hash },
    );
    if (!rolled) throw await this.conflict(current);
    const dropped = [current.previous?.hash, gracePeriodMs > 0 ? undefined : current.hash];
    await this.deps.changes.keyChanged(rolled, ...dropped.filter((h) => h !== undefined));
    return { record: await this.live(rolled), plaintext: secret.plaintext };
  }

  /**
   * Judges the action on `target` — for a change, also on the key as it
   * would be `after` — and records it in the audit trail with `changes`.
   * Throws when refused, or when the event cannot be written.
   */
  private async authorize(
    context: RequestContext,
    action: KeyAction,
    target: ApiKeyRecord,
    changes: Changes,
    after: ApiKeyRecord = target,
  ): Promise<void> {
    await this.deps.audit.authorize(context, {
      organizationId: target.organizationId,
      action: `api_key.${action}` satisfies AuditAction,
      target: { type: "api_key", id: target.id },
      changes,
      decision: after === target ? canManage(context.actor, target, action) : canUpdate(context.actor, target, after, action),
    });
  }

  /** The record with its credits as they stand (spends change them in the credits' history, not in the record). */
  private async live(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    if (!record.credits) return record;
    const state = await this.deps.credits.current(record.id);
    return state ? { ...record, credits: state.credits } : record;
  }

  /** The key, which must not be revoked (failed_precondition). */
  private async getActive(organizationId: string, id: string): Promise<ApiKeyRecord> {
    const record = await this.get(organizationId, id);
    if (!record.active) throw new AppError("failed_precondition", "api key is revoked");
    return record;
  }

  /**
   * The conditional write of a change judged on `current`. When it matches
   * nothing although the key still stands as judged (active, the same secret,
   * scopes, allowlist and credit terms), what changed meanwhile was a field
   * the decision did not depend on — another change's name or metadata,
   * written at the same moment; on a store whose conditional update is a read
   * then a write (FerretDB v1) that makes the write miss, and a busy key can
   * make it miss again — so it is tried again under the same conditions, up
   * to WRITE_ATTEMPTS writes in all. Anything else is a real conflict (null).
   * (last_used_at, the busiest such field, is kept apart from the key: see
   * MongoKeyStore.)
   */
  private async conditionalUpdate(current: ApiKeyRecord, changes: KeyChanges, conditions: UpdateConditions): Promise<ApiKeyRecord | null> {
    const { organizationId, id } = current;
    for (let attempt = 1; ; attempt++) {
      const written = await this.deps.keys.update(organizationId, id, changes, conditions);
      if (written || attempt === WRITE_ATTEMPTS) return written;
      const latest = await this.deps.keys.get(organizationId, id);
      if (!latest?.active || latest.hash !== current.hash || grantOf(latest) !== grantOf(current)) return null;
    }
  }

  /** Why a conditional write matched nothing: the key was revoked or changed meanwhile. */
  private async conflict(judged: ApiKeyRecord): Promise<AppError> {
    const latest = await this.get(judged.organizationId, judged.id);
    return new AppError("failed_precondition", latest.active ? "api key changed concurrently; retry" : "api key is revoked");
  }
}

/**
 * Conditions of a write judged on `record`: still active, with the scopes,
 * IP allowlist and credit terms the privilege decision saw (mode, kind and
 * workspace never change).
 */
function unchangedSince(record: ApiKeyRecord) {
  return {
    onlyActive: true,
    ifScopes: record.scopes,
    ifIpAllowlist: record.ipAllowlist,
    ifCredits: record.credits ? { refill: record.credits.refill } : null,
  };
}

/** Writes of one key change, at most, while only fields the decision did not read change under it. */
const WRITE_ATTEMPTS = 4;

/** What a privilege decision depends on besides the key's identity, comparable as a string. */
const grantOf = (record: ApiKeyRecord): string =>
  JSON.stringify([record.scopes, record.ipAllowlist, record.credits ? record.credits.refill : null]);

/** Checked credits as set at `now` (the remaining count belongs to the current refill period). */
function creditsAt(terms: CreditTerms | null, now: Date): KeyCredits | null {
  return terms ? creditsFrom(checkCredits(terms), now) : null;
}

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

function encodePageToken(lastId: string): string {
  return Buffer.from(lastId, "utf8").toString("base64url");
}

function decodePageToken(token: string): string {
  const id = token.length <= 64 ? Buffer.from(token, "base64url").toString("utf8") : "";
  if (!UUID_PATTERN.test(id)) throw invalidArgument("page_token", "is not a token this service issued");
  return id;
}
