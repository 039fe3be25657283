/** Start-up configuration: a bad value stops the real process with one clear line. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SERVICE_VARIABLES } from "../../src/config-variables.js";
import { REPO_ROOT } from "../setup/servers.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { runUntilExit } from "../support/replicas.js";

describe("configuration", () => {
  it("has working embedded defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: "development",
      host: "127.0.0.1",
      rpcPort: 50051,
      httpPort: 8080,
      mongodbUri: null,
      redisUrl: null,
      defaultRateLimit: { limit: 100, windowMs: 1000 },
      forwardMetadata: [],
    });
    expect(loadConfig({ KEYWARD_FORWARD_METADATA: "team, plan" }).forwardMetadata).toEqual(["team", "plan"]);
  });

  it.each([
    [{ KEYWARD_RPC_PORT: "http" }, "KEYWARD_RPC_PORT"],
    [{ KEYWARD_HTTP_PORT: "70000" }, "KEYWARD_HTTP_PORT"],
    [{ KEYWARD_ENV: "staging" }, "KEYWARD_ENV"],
    [{ KEYWARD_ENV: "production" }, "KEYWARD_INTERNAL_TOKENS"],
    [{ KEYWARD_RPC_PORT: "9000", KEYWARD_HTTP_PORT: "9000" }, "KEYWARD_HTTP_PORT"],
    [{ KEYWARD_HOST: "0.0.0.0" }, "KEYWARD_INTERNAL_TOKENS"],
    [{ KEYWARD_INTERNAL_TOKENS: "short" }, "KEYWARD_INTERNAL_TOKENS"],
    [{ MONGODB_URI: "postgres://x" }, "MONGODB_URI"],
    [{ KEYWARD_RATE_LIMIT_DEFAULT: "lots" }, "KEYWARD_RATE_LIMIT_DEFAULT"],
    [{ KEYWARD_JWT_SECRET: "too-short" }, "KEYWARD_JWT_SECRET"],
    [{ KEYWARD_FORWARD_METADATA: "team,bad key" }, "KEYWARD_FORWARD_METADATA"],
    [{ KEYWARD_FORWARD_METADATA: "team,TEAM" }, "KEYWARD_FORWARD_METADATA"],
  ])("rejects %o naming the variable", (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}: `));
  });

  it("stops the real process with one line naming the variable, never echoing a secret", async () => {
    const result = await runUntilExit({ KEYWARD_ENV: "production", KEYWARD_JWT_SECRET: "s3cr3t-value" });
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^keyward: invalid configuration: KEYWARD_(INTERNAL_TOKENS|JWT_SECRET): /);
    expect(result.stderr).not.toContain("s3cr3t-value");
  });
});

describe("the README's configuration table", () => {
  it("lists exactly the variables the service reads", async () => {
    const readme = await readFile(path.join(REPO_ROOT, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 5));
    const documented = [...table.matchAll(/^\| `([A-Z0-9_]+)`/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual([...SERVICE_VARIABLES].sort());
  });
});
