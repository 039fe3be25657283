import type { ApiKeyRecord, Mode, SecretMatch } from "../domain/api-key.js";
import type { Refill } from "../domain/credits.js";

/** The fields an update may change. */
export type KeyChanges = Partial<
  Pick<
    ApiKeyRecord,
    | "name"
    | "scopes"
    | "metadata"
    | "enabled"
    | "active"
    | "revokedAt"
    | "hash"
    | "hint"
    | "previous"
    | "updatedAt"
    | "ipAllowlist"
    | "credits"
  >
>;

export interface KeyListQuery {
  /** Only keys of this mode; undefined: both. */
  mode?: Mode;
  /** Only active (true) or revoked (false) keys; undefined: both. */
  active?: boolean;
  /** Maximum number of records returned. */
  limit: number;
  /** Only keys older than this id (ids sort by creation time). */
  beforeId?: string;
}

/** Conditions an update applies under (compare-and-set, one document). */
export interface UpdateConditions {
  /** Only a key that is not revoked. */
  onlyActive?: boolean;
  /** Only while the current secret's hash is still this one. */
  ifHash?: string;
  /** Only while the scopes are still exactly these (same order): the grant a decision was made on. */
  ifScopes?: readonly string[];
  /** Only while the IP allowlist is still exactly this one (same order). */
  ifIpAllowlist?: readonly string[];
  /**
   * Only while the key's credits are still limited (or not: null) with this
   * refill. The remaining count is not compared: Verify spends it all the time.
   */
  ifCredits?: { refill: Refill | null } | null;
}

/** Where key records live. Every method is scoped by organization except the hash lookup. */
export interface KeyStore {
  /** Stores a new record; the hash is unique across all records. */
  insert(record: ApiKeyRecord): Promise<void>;
  /**
   * The record whose current or previous (rolled) secret has this hash, as
   * Verify reads it: in one storage read, so its lastUsedAt may lag behind
   * (Verify never reads it; `get` and `list` carry the current one).
   */
  findByHash(hash: string): Promise<{ record: ApiKeyRecord; matched: SecretMatch } | null>;
  get(organizationId: string, id: string): Promise<ApiKeyRecord | null>;
  /** Newest first. */
  list(organizationId: string, query: KeyListQuery): Promise<ApiKeyRecord[]>;
  /**
   * Applies the changes and answers the record after them, or null when no
   * record matched the id and the conditions.
   */
  update(
    organizationId: string,
    id: string,
    changes: KeyChanges,
    conditions?: UpdateConditions,
  ): Promise<ApiKeyRecord | null>;
  /** Moves last_used_at forward (never back) for many keys at once. */
  recordUsage(uses: ReadonlyArray<{ id: string; at: Date }>): Promise<void>;
}
