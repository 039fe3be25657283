import { pino } from "pino";
import type { Logger } from "pino";

/**
 * JSON logs on stdout. Secrets are redacted wherever they could appear:
 * credential headers, plaintext keys, tokens and connection URIs.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "keyward", pid: process.pid },
    redact: {
      paths: [
        "key",
        "*.key",
        "plaintext",
        "*.plaintext",
        "token",
        "*.token",
        "authorization",
        "*.authorization",
        "headers",
        "*.headers",
        "mongodbUri",
        "redisUrl",
        "internalTokens",
        "*.internalTokens",
      ],
      censor: "[redacted]",
    },
  });
}
