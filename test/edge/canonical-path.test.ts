import { describe, expect, it } from "vitest";
import { canonicalPath } from "../../src/edge/canonical-path.js";

describe("canonicalPath", () => {
  it.each([
    ["/v1/send", "/v1/send"],
    ["/v1/send?dry=1", "/v1/send"],
    ["/v1/send#part", "/v1/send"],
    ["/v1/messages/", "/v1/messages/"],
    ["/", "/"],
    ["/v1/%73end", "/v1/send"],
    ["/v1/templates/hello%20world", "/v1/templates/hello world"],
    ["/v1/messages/abc?x=/../y", "/v1/messages/abc"],
  ])("reads %s as %s", (uri, path) => {
    expect(canonicalPath(uri)).toEqual({ ok: true, path });
  });

  it.each([
    ["/v1/../v1/send", "dot segment"],
    ["/v1/./send", "dot segment"],
    ["/v1/messages/..", "dot segment"],
    ["/v1/%2e%2e/send", "dot segment"],
    ["/v1/%2E/send", "dot segment"],
    ["/v1/.%2e/send", "dot segment"],
    ["/v1%2fsend", "encoded slash"],
    ["/v1%2Fsend", "encoded slash"],
    ["/v1%5csend", "encoded slash or backslash"],
    ["/v1\\send", "backslash"],
    ["//v1/send", "empty segment"],
    ["/v1//send", "empty segment"],
    ["/v1/send;x=1", "path parameter"],
    ["/v1/send%3bx", ";"],
    ["/v1/send%3F", "?"],
    ["/v1/send%00", "control character"],
    ["/v1/%252e%252e/send", "encoded twice"],
    ["/v1/%zz", "malformed percent-encoding"],
    ["/v1/%e2%82", "malformed percent-encoding"],
    ["v1/send", "must start with /"],
    ["http://example.test/v1/send", "must start with /"],
    ["", "must start with /"],
    [`/${"a".repeat(5000)}`, "longer than"],
  ])("refuses %s (%s)", (uri, reason) => {
    const result = canonicalPath(uri);
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.reason).toContain(reason);
  });
});
