/**
 * What every door of keyward does around a Verify: call the use case (which
 * counts the verdict by transport) and tell a verdict from "the request is
 * malformed" and from "cannot decide". Transports decode their request into
 * a VerifyInput and encode the Decision; nothing else.
 */
import type { Logger } from "pino";
import type { Verifier, VerifyInput } from "../app/verify.js";
import { AppError } from "../domain/errors.js";
import type { Verdict } from "../domain/verdict.js";
import { verdictAnswer } from "./http-answer.js";
import type { HttpAnswer } from "./http-answer.js";

export type Decision =
  | { kind: "verdict"; verdict: Verdict }
  /** The request cannot be verified as given (too many headers, a bad method, ...). */
  | { kind: "invalid"; detail: string }
  /** keyward cannot decide (storage unreachable, ...): never "allowed". */
  | { kind: "unavailable" };

export interface VerificationEdgeDeps {
  verifier: Pick<Verifier, "verify">;
  logger: Pick<Logger, "warn" | "error">;
  /** Metadata keys an allowed answer forwards as `X-Keyward-Meta-<key>` (KEYWARD_FORWARD_METADATA). */
  forwardMetadata?: readonly string[];
}

export class VerificationEdge {
  constructor(private readonly deps: VerificationEdgeDeps) {}

  /** A verdict as the authorizer's HTTP answer (see verdictAnswer), with the forwarded metadata. */
  answer(verdict: Verdict): HttpAnswer {
    return verdictAnswer(verdict, this.deps.forwardMetadata ?? []);
  }

  async decide(input: VerifyInput): Promise<Decision> {
    try {
      return { kind: "verdict", verdict: await this.deps.verifier.verify(input) };
    } catch (error) {
      if (error instanceof AppError && error.code === "invalid_argument") {
        return { kind: "invalid", detail: error.message };
      }
      // Storage down, or anything unexpected: refuse to decide rather than allow.
      if (error instanceof AppError && error.code === "unavailable") {
        this.deps.logger.warn({ err: error.cause ?? error }, "verification unavailable");
      } else {
        this.deps.logger.error({ err: error }, "verification failed");
      }
      return { kind: "unavailable" };
    }
  }
}
