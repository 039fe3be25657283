/** Credits: refill periods at UTC boundaries, and when one grant of credits is within another. Pure, no I/O. */
import { describe, expect, it } from "vitest";
import type { CreditTerms } from "../../src/domain/credits.js";
import { creditsBeyond, nextRefillAt, refilledAt, refillPeriodStart } from "../../src/domain/credits.js";
import { checkCredits } from "../../src/domain/validation.js";

const at = (iso: string) => new Date(iso);

describe("refill periods", () => {
  it.each([
    ["daily", "2030-03-15T13:45:00Z", "2030-03-15T00:00:00Z", "2030-03-16T00:00:00Z"],
    ["daily", "2030-03-15T00:00:00Z", "2030-03-15T00:00:00Z", "2030-03-16T00:00:00Z"],
    ["daily", "2030-12-31T23:59:59.999Z", "2030-12-31T00:00:00Z", "2031-01-01T00:00:00Z"],
    ["monthly", "2030-03-15T13:45:00Z", "2030-03-01T00:00:00Z", "2030-04-01T00:00:00Z"],
    ["monthly", "2030-12-31T23:00:00Z", "2030-12-01T00:00:00Z", "2031-01-01T00:00:00Z"],
    ["monthly", "2032-02-29T12:00:00Z", "2032-02-01T00:00:00Z", "2032-03-01T00:00:00Z"],
  ] as const)("%s at %s: the period began %s, the next refill is %s", (interval, now, start, next) => {
    expect(refillPeriodStart(interval, at(now))).toEqual(at(start));
    expect(nextRefillAt(interval, at(now))).toEqual(at(next));
  });

  it("refills to the amount once a new period has begun, and not before", () => {
    const credits = { remaining: 3, refill: { interval: "daily" as const, amount: 10 }, refilledAt: at("2030-03-15T00:00:00Z") };
    expect(refilledAt(credits, at("2030-03-15T23:59:59Z"))).toBe(credits);
    expect(refilledAt(credits, at("2030-03-16T00:00:00Z"))).toEqual({ ...credits, remaining: 10, refilledAt: at("2030-03-16T00:00:00Z") });
    const none = { remaining: 3, refill: null, refilledAt: null };
    expect(refilledAt(none, at("2040-01-01T00:00:00Z"))).toBe(none);
  });
});

describe("creditsBeyond: why inner credits are not within outer ones", () => {
  const daily = (remaining: number, amount: number): CreditTerms => ({ remaining, refill: { interval: "daily", amount } });
  const monthly = (remaining: number, amount: number): CreditTerms => ({ remaining, refill: { interval: "monthly", amount } });
  const fixed = (remaining: number): CreditTerms => ({ remaining, refill: null });
  it.each<[string, CreditTerms | null, CreditTerms | null, string | null]>([
    ["anything within unlimited", null, fixed(5), null],
    ["unlimited within unlimited", null, null, null],
    ["unlimited is never within limited", fixed(100), null, "unlimited credits"],
    ["fewer remaining", fixed(10), fixed(9), null],
    ["as many remaining", fixed(10), fixed(10), null],
    ["more remaining", fixed(10), fixed(11), "more credits (11) than it has (10)"],
    ["no refill within a refill", daily(10, 100), fixed(10), null],
    ["a refill within none", fixed(10), daily(5, 5), "credits that refill"],
    ["a smaller daily refill", daily(10, 100), daily(10, 50), null],
    ["a larger refill", daily(10, 100), daily(10, 101), "a larger refill (101) than its own (100)"],
    ["a monthly refill within a daily one", daily(10, 100), monthly(10, 100), null],
    ["a daily refill within a monthly one", monthly(10, 100), daily(10, 1), "a daily refill (its own is monthly)"],
  ])("%s", (_what, outer, inner, reason) => {
    expect(creditsBeyond(inner, outer)).toBe(reason);
  });
});

describe("checkCredits", () => {
  it("accepts 0..10^12 remaining and a refill of 1..10^12", () => {
    expect(checkCredits({ remaining: 0, refill: null })).toEqual({ remaining: 0, refill: null });
    expect(checkCredits({ remaining: 1e12, refill: { interval: "monthly", amount: 1e12 } })).toEqual({
      remaining: 1e12,
      refill: { interval: "monthly", amount: 1e12 },
    });
  });

  it.each<[CreditTerms, string]>([
    [{ remaining: -1, refill: null }, "credits.remaining"],
    [{ remaining: 1.5, refill: null }, "credits.remaining"],
    [{ remaining: 1e12 + 1, refill: null }, "credits.remaining"],
    [{ remaining: 1, refill: { interval: "daily", amount: 0 } }, "credits.refill.amount"],
    [{ remaining: 1, refill: { interval: "weekly" as "daily", amount: 1 } }, "credits.refill.interval"],
  ])("refuses %j naming %s", (terms, field) => {
    expect(() => checkCredits(terms)).toThrow(new RegExp(`^${field.replaceAll(".", "\\.")}: `));
  });
});
