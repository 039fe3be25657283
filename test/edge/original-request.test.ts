import { describe, expect, it } from "vitest";
import type { RawHeader } from "../../src/domain/credentials.js";
import { isForwardAuthPath, originalRequest } from "../../src/edge/original-request.js";

const h = (...pairs: [string, string][]): RawHeader[] => pairs.map(([name, value]) => ({ name, value }));

describe("originalRequest", () => {
  it.each<[string, RawHeader[], string, string, { method: string; path: string }]>([
    ["Caddy / Traefik", h(["X-Forwarded-Method", "post"], ["X-Forwarded-Uri", "/v1/send?x=1"]), "GET", "/forward-auth", { method: "POST", path: "/v1/send" }],
    ["nginx", h(["X-Original-Method", "DELETE"], ["X-Original-URI", "/v1/messages/m1"]), "GET", "/forward-auth", { method: "DELETE", path: "/v1/messages/m1" }],
    ["X-Forwarded-* before X-Original-*", h(["X-Original-Method", "GET"], ["X-Original-URI", "/v1/messages"], ["x-forwarded-method", "POST"], ["x-forwarded-uri", "/v1/send"]), "GET", "/forward-auth", { method: "POST", path: "/v1/send" }],
    ["Envoy path_prefix", [], "POST", "/forward-auth/v1/send?dry=1", { method: "POST", path: "/v1/send" }],
    ["the bare door", [], "GET", "/forward-auth", { method: "GET", path: "/" }],
    ["the bare door with a query", [], "GET", "/forward-auth?x=1", { method: "GET", path: "/" }],
    ["a header repeated with the same value", h(["X-Forwarded-Method", "GET"], ["X-Forwarded-Method", "GET"], ["X-Forwarded-Uri", "/v1/context"]), "GET", "/forward-auth", { method: "GET", path: "/v1/context" }],
  ])("%s", (_name, headers, method, url, expected) => {
    expect(originalRequest(headers, method, url)).toEqual({ ok: true, ...expected });
  });

  it.each<[string, RawHeader[], string, string]>([
    ["a method without its URI", h(["X-Forwarded-Method", "POST"]), "/forward-auth", "go together"],
    ["a URI without its method", h(["X-Original-URI", "/v1/send"]), "/forward-auth", "go together"],
    ["two different URIs", h(["X-Forwarded-Method", "GET"], ["X-Forwarded-Uri", "/a"], ["X-Forwarded-Uri", "/b"]), "/forward-auth", "repeated"],
    ["a method that is not a token", h(["X-Forwarded-Method", "GET /"], ["X-Forwarded-Uri", "/v1/send"]), "/forward-auth", "not an HTTP method"],
    ["a dot segment in the forwarded URI", h(["X-Original-Method", "POST"], ["X-Original-URI", "/v1/messages/../send"]), "/forward-auth", "dot segment"],
    ["a dot segment after the door", [], "/forward-auth/v1/%2e%2e/send", "dot segment"],
    ["an encoded slash after the door", [], "/forward-auth/v1%2fsend", "encoded slash"],
    ["a double slash after the door", [], "/forward-auth//v1/send", "empty segment"],
  ])("refuses %s", (_name, headers, url, reason) => {
    const result = originalRequest(headers, "GET", url);
    expect(result.ok ? "" : result.reason).toContain(reason);
  });
});

describe("isForwardAuthPath", () => {
  it.each([
    ["/forward-auth", true],
    ["/forward-auth?x=1", true],
    ["/forward-auth/v1/send", true],
    ["/forward-authz", false],
    ["/forward-auth-problem", false],
    ["/authn.v1.AuthService/Verify", false],
  ])("%s → %s", (url, expected) => {
    expect(isForwardAuthPath(url)).toBe(expected);
  });
});
