/**
 * Credits: a key's remaining uses (Unkey's "remaining"). Every allowed Verify
 * spends its cost; a refill sets the remaining uses back to its amount at
 * each UTC day or month boundary. Pure: no I/O.
 */

export type RefillInterval = "daily" | "monthly";

export const REFILL_INTERVALS: readonly RefillInterval[] = ["daily", "monthly"];

export interface Refill {
  interval: RefillInterval;
  /** What the remaining uses are set back to at each boundary. */
  amount: number;
}

/** What a key's credits are set to: by create and update. */
export interface CreditTerms {
  remaining: number;
  refill: Refill | null;
}

/** A key's credits as stored. */
export interface KeyCredits extends CreditTerms {
  /**
   * The start of the refill period the remaining uses belong to (null
   * without a refill). A spend in a later period refills first.
   */
  refilledAt: Date | null;
}

/** Credits as plain data, without the refill bookkeeping: what audit events and the REST API show. */
export type CreditTermsData = { remaining: number; refill: { interval: RefillInterval; amount: number } | null };

export function creditTermsOf(credits: CreditTerms | null): CreditTermsData | null {
  if (!credits) return null;
  const { refill } = credits;
  return { remaining: credits.remaining, refill: refill ? { interval: refill.interval, amount: refill.amount } : null };
}

/** The largest number of credits (remaining or refill amount): exact in a double, room for any plan. */
export const MAX_CREDITS = 1_000_000_000_000;

/** The start (00:00 UTC) of the refill period `now` falls in. */
export function refillPeriodStart(interval: RefillInterval, now: Date): Date {
  return interval === "daily"
    ? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()))
    : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/** The next refill boundary after `now`. */
export function nextRefillAt(interval: RefillInterval, now: Date): Date {
  const start = refillPeriodStart(interval, now);
  return interval === "daily"
    ? new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + 1))
    : new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
}

/** Credits as set at `now`: the remaining uses count as this period's (no refill until the next boundary). */
export function creditsFrom(terms: CreditTerms, now: Date): KeyCredits {
  return {
    remaining: terms.remaining,
    refill: terms.refill ? { interval: terms.refill.interval, amount: terms.refill.amount } : null,
    refilledAt: terms.refill ? refillPeriodStart(terms.refill.interval, now) : null,
  };
}

/** The credits as they stand at `now`: refilled to the amount when a new period has begun since the last refill. */
export function refilledAt(credits: KeyCredits, now: Date): KeyCredits {
  if (credits.refill === null) return credits;
  const period = refillPeriodStart(credits.refill.interval, now);
  if (credits.refilledAt !== null && credits.refilledAt >= period) return credits;
  return { remaining: credits.refill.amount, refill: credits.refill, refilledAt: period };
}

export function sameRefill(a: Refill | null, b: Refill | null): boolean {
  return a === b || (a !== null && b !== null && a.interval === b.interval && a.amount === b.amount);
}

/**
 * Why credits `inner` are not within `outer` (null: they are). Unlimited
 * (null) is the widest; then fewer remaining uses, a smaller refill, and a
 * monthly refill are narrower than more, a larger one and a daily one.
 */
export function creditsBeyond(inner: CreditTerms | null, outer: CreditTerms | null): string | null {
  if (outer === null) return null;
  if (inner === null) return "unlimited credits";
  if (inner.remaining > outer.remaining) return `more credits (${inner.remaining}) than it has (${outer.remaining})`;
  if (inner.refill === null) return null;
  if (outer.refill === null) return "credits that refill";
  if (inner.refill.amount > outer.refill.amount) {
    return `a larger refill (${inner.refill.amount}) than its own (${outer.refill.amount})`;
  }
  if (inner.refill.interval === "daily" && outer.refill.interval === "monthly") return "a daily refill (its own is monthly)";
  return null;
}
