import type { VerifyCode } from "../domain/verdict.js";

/** Notes what Verify saw of a key; written to storage later, off the hot path. */
export interface UsageRecorder {
  /** The key was used (allowed): its last_used_at. */
  recordUse(keyId: string, at: Date): void;
  /** A verdict about the key, allowed or denied: its usage analytics. */
  countVerdict(keyId: string, organizationId: string, code: VerifyCode, at: Date): void;
}

/** For a Verifier whose usage nobody reads. */
export const NO_USAGE_RECORDER: UsageRecorder = {
  recordUse: () => {},
  countVerdict: () => {},
};
