import type { Collection, Db } from "mongodb";
import type { KeyCredits } from "../../domain/credits.js";
import type { CreditState, CreditStore } from "../../ports/credit-store.js";
import { DEFAULT_STORAGE_DEADLINE_MS, StorageDeadline } from "./deadline.js";
import { fromCreditsDocument, toCreditsDocument } from "./key-document.js";
import type { CreditsDocument, KeyDocument } from "./key-document.js";
import { isDuplicateKey } from "./mongo-errors.js";

/** One change of a key's credits: version N is the state after the N-th change. */
interface CreditChangeDocument {
  /** `<key id>:<version>`: unique, so one version is written once, by one writer. */
  _id: string;
  key_id: string;
  version: number;
  /** Null: unlimited from this change on. */
  credits: CreditsDocument | null;
  /** When it was written (for pruning). */
  at: Date;
}

/**
 * A commit is refused when its state was read longer ago than this; old
 * changes are pruned only past PRUNE_AFTER_MS, far beyond it, so a version
 * a commit could still aim at is never deleted (and so never written twice).
 */
const COMMIT_WINDOW_MS = 5_000;
const PRUNE_AFTER_MS = 60_000;
/** Pruning runs on every PRUNE_EVERY-th version of a key. */
const PRUNE_EVERY = 32;

/**
 * Credits in MongoDB as a history of versions (`key_credits`): a change is
 * an insert of the next version under a unique _id — a compare-and-set that
 * is atomic on any MongoDB-compatible server. (A conditional findOneAndUpdate
 * would do on MongoDB, but FerretDB v1 reads and writes the document in two
 * steps: concurrent spends would all succeed.) Version 0 is the key
 * document's own `credits`; the latest version is the truth. Old versions
 * are pruned in the background.
 */
export class MongoCreditStore implements CreditStore {
  private readonly changes: Collection<CreditChangeDocument>;
  private readonly keys: Collection<KeyDocument>;

  constructor(
    db: Db,
    private readonly deadline = new StorageDeadline(DEFAULT_STORAGE_DEADLINE_MS),
    private readonly onPruneError: (error: unknown) => void = () => {},
  ) {
    this.changes = db.collection<CreditChangeDocument>("key_credits");
    this.keys = db.collection<KeyDocument>("api_keys");
  }

  /** The latest version of a key is one index scan. Safe to call on every start. */
  async ensureIndexes(): Promise<void> {
    await this.deadline.run("create credit indexes", () =>
      this.changes.createIndex({ key_id: 1, version: -1 }, { name: "key_latest" }),
    );
  }

  async current(keyId: string): Promise<CreditState | null> {
    const readAt = performance.now();
    const [latest] = await this.deadline.run("read credits", (signal) =>
      this.changes.find({ key_id: keyId }, { signal }).sort({ version: -1 }).limit(1).toArray(),
    );
    if (latest) return { version: latest.version, credits: fromCreditsDocument(latest.credits), readAt };
    const key = await this.deadline.run("read key credits", (signal) => this.keys.findOne({ _id: keyId }, { signal }));
    return key ? { version: 0, credits: fromCreditsDocument(key.credits), readAt } : null;
  }

  async commit(keyId: string, base: CreditState, next: KeyCredits | null): Promise<boolean> {
    if (performance.now() - base.readAt > COMMIT_WINDOW_MS) return false;
    const version = base.version + 1;
    const written = await this.deadline.run("commit credits", async () => {
      try {
        await this.changes.insertOne({ _id: `${keyId}:${version}`, key_id: keyId, version, credits: toCreditsDocument(next), at: new Date() });
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    });
    if (written && version % PRUNE_EVERY === 0) void this.prune(keyId, version).catch(this.onPruneError);
    return written;
  }

  /** Deletes the key's versions before `latest` written more than a minute ago. */
  private async prune(keyId: string, latest: number): Promise<void> {
    await this.deadline.run("prune credits", () =>
      this.changes.deleteMany({ key_id: keyId, version: { $lt: latest }, at: { $lt: new Date(Date.now() - PRUNE_AFTER_MS) } }),
    );
  }
}
