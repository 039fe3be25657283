import type { KeyCredits } from "../domain/credits.js";

/** A key's credits at one point of their history. */
export interface CreditState {
  /** How many changes (spends, refills, updates) came before; 0: the credits the key was created with. */
  version: number;
  /** Null: unlimited. */
  credits: KeyCredits | null;
  /** When this state was read (performance.now() of the reading process): a commit on an old read is refused. */
  readAt: number;
}

/**
 * Where keys' credits change. Every change is a compare-and-set on the
 * version: of all the commits made on one state, exactly one is recorded —
 * in any number of processes — so no credit is spent twice and none is
 * lost. The one write it needs is an insert under a unique key, atomic on
 * every MongoDB-compatible server (FerretDB's conditional updates are not).
 */
export interface CreditStore {
  /** The key's credits now; null when there is no such key. */
  current(keyId: string): Promise<CreditState | null>;
  /**
   * Records `next` as the change that follows `base`. False when another
   * change followed `base` first, or `base` was read too long ago: nothing
   * is written, read again.
   */
  commit(keyId: string, base: CreditState, next: KeyCredits | null): Promise<boolean>;
}
