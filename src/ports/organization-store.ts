import type { OrganizationRecord, OrganizationStatus } from "../domain/organization.js";

export interface OrganizationStore {
  /** The stored record, or null when the organization was never registered. */
  get(id: string): Promise<OrganizationRecord | null>;
  /** Creates or replaces the record. */
  upsert(record: OrganizationRecord): Promise<OrganizationRecord>;
  /** Sets the status, creating a default record first when there is none. */
  setStatus(id: string, status: OrganizationStatus): Promise<OrganizationRecord>;
}
