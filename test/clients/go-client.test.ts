/**
 * The Go client (clients/go: connect-go over gRPC, generated code in gen/go)
 * against the real service on a port, with service tokens required.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestKeyward } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";
import { ROOT, SERVICE_TOKEN, expectLifecycle, goEnv, parseReport, runProgram } from "./programs.js";

describe("the Go client", () => {
  let service: TestKeyward;
  let dir: string;
  let program: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "kw-go-client-"));
    program = path.join(dir, "keyward-go-client");
    // Built once; warm runs take a second (Go's build cache), a cold one longer.
    const [build, started] = await Promise.all([
      runProgram("go", ["build", "-o", program, "."], {
        cwd: path.join(ROOT, "clients/go"),
        env: goEnv(),
        timeoutMs: 170_000,
      }),
      startTestKeyward({ env: { KEYWARD_INTERNAL_TOKENS: SERVICE_TOKEN } }),
    ]);
    service = started;
    expect(build.code, `go build clients/go failed:\n${build.stderr}`).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await service?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("health-checks, creates an organization and a key, verifies both header styles, revokes, and sees the denial", async () => {
    const run = await runProgram(program, ["-url", service.keyward.server.rpcUrl, "-token", SERVICE_TOKEN], {
      timeoutMs: 20_000,
    });
    expectLifecycle(parseReport(run));
  });

  it("gets health answers without a token, and UNAUTHENTICATED for the rest", async () => {
    const run = await runProgram(program, ["-url", service.keyward.server.rpcUrl], {
      env: { ...process.env, KEYWARD_TOKEN: "" },
      timeoutMs: 20_000,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/upsert organization: unauthenticated/);
  });
});
