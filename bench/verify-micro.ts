/**
 * `npx tsx bench/verify-micro.ts`: what our own code costs per Verify, in
 * process, without the RPC stack or I/O — the use case on a cache hit with
 * the in-process limiter, and its pieces. Set against the ~100 µs of CPU a
 * whole Verify call costs the server (npm run bench), it says how much of the
 * call is ours to optimize.
 */
import { toBinary } from "@bufbuild/protobuf";
import { VerifyResponseSchema } from "../gen/authn/v1/auth_pb.js";
import { MemoryKeyStore } from "../src/adapters/memory/memory-key-store.js";
import { MemoryOrganizationStore } from "../src/adapters/memory/memory-organization-store.js";
import { MemoryRateLimiter } from "../src/adapters/memory/memory-rate-limiter.js";
import { CreditCharger } from "../src/app/credits.js";
import { VerificationCache } from "../src/app/verification-cache.js";
import type { VerifyInput } from "../src/app/verify.js";
import { Verifier } from "../src/app/verify.js";
import { checkHeaders, readCredential } from "../src/domain/credentials.js";
import { hashKey, parseKey } from "../src/domain/key-format.js";
import { DEFAULT_ROUTE_RULES, RoutePolicy } from "../src/domain/route-policy.js";
import { NO_USAGE_RECORDER } from "../src/ports/usage-recorder.js";
import { verdictToProto } from "../src/rpc/auth-service.js";
import { keyLifecycle, SERVICE_CONTEXT } from "../test/support/use-cases.js";
import { gatewayRequest } from "./payloads.js";

const CALLS = 200_000;

const keys = new MemoryKeyStore();
const organizations = new MemoryOrganizationStore();
const cache = new VerificationCache({ keys, organizations }, { maxEntries: 1000, ttlMs: 60_000, negativeTtlMs: 5000, maxStaleMs: 300_000 });
const organizationId = "3f1c2e9a-7b3d-4e5f-9a8b-1c2d3e4f5a6b";
await organizations.upsert({ id: organizationId, status: "active", workspaces: [], rateLimit: { limit: 1_000_000_000, windowMs: 1000 } });
const { plaintext: key } = await keyLifecycle(keys).create(SERVICE_CONTEXT, {
  organizationId,
  name: "micro",
  scopes: ["send", "read"],
});
const routes = new RoutePolicy(DEFAULT_ROUTE_RULES);
const verifier = new Verifier({
  keys: cache.keyStore,
  organizations: cache.organizationStore,
  limiter: new MemoryRateLimiter(),
  credits: new CreditCharger(keys),
  routes,
  usage: NO_USAGE_RECORDER,
  userTokens: null,
  defaultPlan: { limit: 100, windowMs: 1000 },
  now: () => new Date(),
});
const request = gatewayRequest(key);
const input: VerifyInput = { headers: request.headers, method: request.method, path: request.path, clientIp: request.clientIp };
const verdict = await verifier.verify(input);
if (!verdict.allowed) throw new Error(`the micro bench must verify an allowed key, got ${verdict.code}`);
const hash = hashKey(key);

async function time(label: string, fn: () => unknown): Promise<void> {
  for (let i = 0; i < CALLS / 5; i++) await fn(); // warm up the JIT
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) await fn();
  const us = Number(process.hrtime.bigint() - started) / CALLS / 1000;
  process.stdout.write(`${us.toFixed(2).padStart(7)} µs  ${label}\n`);
}

await time("Verifier.verify: cache hit, in-process limiter (everything below but the proto)", () => verifier.verify(input));
await time("  checkHeaders + readCredential (header scan)", () => checkHeaders(request.headers) ?? readCredential(request.headers));
await time("  parseKey (prefix, length, alphabet, CRC32)", () => parseKey(key));
await time("  hashKey (sha256)", () => hashKey(key));
await time("  verification cache lookup (hit)", () => cache.keyStore.findByHash(hash));
await time("  route policy: POST /v1/send -> scope", () => routes.scopeFor("POST", "/v1/send"));
await time("verdictToProto", () => verdictToProto(verdict));
await time("verdictToProto + binary encoding (the trivial handler encodes too)", () => toBinary(VerifyResponseSchema, verdictToProto(verdict)));
