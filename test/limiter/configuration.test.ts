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

  it.each([
    [{ KEYWARD_RATE_LIMIT_FAIL_CLOSED: "yes" }, "KEYWARD_RATE_LIMIT_FAIL_CLOSED"],
    [{ KEYWARD_REDIS_COMMAND_TIMEOUT_MS: "0" }, "KEYWARD_REDIS_COMMAND_TIMEOUT_MS"],
    [{ KEYWARD_REDIS_COMMAND_TIMEOUT_MS: "soon" }, "KEYWARD_REDIS_COMMAND_TIMEOUT_MS"],
    [{ REDIS_URL: "http://127.0.0.1:6379" }, "REDIS_URL"],
  ])("rejects %o naming the variable", (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}: `));
  });
});
