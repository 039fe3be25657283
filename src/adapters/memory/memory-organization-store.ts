import { defaultOrganization } from "../../domain/organization.js";
import type { OrganizationRecord, OrganizationStatus } from "../../domain/organization.js";
import type { OrganizationStore } from "../../ports/organization-store.js";

/** The embedded, non-durable organization store. */
export class MemoryOrganizationStore implements OrganizationStore {
  private readonly byId = new Map<string, OrganizationRecord>();

  async get(id: string): Promise<OrganizationRecord | null> {
    const record = this.byId.get(id);
    return record ? structuredClone(record) : null;
  }

  async upsert(record: OrganizationRecord): Promise<OrganizationRecord> {
    this.byId.set(record.id, structuredClone(record));
    return structuredClone(record);
  }

  async setStatus(id: string, status: OrganizationStatus): Promise<OrganizationRecord> {
    const record = this.byId.get(id) ?? defaultOrganization(id);
    record.status = status;
    this.byId.set(id, record);
    return structuredClone(record);
  }
}
