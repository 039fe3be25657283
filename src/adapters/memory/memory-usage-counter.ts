import { addCounts } from "../../domain/usage.js";
import type { UsageCount } from "../../domain/usage.js";
import type { UsageCounter } from "../../ports/usage-counter.js";

/** Usage analytics of the embedded store: in this process only. */
export class MemoryUsageCounter implements UsageCounter {
  /** `keyId|hour ms` -> the hour's counts. */
  private readonly hours = new Map<string, UsageCount>();

  async add(counts: readonly UsageCount[]): Promise<void> {
    for (const count of counts) {
      const slot = `${count.keyId}|${count.hour.getTime()}`;
      const stored = this.hours.get(slot);
      if (stored) addCounts(stored, count);
      else this.hours.set(slot, structuredClone(count));
    }
  }

  async hourly(keyId: string, start: Date, end: Date): Promise<UsageCount[]> {
    return [...this.hours.values()]
      .filter((c) => c.keyId === keyId && c.hour >= start && c.hour < end)
      .sort((a, b) => a.hour.getTime() - b.hour.getTime())
      .map((c) => structuredClone(c));
  }
}
