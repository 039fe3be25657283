/**
 * Shared steps of the rate-limit tests: an organization with a plan and its
 * keys, verdict headers, /metrics, a service whose logs can be read, and a
 * Redis that hangs.
 */
import { randomUUID } from "node:crypto";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Mode } from "../../gen/authn/v1/common_pb.js";
import type { VerifyResponse } from "../../gen/authn/v1/auth_pb.js";
import type { Clients } from "../support/keyward.js";

export interface PlannedOrganization {
  id: string;
  /** Creates a key of the organization; returns its plaintext. */
  newKey(options?: { mode?: Mode; scopes?: string[]; plan?: { limit: number; windowMs: number } }): Promise<string>;
}

/** Registers an organization with `limit` per `windowMs` through OrganizationService. */
export async function organizationWithPlan(
  clients: Clients,
  limit: number,
  windowMs: number,
  extra: { workspaces?: string[] } = {},
): Promise<PlannedOrganization> {
  const id = `org-${randomUUID()}`;
  await clients.organizations.upsertOrganization({
    organization: { id, workspaces: extra.workspaces ?? [], rateLimit: { limit, window: durationFromMs(windowMs) } },
  });
  return {
    id,
    async newKey(options = {}) {
      const { key } = await clients.apiKeys.createApiKey({
        organizationId: id,
        name: "limited",
        mode: options.mode ?? Mode.LIVE,
        scopes: options.scopes ?? [],
        ...(options.plan
          ? { rateLimit: { limit: options.plan.limit, window: durationFromMs(options.plan.windowMs) } }
          : {}),
      });
      return key;
    },
  };
}

export { bearer } from "../support/fixtures.js";

/** The verdict's HTTP header `name` (case-insensitive), or undefined. */
export function httpHeader(verdict: VerifyResponse, name: string): string | undefined {
  return verdict.http?.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
}

