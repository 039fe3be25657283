import type { ApiKeyRecord, SecretMatch } from "../../domain/api-key.js";
import { sameRefill } from "../../domain/credits.js";
import type { KeyCredits, Refill } from "../../domain/credits.js";
import { AppError } from "../../domain/errors.js";
import type { CreditState, CreditStore } from "../../ports/credit-store.js";
import type { KeyChanges, KeyListQuery, KeyStore, UpdateConditions } from "../../ports/key-store.js";

/**
 * The embedded, non-durable store: records live in this process only. Records
 * are copied in and out so callers can never mutate what is stored. It keeps
 * the keys' credits too; a commit runs to its end before any other starts,
 * so it is a compare-and-set like MongoDB's unique insert.
 */
export class MemoryKeyStore implements KeyStore, CreditStore {
  private readonly byId = new Map<string, ApiKeyRecord>();
  /** hash -> key id, for the current and the previous secret of every key. */
  private readonly idByHash = new Map<string, string>();
  /** key id -> its credits after the latest change (version N: the N-th change since it was created). */
  private readonly creditChanges = new Map<string, { version: number; credits: KeyCredits | null }>();

  async insert(record: ApiKeyRecord): Promise<void> {
    if (this.byId.has(record.id) || this.lookup(record.hash)) {
      throw new AppError("failed_precondition", "duplicate key");
    }
    this.byId.set(record.id, structuredClone(record));
    this.index(record);
  }

  async findByHash(hash: string): Promise<{ record: ApiKeyRecord; matched: SecretMatch } | null> {
    const found = this.lookup(hash);
    return found ? { record: structuredClone(found.record), matched: found.matched } : null;
  }

  async get(organizationId: string, id: string): Promise<ApiKeyRecord | null> {
    const record = this.byId.get(id);
    return record && record.organizationId === organizationId ? structuredClone(record) : null;
  }

  async list(organizationId: string, query: KeyListQuery): Promise<ApiKeyRecord[]> {
    return [...this.byId.values()]
      .filter(
        (r) =>
          r.organizationId === organizationId &&
          (query.mode === undefined || r.mode === query.mode) &&
          (query.active === undefined || r.active === query.active) &&
          (query.beforeId === undefined || r.id < query.beforeId),
      )
      .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, query.limit)
      .map((r) => structuredClone(r));
  }

  async update(
    organizationId: string,
    id: string,
    changes: KeyChanges,
    conditions: UpdateConditions = {},
  ): Promise<ApiKeyRecord | null> {
    const record = this.byId.get(id);
    if (!record || record.organizationId !== organizationId) return null;
    if (conditions.onlyActive && !record.active) return null;
    if (conditions.ifHash !== undefined && record.hash !== conditions.ifHash) return null;
    if (conditions.ifScopes !== undefined && !sameList(record.scopes, conditions.ifScopes)) return null;
    if (conditions.ifIpAllowlist !== undefined && !sameList(record.ipAllowlist, conditions.ifIpAllowlist)) return null;
    if (conditions.ifCredits !== undefined && !sameCreditTerms(record.credits, conditions.ifCredits)) return null;
    this.unindex(record);
    Object.assign(record, structuredClone(changes));
    this.index(record);
    return structuredClone(record);
  }

  async recordUsage(uses: ReadonlyArray<{ id: string; at: Date }>): Promise<void> {
    for (const use of uses) {
      const record = this.byId.get(use.id);
      if (record && (!record.lastUsedAt || record.lastUsedAt < use.at)) {
        record.lastUsedAt = new Date(use.at);
      }
    }
  }

  async current(keyId: string): Promise<CreditState | null> {
    const record = this.byId.get(keyId);
    if (!record) return null;
    const latest = this.creditChanges.get(keyId) ?? { version: 0, credits: record.credits };
    return { version: latest.version, credits: structuredClone(latest.credits), readAt: performance.now() };
  }

  async commit(keyId: string, base: CreditState, next: KeyCredits | null): Promise<boolean> {
    if (!this.byId.has(keyId) || (this.creditChanges.get(keyId)?.version ?? 0) !== base.version) return false;
    this.creditChanges.set(keyId, { version: base.version + 1, credits: structuredClone(next) });
    return true;
  }

  private lookup(hash: string): { record: ApiKeyRecord; matched: SecretMatch } | null {
    const id = this.idByHash.get(hash);
    const record = id === undefined ? undefined : this.byId.get(id);
    if (!record) return null;
    return { record, matched: record.hash === hash ? "current" : "previous" };
  }

  private index(record: ApiKeyRecord): void {
    this.idByHash.set(record.hash, record.id);
    if (record.previous) this.idByHash.set(record.previous.hash, record.id);
  }

  private unindex(record: ApiKeyRecord): void {
    this.idByHash.delete(record.hash);
    if (record.previous) this.idByHash.delete(record.previous.hash);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

function sameCreditTerms(credits: KeyCredits | null, terms: { refill: Refill | null } | null): boolean {
  return credits === null || terms === null ? credits === terms : sameRefill(credits.refill, terms.refill);
}
