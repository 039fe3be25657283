/**
 * Verify: who is calling, in which mode, with which scopes, and may they go
 * on. Checks run in this order — parse, checksum, lookup, lifecycle,
 * organization, IP allowlist, workspace, scope, rate limit, credits — and
 * quota and credits are charged only for requests that passed every other
 * check. Every verdict about a known key is counted for its usage analytics.
 */
import type { ApiKeyRecord, RateLimitPlan, SecretMatch } from "../domain/api-key.js";
import { grantsScope, keyState } from "../domain/api-key.js";
import type { RawHeader } from "../domain/credentials.js";
import { checkHeaders, readCredential } from "../domain/credentials.js";
import { AppError, invalidArgument } from "../domain/errors.js";
import { ID_PATTERN, SCOPE_PATTERN } from "../domain/validation.js";
import { ipAllowed, ipMatcherOf, parseIpAddress } from "../domain/ip-allowlist.js";
import type { IpAddress } from "../domain/ip-allowlist.js";
import { hashKey, parseKey } from "../domain/key-format.js";
import type { OrganizationRecord } from "../domain/organization.js";
import { defaultOrganization } from "../domain/organization.js";
import type { RoutePolicy } from "../domain/route-policy.js";
import type { Caller, RateLimitState, Verdict, VerifyCode } from "../domain/verdict.js";
import { allow, deny } from "../domain/verdict.js";
import type { KeyStore } from "../ports/key-store.js";
import type { OrganizationStore } from "../ports/organization-store.js";
import type { RateLimiter } from "../ports/rate-limiter.js";
import type { UsageRecorder } from "../ports/usage-recorder.js";
import type { UserTokenVerifier } from "../ports/user-token-verifier.js";
import type { CreditCharger } from "./credits.js";
import type { Lookup } from "./verification-cache.js";

/** The door a Verify comes through: metrics and logs say which. */
export type Transport = "rpc" | "rest" | "forward_auth" | "ext_authz";

/** What a Verify ended with: its verdict's code, or why there is none. */
export type VerifyOutcome = VerifyCode | "INVALID_ARGUMENT" | "UNAVAILABLE";

export interface VerifyInput {
  /** Default: rpc. */
  transport?: Transport;
  headers: readonly RawHeader[];
  requiredScope?: string;
  /**
   * For callers inside keyward (the REST shim): any one of these scopes
   * grants the call, so one Verify decides (a denial names the first).
   * Takes the place of `requiredScope` and the route policy.
   */
  grantingScopes?: readonly string[];
  method?: string;
  path?: string;
  workspaceId?: string;
  /** The public client's address; checked against a key's IP allowlist. Empty or absent: unknown. */
  clientIp?: string;
  /** Rate-limit units and credits; 0 or absent means 1. */
  cost?: number;
}

export interface VerifierDeps {
  keys: Lookup<KeyStore, "findByHash">;
  organizations: Lookup<OrganizationStore, "get">;
  limiter: RateLimiter;
  /** Spends the credits of keys that have them, in storage (asked on every allowed Verify of such a key). */
  credits: Pick<CreditCharger, "charge">;
  routes: RoutePolicy;
  /** Told of every key's use and every verdict about a key (last_used_at, usage analytics). */
  usage: UsageRecorder;
  /** Null: user access tokens are not accepted. */
  userTokens: UserTokenVerifier | null;
  /** The plan of organizations that have none. */
  defaultPlan: RateLimitPlan;
  now: () => Date;
  /** Told of every Verify: its transport, outcome and duration in seconds (metrics). */
  observe?: (transport: Transport, outcome: VerifyOutcome, seconds: number) => void;
}

const MAX_COST = 1_000_000;

/** What Verify judges a key's request on, besides the key. */
interface KeyRequest {
  workspace: string | null;
  /** Any one of them grants the call; null: no scope needed. */
  requiredScopes: readonly string[] | null;
  clientIp: IpAddress | null;
  cost: number;
  now: Date;
}

export class Verifier {
  constructor(private readonly deps: VerifierDeps) {}

  /** Decides, and tells `observe` how it went. */
  async verify(input: VerifyInput): Promise<Verdict> {
    const observe = this.deps.observe;
    if (!observe) return this.decide(input);
    const started = performance.now();
    let outcome: VerifyOutcome = "UNAVAILABLE";
    try {
      const verdict = await this.decide(input);
      outcome = verdict.code;
      return verdict;
    } catch (error) {
      if (error instanceof AppError && error.code === "invalid_argument") outcome = "INVALID_ARGUMENT";
      throw error;
    } finally {
      observe(input.transport ?? "rpc", outcome, (performance.now() - started) / 1000);
    }
  }

  private async decide(input: VerifyInput): Promise<Verdict> {
    const problem = checkHeaders(input.headers);
    if (problem) throw invalidArgument("headers", problem);
    const cost = input.cost || 1;
    if (!Number.isInteger(cost) || cost < 1 || cost > MAX_COST) {
      throw invalidArgument("cost", `must be between 1 and ${MAX_COST}`);
    }
    const requiredScopes = this.requiredScopes(input);
    const clientIp = input.clientIp ? parseIpAddress(input.clientIp) : null;
    if (input.clientIp && !clientIp) throw invalidArgument("client_ip", "is not an IPv4 or IPv6 address");

    const read = readCredential(input.headers);
    if (!read.ok) return deny(read.code, { detail: read.detail });
    const credential = read.credential;

    const workspace = pickWorkspace(credential.workspaceHeader, input.workspaceId);
    if (workspace === "conflict") {
      return deny("WORKSPACE_FORBIDDEN", { detail: "x-workspace-id and workspace_id disagree" });
    }
    if (workspace !== null && !ID_PATTERN.test(workspace)) {
      return deny("WORKSPACE_FORBIDDEN");
    }

    if (credential.type === "user_token") {
      // A user of the organization acts with its full access: no scope check.
      return this.verifyUser(credential.token, workspace, cost);
    }

    const parsed = parseKey(credential.key);
    if (!parsed.ok) return deny("MALFORMED_CREDENTIALS");
    const lookup = this.deps.keys.findByHash(hashKey(parsed.plaintext));
    // A cached key is answered at once: no turn of the microtask queue.
    const found = lookup instanceof Promise ? await lookup : lookup;
    // Unknown key, another organization's key and a prefix that disagrees
    // with the stored mode all look the same to the caller.
    if (
      !found ||
      found.record.mode !== parsed.mode ||
      (credential.senderId !== null && credential.senderId !== found.record.organizationId.toLowerCase())
    ) {
      return deny("INVALID_CREDENTIALS");
    }
    const key = found.record;
    const now = this.deps.now();
    const verdict = await this.verifyKey(key, found.matched, { workspace, requiredScopes, clientIp, cost, now });
    this.deps.usage.countVerdict(key.id, key.organizationId, verdict.code, now);
    if (verdict.allowed) this.deps.usage.recordUse(key.id, now);
    return verdict;
  }

  /** The checks after the lookup: lifecycle, organization, IP, workspace, scope, rate limit, credits. */
  private async verifyKey(key: ApiKeyRecord, matched: SecretMatch, request: KeyRequest): Promise<Verdict> {
    const state = keyState(key, matched, request.now);
    if (state === "revoked") return deny("KEY_REVOKED");
    if (state === "expired") return deny("KEY_EXPIRED");
    if (state === "disabled") return deny("KEY_DISABLED");

    const cached = this.deps.organizations.get(key.organizationId);
    const organization = (cached instanceof Promise ? await cached : cached) ?? defaultOrganization(key.organizationId);
    if (organization.status === "suspended") return deny("ORGANIZATION_SUSPENDED");

    // The allowlist was parsed once for this cached record: only numbers are compared here.
    if (key.ipAllowlist.length > 0 && (request.clientIp === null || !ipAllowed(ipMatcherOf(key.ipAllowlist), request.clientIp))) {
      return deny("IP_NOT_ALLOWED");
    }

    const access = keyWorkspace(key, organization, request.workspace);
    if (!access.ok) return deny(access.code);

    const caller: Caller = {
      principal: "api_key",
      organizationId: key.organizationId,
      keyId: key.id,
      userId: "",
      mode: key.mode,
      kind: key.kind,
      scopes: key.scopes,
      unscoped: key.scopes.length === 0,
      workspaceId: access.workspaceId,
      keyWorkspaceId: key.workspaceId,
      keyIpAllowlist: key.ipAllowlist,
      keyCredits: null,
    };
    const scopes = request.requiredScopes;
    if (scopes !== null && !scopes.some((scope) => grantsScope(key, scope))) {
      return deny("INSUFFICIENT_SCOPE", { caller, scope: scopes[0] ?? "" });
    }

    // Per-key overrides get a pool of their own; everyone else shares the organization's.
    const { allowed, rateLimit } = key.rateLimit
      ? await this.consume(`key:${key.id}`, key.rateLimit, request.cost)
      : await this.consume(`org:${key.organizationId}:${key.mode}`, organization.rateLimit, request.cost);
    if (!allowed) return deny("RATE_LIMITED", { caller, rateLimit });
    if (key.credits === null) return allow(caller, rateLimit, { metadata: key.metadata });

    // Last: credits, in storage (the cached record's count is only a hint).
    const charge = await this.deps.credits.charge(key.id, request.cost, request.now);
    if (charge.charged === "unlimited") return allow(caller, rateLimit, { metadata: key.metadata });
    caller.keyCredits = { remaining: charge.remaining, refill: key.credits.refill };
    if (!charge.charged) {
      return deny("USAGE_EXCEEDED", { caller, rateLimit, creditsRemaining: charge.remaining, retryAfterMs: charge.retryAfterMs });
    }
    return allow(caller, rateLimit, { metadata: key.metadata, creditsRemaining: charge.remaining });
  }

  private async verifyUser(
    token: string,
    workspace: string | null,
    cost: number,
  ): Promise<Verdict> {
    if (!this.deps.userTokens) return deny("MALFORMED_CREDENTIALS");
    const user = await this.deps.userTokens.verify(token);
    if (!user) return deny("INVALID_CREDENTIALS");
    const organization = await this.organization(user.organizationId);
    if (organization.status === "suspended") return deny("ORGANIZATION_SUSPENDED");
    if (workspace !== null && !organization.workspaces.includes(workspace)) {
      return deny("WORKSPACE_FORBIDDEN");
    }
    const caller: Caller = {
      principal: "user",
      organizationId: user.organizationId,
      keyId: "",
      userId: user.userId,
      mode: "live",
      kind: "standard",
      scopes: [],
      unscoped: true,
      workspaceId: workspace ?? "",
      keyWorkspaceId: null,
      keyIpAllowlist: [],
      keyCredits: null,
    };
    const { allowed, rateLimit } = await this.consume(`org:${user.organizationId}:live`, organization.rateLimit, cost);
    return allowed ? allow(caller, rateLimit) : deny("RATE_LIMITED", { caller, rateLimit });
  }

  /** Charges `cost` to the pool (under `plan`, else the default plan). */
  private consume(pool: string, plan: RateLimitPlan | null, cost: number): Promise<{ allowed: boolean; rateLimit: RateLimitState }> {
    return this.deps.limiter.consume(pool, plan ?? this.deps.defaultPlan, cost).then((d) => ({
      allowed: d.allowed,
      rateLimit: { limit: d.limit, remaining: d.remaining, resetMs: d.resetMs, retryAfterMs: d.retryAfterMs },
    }));
  }

  private requiredScopes(input: VerifyInput): readonly string[] | null {
    if (input.grantingScopes && input.grantingScopes.length > 0) return input.grantingScopes;
    if (input.requiredScope) {
      if (!SCOPE_PATTERN.test(input.requiredScope)) {
        throw invalidArgument("required_scope", "is 1-100 characters of A-Z a-z 0-9 . _ : / * -");
      }
      return [input.requiredScope];
    }
    if (input.method && input.path) {
      if (input.method.length > 16 || input.path.length > 4096) {
        throw invalidArgument("path", "method or path is too long");
      }
      const scope = this.deps.routes.scopeFor(input.method, input.path);
      return scope === null ? null : [scope];
    }
    return null;
  }

  private async organization(id: string): Promise<OrganizationRecord> {
    return (await this.deps.organizations.get(id)) ?? defaultOrganization(id);
  }
}

function pickWorkspace(header: string | null, field: string | undefined): string | null | "conflict" {
  if (header && field && header !== field) return "conflict";
  return header || field || null;
}

type WorkspaceAccess =
  | { ok: true; workspaceId: string }
  | { ok: false; code: "WORKSPACE_REQUIRED" | "WORKSPACE_FORBIDDEN" };

/**
 * A master key needs a workspace named, one of its organization's. A standard
 * key bound to a workspace may act only there; an unbound one may name any
 * workspace of its organization.
 */
function keyWorkspace(
  key: ApiKeyRecord,
  organization: OrganizationRecord,
  requested: string | null,
): WorkspaceAccess {
  if (key.kind === "master") {
    if (requested === null) return { ok: false, code: "WORKSPACE_REQUIRED" };
    if (!organization.workspaces.includes(requested)) return { ok: false, code: "WORKSPACE_FORBIDDEN" };
    return { ok: true, workspaceId: requested };
  }
  if (key.workspaceId !== null) {
    if (requested !== null && requested !== key.workspaceId) {
      return { ok: false, code: "WORKSPACE_FORBIDDEN" };
    }
    return { ok: true, workspaceId: key.workspaceId };
  }
  if (requested !== null && !organization.workspaces.includes(requested)) {
    return { ok: false, code: "WORKSPACE_FORBIDDEN" };
  }
  return { ok: true, workspaceId: requested ?? "" };
}
