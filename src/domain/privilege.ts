/**
 * Least privilege for key management: who may create, change, roll, revoke,
 * enable or disable which key, and who may manage organizations. Pure: no I/O.
 *
 * A credential never grants more than it holds. Services (internal port) act
 * for any organization; users and unscoped keys have full access to their own
 * organization; a scoped key needs `api_keys:write` and then manages only keys
 * whose grant is within its own (scopes, mode, kind, workspace, IP allowlist,
 * credits).
 */
import type { ApiKeyRecord, KeyKind, Mode } from "./api-key.js";
import type { CreditTerms } from "./credits.js";
import { creditsBeyond } from "./credits.js";
import { allowlistWithin } from "./ip-allowlist.js";

/** Reading keys (and their audit trail). */
export const API_KEYS_READ_SCOPE = "api_keys:read";
/** Changing keys; implies reading them. */
export const API_KEYS_WRITE_SCOPE = "api_keys:write";
/** Reading the audit trail only. */
export const AUDIT_READ_SCOPE = "audit:read";

/** An internal service, authenticated by a service token on the RPC port. */
export interface ServiceActor {
  type: "service";
  /** Which service token (`token-1`, ... in configuration order), or `development`. */
  id: string;
}

/** A signed-in user of an organization (user access token). */
export interface UserActor {
  type: "user";
  id: string;
  organizationId: string;
}

/** An API key acting on its organization's keys. */
export interface KeyActor {
  type: "api_key";
  id: string;
  organizationId: string;
  /** Empty: unscoped, full access. */
  scopes: readonly string[];
  mode: Mode;
  kind: KeyKind;
  /** The workspace the key is bound to; null when unbound (or master). */
  workspaceId: string | null;
  /** The addresses the key may be used from; empty: any. */
  ipAllowlist: readonly string[];
  /** The key's credits (remaining as of this request); null: unlimited. */
  credits: CreditTerms | null;
}

export type Actor = ServiceActor | UserActor | KeyActor;
export type ActorType = Actor["type"];

/** What a key lets its holder do: the parts of a key privilege compares. */
export type Grant = Pick<ApiKeyRecord, "organizationId" | "scopes" | "mode" | "kind" | "workspaceId"> & {
  ipAllowlist: readonly string[];
  credits: CreditTerms | null;
};

export type KeyAction = "create" | "update" | "roll" | "revoke" | "enable" | "disable";

export type Decision = { allowed: true } | { allowed: false; reason: string };

const ALLOWED: Decision = { allowed: true };
const deny = (reason: string): Decision => ({ allowed: false, reason });

const VERBS: Readonly<Record<KeyAction, string>> = {
  create: "create",
  update: "change",
  roll: "roll",
  revoke: "revoke",
  enable: "enable",
  disable: "disable",
};

/**
 * Whether `actor` may perform `action` on a key with the grant `target` (for
 * create: the key it asks for). Roll is judged like create: it answers a
 * secret, so rolling a more powerful key would hand that power over.
 */
export function canManage(actor: Actor, target: Grant, action: KeyAction): Decision {
  if (actor.type === "service") return ALLOWED;
  const verb = VERBS[action];
  if (actor.organizationId !== target.organizationId) {
    return deny(`cannot ${verb} another organization's key`);
  }
  if (actor.type === "user" || actor.scopes.length === 0) return ALLOWED;

  if (!actor.scopes.includes(API_KEYS_WRITE_SCOPE)) {
    return deny(`a key needs the ${API_KEYS_WRITE_SCOPE} scope to ${verb} keys`);
  }
  if (target.scopes.length === 0) {
    return deny(`a scoped key cannot ${verb} an unscoped key (full access)`);
  }
  const lacking = target.scopes.filter((scope) => !actor.scopes.includes(scope));
  if (lacking.length > 0) {
    return deny(`a key cannot ${verb} a key with scopes it does not hold itself: ${lacking.join(", ")}`);
  }
  if (actor.mode === "test" && target.mode === "live") {
    return deny(`a test key cannot ${verb} a live key`);
  }
  if (target.kind === "master" && actor.kind !== "master") {
    return deny(`only a master key can ${verb} a master key`);
  }
  const reach = boundWorkspace(actor);
  if (reach !== null && boundWorkspace(target) !== reach) {
    return deny(`a key bound to workspace ${reach} can only ${verb} keys bound to it`);
  }
  if (!allowlistWithin(target.ipAllowlist, actor.ipAllowlist)) {
    return deny(
      target.ipAllowlist.length === 0
        ? `a key with an IP allowlist cannot ${verb} a key usable from any address`
        : `a key cannot ${verb} a key allowed from addresses outside its own IP allowlist`,
    );
  }
  const beyond = creditsBeyond(target.credits, actor.credits);
  if (beyond !== null) return deny(`a key with credits cannot ${verb} a key with ${beyond}`);
  return ALLOWED;
}

/**
 * An update is allowed when the actor may manage the key both as it is and
 * as it would be after the change: no taking over a wider key, and no
 * widening a key (its own included) past the actor's grant.
 */
export function canUpdate(actor: Actor, before: Grant, after: Grant, action: KeyAction): Decision {
  const now = canManage(actor, before, action);
  return now.allowed ? canManage(actor, after, action) : now;
}

/** Organizations are the platform's to manage: internal services only. */
export function canManageOrganization(actor: Actor): Decision {
  return actor.type === "service" ? ALLOWED : deny("only internal services manage organizations");
}

/**
 * The one workspace a key acts in, or null for all of its organization's (a
 * master key names any; so may an unbound standard key).
 */
function boundWorkspace(key: Pick<Grant, "kind" | "workspaceId">): string | null {
  return key.kind === "standard" ? key.workspaceId : null;
}
