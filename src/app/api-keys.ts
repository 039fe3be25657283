/**
 * The key lifecycle: create, read, list, update, revoke and roll. Every
 * transport (ConnectRPC, REST) calls these; none has key logic of its own.
 */
import { v7 as uuidv7 } from "uuid";
import type { ApiKeyRecord, KeyKind, Mode, RateLimitPlan } from "../domain/api-key.js";
import { AppError, invalidArgument, notFound } from "../domain/errors.js";
import { generateKey } from "../domain/key-format.js";
import {
  checkId,
  checkMetadata,
  checkName,
  checkScopes,
  UUID_PATTERN,
} from "../domain/validation.js";
import type { KeyChanges, KeyStore } from "../ports/key-store.js";
import type { ChangeNotifier } from "../ports/change-notifier.js";

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** The longest a rolled key's old secret may keep working. */
export const MAX_GRACE_PERIOD_MS = 30 * 24 * 3600_000;

export interface ApiKeysDeps {
  keys: KeyStore;
  /** Told of every change that affects verification (cache invalidation). */
  changes: ChangeNotifier;
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
}

export interface UpdateKeyInput {
  name?: string;
  scopes?: readonly string[];
  metadata?: Readonly<Record<string, string>>;
  enabled?: boolean;
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

  async create(input: CreateKeyInput): Promise<IssuedKey> {
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
    };
    await this.deps.keys.insert(record);
    return { record, plaintext: secret.plaintext };
  }

  async get(organizationId: string, id: string): Promise<ApiKeyRecord> {
    const record = await this.deps.keys.get(
      checkId("organization_id", organizationId),
      checkId("id", id),
    );
    if (!record) throw notFound("api key");
    return record;
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
      records: page,
      nextPageToken: records.length > pageSize && last ? encodePageToken(last.id) : "",
    };
  }

  async update(organizationId: string, id: string, input: UpdateKeyInput): Promise<ApiKeyRecord> {
    const changes: KeyChanges = {};
    if (input.name !== undefined) changes.name = checkName(input.name);
    if (input.scopes !== undefined) changes.scopes = checkScopes(input.scopes);
    if (input.metadata !== undefined) changes.metadata = checkMetadata(input.metadata);
    if (input.enabled !== undefined) changes.enabled = input.enabled;
    if (Object.keys(changes).length === 0) {
      throw invalidArgument("update_mask", "names no field to change (name, scopes, metadata, enabled)");
    }
    changes.updatedAt = this.deps.now();
    const record = await this.updateActive(organizationId, id, changes);
    if (changes.scopes !== undefined || changes.enabled !== undefined) {
      await this.deps.changes.keyChanged(record);
    }
    return record;
  }

  /** Revokes for good. Revoking a revoked key answers it unchanged. */
  async revoke(organizationId: string, id: string): Promise<ApiKeyRecord> {
    const now = this.deps.now();
    const revoked = await this.deps.keys.update(
      checkId("organization_id", organizationId),
      checkId("id", id),
      { active: false, revokedAt: now, updatedAt: now },
      { onlyActive: true },
    );
    if (revoked) {
      await this.deps.changes.keyChanged(revoked);
      return revoked;
    }
    return this.get(organizationId, id);
  }

  /**
   * Replaces the secret. The old one keeps working for `gracePeriodMs` (0: it
   * stops at once); everything else carries over, expiry included. Rolling
   * again during a grace period ends the earlier one: a key has at most two
   * working secrets.
   */
  async roll(organizationId: string, id: string, gracePeriodMs: number): Promise<IssuedKey> {
    if (!Number.isFinite(gracePeriodMs) || gracePeriodMs < 0 || gracePeriodMs > MAX_GRACE_PERIOD_MS) {
      throw invalidArgument("grace_period", "must be between 0 and 30 days");
    }
    const current = await this.get(organizationId, id);
    if (!current.active) throw new AppError("failed_precondition", "api key is revoked");
    const now = this.deps.now();
    const secret = generateKey(current.mode);
    const rolled = await this.deps.keys.update(
      current.organizationId,
      current.id,
      {
        hash: secret.hash,
        hint: secret.hint,
        previous:
          gracePeriodMs > 0
            ? { hash: current.hash, hint: current.hint, expiresAt: new Date(now.getTime() + gracePeriodMs) }
            : null,
        updatedAt: now,
      },
      // Compare-and-set: two concurrent rolls must not both hand out a secret.
      { onlyActive: true, ifHash: current.hash },
    );
    if (!rolled) throw new AppError("failed_precondition", "api key changed concurrently; retry");
    const dropped = [current.previous?.hash, gracePeriodMs > 0 ? undefined : current.hash];
    await this.deps.changes.keyChanged(rolled, ...dropped.filter((h) => h !== undefined));
    return { record: rolled, plaintext: secret.plaintext };
  }

  private async updateActive(organizationId: string, id: string, changes: KeyChanges): Promise<ApiKeyRecord> {
    const record = await this.deps.keys.update(
      checkId("organization_id", organizationId),
      checkId("id", id),
      changes,
      { onlyActive: true },
    );
    if (record) return record;
    await this.get(organizationId, id); // not_found when it does not exist
    throw new AppError("failed_precondition", "api key is revoked");
  }
}

/** Checks a rate-limit plan: 1..10^9 units per 1 s..1 day. */
export function checkPlan(field: string, plan: RateLimitPlan): RateLimitPlan {
  if (!Number.isInteger(plan.limit) || plan.limit < 1 || plan.limit > 1_000_000_000) {
    throw invalidArgument(field, "limit must be between 1 and 1000000000");
  }
  if (!Number.isInteger(plan.windowMs) || plan.windowMs < 1000 || plan.windowMs > 86_400_000) {
    throw invalidArgument(field, "window must be between 1 second and 1 day, in whole milliseconds");
  }
  return { limit: plan.limit, windowMs: plan.windowMs };
}


function encodePageToken(lastId: string): string {
  return Buffer.from(lastId, "utf8").toString("base64url");
}

function decodePageToken(token: string): string {
  const id = token.length <= 64 ? Buffer.from(token, "base64url").toString("utf8") : "";
  if (!UUID_PATTERN.test(id)) throw invalidArgument("page_token", "is not a token this service issued");
  return id;
}
