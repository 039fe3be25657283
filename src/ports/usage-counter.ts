import type { UsageCount } from "../domain/usage.js";

/** Where verdict counts per key and hour are kept (usage analytics). */
export interface UsageCounter {
  /** Adds the counts to what is stored, creating hours not seen yet: one write for all of them. */
  add(counts: readonly UsageCount[]): Promise<void>;
  /**
   * The key's counts from `start` (inclusive) to `end` (exclusive), oldest
   * hour first; hours with no verdict are absent, and an hour may come in
   * several parts (one per process that counted it): add them up.
   */
  hourly(keyId: string, start: Date, end: Date): Promise<UsageCount[]>;
}
