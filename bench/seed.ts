/**
 * The bench's data, created through the service's own RPC API: one
 * organization whose plan never denies (so every Verify does the full work,
 * rate-limit round trip included, and answers allowed), and its keys.
 */
import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ApiKeyService } from "../gen/authn/v1/api_key_pb.js";
import { AuthService, VerifyCode, VerifyResponseSchema } from "../gen/authn/v1/auth_pb.js";
import type { VerifyResponse } from "../gen/authn/v1/auth_pb.js";
import { OrganizationService, OrganizationStatus } from "../gen/authn/v1/organization_pb.js";
import { gatewayRequest } from "./payloads.js";

/** The largest plan the service accepts: a billion units a second. */
const HUGE_PLAN = { limit: 1_000_000_000, window: { seconds: 1n } };

export interface Seed {
  organizationId: string;
  /** The key the cache-hit runs use. */
  hotKey: string;
  /**
   * A key with both per-key controls: an IP allowlist the bench's client IP
   * is in, and credits (10^12, never exhausted), so its Verify also checks
   * the allowlist and spends a credit in storage.
   */
  controlledKey: string;
  /** Distinct keys for the cache-miss runs, each sent once. */
  coldKeys: string[];
  /** A real allowed verdict for hotKey, binary: what the baselines answer. */
  verdict: Uint8Array;
}

export async function seed(rpcUrl: string, coldKeyCount: number): Promise<Seed> {
  const transport = createGrpcTransport({ baseUrl: rpcUrl });
  const organizations = createClient(OrganizationService, transport);
  const apiKeys = createClient(ApiKeyService, transport);
  const organizationId = randomUUID();
  await organizations.upsertOrganization({
    organization: { id: organizationId, status: OrganizationStatus.ACTIVE, workspaces: [], rateLimit: HUGE_PLAN },
  });
  const createKey = async (name: string): Promise<string> =>
    (await apiKeys.createApiKey({ organizationId, name, scopes: ["send", "read"] })).key;

  const hotKey = await createKey("bench hot key");
  const controlledKey = (
    await apiKeys.createApiKey({
      organizationId,
      name: "bench key with allowlist and credits",
      scopes: ["send", "read"],
      ipAllowlist: ["203.0.113.0/24", "2001:db8::/32"],
      credits: { remaining: 1_000_000_000_000n },
    })
  ).key;
  const coldKeys: string[] = [];
  // A few creations in flight at once: storage-bound, not the bench's subject.
  const CONCURRENCY = 16;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < coldKeyCount) {
        const index = next++;
        coldKeys[index] = await createKey(`bench cold key ${index}`);
      }
    }),
  );

  const auth = createClient(AuthService, transport);
  const response = await auth.verify(gatewayRequest(hotKey));
  expectAllowed(response, "seed");
  expectAllowed(await auth.verify(gatewayRequest(controlledKey)), "seed (allowlist + credits)");
  return { organizationId, hotKey, controlledKey, coldKeys, verdict: toBinary(VerifyResponseSchema, create(VerifyResponseSchema, response)) };
}

/** A bench whose requests were denied would measure the wrong path: fail loudly. */
export function expectAllowed(response: VerifyResponse, where: string): void {
  if (!response.allowed || response.code !== VerifyCode.OK) {
    throw new Error(`${where}: Verify answered ${VerifyCode[response.code]}, not OK: the bench would measure a denial`);
  }
}
