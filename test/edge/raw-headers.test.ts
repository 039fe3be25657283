import { describe, expect, it } from "vitest";
import { readCredential } from "../../src/domain/credentials.js";
import { fromJoinedHeaders, fromRawHeaders, singleHeader, withoutGatewayHeaders } from "../../src/edge/raw-headers.js";

const KEY_A = `sk_live_${"a".repeat(49)}`;
const KEY_B = `sk_live_${"b".repeat(49)}`;
const ORG = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

describe("fromRawHeaders", () => {
  it("keeps every pair as received, repeated headers apart, and drops HTTP/2 pseudo-headers", () => {
    expect(
      fromRawHeaders([":method", "GET", ":path", "/x", "Authorization", `Bearer ${KEY_A}`, "authorization", `Bearer ${KEY_B}`]),
    ).toEqual([
      { name: "Authorization", value: `Bearer ${KEY_A}` },
      { name: "authorization", value: `Bearer ${KEY_B}` },
    ]);
  });
});

describe("fromJoinedHeaders (Envoy's comma-joined map) read as credentials", () => {
  it.each<[string, Record<string, string>, string]>([
    ["one Bearer key", { authorization: `Bearer ${KEY_A}` }, "ok"],
    ["two different Bearer keys joined", { authorization: `Bearer ${KEY_A},Bearer ${KEY_B}` }, "AMBIGUOUS_CREDENTIALS"],
    ["two different Bearer keys joined with a space", { authorization: `Bearer ${KEY_A}, Bearer ${KEY_B}` }, "AMBIGUOUS_CREDENTIALS"],
    ["the same Bearer key twice", { authorization: `Bearer ${KEY_A},Bearer ${KEY_A}` }, "ok"],
    ["two different x-api-key values", { "x-api-key": `${KEY_A},${KEY_B}`, "x-sender-id": ORG }, "AMBIGUOUS_CREDENTIALS"],
    ["a Bearer key and a different x-api-key", { authorization: `Bearer ${KEY_A}`, "x-api-key": KEY_B, "x-sender-id": ORG }, "AMBIGUOUS_CREDENTIALS"],
    ["Sent style", { "x-api-key": KEY_A, "x-sender-id": ORG }, "ok"],
    ["two sender ids joined", { "x-api-key": KEY_A, "x-sender-id": `${ORG},${ORG.replace("7c", "8c")}` }, "INVALID_SENDER_ID"],
    ["two workspaces joined", { authorization: `Bearer ${KEY_A}`, "x-workspace-id": "ws-1,ws-2" }, "WORKSPACE_FORBIDDEN"],
    ["pseudo-headers and other headers aside", { ":path": "/v1/send", "user-agent": "a, b", authorization: `Bearer ${KEY_A}` }, "ok"],
  ])("%s → %s", (_name, joined, expected) => {
    const result = readCredential(fromJoinedHeaders(joined));
    expect(result.ok ? "ok" : result.code).toBe(expected);
  });

  it("splits only credential headers", () => {
    expect(fromJoinedHeaders({ accept: "a, b", "x-api-key": "k1,k2" })).toEqual([
      { name: "accept", value: "a, b" },
      { name: "x-api-key", value: "k1" },
      { name: "x-api-key", value: "k2" },
    ]);
  });
});

describe("withoutGatewayHeaders", () => {
  it("drops what a gateway adds for keyward and keeps the credential", () => {
    const headers = [
      { name: "X-Keyward-Service-Token", value: "t" },
      { name: "X-Forwarded-Method", value: "GET" },
      { name: "X-Forwarded-For", value: "192.0.2.1" },
      { name: "X-Original-URI", value: "/v1/send" },
      { name: "X-Keyward-Compat", value: "nginx" },
      { name: "x-keyward-organization-id", value: ORG },
      { name: "Authorization", value: `Bearer ${KEY_A}` },
      { name: "x-api-key", value: KEY_A },
    ];
    expect(withoutGatewayHeaders(headers).map((h) => h.name)).toEqual(["Authorization", "x-api-key"]);
  });
});

describe("singleHeader", () => {
  it.each<[string, [string, string][], string | null]>([
    ["absent", [], null],
    ["once, trimmed, any case", [["x-a", " v "]], "v"],
    ["twice the same", [["X-A", "v"], ["x-a", "v"]], "v"],
    ["twice different", [["X-A", "v"], ["x-a", "w"]], "ambiguous"],
  ])("%s", (_name, pairs, expected) => {
    expect(singleHeader(pairs.map(([name, value]) => ({ name, value })), "X-A")).toBe(expected);
  });
});
