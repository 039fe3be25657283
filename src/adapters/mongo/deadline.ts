/**
 * A real deadline for every MongoDB operation. The driver's own client-side
 * timeout (`timeoutMS`) is ignored by driver 7, and a server that hangs
 * (SIGSTOP, a lock) keeps a socket open without answering, so no socket or
 * selection timeout ends the wait. Each operation here races a timer: reads
 * are also aborted in the driver (its `signal` option), writes are left to
 * finish or fail on their own — each is a single-document (or unordered bulk
 * of single-document) write, so it is applied whole or not at all, never in
 * part. Every driver error leaves as the app's own UNAVAILABLE, so no caller
 * imports the driver.
 */
import { AppError } from "../../domain/errors.js";

/** KEYWARD_MONGODB_TIMEOUT_MS's default. */
export const DEFAULT_STORAGE_DEADLINE_MS = 2_000;

/** What an operation gets: the signal to hand to a read that can be aborted. */
export type DeadlineOperation<T> = (signal: AbortSignal) => Promise<T>;

/** How an operation ended, for metrics. */
export type StorageOutcome = "ok" | "error" | "timeout";

/** Told of every operation: its name, outcome and duration in seconds. */
export type StorageObserver = (operation: string, outcome: StorageOutcome, seconds: number) => void;

export class StorageDeadline {
  constructor(
    /** KEYWARD_MONGODB_TIMEOUT_MS */
    readonly ms: number,
    private readonly observe: StorageObserver = () => {},
  ) {}

  /**
   * Runs `operation`, answering its result, or UNAVAILABLE once `ms` has
   * passed or the driver failed. `what` names the operation in the error.
   * AppErrors the operation raises itself pass through unchanged.
   */
  async run<T>(what: string, operation: DeadlineOperation<T>): Promise<T> {
    const controller = new AbortController();
    const started = performance.now();
    let outcome: StorageOutcome = "ok";
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        outcome = "timeout";
        const error = new AppError("unavailable", `storage is unavailable: no answer within ${this.ms} ms (${what})`);
        controller.abort(error);
        reject(error);
      }, this.ms);
    });
    try {
      return await Promise.race([operation(controller.signal), expired]);
    } catch (error) {
      if (outcome === "ok") outcome = "error";
      if (error instanceof AppError) throw error;
      throw new AppError("unavailable", `storage is unavailable (${what} failed)`, undefined, { cause: error });
    } finally {
      clearTimeout(timer);
      this.observe(what, outcome, (performance.now() - started) / 1000);
    }
  }
}
