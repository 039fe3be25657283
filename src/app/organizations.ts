/**
 * Registering tenants: status, workspaces and rate-limit plan. Internal
 * services only; every change is recorded in the audit trail before it is
 * made.
 */
import type { AuditValue } from "../domain/audit-event.js";
import { fieldChanges } from "../domain/audit-event.js";
import { defaultOrganization } from "../domain/organization.js";
import type { OrganizationRecord, OrganizationStatus } from "../domain/organization.js";
import { canManageOrganization } from "../domain/privilege.js";
import type { RequestContext } from "../domain/request-context.js";
import { checkId, checkPlan, checkWorkspaces } from "../domain/validation.js";
import type { ChangeNotifier } from "../ports/change-notifier.js";
import type { OrganizationStore } from "../ports/organization-store.js";
import type { AuditTrail } from "./audit-trail.js";

export interface OrganizationsDeps {
  organizations: OrganizationStore;
  changes: ChangeNotifier;
  /** Records every management action, before it is carried out. */
  audit: AuditTrail;
}

export class Organizations {
  constructor(private readonly deps: OrganizationsDeps) {}

  /** The stored record, or the defaults of an unregistered organization. */
  async get(id: string): Promise<OrganizationRecord> {
    const organizationId = checkId("id", id);
    return (await this.deps.organizations.get(organizationId)) ?? defaultOrganization(organizationId);
  }

  async upsert(context: RequestContext, input: OrganizationRecord): Promise<OrganizationRecord> {
    const next: OrganizationRecord = {
      id: checkId("organization.id", input.id),
      status: input.status,
      workspaces: checkWorkspaces(input.workspaces),
      rateLimit: input.rateLimit ? checkPlan("organization.rate_limit", input.rateLimit) : null,
    };
    await this.authorize(context, "upsert", await this.get(next.id), next);
    const record = await this.deps.organizations.upsert(next);
    await this.deps.changes.organizationChanged(record.id);
    return record;
  }

  async suspend(context: RequestContext, id: string): Promise<OrganizationRecord> {
    return this.setStatus(context, id, "suspended");
  }

  async resume(context: RequestContext, id: string): Promise<OrganizationRecord> {
    return this.setStatus(context, id, "active");
  }

  private async setStatus(context: RequestContext, id: string, status: OrganizationStatus): Promise<OrganizationRecord> {
    const current = await this.get(id);
    await this.authorize(context, status === "suspended" ? "suspend" : "resume", current, { ...current, status });
    const record = await this.deps.organizations.setStatus(current.id, status);
    await this.deps.changes.organizationChanged(record.id);
    return record;
  }

  private async authorize(
    context: RequestContext,
    action: "upsert" | "suspend" | "resume",
    before: OrganizationRecord,
    after: OrganizationRecord,
  ): Promise<void> {
    await this.deps.audit.authorize(context, {
      organizationId: before.id,
      action: `organization.${action}`,
      target: { type: "organization", id: before.id },
      changes: fieldChanges(auditedFields(before), auditedFields(after)),
      decision: canManageOrganization(context.actor),
    });
  }
}

function auditedFields(record: OrganizationRecord): Record<string, AuditValue> {
  return {
    status: record.status,
    workspaces: [...record.workspaces],
    rateLimit: record.rateLimit ? { limit: record.rateLimit.limit, windowMs: record.rateLimit.windowMs } : null,
  };
}
