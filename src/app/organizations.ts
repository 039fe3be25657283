/** Registering tenants: status, workspaces and rate-limit plan. */
import { defaultOrganization } from "../domain/organization.js";
import type { OrganizationRecord } from "../domain/organization.js";
import { checkId, checkWorkspaces } from "../domain/validation.js";
import type { ChangeNotifier } from "../ports/change-notifier.js";
import type { OrganizationStore } from "../ports/organization-store.js";
import { checkPlan } from "./api-keys.js";

export interface OrganizationsDeps {
  organizations: OrganizationStore;
  changes: ChangeNotifier;
}

export class Organizations {
  constructor(private readonly deps: OrganizationsDeps) {}

  /** The stored record, or the defaults of an unregistered organization. */
  async get(id: string): Promise<OrganizationRecord> {
    const organizationId = checkId("id", id);
    return (await this.deps.organizations.get(organizationId)) ?? defaultOrganization(organizationId);
  }

  async upsert(input: OrganizationRecord): Promise<OrganizationRecord> {
    const record = await this.deps.organizations.upsert({
      id: checkId("organization.id", input.id),
      status: input.status,
      workspaces: checkWorkspaces(input.workspaces),
      rateLimit: input.rateLimit ? checkPlan("organization.rate_limit", input.rateLimit) : null,
    });
    await this.deps.changes.organizationChanged(record.id);
    return record;
  }

  async suspend(id: string): Promise<OrganizationRecord> {
    const record = await this.deps.organizations.setStatus(checkId("id", id), "suspended");
    await this.deps.changes.organizationChanged(record.id);
    return record;
  }

  async resume(id: string): Promise<OrganizationRecord> {
    const record = await this.deps.organizations.setStatus(checkId("id", id), "active");
    await this.deps.changes.organizationChanged(record.id);
    return record;
  }
}
