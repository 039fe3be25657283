/**
 * Spending and setting keys' credits. Storage is the truth: every change is
 * a compare-and-set on the credits' version (CreditStore), so any number of
 * replicas spend one key's credits exactly, never below zero, and a refill
 * — done lazily, by the first change after a UTC boundary — happens once.
 *
 * Within a process, the charges waiting on one key are settled together:
 * one read and one commit for all of them (a group commit), in arrival
 * order, so a burst costs a few storage round trips, not one each.
 */
import type { KeyCredits } from "../domain/credits.js";
import { nextRefillAt, refilledAt } from "../domain/credits.js";
import { AppError } from "../domain/errors.js";
import type { CreditStore } from "../ports/credit-store.js";

export type CreditCharge =
  | { charged: true; remaining: number }
  /** Not enough left: nothing spent. `retryAfterMs`: until the next refill; null without one. */
  | { charged: false; remaining: number; retryAfterMs: number | null }
  /** The key has no credits (anymore): nothing to charge. */
  | { charged: "unlimited" };

interface WaitingCharge {
  cost: number;
  now: Date;
  settle: (charge: CreditCharge) => void;
  fail: (error: unknown) => void;
}

/** Compare-and-set rounds before a change gives up (other replicas kept changing the key first). */
const MAX_ROUNDS = 20;

function contended(): AppError {
  return new AppError("unavailable", "the key's credits are changing too fast to decide; retry");
}

export class CreditCharger {
  /** Charges waiting per key, while that key's settling runs. */
  private readonly waiting = new Map<string, WaitingCharge[]>();

  constructor(private readonly store: CreditStore) {}

  /** Spends `cost` of the key's credits, or says why not. */
  charge(keyId: string, cost: number, now: Date): Promise<CreditCharge> {
    return new Promise((settle, fail) => {
      const queue = this.waiting.get(keyId);
      if (queue) {
        queue.push({ cost, now, settle, fail });
        return;
      }
      this.waiting.set(keyId, [{ cost, now, settle, fail }]);
      void this.drain(keyId);
    });
  }

  /** Settles the key's waiting charges, batch after batch, until none is left. */
  private async drain(keyId: string): Promise<void> {
    for (;;) {
      const batch = this.waiting.get(keyId)?.splice(0) ?? [];
      if (batch.length === 0) break;
      try {
        await this.settle(keyId, batch);
      } catch (error) {
        for (const charge of batch) charge.fail(error);
      }
    }
    this.waiting.delete(keyId);
  }

  /** One read, the charges in order, one commit; again from the new state when another process committed first. */
  private async settle(keyId: string, batch: readonly WaitingCharge[]): Promise<void> {
    const now = batch.reduce((latest, charge) => (charge.now > latest ? charge.now : latest), batch[0]?.now ?? new Date());
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const state = await this.store.current(keyId);
      if (!state?.credits) {
        for (const charge of batch) charge.settle({ charged: "unlimited" });
        return;
      }
      const before = state.credits;
      let credits = refilledAt(before, now);
      const outcomes: CreditCharge[] = batch.map((charge) => {
        if (credits.remaining < charge.cost) return exhausted(credits, now);
        credits = { ...credits, remaining: credits.remaining - charge.cost };
        return { charged: true, remaining: credits.remaining };
      });
      // Nothing spent and nothing refilled: no change to record.
      if (credits === before || (await this.store.commit(keyId, state, credits))) {
        batch.forEach((charge, i) => charge.settle(outcomes[i] ?? exhausted(credits, now)));
        return;
      }
    }
    throw contended();
  }
}

/**
 * Replaces a key's credits (an update): recorded as a change like a spend,
 * so it is never lost to a concurrent one. `credits` null: unlimited.
 */
export async function setCredits(store: CreditStore, keyId: string, credits: KeyCredits | null): Promise<void> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const state = await store.current(keyId);
    if (!state || (await store.commit(keyId, state, credits))) return;
  }
  throw contended();
}

function exhausted(credits: KeyCredits, now: Date): CreditCharge {
  return {
    charged: false,
    remaining: credits.remaining,
    retryAfterMs: credits.refill ? nextRefillAt(credits.refill.interval, now).getTime() - now.getTime() : null,
  };
}
