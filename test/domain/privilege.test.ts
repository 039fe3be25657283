/** Every rule of key-management privilege, one row each: pure, no I/O. */
import { describe, expect, it } from "vitest";
import { canManage, canManageOrganization, canUpdate } from "../../src/domain/privilege.js";
import type { Actor, Grant, KeyAction, KeyActor } from "../../src/domain/privilege.js";

const ORG = "org-a";

function key(overrides: Partial<KeyActor> = {}): KeyActor {
  return {
    type: "api_key",
    id: "key-actor",
    organizationId: ORG,
    scopes: ["api_keys:write", "send", "read"],
    mode: "live",
    kind: "standard",
    workspaceId: null,
    ipAllowlist: [],
    credits: null,
    ...overrides,
  };
}

function grant(overrides: Partial<Grant> = {}): Grant {
  return { organizationId: ORG, scopes: ["send"], mode: "live", kind: "standard", workspaceId: null, ipAllowlist: [], credits: null, ...overrides };
}

const service: Actor = { type: "service", id: "token-1" };
const user: Actor = { type: "user", id: "user-1", organizationId: ORG };
const writer = key();
const unscoped = key({ scopes: [] });
const testWriter = key({ mode: "test" });
const boundWriter = key({ workspaceId: "ws-1" });
const masterWriter = key({ kind: "master" });
const reader = key({ scopes: ["api_keys:read", "send"] });

const ACTIONS: readonly KeyAction[] = ["create", "update", "roll", "revoke", "enable", "disable"];

/** [what, actor, target, allowed, reason (a part of it) when refused] */
const RULES: [string, Actor, Grant, boolean, string?][] = [
  // Who has full access.
  ["a service, any organization", service, grant({ organizationId: "org-b", scopes: [], kind: "master" }), true],
  ["a user, an unscoped master key of the organization", user, grant({ scopes: [], kind: "master" }), true],
  ["a user, another organization's key", user, grant({ organizationId: "org-b" }), false, "another organization"],
  ["an unscoped key, an unscoped key", unscoped, grant({ scopes: [] }), true],
  ["an unscoped key, a master key", unscoped, grant({ kind: "master" }), true],
  ["an unscoped test key, a live key (full access)", key({ scopes: [], mode: "test" }), grant(), true],
  ["an unscoped key, another organization's key", unscoped, grant({ organizationId: "org-b" }), false, "another organization"],

  // A scoped key: api_keys:write, then only within its own grant.
  ["a scoped key without api_keys:write", reader, grant({ scopes: ["send"] }), false, "api_keys:write"],
  ["a writer, a narrower key", writer, grant({ scopes: ["send"] }), true],
  ["a writer, a key of exactly its own scopes", writer, grant({ scopes: ["api_keys:write", "send", "read"] }), true],
  ["a writer, an unscoped key", writer, grant({ scopes: [] }), false, "unscoped"],
  ["a writer, a key with a scope it lacks", writer, grant({ scopes: ["send", "cancel"] }), false, "cancel"],
  ["a writer, another organization's key", writer, grant({ organizationId: "org-b" }), false, "another organization"],

  // Mode: a test key never touches live keys; a live key may manage test keys.
  ["a test writer, a live key", testWriter, grant({ mode: "live" }), false, "test key cannot"],
  ["a test writer, a test key", testWriter, grant({ mode: "test" }), true],
  ["a live writer, a test key", writer, grant({ mode: "test" }), true],

  // Kind: master keys only from master keys.
  ["a standard writer, a master key", writer, grant({ kind: "master" }), false, "master"],
  ["a master writer, a master key", masterWriter, grant({ kind: "master" }), true],
  ["a master writer, a standard key of any workspace", masterWriter, grant({ workspaceId: "ws-2" }), true],

  // Workspace: a bound key only manages keys bound to the same workspace.
  ["a ws-1 writer, a ws-1 key", boundWriter, grant({ workspaceId: "ws-1" }), true],
  ["a ws-1 writer, a ws-2 key", boundWriter, grant({ workspaceId: "ws-2" }), false, "workspace ws-1"],
  ["a ws-1 writer, an unbound key (every workspace)", boundWriter, grant({ workspaceId: null }), false, "workspace ws-1"],
  ["an unbound writer, a ws-2 key", writer, grant({ workspaceId: "ws-2" }), true],
  ["a key bound to a workspace named all, an unbound key", key({ workspaceId: "all" }), grant(), false, "workspace all"],

  // IP allowlist: a key with one manages only keys allowed from within it (no allowlist: any address).
  ["a writer without an allowlist, a key with one", writer, grant({ ipAllowlist: ["10.0.0.0/8"] }), true],
  ["a 10/8 writer, a key of a subnet and an address in it", key({ ipAllowlist: ["10.0.0.0/8"] }), grant({ ipAllowlist: ["10.1.0.0/16", "10.2.3.4"] }), true],
  ["a 10/8 writer, a key of the same range", key({ ipAllowlist: ["10.0.0.0/8"] }), grant({ ipAllowlist: ["10.0.0.0/8"] }), true],
  ["a 10/8 writer, a key usable from any address", key({ ipAllowlist: ["10.0.0.0/8"] }), grant({ ipAllowlist: [] }), false, "usable from any address"],
  ["a 10/8 writer, a key of a wider range", key({ ipAllowlist: ["10.0.0.0/16"] }), grant({ ipAllowlist: ["10.0.0.0/8"] }), false, "outside its own IP allowlist"],
  ["a 10/8 writer, a key of another address", key({ ipAllowlist: ["10.0.0.0/8"] }), grant({ ipAllowlist: ["10.0.0.1", "192.0.2.1"] }), false, "outside its own IP allowlist"],
  ["an IPv4-only writer, an IPv6 key", key({ ipAllowlist: ["10.0.0.0/8"] }), grant({ ipAllowlist: ["2001:db8::1"] }), false, "outside"],
  ["an unscoped key with an allowlist, a key usable anywhere (full access)", key({ scopes: [], ipAllowlist: ["10.0.0.1"] }), grant(), true],

  // Credits: a key with credits manages only keys with no more than its own, refilled no faster.
  ["an unlimited writer, a key with credits", writer, grant({ credits: { remaining: 5, refill: null } }), true],
  ["a writer with 50 credits, a key with 50", key({ credits: { remaining: 50, refill: null } }), grant({ credits: { remaining: 50, refill: null } }), true],
  ["a writer with 50 credits, an unlimited key", key({ credits: { remaining: 50, refill: null } }), grant({ credits: null }), false, "unlimited credits"],
  ["a writer with 50 credits, a key with 51", key({ credits: { remaining: 50, refill: null } }), grant({ credits: { remaining: 51, refill: null } }), false, "more credits (51) than it has (50)"],
  ["a writer without refill, a key that refills", key({ credits: { remaining: 50, refill: null } }), grant({ credits: { remaining: 1, refill: { interval: "monthly", amount: 1 } } }), false, "credits that refill"],
  ["a daily-100 writer, a monthly-100 key", key({ credits: { remaining: 50, refill: { interval: "daily", amount: 100 } } }), grant({ credits: { remaining: 50, refill: { interval: "monthly", amount: 100 } } }), true],
  ["a monthly writer, a daily key", key({ credits: { remaining: 50, refill: { interval: "monthly", amount: 100 } } }), grant({ credits: { remaining: 5, refill: { interval: "daily", amount: 5 } } }), false, "daily refill"],
  ["a daily-100 writer, a daily-200 key", key({ credits: { remaining: 50, refill: { interval: "daily", amount: 100 } } }), grant({ credits: { remaining: 5, refill: { interval: "daily", amount: 200 } } }), false, "larger refill (200)"],
  ["an unscoped key with credits, an unlimited key (full access)", key({ scopes: [], credits: { remaining: 1, refill: null } }), grant(), true],
];

describe("canManage", () => {
  for (const [what, actor, target, allowed, reason] of RULES) {
    it(`${allowed ? "allows" : "refuses"} ${what}, for every action`, () => {
      for (const action of ACTIONS) {
        const decision = canManage(actor, target, action);
        expect(decision.allowed, action).toBe(allowed);
        if (!decision.allowed) expect(decision.reason).toContain(reason);
      }
    });
  }

  it("names the action in the reason", () => {
    expect(canManage(writer, grant({ scopes: [] }), "roll")).toEqual({
      allowed: false,
      reason: "a scoped key cannot roll an unscoped key (full access)",
    });
    expect(canManage(testWriter, grant(), "revoke")).toEqual({ allowed: false, reason: "a test key cannot revoke a live key" });
  });
});

describe("canUpdate: the key as it is and as it would be", () => {
  const own = grant({ scopes: ["api_keys:write", "send", "read"] });
  const UPDATES: [string, Actor, Grant, Grant, boolean, string?][] = [
    ["narrowing a narrower key", writer, grant({ scopes: ["send", "read"] }), grant({ scopes: ["send"] }), true],
    ["renaming its own key (same scopes)", writer, own, own, true],
    ["raising its own scopes", writer, own, grant({ scopes: ["api_keys:write", "send", "read", "cancel"] }), false, "cancel"],
    ["making its own key unscoped", writer, own, grant({ scopes: [] }), false, "unscoped"],
    ["widening a narrower key past its own", writer, grant({ scopes: ["send"] }), grant({ scopes: ["send", "cancel"] }), false, "cancel"],
    ["narrowing a wider key into its grant", writer, grant({ scopes: ["send", "cancel"] }), grant({ scopes: ["send"] }), false, "cancel"],
    ["taking over an unscoped key by scoping it", writer, grant({ scopes: [] }), grant({ scopes: ["send"] }), false, "unscoped"],
    ["a user making any key unscoped", user, grant(), grant({ scopes: [] }), true],
    ["lifting the allowlist of a key within its own", key({ ipAllowlist: ["10.0.0.0/8"] }), grant({ ipAllowlist: ["10.0.0.1"] }), grant({ ipAllowlist: [] }), false, "usable from any address"],
    ["widening another key's allowlist past its own", key({ ipAllowlist: ["10.0.0.0/8"] }), grant({ ipAllowlist: ["10.0.0.1"] }), grant({ ipAllowlist: ["0.0.0.0/0"] }), false, "outside"],
    ["narrowing another key's allowlist", key({ ipAllowlist: ["10.0.0.0/8"] }), grant({ ipAllowlist: ["10.0.0.0/16"] }), grant({ ipAllowlist: ["10.0.0.1"] }), true],
    ["lifting its own allowlist", key({ ipAllowlist: ["10.0.0.0/8"] }), grant({ ipAllowlist: ["10.0.0.0/8"] }), grant({ ipAllowlist: [] }), false, "usable from any address"],
    ["raising another key's credits within its own", key({ credits: { remaining: 50, refill: null } }), grant({ credits: { remaining: 5, refill: null } }), grant({ credits: { remaining: 50, refill: null } }), true],
    ["raising another key's credits past its own", key({ credits: { remaining: 50, refill: null } }), grant({ credits: { remaining: 5, refill: null } }), grant({ credits: { remaining: 500, refill: null } }), false, "more credits"],
    ["making another key unlimited", key({ credits: { remaining: 50, refill: null } }), grant({ credits: { remaining: 5, refill: null } }), grant({ credits: null }), false, "unlimited credits"],
    ["taking over an unlimited key by giving it credits", key({ credits: { remaining: 50, refill: null } }), grant({ credits: null }), grant({ credits: { remaining: 5, refill: null } }), false, "unlimited credits"],
    ["a service, anything", service, grant(), grant({ scopes: [] }), true],
  ];
  for (const [what, actor, before, after, allowed, reason] of UPDATES) {
    it(`${allowed ? "allows" : "refuses"} ${what}`, () => {
      for (const action of ["update", "enable", "disable"] as const) {
        const decision = canUpdate(actor, before, after, action);
        expect(decision.allowed, action).toBe(allowed);
        if (!decision.allowed) expect(decision.reason).toContain(reason);
      }
    });
  }
});

describe("canManageOrganization", () => {
  it("allows internal services only", () => {
    expect(canManageOrganization(service)).toEqual({ allowed: true });
    for (const actor of [user, unscoped, writer]) {
      expect(canManageOrganization(actor)).toEqual({ allowed: false, reason: "only internal services manage organizations" });
    }
  });
});
