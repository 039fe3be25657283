import { randomUUID } from "node:crypto";
import type { Collection, Db } from "mongodb";
import type { UsageCount } from "../../domain/usage.js";
import type { UsageCounter } from "../../ports/usage-counter.js";
import { DEFAULT_STORAGE_DEADLINE_MS, StorageDeadline } from "./deadline.js";

interface UsageDocument {
  /** `<key id>@<hour, ISO 8601>@<writer>`: one document per key, hour and writing process. */
  _id: string;
  key_id: string;
  organization_id: string;
  hour: Date;
  allowed: number;
  denied: number;
  denied_by_code: Record<string, number>;
}

/**
 * Usage analytics in MongoDB (`key_usage`): one document per key, hour and
 * writing process, grown by $inc; a read adds a key's documents up. A
 * flush is one unordered bulk write of upserts, each a single-document
 * update. Each process writes only its own documents, one flush at a time,
 * so no two writers ever race on one document (FerretDB v1 applies an
 * update as a read then a write: concurrent $inc on one document could lose
 * counts, and concurrent upserts of one new document would collide).
 */
export class MongoUsageCounter implements UsageCounter {
  private readonly usage: Collection<UsageDocument>;

  constructor(
    db: Db,
    private readonly deadline = new StorageDeadline(DEFAULT_STORAGE_DEADLINE_MS),
    /** This process's name in document ids: a new one per start. */
    private readonly writer: string = randomUUID(),
  ) {
    this.usage = db.collection<UsageDocument>("key_usage");
  }

  /** A key's hours in order are one index scan. Safe to call on every start. */
  async ensureIndexes(): Promise<void> {
    await this.deadline.run("create usage indexes", () => this.usage.createIndex({ key_id: 1, hour: 1 }, { name: "key_hour" }));
  }

  async add(counts: readonly UsageCount[]): Promise<void> {
    if (counts.length === 0) return;
    await this.deadline.run("add usage counts", () =>
      this.usage.bulkWrite(
        counts.map((count) => ({
          updateOne: {
            filter: { _id: `${count.keyId}@${count.hour.toISOString()}@${this.writer}` },
            update: {
              $inc: {
                allowed: count.allowed,
                denied: count.denied,
                ...Object.fromEntries(Object.entries(count.deniedByCode).map(([code, n]) => [`denied_by_code.${code}`, n])),
              },
              $setOnInsert: { key_id: count.keyId, organization_id: count.organizationId, hour: count.hour },
            },
            upsert: true,
          },
        })),
        { ordered: false },
      ),
    );
  }

  async hourly(keyId: string, start: Date, end: Date): Promise<UsageCount[]> {
    const docs = await this.deadline.run("read usage counts", (signal) =>
      this.usage.find({ key_id: keyId, hour: { $gte: start, $lt: end } }, { signal }).sort({ hour: 1 }).toArray(),
    );
    return docs.map((doc) => ({
      keyId: doc.key_id,
      organizationId: doc.organization_id,
      hour: doc.hour,
      allowed: doc.allowed ?? 0,
      denied: doc.denied ?? 0,
      deniedByCode: { ...doc.denied_by_code },
    }));
  }
}
