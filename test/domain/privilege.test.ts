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
    ...overrides,
  };
}

function grant(overrides: Partial<Grant> = {}): Grant {
  return { organizationId: ORG, scopes: ["send"], mode: "live", kind: "standard", workspaceId: null, ...overrides };
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
