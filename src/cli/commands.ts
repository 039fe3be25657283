/**
 * The operator CLI's commands: one entry each, with its usage, its options
 * and what it asks the RPC port. Every management action of ApiKeyService
 * and OrganizationService has one.
 */
import { create, toJson } from "@bufbuild/protobuf";
import type { DescMessage, JsonValue, MessageShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import {
  ApiKeySchema,
  ApiKeyService,
  GetApiKeyUsageResponseSchema,
  RefillInterval,
  UsageGranularity,
} from "../../gen/authn/v1/api_key_pb.js";
import { AuditEventSchema, AuditService } from "../../gen/authn/v1/audit_pb.js";
import { KeyKind, Mode } from "../../gen/authn/v1/common_pb.js";
import { OrganizationSchema, OrganizationService, OrganizationStatus } from "../../gen/authn/v1/organization_pb.js";
import { parseDuration, parsePlan } from "../config.js";

export interface Clients {
  apiKeys: Client<typeof ApiKeyService>;
  organizations: Client<typeof OrganizationService>;
  audit: Client<typeof AuditService>;
}

/** A mistake in the command line: one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** An option's value, or the command's own failure when it is required and missing. */
export interface Options {
  get(name: string): string | undefined;
  required(name: string): string;
}

export interface Command {
  name: string;
  summary: string;
  /** `--name VALUE` pairs this command takes; brackets mark optional ones. */
  usage: string;
  options: readonly string[];
  /** Answers what to print, as JSON. */
  run(clients: Clients, options: Options): Promise<JsonValue>;
  /** Printed on stderr after the output. */
  note?: string;
}

const KEY_ID = ["organization", "id"] as const;
/** A message as JSON with every field, defaults too: a revoked key shows `"active": false`. */
function json<S extends DescMessage>(schema: S, message: MessageShape<S> | undefined): JsonValue {
  return toJson(schema, message ?? create(schema), { alwaysEmitImplicit: true });
}
const apiKey = (message: MessageShape<typeof ApiKeySchema> | undefined) => json(ApiKeySchema, message);
const organization = (message: MessageShape<typeof OrganizationSchema> | undefined) => json(OrganizationSchema, message);

function list(value: string): string[] {
  return value === "" ? [] : value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function choice<T>(option: string, value: string | undefined, choices: Readonly<Record<string, T>>): T | undefined {
  if (value === undefined) return undefined;
  if (!(value in choices)) throw new UsageError(`--${option} must be one of ${Object.keys(choices).join(", ")}`);
  return choices[value];
}

/** `k=v,k2=v2` */
function metadata(value: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const pair of list(value)) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--metadata takes key=value pairs separated by commas, got "${pair.slice(0, 40)}"`);
    entries[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return entries;
}

function plan(value: string | undefined) {
  if (value === undefined) return undefined;
  const parsed = parsePlan(value);
  if (!parsed) throw new UsageError("--rate-limit must be <limit>/<duration>, like 100/1s or 6000/1m");
  return { limit: parsed.limit, window: { seconds: BigInt(Math.floor(parsed.windowMs / 1000)), nanos: (parsed.windowMs % 1000) * 1e6 } };
}

function date(option: string, value: string | undefined) {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (!/^\d{4}-\d\d-\d\dT/.test(value) || Number.isNaN(parsed.getTime())) {
    throw new UsageError(`--${option} must be an ISO 8601 date-time, like 2027-01-31T00:00:00Z`);
  }
  return timestampFromDate(parsed);
}

/** `--credits N` with an optional `--refill daily:AMOUNT|monthly:AMOUNT`; `--credits unlimited` removes them (update-key). */
function credits(options: Options): { remaining: bigint; refill?: { interval: RefillInterval; amount: bigint } } | undefined {
  const remaining = options.get("credits");
  const refill = options.get("refill");
  if (remaining === undefined) {
    if (refill !== undefined) throw new UsageError("--refill needs --credits (the credits left now)");
    return undefined;
  }
  if (remaining === "unlimited") {
    if (refill !== undefined) throw new UsageError("--refill needs a number of --credits, not unlimited");
    return undefined;
  }
  if (!/^\d{1,13}$/.test(remaining)) throw new UsageError("--credits must be a whole number of uses (or unlimited)");
  if (refill === undefined) return { remaining: BigInt(remaining) };
  const match = /^(daily|monthly):(\d{1,13})$/.exec(refill);
  if (!match) throw new UsageError("--refill must be daily:AMOUNT or monthly:AMOUNT, like daily:1000");
  return {
    remaining: BigInt(remaining),
    refill: { interval: match[1] === "daily" ? RefillInterval.DAILY : RefillInterval.MONTHLY, amount: BigInt(match[2] ?? "0") },
  };
}

const MODES = { live: Mode.LIVE, test: Mode.TEST };
const GRANULARITIES = { hour: UsageGranularity.HOUR, day: UsageGranularity.DAY };
const KINDS = { standard: KeyKind.STANDARD, master: KeyKind.MASTER };
const BOOLEANS = { true: true, false: false };
const STATUSES = { active: OrganizationStatus.ACTIVE, suspended: OrganizationStatus.SUSPENDED };

function pageSize(value: string | undefined): number {
  if (value !== undefined && !/^\d{1,3}$/.test(value)) throw new UsageError("--page-size must be a number from 1 to 100");
  return Number(value ?? 100);
}

function setEnabled(enabled: boolean): Command["run"] {
  return async ({ apiKeys }, o) => {
    const res = await apiKeys.updateApiKey({
      organizationId: o.required("organization"),
      id: o.required("id"),
      enabled,
      updateMask: { paths: ["enabled"] },
    });
    return apiKey(res.apiKey);
  };
}

export const COMMANDS: readonly Command[] = [
  {
    name: "create-key",
    summary: "issue a key; prints its secret once",
    usage:
      "--organization ID --name NAME [--mode live|test] [--kind standard|master] [--scopes a,b] [--workspace ID] [--expires-at ISO] " +
      "[--metadata k=v,...] [--rate-limit 100/1s] [--ip-allowlist 203.0.113.7,10.0.0.0/8] [--credits N [--refill daily:N|monthly:N]]",
    options: ["organization", "name", "mode", "kind", "scopes", "workspace", "expires-at", "metadata", "rate-limit", "ip-allowlist", "credits", "refill"],
    note: "Store the key now: it is not shown again.",
    async run({ apiKeys }, o) {
      const res = await apiKeys.createApiKey({
        organizationId: o.required("organization"),
        name: o.required("name"),
        mode: choice("mode", o.get("mode"), MODES) ?? Mode.LIVE,
        kind: choice("kind", o.get("kind"), KINDS) ?? KeyKind.STANDARD,
        scopes: list(o.get("scopes") ?? ""),
        workspaceId: o.get("workspace") ?? "",
        metadata: metadata(o.get("metadata") ?? ""),
        expiresAt: date("expires-at", o.get("expires-at")),
        rateLimit: plan(o.get("rate-limit")),
        ipAllowlist: list(o.get("ip-allowlist") ?? ""),
        credits: credits(o),
      });
      return { key: res.key, apiKey: apiKey(res.apiKey) };
    },
  },
  {
    name: "get-key",
    summary: "show one key (never its secret)",
    usage: "--organization ID --id KEY_ID",
    options: KEY_ID,
    run: async ({ apiKeys }, o) => apiKey((await apiKeys.getApiKey({ organizationId: o.required("organization"), id: o.required("id") })).apiKey),
  },
  {
    name: "list-keys",
    summary: "list an organization's keys, newest first",
    usage: "--organization ID [--mode live|test] [--active true|false] [--page-size N] [--page-token T]",
    options: ["organization", "mode", "active", "page-size", "page-token"],
    async run({ apiKeys }, o) {
      const res = await apiKeys.listApiKeys({
        organizationId: o.required("organization"),
        mode: choice("mode", o.get("mode"), MODES),
        active: choice("active", o.get("active"), BOOLEANS),
        pageSize: pageSize(o.get("page-size")),
        pageToken: o.get("page-token") ?? "",
      });
      return { apiKeys: res.apiKeys.map(apiKey), nextPageToken: res.nextPageToken };
    },
  },
  {
    name: "update-key",
    summary: "change a key's name, scopes, metadata, IP allowlist or credits (--scopes '' makes it unscoped, --ip-allowlist '' usable anywhere)",
    usage:
      "--organization ID --id KEY_ID [--name NAME] [--scopes a,b] [--metadata k=v,...] [--ip-allowlist a,b] " +
      "[--credits N|unlimited [--refill daily:N|monthly:N]]",
    options: [...KEY_ID, "name", "scopes", "metadata", "ip-allowlist", "credits", "refill"],
    async run({ apiKeys }, o) {
      const options = ["name", "scopes", "metadata", "ip-allowlist", "credits"].filter((p) => o.get(p) !== undefined);
      if (options.length === 0 && o.get("refill") === undefined) {
        throw new UsageError("update-key needs at least one of --name, --scopes, --metadata, --ip-allowlist, --credits");
      }
      const res = await apiKeys.updateApiKey({
        organizationId: o.required("organization"),
        id: o.required("id"),
        name: o.get("name") ?? "",
        scopes: list(o.get("scopes") ?? ""),
        metadata: metadata(o.get("metadata") ?? ""),
        ipAllowlist: list(o.get("ip-allowlist") ?? ""),
        credits: credits(o),
        updateMask: { paths: options.map((p) => p.replace("-", "_")) },
      });
      return apiKey(res.apiKey);
    },
  },
  { name: "enable-key", summary: "let a disabled key verify again", usage: "--organization ID --id KEY_ID", options: KEY_ID, run: setEnabled(true) },
  { name: "disable-key", summary: "deny a key until it is enabled again", usage: "--organization ID --id KEY_ID", options: KEY_ID, run: setEnabled(false) },
  {
    name: "roll-key",
    summary: "replace a key's secret; prints the new one once",
    usage: "--organization ID --id KEY_ID [--grace 0s|90s|1h (the old secret keeps working this long)]",
    options: [...KEY_ID, "grace"],
    note: "Store the key now: it is not shown again.",
    async run({ apiKeys }, o) {
      const graceMs = parseDuration(o.get("grace") ?? "0s");
      if (graceMs === null) throw new UsageError("--grace must be a duration like 0s, 90s, 30m or 24h");
      const res = await apiKeys.rollApiKey({
        organizationId: o.required("organization"),
        id: o.required("id"),
        gracePeriod: { seconds: BigInt(Math.floor(graceMs / 1000)), nanos: (graceMs % 1000) * 1e6 },
      });
      return { key: res.key, apiKey: apiKey(res.apiKey) };
    },
  },
  {
    name: "revoke-key",
    summary: "revoke a key for good (it stays listed, active: false)",
    usage: "--organization ID --id KEY_ID",
    options: KEY_ID,
    run: async ({ apiKeys }, o) => apiKey((await apiKeys.revokeApiKey({ organizationId: o.required("organization"), id: o.required("id") })).apiKey),
  },
  {
    name: "usage",
    summary: "a key's verdicts per hour or day: allowed, denied, denied by code (empty buckets included)",
    usage: "--organization ID --id KEY_ID [--granularity hour|day] [--start ISO] [--end ISO] (default: the last 24 hours, or 30 days by day)",
    options: [...KEY_ID, "granularity", "start", "end"],
    async run({ apiKeys }, o) {
      const res = await apiKeys.getApiKeyUsage({
        organizationId: o.required("organization"),
        id: o.required("id"),
        granularity: choice("granularity", o.get("granularity"), GRANULARITIES) ?? UsageGranularity.HOUR,
        start: date("start", o.get("start")),
        end: date("end", o.get("end")),
      });
      return json(GetApiKeyUsageResponseSchema, res);
    },
  },
  {
    name: "upsert-organization",
    summary: "create or replace an organization's record",
    usage: "--id ORG_ID [--status active|suspended] [--workspaces a,b] [--rate-limit 100/1s]",
    options: ["id", "status", "workspaces", "rate-limit"],
    async run({ organizations }, o) {
      const res = await organizations.upsertOrganization({
        organization: {
          id: o.required("id"),
          status: choice("status", o.get("status"), STATUSES) ?? OrganizationStatus.ACTIVE,
          workspaces: list(o.get("workspaces") ?? ""),
          rateLimit: plan(o.get("rate-limit")),
        },
      });
      return organization(res.organization);
    },
  },
  {
    name: "get-organization",
    summary: "show an organization (one with no record is active, with the default plan)",
    usage: "--id ORG_ID",
    options: ["id"],
    run: async ({ organizations }, o) => organization((await organizations.getOrganization({ id: o.required("id") })).organization),
  },
  {
    name: "suspend-organization",
    summary: "deny every key of an organization (ORGANIZATION_SUSPENDED)",
    usage: "--id ORG_ID",
    options: ["id"],
    run: async ({ organizations }, o) => organization((await organizations.suspendOrganization({ id: o.required("id") })).organization),
  },
  {
    name: "resume-organization",
    summary: "end a suspension",
    usage: "--id ORG_ID",
    options: ["id"],
    run: async ({ organizations }, o) => organization((await organizations.resumeOrganization({ id: o.required("id") })).organization),
  },
  {
    name: "audit",
    summary: "an organization's audit trail, newest first",
    usage: "--organization ID [--action api_key.create] [--actor ID] [--target ID] [--since ISO] [--until ISO] [--page-size N] [--page-token T]",
    options: ["organization", "action", "actor", "target", "since", "until", "page-size", "page-token"],
    async run({ audit }, o) {
      const res = await audit.listAuditEvents({
        organizationId: o.required("organization"),
        action: o.get("action") ?? "",
        actorId: o.get("actor") ?? "",
        targetId: o.get("target") ?? "",
        startTime: date("since", o.get("since")),
        endTime: date("until", o.get("until")),
        pageSize: pageSize(o.get("page-size")),
        pageToken: o.get("page-token") ?? "",
      });
      return { events: res.events.map((e) => json(AuditEventSchema, e)), nextPageToken: res.nextPageToken };
    },
  },
];
