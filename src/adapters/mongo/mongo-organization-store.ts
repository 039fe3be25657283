import type { Collection, Db } from "mongodb";
import { defaultOrganization } from "../../domain/organization.js";
import type { OrganizationRecord, OrganizationStatus } from "../../domain/organization.js";
import type { OrganizationStore } from "../../ports/organization-store.js";
import { DEFAULT_STORAGE_DEADLINE_MS, StorageDeadline } from "./deadline.js";

interface OrganizationDocument {
  _id: string;
  status: OrganizationStatus;
  workspaces: string[];
  rate_limit: { limit: number; window_ms: number } | null;
}

function asDocument(record: OrganizationRecord): OrganizationDocument {
  return {
    _id: record.id,
    status: record.status,
    workspaces: record.workspaces,
    rate_limit: record.rateLimit
      ? { limit: record.rateLimit.limit, window_ms: record.rateLimit.windowMs }
      : null,
  };
}

function fromDocument(doc: OrganizationDocument): OrganizationRecord {
  return {
    id: doc._id,
    status: doc.status,
    workspaces: doc.workspaces,
    rateLimit: doc.rate_limit
      ? { limit: doc.rate_limit.limit, windowMs: doc.rate_limit.window_ms }
      : null,
  };
}

export class MongoOrganizationStore implements OrganizationStore {
  private readonly organizations: Collection<OrganizationDocument>;

  constructor(
    db: Db,
    private readonly deadline = new StorageDeadline(DEFAULT_STORAGE_DEADLINE_MS),
  ) {
    this.organizations = db.collection<OrganizationDocument>("organizations");
  }

  async get(id: string): Promise<OrganizationRecord | null> {
    const doc = await this.deadline.run("get organization", (signal) => this.organizations.findOne({ _id: id }, { signal }));
    return doc ? fromDocument(doc) : null;
  }

  async upsert(record: OrganizationRecord): Promise<OrganizationRecord> {
    await this.deadline.run("upsert organization", () =>
      this.organizations.replaceOne({ _id: record.id }, asDocument(record), { upsert: true }),
    );
    return structuredClone(record);
  }

  async setStatus(id: string, status: OrganizationStatus): Promise<OrganizationRecord> {
    // Single-document upsert: the defaults are written only when the record is new.
    const { status: _ignored, _id, ...defaults } = asDocument(defaultOrganization(id));
    await this.deadline.run("set organization status", () =>
      this.organizations.updateOne({ _id: id }, { $set: { status }, $setOnInsert: defaults }, { upsert: true }),
    );
    const doc = await this.deadline.run("get organization", (signal) => this.organizations.findOne({ _id: id }, { signal }));
    return doc ? fromDocument(doc) : { ...defaultOrganization(id), status };
  }
}
