/** Organizations and keys for Verify tests, created through the real RPC API. */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { CreditsSchema } from "../../gen/authn/v1/api_key_pb.js";
import type { RefillInterval } from "../../gen/authn/v1/api_key_pb.js";
import type { VerifyResponse } from "../../gen/authn/v1/auth_pb.js";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { KeyKind, Mode } from "../../gen/authn/v1/common_pb.js";
import { OrganizationSchema } from "../../gen/authn/v1/organization_pb.js";
import type { Clients } from "./keyward.js";

export interface Header {
  name: string;
  value: string;
}

export interface KeyOptions {
  mode?: Mode;
  kind?: KeyKind;
  scopes?: string[];
  workspaceId?: string;
  metadata?: Record<string, string>;
  ipAllowlist?: string[];
  /** `remaining`, and `refill` as [interval, amount]. */
  credits?: { remaining: number; refill?: [RefillInterval, number] };
  /** A per-key plan: `limit` per `windowMs`. */
  rateLimit?: { limit: number; windowMs: number };
}

/** A registered organization (UUID id, two workspaces, a generous plan). */
export async function newOrganization(clients: Clients, workspaces = ["ws-1", "ws-2"]): Promise<string> {
  const id = randomUUID();
  await clients.organizations.upsertOrganization({
    organization: create(OrganizationSchema, {
      id,
      workspaces,
      rateLimit: { limit: 100_000, window: durationFromMs(60_000) },
    }),
  });
  return id;
}

export async function newKey(
  clients: Clients,
  organizationId: string,
  options: KeyOptions = {},
): Promise<{ id: string; key: string }> {
  const res = await clients.apiKeys.createApiKey({
    organizationId,
    name: "test key",
    mode: options.mode ?? Mode.LIVE,
    kind: options.kind ?? KeyKind.STANDARD,
    scopes: options.scopes ?? [],
    workspaceId: options.workspaceId ?? "",
    metadata: options.metadata ?? {},
    ipAllowlist: options.ipAllowlist ?? [],
    credits: options.credits ? creditsMessage(options.credits) : undefined,
    rateLimit: options.rateLimit ? { limit: options.rateLimit.limit, window: durationFromMs(options.rateLimit.windowMs) } : undefined,
  });
  return { id: res.apiKey?.id ?? "", key: res.key };
}

/** KeyOptions' credits as the proto message. */
export function creditsMessage(credits: NonNullable<KeyOptions["credits"]>) {
  return create(CreditsSchema, {
    remaining: BigInt(credits.remaining),
    refill: credits.refill ? { interval: credits.refill[0], amount: BigInt(credits.refill[1]) } : undefined,
  });
}

export async function disable(clients: Clients, organizationId: string, id: string, enabled = false): Promise<void> {
  await clients.apiKeys.updateApiKey({
    organizationId,
    id,
    enabled,
    updateMask: create(FieldMaskSchema, { paths: ["enabled"] }),
  });
}

export const bearer = (key: string): Header[] => [{ name: "Authorization", value: `Bearer ${key}` }];
export const sent = (key: string, senderId: string): Header[] => [
  { name: "x-sender-id", value: senderId },
  { name: "x-api-key", value: key },
];

/** The verdict's forwarded problem+json body, parsed. */
export function problem(verdict: VerifyResponse): Record<string, unknown> {
  return JSON.parse(verdict.http?.body ?? "{}") as Record<string, unknown>;
}

export function header(verdict: VerifyResponse, name: string): string[] {
  return (verdict.http?.headers ?? [])
    .filter((h) => h.name.toLowerCase() === name.toLowerCase())
    .map((h) => h.value);
}

/** The parts of a denial a caller can observe. */
export function observable(verdict: VerifyResponse) {
  return {
    allowed: verdict.allowed,
    code: VerifyCode[verdict.code],
    organizationId: verdict.organizationId,
    keyId: verdict.keyId,
    http: verdict.http,
  };
}
