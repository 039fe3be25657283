import type { ServiceImpl } from "@connectrpc/connect";
import { ApiKeyService } from "../../gen/authn/v1/api_key_pb.js";
import type { ApiKeys, UpdateKeyInput } from "../app/api-keys.js";
import { invalidArgument } from "../domain/errors.js";
import {
  apiKeyToProto,
  creditsFromProto,
  dateFromProto,
  granularityFromProto,
  kindFromProto,
  modeFromProto,
  msFromProto,
  planFromProto,
  usageBucketToProto,
} from "./proto-mapping.js";
import { requestContextOf } from "./request-context.js";

const UPDATABLE = ["name", "scopes", "metadata", "enabled", "ip_allowlist", "credits"];

/** authn.v1.ApiKeyService over the key lifecycle use cases. */
export function apiKeyService(apiKeys: ApiKeys): ServiceImpl<typeof ApiKeyService> {
  return {
    async createApiKey(req, ctx) {
      const issued = await apiKeys.create(requestContextOf(ctx), {
        organizationId: req.organizationId,
        name: req.name,
        mode: modeFromProto(req.mode, "mode"),
        kind: kindFromProto(req.kind),
        scopes: req.scopes,
        workspaceId: req.workspaceId || null,
        metadata: req.metadata,
        expiresAt: dateFromProto(req.expiresAt, "expires_at"),
        rateLimit: planFromProto(req.rateLimit, "rate_limit"),
        ipAllowlist: req.ipAllowlist,
        credits: creditsFromProto(req.credits, "credits"),
      });
      return { apiKey: apiKeyToProto(issued.record), key: issued.plaintext };
    },

    async getApiKey(req) {
      return { apiKey: apiKeyToProto(await apiKeys.get(req.organizationId, req.id)) };
    },

    async listApiKeys(req) {
      const page = await apiKeys.list(req.organizationId, {
        mode: modeFromProto(req.mode, "mode"),
        active: req.active,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
      return { apiKeys: page.records.map(apiKeyToProto), nextPageToken: page.nextPageToken };
    },

    async updateApiKey(req, ctx) {
      const paths = req.updateMask?.paths ?? [];
      if (paths.length === 0) throw invalidArgument("update_mask", "is required");
      const input: UpdateKeyInput = {};
      for (const path of paths) {
        if (!UPDATABLE.includes(path)) {
          throw invalidArgument("update_mask", `cannot update "${path}" (${UPDATABLE.join(", ")})`);
        }
      }
      if (paths.includes("name")) input.name = req.name;
      if (paths.includes("scopes")) input.scopes = req.scopes;
      if (paths.includes("metadata")) input.metadata = req.metadata;
      if (paths.includes("enabled")) input.enabled = req.enabled;
      if (paths.includes("ip_allowlist")) input.ipAllowlist = req.ipAllowlist;
      if (paths.includes("credits")) input.credits = creditsFromProto(req.credits, "credits");
      return { apiKey: apiKeyToProto(await apiKeys.update(requestContextOf(ctx), req.organizationId, req.id, input)) };
    },

    async revokeApiKey(req, ctx) {
      return { apiKey: apiKeyToProto(await apiKeys.revoke(requestContextOf(ctx), req.organizationId, req.id)) };
    },

    async rollApiKey(req, ctx) {
      const issued = await apiKeys.roll(
        requestContextOf(ctx),
        req.organizationId,
        req.id,
        msFromProto(req.gracePeriod, "grace_period"),
      );
      return { apiKey: apiKeyToProto(issued.record), key: issued.plaintext };
    },

    async getApiKeyUsage(req) {
      const buckets = await apiKeys.usage(req.organizationId, req.id, {
        start: dateFromProto(req.start, "start"),
        end: dateFromProto(req.end, "end"),
        granularity: granularityFromProto(req.granularity),
      });
      return { buckets: buckets.map(usageBucketToProto) };
    },
  };
}
