/**
 * Collects key uses in memory and writes last_used_at in batches, so the
 * Verify hot path never waits on a storage write. At most one write runs at a
 * time; uses that arrive meanwhile wait for the next batch.
 */
import type { KeyStore } from "../ports/key-store.js";
import type { UsageRecorder } from "../ports/usage-recorder.js";

export interface UsageBatcherOptions {
  /** How often pending uses are written. */
  intervalMs: number;
  /** Called when a batch could not be written (it is retried next time). */
  onError: (error: unknown) => void;
}

export class UsageBatcher implements UsageRecorder {
  private pending = new Map<string, Date>();
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> | null = null;

  constructor(
    private readonly keys: Pick<KeyStore, "recordUsage">,
    private readonly options: UsageBatcherOptions,
  ) {
    this.timer = setInterval(() => void this.flush(), options.intervalMs);
    this.timer.unref();
  }

  recordUse(keyId: string, at: Date): void {
    this.pending.set(keyId, at);
  }

  /** Writes what is pending now; resolves when it is stored (or failed). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.writing = this.keys
      .recordUsage([...batch].map(([id, at]) => ({ id, at })))
      .catch((error: unknown) => {
        // Put the batch back unless newer uses replaced it meanwhile.
        for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
        this.options.onError(error);
      })
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
}
