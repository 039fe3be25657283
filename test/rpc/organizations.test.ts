/** OrganizationService over the real server and the real MongoDB-compatible store. */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { OrganizationSchema, OrganizationStatus } from "../../gen/authn/v1/organization_pb.js";
import { startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";

let service: TestKeyward;
beforeAll(async () => {
  service = await startTestKeyward();
});
afterAll(() => service?.stop());

describe("OrganizationService", () => {
  it("answers defaults for an unregistered organization", async () => {
    const { organizations } = service.clients("connect");
    const id = `org-${randomUUID()}`;
    const res = await organizations.getOrganization({ id });
    expect(res.organization).toMatchObject({ id, status: OrganizationStatus.ACTIVE, workspaces: [] });
    expect(res.organization?.rateLimit).toBeUndefined();
  });

  it("upserts, suspends and resumes; a suspended organization's keys are denied", async () => {
    const { organizations, apiKeys, auth } = service.clients("grpc");
    const id = `org-${randomUUID()}`;
    const organization = create(OrganizationSchema, {
      id,
      workspaces: ["ws-1", "ws-2", "ws-1"],
      rateLimit: { limit: 50, window: durationFromMs(60_000) },
    });
    const upserted = await organizations.upsertOrganization({ organization });
    expect(upserted.organization).toMatchObject({
      id,
      status: OrganizationStatus.ACTIVE,
      workspaces: ["ws-1", "ws-2"],
      rateLimit: { limit: 50 },
    });
    const { key } = await apiKeys.createApiKey({ organizationId: id, name: "k" });
    const headers = [{ name: "authorization", value: `Bearer ${key}` }];
    expect((await auth.verify({ headers })).code).toBe(VerifyCode.OK);

    const suspended = await organizations.suspendOrganization({ id });
    expect(suspended.organization).toMatchObject({ status: OrganizationStatus.SUSPENDED, workspaces: ["ws-1", "ws-2"] });
    expect((await organizations.getOrganization({ id })).organization?.status).toBe(OrganizationStatus.SUSPENDED);
    const denied = await auth.verify({ headers });
    expect(denied).toMatchObject({ allowed: false, code: VerifyCode.ORGANIZATION_SUSPENDED });
    expect(denied.http?.status).toBe(403);

    await organizations.resumeOrganization({ id });
    expect((await auth.verify({ headers })).code).toBe(VerifyCode.OK);
  });

  it("rejects invalid records with INVALID_ARGUMENT", async () => {
    const { organizations } = service.clients("grpc");
    for (const organization of [
      undefined,
      create(OrganizationSchema, { id: "" }),
      create(OrganizationSchema, { id: "ok", workspaces: ["bad workspace"] }),
      create(OrganizationSchema, { id: "ok", rateLimit: { limit: 0, window: durationFromMs(1000) } }),
      create(OrganizationSchema, { id: "ok", rateLimit: { limit: 5 } }),
    ]) {
      await expect(organizations.upsertOrganization({ organization })).rejects.toMatchObject({
        code: Code.InvalidArgument,
      });
    }
  });
});
