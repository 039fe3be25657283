import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls until `attempt` answers true, at most `bound` times `stepMs` apart —
 * for a state change that happens asynchronously, never for timing.
 */
export async function eventually(attempt: () => Promise<boolean>, bound = 200, stepMs = 50): Promise<void> {
  for (let i = 0; i < bound; i++) {
    if (await attempt()) return;
    await sleep(stepMs);
  }
  throw new Error(`condition not met after ${bound} attempts`);
}
