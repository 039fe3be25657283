/**
 * The Python client (clients/python: grpcio, generated code in gen/python)
 * against the real service on a port, with service tokens required.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";
import { SERVICE_TOKEN, expectLifecycle, parseReport, requireInstalled, runProgram } from "./programs.js";
import type { LifecycleReport } from "./programs.js";

const CLIENT = "clients/python/keyward_client.py";

describe("the Python client", () => {
  let service: TestKeyward;
  let python: string;

  beforeAll(async () => {
    python = await requireInstalled(".cache/venv/bin/python");
    service = await startTestKeyward({ env: { KEYWARD_INTERNAL_TOKENS: SERVICE_TOKEN } });
  });

  afterAll(async () => {
    await service?.stop();
  });

  it("health-checks, reflects, creates an organization and a key, verifies both header styles, revokes, and sees the denial", async () => {
    const run = await runProgram(python, [CLIENT, "--url", service.keyward.server.rpcUrl, "--token", SERVICE_TOKEN], {
      timeoutMs: 20_000,
    });
    const report = parseReport<LifecycleReport & { reflection: { services: string[]; authServiceMethods: string[] } }>(
      run,
    );
    expectLifecycle(report);
    // grpcio-reflection's own client read the contract from the server.
    expect(report.reflection.services).toEqual(
      expect.arrayContaining([
        "authn.v1.AuthService",
        "authn.v1.ApiKeyService",
        "authn.v1.OrganizationService",
        "grpc.health.v1.Health",
      ]),
    );
    expect(report.reflection.authServiceMethods).toEqual(["Verify"]);
  });

  it("gets health and reflection answers without a token, and UNAUTHENTICATED for the rest", async () => {
    const run = await runProgram(python, [CLIENT, "--url", service.keyward.server.rpcUrl], {
      env: { ...process.env, KEYWARD_TOKEN: "" },
      timeoutMs: 20_000,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/UNAUTHENTICATED/);
  });
});
