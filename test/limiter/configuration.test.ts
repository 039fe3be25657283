/** The rate limiter's configuration keys. */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("rate limiter configuration", () => {
  it("fails open with a 500 ms Redis command timeout by default", () => {
    expect(loadConfig({})).toMatchObject({ rateLimitFailClosed: false, redisCommandTimeoutMs: 500 });
    expect(
      loadConfig({ KEYWARD_RATE_LIMIT_FAIL_CLOSED: "true", KEYWARD_REDIS_COMMAND_TIMEOUT_MS: "250" }),
    ).toMatchObject({ rateLimitFailClosed: true, redisCommandTimeoutMs: 250 });
  });

  it("reads Redis Cluster seeds, which also let workers share pools", () => {
    expect(loadConfig({ KEYWARD_REDIS_CLUSTER_NODES: "127.0.0.1:7000, redis-b:7001,[::1]:7002" })).toMatchObject({
      redisUrl: null,
      redisClusterNodes: [
        { host: "127.0.0.1", port: 7000 },
        { host: "redis-b", port: 7001 },
        { host: "::1", port: 7002 },
      ],
    });
    expect(loadConfig({}).redisClusterNodes).toBeNull();
    const workers = { KEYWARD_WORKERS: "2", MONGODB_URI: "mongodb://127.0.0.1:27017" };
    expect(loadConfig({ ...workers, KEYWARD_REDIS_CLUSTER_NODES: "127.0.0.1:7000" }).workers).toBe(2);
  });

  it("names both variables when both REDIS_URL and the cluster are set", () => {
    expect(() => loadConfig({ KEYWARD_REDIS_CLUSTER_NODES: "127.0.0.1:7000", REDIS_URL: "redis://127.0.0.1:6379" })).toThrow(
      /REDIS_URL.*KEYWARD_REDIS_CLUSTER_NODES.*not both/,
    );
  });

  it.each([
    [{ KEYWARD_RATE_LIMIT_FAIL_CLOSED: "yes" }, "KEYWARD_RATE_LIMIT_FAIL_CLOSED"],
    [{ KEYWARD_REDIS_COMMAND_TIMEOUT_MS: "0" }, "KEYWARD_REDIS_COMMAND_TIMEOUT_MS"],
    [{ KEYWARD_REDIS_COMMAND_TIMEOUT_MS: "soon" }, "KEYWARD_REDIS_COMMAND_TIMEOUT_MS"],
    [{ REDIS_URL: "http://127.0.0.1:6379" }, "REDIS_URL"],
    [{ KEYWARD_REDIS_CLUSTER_NODES: "127.0.0.1" }, "KEYWARD_REDIS_CLUSTER_NODES"],
    [{ KEYWARD_REDIS_CLUSTER_NODES: "127.0.0.1:7000,:7001" }, "KEYWARD_REDIS_CLUSTER_NODES"],
    [{ KEYWARD_REDIS_CLUSTER_NODES: "127.0.0.1:70000" }, "KEYWARD_REDIS_CLUSTER_NODES"],
    [{ KEYWARD_REDIS_CLUSTER_NODES: "127.0.0.1:7000", REDIS_URL: "redis://127.0.0.1:6379" }, "KEYWARD_REDIS_CLUSTER_NODES"],
  ])("rejects %o naming the variable", (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}: `));
  });
});
