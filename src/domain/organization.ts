/** The tenant every key belongs to. Pure: no I/O. */
import type { RateLimitPlan } from "./api-key.js";

export type OrganizationStatus = "active" | "suspended";

export interface OrganizationRecord {
  id: string;
  status: OrganizationStatus;
  workspaces: string[];
  /** Null: the service's configured default plan. */
  rateLimit: RateLimitPlan | null;
}

/** What an organization with no record is: active, no workspaces, default plan. */
export function defaultOrganization(id: string): OrganizationRecord {
  return { id, status: "active", workspaces: [], rateLimit: null };
}
