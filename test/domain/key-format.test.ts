import { describe, expect, it } from "vitest";
import { KEY_PATTERN, generateKey, hashKey, parseKey } from "../../src/domain/key-format.js";

describe("key format", () => {
  it("generates sk_live_/sk_test_ keys that match the published regex", () => {
    const live = generateKey("live");
    const test = generateKey("test");
    expect(live.plaintext).toMatch(/^sk_live_/);
    expect(test.plaintext).toMatch(/^sk_test_/);
    expect(live.plaintext).toMatch(KEY_PATTERN);
    expect(test.plaintext).toMatch(KEY_PATTERN);
    expect(live.plaintext).toHaveLength(57);
  });

  it("never repeats a key", () => {
    const keys = new Set(Array.from({ length: 2000 }, () => generateKey("live").plaintext));
    expect(keys.size).toBe(2000);
  });

  it("stores only the sha256 and a hint", () => {
    const key = generateKey("live");
    expect(key.hash).toBe(hashKey(key.plaintext));
    expect(key.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(key.hint).toBe(`${key.plaintext.slice(0, 12)}…${key.plaintext.slice(-4)}`);
    expect(key.hint).not.toContain(key.plaintext.slice(12, -4));
  });

  it("parses its own keys with their mode", () => {
    expect(parseKey(generateKey("live").plaintext)).toMatchObject({ ok: true, mode: "live" });
    expect(parseKey(generateKey("test").plaintext)).toMatchObject({ ok: true, mode: "test" });
  });

  it("rejects a wrong prefix, length, alphabet or checksum", () => {
    const key = generateKey("live").plaintext;
    expect(parseKey(key.replace("sk_live_", "pk_live_"))).toEqual({ ok: false, reason: "prefix" });
    expect(parseKey(key.slice(0, -1))).toEqual({ ok: false, reason: "length" });
    expect(parseKey(`${key.slice(0, 20)}-${key.slice(21)}`)).toEqual({ ok: false, reason: "alphabet" });
    // One changed character anywhere in the body breaks the checksum.
    const flipped = key.slice(0, 30) + (key[30] === "a" ? "b" : "a") + key.slice(31);
    expect(parseKey(flipped)).toEqual({ ok: false, reason: "checksum" });
    // The prefix is covered too: a live body under a test prefix fails.
    expect(parseKey(key.replace("sk_live_", "sk_test_"))).toEqual({ ok: false, reason: "checksum" });
  });
});
