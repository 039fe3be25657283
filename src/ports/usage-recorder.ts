/** Notes that a key was used; written to storage later, off the hot path. */
export interface UsageRecorder {
  recordUse(keyId: string, at: Date): void;
}
