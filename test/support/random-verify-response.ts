import { create } from "@bufbuild/protobuf";
import { VerifyResponseSchema } from "../../gen/authn/v1/auth_pb.js";
import type { VerifyResponse } from "../../gen/authn/v1/auth_pb.js";
import { seededRandom } from "./seeded-random.js";

/** A seeded generator, so a failure names a response that can be rebuilt. */
const ALPHABET = ["a", "Z", "0", "-", "_", " ", "é", "字", "🔑", "\u0000", "\ud800", "\n"];

function random(seed: number) {
  const r = seededRandom(seed);
  const big = () => r.pick([0n, 1n, 127n, 128n, 16_384n, 2n ** 32n, BigInt(Number.MAX_SAFE_INTEGER), 2n ** 63n, 2n ** 64n - 1n]);
  return { ...r, string: (max: number) => r.string(max, ALPHABET), big };
}

/** A VerifyResponse built from `seed`: every field, edge values, odd text (lone surrogates too). */
export function randomResponse(seed: number): VerifyResponse {
  const r = random(seed);
  const maybe = <T>(value: () => T): T | undefined => (r.next() < 0.5 ? value() : undefined);
  return create(VerifyResponseSchema, {
    allowed: r.next() < 0.5,
    code: r.pick([0, 1, 5, 12, 127, 300, -1]),
    organizationId: r.string(40),
    keyId: r.string(36),
    mode: r.int(3),
    kind: r.int(3),
    scopes: Array.from({ length: r.int(4) }, () => r.string(12)),
    unscoped: r.next() < 0.5,
    workspaceId: r.string(10),
    principal: r.int(3),
    userId: r.string(20),
    rateLimit: maybe(() => ({ limit: r.pick([0, 1, 100, 2 ** 32 - 1]), remaining: r.int(1000), resetMs: r.big(), retryAfterMs: r.big() })),
    http: maybe(() => ({
      status: r.pick([0, 200, 401, 429]),
      headers: Array.from({ length: r.int(5) }, () => ({ name: r.string(20), value: r.string(200) })),
      body: r.string(300),
    })),
    metadata: Object.fromEntries(Array.from({ length: r.int(4) }, () => [r.string(8), r.string(30)])),
    creditsRemaining: maybe(() => r.big()),
  });
}
