/** Usage ranges and buckets: rounding to UTC hours and days, defaults, bounds, empty buckets. Pure, no I/O. */
import { describe, expect, it } from "vitest";
import type { UsageCount } from "../../src/domain/usage.js";
import { hourOf, usageBuckets, usageRange } from "../../src/domain/usage.js";

const at = (iso: string) => new Date(iso);
const NOW = at("2030-03-15T13:45:10Z");

describe("usageRange", () => {
  it("rounds start down and end up to whole buckets", () => {
    expect(usageRange({ start: at("2030-03-15T10:30:00Z"), end: at("2030-03-15T12:00:01Z") }, NOW)).toEqual({
      start: at("2030-03-15T10:00:00Z"),
      end: at("2030-03-15T13:00:00Z"),
      granularity: "hour",
    });
    expect(usageRange({ start: at("2030-03-10T10:30:00Z"), end: at("2030-03-12T00:00:00Z"), granularity: "day" }, NOW)).toEqual({
      start: at("2030-03-10T00:00:00Z"),
      end: at("2030-03-12T00:00:00Z"),
      granularity: "day",
    });
  });

  it("defaults to the last 24 hours, or 30 days by day, up to now", () => {
    expect(usageRange({}, NOW)).toEqual({ start: at("2030-03-14T13:00:00Z"), end: at("2030-03-15T14:00:00Z"), granularity: "hour" });
    expect(usageRange({ granularity: "day" }, NOW)).toEqual({ start: at("2030-02-13T00:00:00Z"), end: at("2030-03-16T00:00:00Z"), granularity: "day" });
  });

  it("allows at most 90 days, and start before end", () => {
    expect(usageRange({ start: at("2030-01-01T00:00:00Z"), end: at("2030-04-01T00:00:00Z"), granularity: "day" }, NOW).end).toEqual(
      at("2030-04-01T00:00:00Z"),
    );
    expect(() => usageRange({ start: at("2030-01-01T00:00:00Z"), end: at("2030-04-01T00:00:01Z") }, NOW)).toThrow(/^end: must be at most 90 days/);
    expect(() => usageRange({ start: NOW, end: NOW }, NOW)).toThrow(/^start: must be before end/);
    expect(() => usageRange({ start: at("2030-03-16T00:00:00Z") }, NOW)).toThrow(/^start: must be before end/);
  });
});

describe("usageBuckets", () => {
  const hour = (iso: string, allowed: number, deniedByCode: Record<string, number> = {}): UsageCount => ({
    keyId: "k",
    organizationId: "o",
    hour: at(iso),
    allowed,
    denied: Object.values(deniedByCode).reduce((a, b) => a + b, 0),
    deniedByCode,
  });

  it("answers every hour of the range, empty ones as zeros", () => {
    const range = usageRange({ start: at("2030-03-15T10:00:00Z"), end: at("2030-03-15T13:00:00Z") }, NOW);
    expect(usageBuckets(range, [hour("2030-03-15T11:00:00Z", 2, { RATE_LIMITED: 1 })])).toEqual([
      { start: at("2030-03-15T10:00:00Z"), allowed: 0, denied: 0, deniedByCode: {} },
      { start: at("2030-03-15T11:00:00Z"), allowed: 2, denied: 1, deniedByCode: { RATE_LIMITED: 1 } },
      { start: at("2030-03-15T12:00:00Z"), allowed: 0, denied: 0, deniedByCode: {} },
    ]);
  });

  it("adds the hours of a UTC day, and the parts of one hour", () => {
    const range = usageRange({ start: at("2030-03-14T00:00:00Z"), end: at("2030-03-16T00:00:00Z"), granularity: "day" }, NOW);
    const hours = [
      hour("2030-03-14T00:00:00Z", 1),
      hour("2030-03-14T23:00:00Z", 2, { KEY_REVOKED: 1 }),
      hour("2030-03-14T23:00:00Z", 4, { KEY_REVOKED: 2, IP_NOT_ALLOWED: 1 }),
      hour("2030-03-15T00:00:00Z", 8),
    ];
    expect(usageBuckets(range, hours)).toEqual([
      { start: at("2030-03-14T00:00:00Z"), allowed: 7, denied: 4, deniedByCode: { KEY_REVOKED: 3, IP_NOT_ALLOWED: 1 } },
      { start: at("2030-03-15T00:00:00Z"), allowed: 8, denied: 0, deniedByCode: {} },
    ]);
  });

  it("puts a time in the hour it falls in", () => {
    expect(new Date(hourOf(at("2030-03-15T13:59:59.999Z").getTime()))).toEqual(at("2030-03-15T13:00:00Z"));
    expect(new Date(hourOf(at("2030-03-15T14:00:00Z").getTime()))).toEqual(at("2030-03-15T14:00:00Z"));
  });
});
