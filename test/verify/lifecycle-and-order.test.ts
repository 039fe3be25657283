/**
 * Lifecycle states, organization state and the order of checks, against the
 * real server on the real MongoDB-compatible store. States that only time
 * produces (expiry, a grace period's end) are set in the database directly,
 * behind the service's back, so its cache TTL is 0 (every lookup refreshes).
 */
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { KeyKind, Mode } from "../../gen/authn/v1/common_pb.js";
import { generateKey } from "../../src/domain/key-format.js";
import { openMongo, startTestKeyward } from "../support/keyward.js";
import type { Clients, TestKeyward } from "../support/keyward.js";
import { bearer, disable, newKey, newOrganization, problem, sent } from "../support/fixtures.js";

let service: TestKeyward;
let mongo: MongoClient;
let clients: Clients;
const past = () => new Date(Date.now() - 1000);

beforeAll(async () => {
  service = await startTestKeyward({ env: { KEYWARD_CACHE_TTL_MS: "0", KEYWARD_CACHE_NEGATIVE_TTL_MS: "0" } });
  mongo = await openMongo();
  clients = service.clients("grpc");
});
afterAll(async () => {
  await service?.stop();
  await mongo?.close();
});

const keys = () => mongo.db(service.database ?? "").collection<{ _id: string }>("api_keys");

describe("lifecycle", () => {
  it("denies expired, revoked and disabled keys with 401 and their own codes", async () => {
    const org = await newOrganization(clients);
    const expired = await newKey(clients, org);
    await keys().updateOne({ _id: expired.id }, { $set: { expires_at: past() } });
    const revoked = await newKey(clients, org);
    await clients.apiKeys.revokeApiKey({ organizationId: org, id: revoked.id });
    const disabled = await newKey(clients, org);
    await disable(clients, org, disabled.id);

    for (const [key, code] of [
      [expired.key, VerifyCode.KEY_EXPIRED],
      [revoked.key, VerifyCode.KEY_REVOKED],
      [disabled.key, VerifyCode.KEY_DISABLED],
    ] as const) {
      const verdict = await clients.auth.verify({ headers: bearer(key) });
      expect(verdict).toMatchObject({ allowed: false, code, organizationId: "" });
      expect(verdict.http?.status).toBe(401);
      expect(problem(verdict).code).toBe(VerifyCode[code].toLowerCase());
    }

    await disable(clients, org, disabled.id, true);
    expect((await clients.auth.verify({ headers: bearer(disabled.key) })).code).toBe(VerifyCode.OK);
  });

  it("keeps a rolled key's old secret working during its grace period, revoked after", async () => {
    const org = await newOrganization(clients);
    const original = await newKey(clients, org, { scopes: ["send"] });
    const rolled = await clients.apiKeys.rollApiKey({ organizationId: org, id: original.id, gracePeriod: durationFromMs(3_600_000) });
    const during = await clients.auth.verify({ headers: bearer(original.key), requiredScope: "send" });
    expect(during).toMatchObject({ allowed: true, keyId: original.id });
    expect((await clients.auth.verify({ headers: bearer(rolled.key) })).keyId).toBe(original.id);

    await keys().updateOne({ _id: original.id }, { $set: { previous_expires_at: past() } });
    const after = await clients.auth.verify({ headers: bearer(original.key) });
    expect(after.code).toBe(VerifyCode.KEY_REVOKED);
    expect((await clients.auth.verify({ headers: bearer(rolled.key) })).code).toBe(VerifyCode.OK);
  });

  it("ends the old secret at once when rolled without a grace period", async () => {
    const org = await newOrganization(clients);
    const original = await newKey(clients, org);
    const rolled = await clients.apiKeys.rollApiKey({ organizationId: org, id: original.id });
    expect((await clients.auth.verify({ headers: bearer(original.key) })).allowed).toBe(false);
    expect((await clients.auth.verify({ headers: bearer(rolled.key) })).allowed).toBe(true);
  });

  it("rejects a key whose prefix disagrees with the stored mode", async () => {
    const org = await newOrganization(clients);
    const { id } = await newKey(clients, org, { mode: Mode.LIVE });
    // A test-prefixed secret whose hash sits on a live record.
    const forged = generateKey("test");
    await keys().updateOne({ _id: id }, { $set: { hash: forged.hash } });
    const verdict = await clients.auth.verify({ headers: bearer(forged.plaintext) });
    expect(verdict.code).toBe(VerifyCode.INVALID_CREDENTIALS);
  });
});

describe("order of checks", () => {
  it("checks the sender before the lifecycle: a foreign revoked key reveals nothing", async () => {
    const org = await newOrganization(clients);
    const other = await newOrganization(clients);
    const revoked = await newKey(clients, other);
    await clients.apiKeys.revokeApiKey({ organizationId: other, id: revoked.id });
    expect((await clients.auth.verify({ headers: sent(revoked.key, org) })).code).toBe(VerifyCode.INVALID_CREDENTIALS);
    expect((await clients.auth.verify({ headers: sent(revoked.key, other) })).code).toBe(VerifyCode.KEY_REVOKED);
  });

  it("checks lifecycle before organization, organization before workspace, workspace before scope", async () => {
    const org = await newOrganization(clients, ["ws-a"]);
    const disabledKey = await newKey(clients, org, { scopes: ["read"] });
    await disable(clients, org, disabledKey.id);
    const master = await newKey(clients, org, { kind: KeyKind.MASTER, scopes: ["read"] });

    // Workspace before scope.
    expect((await clients.auth.verify({ headers: bearer(master.key), requiredScope: "send" })).code).toBe(
      VerifyCode.WORKSPACE_REQUIRED,
    );
    await clients.organizations.suspendOrganization({ id: org });
    // Organization before workspace and scope.
    expect((await clients.auth.verify({ headers: bearer(master.key), requiredScope: "send" })).code).toBe(
      VerifyCode.ORGANIZATION_SUSPENDED,
    );
    // Lifecycle before organization.
    expect((await clients.auth.verify({ headers: bearer(disabledKey.key) })).code).toBe(VerifyCode.KEY_DISABLED);
  });

  it("checks the format before anything else: a bad checksum is malformed, whoever's key it was", async () => {
    const org = await newOrganization(clients);
    const { key } = await newKey(clients, org);
    const last = key.at(-1) === "A" ? "B" : "A";
    const verdict = await clients.auth.verify({ headers: bearer(key.slice(0, -1) + last) });
    expect(verdict.code).toBe(VerifyCode.MALFORMED_CREDENTIALS);
  });
});
