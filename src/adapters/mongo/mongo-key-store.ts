import type { Collection, Db, Filter } from "mongodb";
import type { ApiKeyRecord, SecretMatch } from "../../domain/api-key.js";
import { AppError } from "../../domain/errors.js";
import type { KeyChanges, KeyListQuery, KeyStore, UpdateConditions } from "../../ports/key-store.js";
import { creditTermsFilter, fromKeyDocument, toKeyDocument, toKeyFields } from "./key-document.js";
import type { KeyDocument } from "./key-document.js";
import { DEFAULT_STORAGE_DEADLINE_MS, StorageDeadline } from "./deadline.js";
import { isDuplicateKey } from "./mongo-errors.js";

/** A key's last use (see MongoKeyStore's lastUses). */
interface LastUseDocument {
  _id: string;
  at: Date;
}

/**
 * Keys in MongoDB. Uses single-document operations only (no transactions),
 * and no TTL or partial indexes, so it also runs on MongoDB-compatible servers
 * that lack them: expiry is decided when a key is read, not by deletion.
 */
export class MongoKeyStore implements KeyStore {
  private readonly keys: Collection<KeyDocument>;
  /**
   * last_used_at, one document per key (`_id`: the key's id), apart from the
   * key: the usage batch writes it every few seconds, and on a server whose
   * single-document updates are not atomic (FerretDB v1 reads, changes and
   * writes back the whole document) a write to the key document at the same
   * moment could undo a change of the key. Keys written before kept it in
   * the key document: the later of both counts.
   */
  private readonly lastUses: Collection<LastUseDocument>;

  constructor(
    db: Db,
    private readonly deadline = new StorageDeadline(DEFAULT_STORAGE_DEADLINE_MS),
  ) {
    this.keys = db.collection<KeyDocument>("api_keys");
    this.lastUses = db.collection<LastUseDocument>("api_key_last_used");
  }

  /** Creates the indexes the queries rely on; safe to call on every start. */
  async ensureIndexes(): Promise<void> {
    await this.deadline.run("create key indexes", async () => {
      await this.keys.createIndex({ hash: 1 }, { unique: true, name: "hash_unique" });
      await this.keys.createIndex({ previous_hash: 1 }, { name: "previous_hash" });
      await this.keys.createIndex({ organization_id: 1, _id: -1 }, { name: "organization_newest" });
    });
  }

  async insert(record: ApiKeyRecord): Promise<void> {
    await this.deadline.run("insert key", async () => {
      try {
        await this.keys.insertOne(toKeyDocument(record));
      } catch (error) {
        if (isDuplicateKey(error)) throw new AppError("failed_precondition", "duplicate key");
        throw error;
      }
    });
  }

  async findByHash(hash: string): Promise<{ record: ApiKeyRecord; matched: SecretMatch } | null> {
    const doc = await this.deadline.run("find key by hash", (signal) =>
      this.keys.findOne({ $or: [{ hash }, { previous_hash: hash }] }, { signal }),
    );
    if (!doc) return null;
    return { record: fromKeyDocument(doc), matched: doc.hash === hash ? "current" : "previous" };
  }

  async get(organizationId: string, id: string): Promise<ApiKeyRecord | null> {
    const doc = await this.deadline.run("get key", (signal) =>
      this.keys.findOne({ _id: id, organization_id: organizationId }, { signal }),
    );
    return doc ? ((await this.withLastUse([fromKeyDocument(doc)]))[0] ?? null) : null;
  }

  async list(organizationId: string, query: KeyListQuery): Promise<ApiKeyRecord[]> {
    const filter: Filter<KeyDocument> = { organization_id: organizationId };
    if (query.mode !== undefined) filter.mode = query.mode;
    if (query.active !== undefined) filter.active = query.active;
    if (query.beforeId !== undefined) filter._id = { $lt: query.beforeId };
    const docs = await this.deadline.run("list keys", (signal) =>
      this.keys.find(filter, { signal }).sort({ _id: -1 }).limit(query.limit).toArray(),
    );
    return this.withLastUse(docs.map(fromKeyDocument));
  }

  /** The records with their last_used_at (see lastUses): one read for all of them. */
  private async withLastUse(records: ApiKeyRecord[]): Promise<ApiKeyRecord[]> {
    if (records.length === 0) return records;
    const uses = await this.deadline.run("get last_used_at", (signal) =>
      this.lastUses.find({ _id: { $in: records.map((r) => r.id) } }, { signal }).toArray(),
    );
    const at = new Map(uses.map((use) => [use._id, use.at]));
    for (const record of records) {
      const used = at.get(record.id);
      if (used && (!record.lastUsedAt || record.lastUsedAt < used)) record.lastUsedAt = used;
    }
    return records;
  }

  async update(
    organizationId: string,
    id: string,
    changes: KeyChanges,
    conditions: UpdateConditions = {},
  ): Promise<ApiKeyRecord | null> {
    const filter: Filter<KeyDocument> = { _id: id, organization_id: organizationId };
    if (conditions.onlyActive) filter.active = true;
    if (conditions.ifHash !== undefined) filter.hash = conditions.ifHash;
    if (conditions.ifScopes !== undefined) filter.scopes = { $eq: [...conditions.ifScopes] };
    if (conditions.ifIpAllowlist !== undefined) {
      const allowlist = [...conditions.ifIpAllowlist];
      // Keys written before allowlists have no field: the same as an empty list.
      if (allowlist.length === 0) filter.$or = [{ ip_allowlist: { $exists: false } }, { ip_allowlist: { $eq: [] } }];
      else filter.ip_allowlist = { $eq: allowlist };
    }
    if (conditions.ifCredits !== undefined) Object.assign(filter, creditTermsFilter(conditions.ifCredits));
    const doc = await this.deadline.run("update key", () =>
      this.keys.findOneAndUpdate(filter, { $set: toKeyFields(changes) }, { returnDocument: "after" }),
    );
    return doc ? ((await this.withLastUse([fromKeyDocument(doc)]))[0] ?? null) : null;
  }

  async recordUsage(uses: ReadonlyArray<{ id: string; at: Date }>): Promise<void> {
    if (uses.length === 0) return;
    const write = () =>
      this.lastUses.bulkWrite(
        uses.map((use) => ({
          updateOne: { filter: { _id: use.id }, update: { $max: { at: use.at } }, upsert: true },
        })),
        { ordered: false },
      );
    await this.deadline.run("record last_used_at", async () => {
      try {
        await write();
      } catch (error) {
        // Two replicas creating a key's first document at once: one upsert
        // loses the race on `_id`; the document exists now, so again.
        if (!isDuplicateKey(error)) throw error;
        await write();
      }
    });
  }
}
