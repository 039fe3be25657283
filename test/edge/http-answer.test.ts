import { describe, expect, it } from "vitest";
import type { Caller } from "../../src/domain/verdict.js";
import { allow, deny } from "../../src/domain/verdict.js";
import { nginxCompatAnswer, problemAnswer, replayedAnswer, unavailableAnswer, verdictAnswer } from "../../src/edge/http-answer.js";
import { IDENTITY_HEADERS, identityHeaders } from "../../src/edge/identity.js";

const ORG = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const RATE = { limit: 10, remaining: 9, resetMs: 1500, retryAfterMs: 0 };

function caller(overrides: Partial<Caller> = {}): Caller {
  return {
    principal: "api_key", organizationId: ORG, keyId: "key-1", userId: "", mode: "live", kind: "standard",
    scopes: ["read", "send"], unscoped: false, workspaceId: "", keyWorkspaceId: null, ...overrides,
  } as Caller;
}

const asRecord = (headers: { name: string; value: string }[]) => Object.fromEntries(headers.map((h) => [h.name, h.value]));

describe("identityHeaders", () => {
  it.each<[string, Partial<Caller>, Record<string, string>]>([
    ["a scoped live key", {}, { "X-Keyward-Organization-Id": ORG, "X-Keyward-Key-Id": "key-1", "X-Keyward-Mode": "live", "X-Keyward-Scopes": "read send", "X-Keyward-Workspace-Id": "-", "X-Keyward-Principal": "api_key", "X-Keyward-User-Id": "-" }],
    ["an unscoped test key", { scopes: [], unscoped: true, mode: "test" }, { "X-Keyward-Mode": "test", "X-Keyward-Scopes": "*" }],
    ["a master key in a workspace", { kind: "master", workspaceId: "ws-1" }, { "X-Keyward-Workspace-Id": "ws-1" }],
    ["a user", { principal: "user", keyId: "", userId: "user-9", scopes: [], unscoped: true }, { "X-Keyward-Key-Id": "-", "X-Keyward-Principal": "user", "X-Keyward-User-Id": "user-9", "X-Keyward-Scopes": "*" }],
  ])("%s", (_name, overrides, expected) => {
    const headers = identityHeaders(caller(overrides));
    expect(headers.map((h) => h.name)).toEqual([...IDENTITY_HEADERS]);
    expect(headers.every((h) => h.value !== "")).toBe(true);
    expect(asRecord(headers)).toMatchObject(expected);
  });
});

describe("verdictAnswer", () => {
  it("allowed: exactly 200, empty body, every identity header, RateLimit-* and no-store", () => {
    const answer = verdictAnswer(allow(caller(), RATE));
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("");
    expect(answer.headers.map((h) => h.name)).toEqual([
      ...IDENTITY_HEADERS, "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Cache-Control",
    ]);
    expect(asRecord(answer.headers)).toMatchObject({ "RateLimit-Limit": "10", "RateLimit-Reset": "2", "Cache-Control": "no-store" });
  });

  it.each([
    ["MISSING_CREDENTIALS", 401],
    ["INSUFFICIENT_SCOPE", 403],
    ["WORKSPACE_REQUIRED", 400],
    ["AMBIGUOUS_CREDENTIALS", 400],
    ["RATE_LIMITED", 429],
  ] as const)("denied %s: the verdict's http verbatim (%i)", (code, status) => {
    const verdict = deny(code, { caller: caller(), rateLimit: { ...RATE, remaining: 0, retryAfterMs: 2500 }, scope: "send" });
    expect(verdictAnswer(verdict)).toBe(verdict.http);
    expect(verdict.http.status).toBe(status);
  });
});

describe("problem answers", () => {
  it("cannot decide: 503 problem+json with Retry-After", () => {
    const answer = unavailableAnswer();
    expect(answer.status).toBe(503);
    expect(asRecord(answer.headers)).toEqual({ "Content-Type": "application/problem+json", "Retry-After": "1" });
    expect(JSON.parse(answer.body)).toEqual({ type: "about:blank", title: "Service Unavailable", status: 503, detail: expect.any(String), code: "unavailable" });
  });
});

describe("nginxCompatAnswer", () => {
  const rateLimited = deny("RATE_LIMITED", { caller: caller(), rateLimit: { ...RATE, remaining: 0, retryAfterMs: 2500 } }).http;
  it.each<[string, { status: number; headers: { name: string; value: string }[]; body: string }, number]>([
    ["401 stays 401", deny("KEY_REVOKED").http, 401],
    ["403 stays 403", deny("INSUFFICIENT_SCOPE", { scope: "send" }).http, 403],
    ["400 becomes 403", deny("AMBIGUOUS_CREDENTIALS").http, 403],
    ["429 becomes 403", rateLimited, 403],
  ])("%s, carrying the real status and body", (_name, http, status) => {
    const answer = nginxCompatAnswer(http);
    expect(answer.status).toBe(status);
    const headers = asRecord(answer.headers);
    expect(headers["X-Keyward-Status"]).toBe(String(http.status));
    expect(Buffer.from(headers["X-Keyward-Problem"] ?? "", "base64url").toString("utf8")).toBe(http.body);
    expect(headers["X-Keyward-Problem"]).toMatch(/^[A-Za-z0-9_-]+$/);
    for (const h of http.headers) expect(answer.headers).toContainEqual(h); // Retry-After, RateLimit-*, WWW-Authenticate
  });

  it.each([
    ["allowed", verdictAnswer(allow(caller(), RATE))],
    ["cannot decide (nginx fails closed with 500)", unavailableAnswer()],
  ])("leaves %s unchanged", (_name, answer) => {
    expect(nginxCompatAnswer(answer)).toBe(answer);
  });
});

describe("replayedAnswer", () => {
  const problem = (body: unknown) => Buffer.from(JSON.stringify(body)).toString("base64url");
  const tooMany = { type: "about:blank", title: "Too Many Requests", status: 429, detail: "Rate limit exceeded", code: "rate_limited" };

  it("answers the captured status, body and headers again", () => {
    const answer = replayedAnswer("429", problem(tooMany), [
      { name: "Retry-After", value: "3" },
      { name: "RateLimit-Remaining", value: "0" },
      { name: "X-Keyward-Service-Token", value: "secret" },
      { name: "Cookie", value: "c" },
      { name: "WWW-Authenticate", value: "" },
    ]);
    expect(answer).toEqual({
      status: 429,
      headers: [
        { name: "Content-Type", value: "application/problem+json" },
        { name: "Retry-After", value: "3" },
        { name: "RateLimit-Remaining", value: "0" },
      ],
      body: JSON.stringify(tooMany),
    });
  });

  it("leaves a 401's WWW-Authenticate to nginx, which already passed it on, and replays a 403's", () => {
    const challenge = { name: "WWW-Authenticate", value: 'Bearer realm="api", error="insufficient_scope"' };
    const forbidden = { type: "about:blank", title: "Forbidden", status: 403, detail: "d", code: "insufficient_scope" };
    const unauthorized = { ...forbidden, title: "Unauthorized", status: 401, code: "key_revoked" };
    expect(replayedAnswer("403", problem(forbidden), [challenge]).headers).toContainEqual(challenge);
    expect(replayedAnswer("401", problem(unauthorized), [challenge]).headers).not.toContainEqual(challenge);
  });

  it.each<[string, string | null, string | null]>([
    ["nothing captured", null, null],
    ["a status that disagrees with the body", "400", problem(tooMany)],
    ["a success status", "200", problem({ ...tooMany, status: 200 })],
    ["a 5xx", "503", problem({ ...tooMany, status: 503 })],
    ["not base64url JSON", "429", "not json"],
    ["a body that is not keyward's problem shape", "429", problem({ ...tooMany, extra: "<script>" })],
    ["an array", "429", problem([tooMany])],
  ])("refuses to replay %s: a plain 403", (_name, status, body) => {
    const answer = replayedAnswer(status, body, []);
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ code: "forbidden" });
  });

  it("builds problems with the verdict's shape", () => {
    expect(JSON.parse(problemAnswer(400, "invalid_path", "x").body)).toEqual({ type: "about:blank", title: "Bad Request", status: 400, detail: "x", code: "invalid_path" });
  });
});
