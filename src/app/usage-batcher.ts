/**
 * Collects what Verify saw of keys in memory — each key's last use, and its
 * verdicts per hour and outcome (usage analytics) — and writes them in
 * batches, so the Verify hot path never waits on a storage write: counting
 * is a few map operations. At most one flush runs at a time; what arrives
 * meanwhile waits for the next one. A batch that could not be written is
 * kept for the next flush (so a write that failed late, yet landed, can
 * count a few verdicts twice).
 */
import { addCounts, hourOf } from "../domain/usage.js";
import type { UsageCount } from "../domain/usage.js";
import type { VerifyCode } from "../domain/verdict.js";
import type { KeyStore } from "../ports/key-store.js";
import type { UsageCounter } from "../ports/usage-counter.js";
import type { UsageRecorder } from "../ports/usage-recorder.js";

export interface UsageBatcherOptions {
  /** How often pending usage is written. */
  intervalMs: number;
  /** Called when a batch could not be written (it is retried next time). */
  onError: (error: unknown) => void;
}

export class UsageBatcher implements UsageRecorder {
  private pendingUses = new Map<string, Date>();
  /** `keyId|hour ms` -> that hour's counts so far. */
  private pendingCounts = new Map<string, UsageCount>();
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> | null = null;

  constructor(
    private readonly stores: { keys: Pick<KeyStore, "recordUsage">; counter: Pick<UsageCounter, "add"> },
    private readonly options: UsageBatcherOptions,
  ) {
    this.timer = setInterval(() => void this.flush(), options.intervalMs);
    this.timer.unref();
  }

  recordUse(keyId: string, at: Date): void {
    this.pendingUses.set(keyId, at);
  }

  countVerdict(keyId: string, organizationId: string, code: VerifyCode, at: Date): void {
    const hour = hourOf(at.getTime());
    const slot = `${keyId}|${hour}`;
    let count = this.pendingCounts.get(slot);
    if (!count) {
      count = { keyId, organizationId, hour: new Date(hour), allowed: 0, denied: 0, deniedByCode: {} };
      this.pendingCounts.set(slot, count);
    }
    if (code === "OK") {
      count.allowed++;
    } else {
      count.denied++;
      count.deniedByCode[code] = (count.deniedByCode[code] ?? 0) + 1;
    }
  }

  /** Writes what is pending now; resolves when it is stored (or failed). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.pendingUses.size === 0 && this.pendingCounts.size === 0) return;
    const uses = this.pendingUses;
    const counts = this.pendingCounts;
    this.pendingUses = new Map();
    this.pendingCounts = new Map();
    this.writing = Promise.all([
      uses.size === 0
        ? undefined
        : this.stores.keys.recordUsage([...uses].map(([id, at]) => ({ id, at }))).catch((error: unknown) => {
            // Put the batch back unless newer uses replaced it meanwhile.
            for (const [id, at] of uses) if (!this.pendingUses.has(id)) this.pendingUses.set(id, at);
            this.options.onError(error);
          }),
      counts.size === 0
        ? undefined
        : this.stores.counter.add([...counts.values()]).catch((error: unknown) => {
            for (const count of counts.values()) this.putBack(count);
            this.options.onError(error);
          }),
    ])
      .then(() => {})
      .finally(() => {
        this.writing = null;
      });
    await this.writing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Adds a batch's count that was not written back into the pending ones. */
  private putBack(count: UsageCount): void {
    const slot = `${count.keyId}|${count.hour.getTime()}`;
    const pending = this.pendingCounts.get(slot);
    if (pending) addCounts(pending, count);
    else this.pendingCounts.set(slot, count);
  }
}
